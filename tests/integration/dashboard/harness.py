"""What the dashboard's browser tests share: a ``cic dashboard`` process with its clock frozen at
``scenario.NOW``, and a browser page with helpers to read the tables it shows. The fixtures that
build them (a broker holding the scripted town, the dashboard, Chromium) are in ``conftest.py``.

Playwright is imported where it is used, so that without it the test modules skip (they call
``pytest.importorskip``) instead of this module failing to import.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import Process, free_port, http_ok

from . import scenario

CHROMIUM = Path("/usr/bin/chromium")
requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (.ci/run installs Debian's chromium with apt)")
PLAYWRIGHT_REASON = "playwright is a dev dependency (pip install -e '.[dev]')"
WAIT_MS = 15_000  # the page refreshes every second; this is a deadline, not a pause


def start_dashboard(broker_url: str, **env: str) -> tuple[Process, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    clock = {"CIC_CLOCK_START": scenario.NOW.isoformat(), "CIC_CLOCK_WALL": repr(time.time()),
             "CIC_CLOCK_SCALE": "1e-9"}  # frozen at scenario.NOW (the scale must be positive)
    process = Process(["dashboard", "--port", str(port)], lambda: http_ok(url + "/health"),
                      env={"CIC_BROKER_URL": broker_url, "CIC_TIMEZONE": "Europe/London",
                           "CIC_DASHBOARD_REFRESH_SECONDS": "1", "CIC_TENANT": "", **clock, **env})
    return process, url


@dataclass
class Browser:
    page: Any
    base: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> Any:
        from playwright.sync_api import expect

        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        expect(self.page.locator("#live")).to_be_visible()
        return self.page

    def table(self, table_id: str) -> list[list[str]]:
        """What the table shows: its headings, then each row's cells."""
        table = self.page.locator(f"#{table_id} table")
        rows = [table.locator("thead th").all_inner_texts()]
        rows += [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]
        return [[cell.strip() for cell in row] for row in rows]

    def row(self, table_id: str, first_cell: str) -> list[str]:
        found = [r for r in self.table(table_id)[1:] if r and r[0] == first_cell]
        assert len(found) == 1, (first_cell, self.table(table_id))
        return found[0]


@contextmanager
def browser_page(chromium: Any, base: str, **context_options: Any) -> Iterator[Browser]:
    """A page in a fresh browser context that records console errors and uncaught exceptions."""
    context = chromium.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True, **context_options)
    page = context.new_page()
    seen = Browser(page, base)
    page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    try:
        yield seen
    finally:
        context.close()
