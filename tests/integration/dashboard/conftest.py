"""Fixtures of the dashboard's browser tests (helpers in ``harness.py``). Module-scoped as before:
each test module gets its own broker holding the scripted town, its own ``cic dashboard`` and
its own Chromium, so one module's writes (a new alert) never reach another's pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.support import BrokerProcess

from . import scenario
from .harness import CHROMIUM, Browser, browser_page, start_dashboard


@pytest.fixture(scope="module")
def town() -> Iterator[NgsiLdClient]:
    broker = BrokerProcess()
    client = NgsiLdClient(Settings(broker_url=broker.url, tenant=None))
    batches = [scenario.places(), [scenario.charger_down_alert()], *scenario.kpis(), *scenario.utilisation(),
               scenario.forecasts(), scenario.planning_areas()]
    for batch in batches:
        result = client.batch_upsert(batch)
        assert result.ok, result.errors
    yield client
    client.close()
    broker.stop()


@pytest.fixture(scope="module")
def base(town: NgsiLdClient) -> Iterator[str]:
    process, url = start_dashboard(town.base)
    yield url
    process.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium: Any, base: str) -> Iterator[Browser]:
    with browser_page(chromium, base) as seen:
        yield seen
