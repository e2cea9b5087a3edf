"""The "Where next" page in a real browser, against the scripted town's planning areas
(``scenario.AREAS``: four areas ranked by a plan run, one imported after it).

What a council officer relies on: one shape per area, filled with the colour the legend gives its
score (darker = build sooner; hatched = no score), each labelled with its rank inside it; selecting
an area, with the mouse on the map or with the keyboard from the ranking table, explains it (rank,
score, kind of charger and why, the top reasons with their points, the key figures, the period);
the ranking in rank order and its CSV equal to it; a plain message and the command to run when
there are no areas or no plan yet, replaced by the map once the plan arrives. Expected texts are
worked out by hand from the scenario's numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from citiesincharge import ids
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.support import BrokerProcess

from . import scenario
from .harness import PLAYWRIGHT_REASON, WAIT_MS, Browser, browser_page, requires_chromium, start_dashboard

pytestmark = requires_chromium
sync_api = pytest.importorskip("playwright.sync_api", reason=PLAYWRIGHT_REASON)
expect = sync_api.expect
PATH = "/where-next"
# by hand from scenario.AREAS: the score's class of 20 points, or the hatch of an area without one
BANDS = {"MQ": "80-100", "NB": "60-80", "HH": "40-60", "WF": "20-40", "SV": "none"}
RANKS = {"MQ": "1", "NB": "2", "HH": "3", "WF": "4"}


def area(code: str) -> str:
    return ids.planning_area("council", code)


def _rgb(css: str) -> tuple[int, int, int]:
    found = re.search(r"rgb\((\d+), (\d+), (\d+)\)", css)
    assert found, css
    red, green, blue = (int(n) for n in found.groups())
    return red, green, blue


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _luminance(colour: tuple[int, int, int]) -> float:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (x / 255 for x in colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _visible_detail(page: Any) -> Any:
    return page.locator("[data-area-detail]:visible")


def test_each_area_is_shaded_as_the_legend_says_and_labelled_with_its_rank(browser: Browser) -> None:
    page = browser.open(PATH)
    shapes = page.locator("path.area-shape")
    expect(shapes).to_have_count(5)  # one per area; Hospital Hill's two parts are one shape
    swatches = {key: page.locator(f'[data-swatch="{key}"]') for key in ("80-100", "60-80", "40-60", "20-40", "0-20")}
    legend = {key: _rgb(swatch.evaluate("e => getComputedStyle(e).backgroundColor"))
              for key, swatch in swatches.items()}
    # a sequential scale: each class darker than the one below it
    assert [_luminance(legend[k]) for k in ("0-20", "20-40", "40-60", "60-80", "80-100")] == sorted(
        (_luminance(c) for c in legend.values()), reverse=True)
    for code, band in BANDS.items():
        fill = page.locator(f'path[data-area="{area(code)}"]').get_attribute("fill")
        assert fill is not None
        if band == "none":
            assert fill == "url(#areas-hatch)", code
            assert page.locator("pattern#areas-hatch").count() == 1
        else:
            assert _hex(fill) == legend[band], (code, fill, band)
    for key, count in (("80-100", 1), ("60-80", 1), ("40-60", 1), ("20-40", 1), ("0-20", 0), ("none", 1),
                       ("stations", 5)):
        expect(page.locator(f'[data-legend="{key}"]')).to_have_text(str(count))
    expect(page.locator("li", has=page.locator('[data-swatch="none"]'))).to_contain_text("no score yet")

    labels = page.locator(".rank-label")
    expect(labels).to_have_count(4)  # Station Vale has no rank
    for code, rank in RANKS.items():
        label = page.locator(f'.rank-label[data-rank-of="{area(code)}"]')
        expect(label).to_have_text(rank)
        box, shape = label.bounding_box(), page.locator(f'path[data-area="{area(code)}"]').bounding_box()
        assert box is not None and shape is not None
        middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert shape["x"] < middle[0] < shape["x"] + shape["width"], code
        assert shape["y"] < middle[1] < shape["y"] + shape["height"], code
    expect(page.locator("path.station-dot")).to_have_count(5)
    assert browser.errors == []


def test_a_click_on_an_area_explains_it(browser: Browser) -> None:
    page = browser.open(PATH)
    # first the area to build in first
    expect(_visible_detail(page)).to_have_count(1)
    expect(_visible_detail(page).locator("h3")).to_have_text("Market Quarter")
    page.locator(f'path[data-area="{area("NB")}"]').click()
    detail = _visible_detail(page)
    expect(detail.locator("h3")).to_have_text("Northbrook")
    expect(detail.locator(".headline")).to_have_text("Rank 2 of 4 · score 64.2 of 100")
    expect(detail.locator("p").nth(1)).to_have_text(
        "Recommended: on-street AC (7\N{EN DASH}22 kW) for residents without a driveway.")
    expect(detail.locator("p").nth(2)).to_have_text(  # the plan's own sentence
        "On-street AC chargers (7-22 kW) for residents: Area farther than 500 m from a charger 100 %.")
    expect(detail.locator('[data-list="Why here"] li')).to_have_text([
        "Area farther than 500 m from a charger: 100 % (+38.0 points)",
        "Households without off-street parking: 1,300 households (+18.2 points)",
        "Projected demand per charger, next year: 8,200 kWh (+8.0 points)"])
    # every criterion, the plan's words where its reasons give them
    expect(detail.locator('[data-list="Score, point by point"] li')).to_have_text([
        "Area farther than 500 m from a charger: +38.0", "Households without off-street parking: +18.2",
        "Projected demand per charger, next year: +8.0", "Saturation (hours all chargers busy or down): +0.0",
        "Time the area's chargers were down: +0.0"])
    figures = dict(zip(detail.locator("dt").all_inner_texts(), detail.locator("dd").all_inner_texts(), strict=True))
    assert figures["Chargers"] == "0"
    assert figures["Mean distance to the nearest charger"] == "1,240 m"
    assert figures["Saturation (hours all chargers busy or down)"] == "—"  # no charger: cannot be computed
    assert figures["Projected demand in 3 years"] == "14,900 kWh"
    assert figures["Hours saturation is judged on"] == "0 h"
    # computed 06:30 UTC, GMT in March
    expect(detail).to_contain_text("Data of February 2026; plan computed 2026-03-18 06:30 (Europe/London); "
                                   "distances straight line.")
    shape = page.locator(f'path[data-area="{area("NB")}"]')
    expect(shape).to_have_attribute("stroke-width", "4")  # outlined as the selected one
    expect(page.locator(f'path[data-area="{area("MQ")}"]')).to_have_attribute("stroke-width", "1.5")

    page.locator(f'path[data-area="{area("SV")}"]').click()  # no score: says so
    expect(_visible_detail(page).locator(".headline")).to_have_text("No score yet")
    expect(_visible_detail(page)).to_contain_text("Run cic plan")
    assert browser.errors == []


def test_the_keyboard_reaches_every_area_through_the_ranking(browser: Browser) -> None:
    page = browser.open(PATH)
    page.locator("#ranking a.csv").focus()
    names = []
    for _ in range(6):  # the table's scroll region, then one button per area in rank order
        page.keyboard.press("Tab")
        names.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert names[1:] == ["Market Quarter", "Northbrook", "Hospital Hill", "Westfield", "Station Vale"]
    for _ in range(2):
        page.keyboard.press("Shift+Tab")  # back to Hospital Hill
    page.keyboard.press("Enter")
    detail = _visible_detail(page)
    expect(detail.locator("h3")).to_have_text("Hospital Hill")
    expect(detail.locator("h3")).to_be_focused()  # taken to the explanation
    expect(detail.locator(".headline")).to_have_text("Rank 3 of 4 · score 41.5 of 100")
    expect(detail).to_contain_text("Recommended: a rapid hub (50 kW or more).")
    expect(detail.locator('[data-list="Why here"] li').first).to_have_text(
        "Time the area's chargers were down: 38 % (+17.5 points)")
    expect(page.locator(f'path[data-area="{area("HH")}"]')).to_have_attribute("stroke-width", "4")
    # the selection outlives the live updates (every second here): blank the status line, which the
    # next update fills in once it has swapped the page
    page.evaluate("document.getElementById('live-status').textContent = ''")
    expect(page.locator("#live-status")).to_contain_text("updated", timeout=WAIT_MS)
    expect(_visible_detail(page).locator("h3")).to_have_text("Hospital Hill")
    expect(page.locator(f'path[data-area="{area("HH")}"]')).to_have_attribute("stroke-width", "4")
    assert browser.errors == []


RANKING = [
    ["Rank", "Area", "Code", "Score (of 100)", "Recommended", "Why here (points)", "Chargers", "Saturation (%)",
     "Coverage gap (%)", "Projected kWh per charger, next year", "Plug-in vehicles"],
    ["1", "Market Quarter", "MQ", "86.0", "Rapid hub",
     "Saturation (no free charger within a walk): 41 % (+36.0 points); Households without off-street parking: 2,150 "
     "households (+24.5 points); Projected demand per charger, next year: 9,800 kWh (+16.1 points)",
     "2", "41", "18", "9,800", "410"],
    ["2", "Northbrook", "NB", "64.2", "On-street residential AC",
     "Area farther than 500 m from a charger: 100 % (+38.0 points); Households without off-street parking: "
     "1,300 households (+18.2 points); Projected demand per charger, next year: 8,200 kWh (+8.0 points)",
     "0", "—", "100", "8,200", "260"],
    ["3", "Hospital Hill", "HH", "41.5", "Rapid hub",
     "Time the area's chargers were down: 38 % (+17.5 points); Projected demand per charger, next year: 7,400 kWh "
     "(+14.0 points); Saturation (no free charger within a walk): 12 % (+10.0 points)", "1", "12", "35", "7,400",
     "150"],
    ["4", "Westfield", "WF", "22.0", "On-street residential AC",
     "Households without off-street parking: 700 households (+9.5 points); Area farther than 500 m from a "
     "charger: 22 % (+7.5 points); Saturation (no free charger within a walk): 4 % (+5.0 points)", "3", "4", "22",
     "3,100", "330"],
    ["—", "Station Vale", "SV", "—", "—", "not in the last plan run", "2", "—", "—", "—", "120"]]


def test_the_ranking_in_rank_order_and_its_csv(browser: Browser) -> None:
    page = browser.open(PATH)
    assert browser.table("ranking") == RANKING
    with page.expect_download() as download:
        page.locator("#ranking a.csv").click()
    assert download.value.suggested_filename == "where-next-ranking.csv"  # the plan has its own period
    assert list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8")))) == RANKING
    expect(page.locator(".tile", has_text="Build next")).to_contain_text("Market Quarter")
    expect(page.locator("h1 .period")).to_have_text("data of February 2026")
    expect(page.locator("p.note")).to_contain_text("1 of 5 areas have no score")
    expect(page.locator("form.filters")).to_have_count(0)  # the whole council: no filters
    assert browser.errors == []


@pytest.fixture
def bare_town() -> Iterator[tuple[NgsiLdClient, str]]:
    """A broker with the town's stations but no planning area, and a dashboard on it."""
    broker = BrokerProcess()
    client = NgsiLdClient(Settings(broker_url=broker.url, tenant=None))
    assert client.batch_upsert(scenario.places()).ok
    process, url = start_dashboard(broker.url)
    yield client, url
    process.stop()
    client.close()
    broker.stop()


