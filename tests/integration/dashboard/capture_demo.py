"""Screenshots of a running demo's dashboard for the README: ``python -m tests.integration.dashboard.capture_demo``.

Why a tool and not a test: the demo town takes minutes to fill (OCPI back-fill, a plan, forecasts)
and its figures change every run, so its pictures are taken by hand when the pages change, from a
``make demo`` left running; the test town's pictures are the tested ones (``CIC_UPDATE_SCREENSHOTS``).
Same browser and viewport as the tests; a page is taken once its charts have drawn.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.integration.dashboard.conftest import CHROMIUM
from tests.integration.dashboard.harness import browser_page

PAGES = {"overview": "/", "reliability": "/reliability", "bays": "/bays", "demand": "/demand",
         "energy": "/energy", "where-next": "/where-next"}
SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", default=["overview", "reliability"], choices=sorted(PAGES))
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the demo's dashboard")
    parser.add_argument("--out", type=Path, default=SHOTS)
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        with browser_page(chromium, args.url) as browser:
            for name in args.pages:
                page = browser.open(PAGES[name])
                for chart in page.locator("[data-chart]").all():
                    expect(chart.locator("svg")).to_be_visible(timeout=30_000)
                path = args.out / f"demo-{name}.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"{path} ({name})")
            if browser.errors:
                raise SystemExit(f"console errors: {browser.errors}")
        chromium.close()


if __name__ == "__main__":
    main()