def test_no_areas_then_no_plan_then_the_plan_arriving(chromium: Any, bare_town: tuple[NgsiLdClient, str]) -> None:
    client, url = bare_town
    with browser_page(chromium, url) as seen:
        page = seen.open(PATH)
        note = page.locator("#no-areas")
        expect(note).to_contain_text("No planning areas yet")
        expect(note.locator("pre code")).to_have_text(["cic areas import FILE.geojson", "cic areas stations",
                                                       "cic plan"])
        expect(page.locator("[data-map]")).to_have_count(0)

        assert client.batch_upsert(scenario.planning_areas(planned=False)).ok
        page = seen.open(PATH)
        expect(page.locator("#no-plan")).to_contain_text("The 5 planning areas are in the broker, but none has a "
                                                         "plan score yet")
        expect(page.locator("#no-plan pre code")).to_have_text("cic plan")
        expect(page.locator("path.area-shape")).to_have_count(5)
        expect(page.locator('path.area-shape[fill="url(#areas-hatch)"]')).to_have_count(5)
        expect(page.locator('[data-legend="none"]')).to_have_text("5")
        assert [row[0] for row in seen.table("ranking")[1:]] == ["—"] * 5

        # cic plan runs while the page is open: the next live update brings the ranking, no reload
        page.evaluate("window.__sameDocument = true")
        assert client.batch_upsert(scenario.planning_areas()).ok
        expect(page.locator(".rank-label")).to_have_count(4, timeout=WAIT_MS)
        expect(page.locator("#no-plan")).to_have_count(0)
        expect(page.locator(f'path[data-area="{area("MQ")}"]')).not_to_have_attribute("fill", "url(#areas-hatch)")
        assert [row[0] for row in seen.table("ranking")[1:]] == ["1", "2", "3", "4", "—"]
        assert page.evaluate("window.__sameDocument") is True
        assert seen.errors == []


def test_the_page_reads_what_cic_plan_writes(chromium: Any, tmp_path: Path) -> None:
    """The contract end to end: the planning tests' scripted town (tests/integration/planning/town.py)
    planned by the real ``cic plan``, then shown: ranks in the broker's order, Busy's saturation first
    among its reasons (6 of 24 hours, by construction), the plan's own sentence for the kind."""
    from analytics.planning.cli import plan_main
    from tests.integration.planning.town import COUNCIL, NOW, ZONE, build_town

    broker = BrokerProcess()
    settings = Settings(broker_url=broker.url, tenant=None, council_id=COUNCIL, timezone=ZONE)
    client = NgsiLdClient(settings)
    process = None
    try:
        build_town(settings, client, tmp_path)
        assert plan_main(settings, at=NOW, client=client) == 0
        ranked = sorted(client.query_entities(type="PlanningArea", attrs=["name", "planRank"]),
                        key=lambda e: e["planRank"]["value"])
        busy = client.get_entity(f"urn:ngsi-ld:PlanningArea:{COUNCIL}:BUSY")
        process, url = start_dashboard(broker.url, CIC_COUNCIL_ID=COUNCIL)
        with browser_page(chromium, url) as seen:
            page = seen.open(PATH)
            rows = seen.table("ranking")[1:]
            assert [(r[0], r[1]) for r in rows] == [(str(e["planRank"]["value"]), e["name"]["value"]) for e in ranked]
            assert seen.row("ranking", str(busy["planRank"]["value"]))[5].startswith(
                "Saturation (no free charger within a walk): 25 % (+")
            page.get_by_role("button", name="Busy").click()
            detail = _visible_detail(page)
            expect(detail).to_contain_text(busy["recommendedChargerKind"]["reason"]["value"])
            expect(detail).to_contain_text("Data of November 2026")
            expect(page.locator("path.area-shape")).to_have_count(len(ranked))
            assert seen.errors == []
    finally:
        if process is not None:
            process.stop()
        client.close()
        broker.stop()
