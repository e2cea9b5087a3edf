"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against a real embedded
broker holding a scripted town (``scenario.py``), and a real ``cic dashboard`` process.

What a council officer relies on: the map's markers and their statuses, figures that follow the
operator filter (expected values worked out by hand from the scenario), an alert written to the
broker appearing on an open page without a reload, CSV downloads equal to their tables, no console
errors, clear 4xx pages for bad addresses and a clear page when the broker is gone. The clock is
frozen at ``scenario.NOW``; nothing depends on when the tests run. Screenshots of every page go to
docs/screenshots/ (the README shows them) when CIC_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest
import requests

from citiesincharge.client import NgsiLdClient
from tests.support import free_port

from . import scenario
from .harness import PLAYWRIGHT_REASON, WAIT_MS, Browser, requires_chromium, start_dashboard

pytestmark = requires_chromium
sync_api = pytest.importorskip("playwright.sync_api", reason=PLAYWRIGHT_REASON)
expect = sync_api.expect
# The README's pictures are rewritten only when asked (CIC_UPDATE_SCREENSHOTS=1), so that a test run
# leaves the work tree as it found it; otherwise they go to the test's temporary folder.
SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def test_the_map_shows_every_station_with_its_status(browser: Browser) -> None:
    page = browser.open("/")
    markers = page.locator(".leaflet-marker-icon")
    expect(markers).to_have_count(5)
    # A1 has a free charger, B1 too (beside a broken one); A3's only charger charges; both of A2's are
    # broken; B2's is UNKNOWN
    for status, count in (("available", 2), ("charging", 1), ("down", 1), ("unknown", 1)):
        expect(page.locator(f'.leaflet-marker-icon[data-status="{status}"]')).to_have_count(count)
        expect(page.locator(f'[data-legend="{status}"]')).to_have_text(str(count))
    down = page.locator('.leaflet-marker-icon[data-status="down"]')
    expect(down).to_have_attribute("title", "Alpha Rail Station — down")  # the status as words, not colour only
    expect(down).to_have_text("D")
    assert browser.errors == []


def test_the_operator_filter_changes_the_figures(browser: Browser) -> None:
    browser.open("/")
    # per operator: chargers by status (cpoA: A1-1 available; A1-2, A3-1 charging; A2-1, A2-2 down)
    headings = browser.table("operators")[0]
    assert headings == ["Operator", "Stations", "Chargers", "Chargers available", "Chargers charging",
                        "Chargers down", "Chargers unknown", "Open alerts"]
    assert browser.row("operators", "Alpha Charge Ltd") == ["Alpha Charge Ltd", "3", "5", "1", "2", "2", "0", "1"]
    assert browser.row("operators", "Beta Power plc") == ["Beta Power plc", "2", "3", "1", "0", "1", "1", "0"]
    assert len(browser.table("down")) == 1 + 3  # A2-1, A2-2, B1-2

    page = browser.page
    page.locator("select[name=operator]").select_option("cpoB")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/\?operator=cpoB&"))
    expect(page.locator(".leaflet-marker-icon")).to_have_count(2)
    expect(page.locator('.leaflet-marker-icon[data-status="available"]')).to_have_count(1)
    expect(page.locator('.leaflet-marker-icon[data-status="unknown"]')).to_have_count(1)
    assert [r[0] for r in browser.table("down")[1:]] == ["B1-2"]  # down for 5 h, since 07:00 GMT
    assert browser.row("down", "B1-2")[5:7] == ["2026-03-18 07:00", "5.0"]

    # Reliability: the workers' operator figures of March 2026; 99 % is the UK target for rapid chargers
    browser.open("/reliability")
    assert browser.row("operators", "Alpha Charge Ltd")[1:4] == ["97.50", "98.20", "misses 99 %"]
    assert browser.row("operators", "Beta Power plc")[1:4] == ["99.10", "99.60", "meets 99 %"]
    assert browser.row("operators", "All operators (network)")[1:4] == ["98.10", "98.90", "misses 99 %"]
    expect(page.locator(".tile", has_text="Operators missing 99 %")).to_contain_text("Alpha Charge Ltd")
    # year to date of a station: February 90 % over 672 h fully counted, March 80 % over half of 743 h
    # (the clocks go forward on 29 March): (90 * 672 + 80 * 371.5) / (672 + 371.5) = 86.44
    assert browser.row("stations", "Alpha Rail Station")[6] == "86.44"
    browser.open("/reliability?operator=cpoB")
    assert [r[0] for r in browser.table("operators")[1:]] == ["Beta Power plc"]
    expect(page.locator(".tile", has_text="Operators missing 99 %")).to_contain_text("none")
    # (98 * 672 + 95 * 0.55 * 743) / (672 + 0.55 * 743) = 104677.75 / 1080.65 = 96.866
    assert browser.table("stations")[1:] == [
        ["Beta Leisure Centre", "CV1", "Beta Power plc", "2", "95.00", "misses 99 %", "96.87", "0"],
        ["Beta Hospital", "CV3", "Beta Power plc", "1", "100.00", "meets 99 %", "100.00", "0"]]

    # Energy & revenue, March 2026: Alpha's stations 250 + 400 kWh, 112.50 + 180.00 excl. VAT
    browser.open("/energy")
    assert browser.row("operators", "Alpha Charge Ltd") == ["Alpha Charge Ltd", "GBP", "650.0", "36", "292.50",
                                                          "351.00", "0.4500"]
    assert browser.row("operators", "All operators (network)") == ["All operators (network)", "GBP", "1,050.0", "69",
                                                                 "448.50", "538.20", "0.4271"]
    browser.open("/energy?area=CV1")  # only A1 (cpoA) and B1 (cpoB) billed in CV1
    assert browser.row("operators", "Alpha Charge Ltd")[2:5] == ["250.0", "20", "112.50"]
    assert browser.row("operators", "Beta Power plc")[2:5] == ["300.0", "25", "117.00"]
    assert [r[:2] for r in browser.table("tariffs")[1:]] == [  # tariffs are per operator: not by area
        ["Alpha Charge Ltd", "CPOA-AC"], ["Alpha Charge Ltd", "CPOA-AC-2025"], ["Alpha Charge Ltd", "CPOA-DC"],
        ["Beta Power plc", "CPOB-AC"], ["Beta Power plc", "CPOB-NIGHT"]]
    # stations are: A1 (Alpha Market Sq), A3 (Alpha Park) and B1 (Beta Leisure Centre) are in CV1
    assert [r[:4] for r in browser.table("station-tariffs")[1:]] == [
        ["Alpha Market Sq", "CV1", "Alpha Charge Ltd", "CPOA-AC"], ["Alpha Park", "CV1", "Alpha Charge Ltd", "CPOA-AC"],
        ["Beta Leisure Centre", "CV1", "Beta Power plc", "CPOB-AC"],
        ["Beta Leisure Centre", "CV1", "Beta Power plc", "CPOB-NIGHT"]]
    assert browser.errors == []


SESSION_HEADINGS = ["7 kWh AC from 18:00", "30 kWh DC from 10:00", "11 kWh AC, 2 h plugged in", "21 kWh AC overnight"]


def test_what_each_operator_charges_for_the_reference_sessions(browser: Browser) -> None:
    """The prices of scenario.TARIFFS, read by hand: cpoA's tariffs in force are CPOA-AC and CPOA-DC
    (CPOA-AC-2025 ended on 1 January), cpoB gives no VAT at all (OCPI 2.1.1)."""
    browser.open("/energy")
    assert browser.table("tariff-ranges") == [
        ["Operator", "Currency", "Tariffs in force", *SESSION_HEADINGS],
        # incl. VAT: AC 3.78, DC 6.00 (its minimum price); 16.20 and 24.84; CPOA-DC bills parking without
        # VAT, so the two parked sessions compare prices excl. VAT: 6.45 and 13.59, 18.45 and 50.49
        ["Alpha Charge Ltd", "GBP", "2", "3.78 \N{EN DASH} 6.00", "16.20 \N{EN DASH} 24.84",
         "6.45 \N{EN DASH} 13.59 excl. VAT", "18.45 \N{EN DASH} 50.49 excl. VAT"],
        # CPOB-NIGHT 3.15, 13.50, 4.95, 5.25; CPOB-AC 3.23, 12.20, 4.79, 8.69
        ["Beta Power plc", "GBP", "2", "3.15 \N{EN DASH} 3.23 excl. VAT", "12.20 \N{EN DASH} 13.50 excl. VAT",
         "4.79 \N{EN DASH} 4.95 excl. VAT", "5.25 \N{EN DASH} 8.69 excl. VAT"]]
    assert browser.table("tariffs") == [
        ["Operator", "Tariff", "Currency", *SESSION_HEADINGS, "In force (Europe/London)", "Type", "Per kWh excl. VAT",
         "Per hour charging excl. VAT", "Parking per hour excl. VAT", "Flat fee excl. VAT", "VAT (%)", "Min price",
         "Max price"],
        ["Alpha Charge Ltd", "CPOA-AC", "GBP", "3.78", "16.20", "7.74", "22.14", "now", "regular", "0.4500", "—",
         "1.50", "—", "20.0", "—", "—"],
        ["Alpha Charge Ltd", "CPOA-AC-2025", "GBP", "4.08", "14.83", "7.20", "19.44", "ended 2026-01-01 00:00",
         "regular", "0.4000", "0.60", "1.00", "—", "20.0", "—", "—"],
        # no vatRate (energy 20 %, parking none); minimum price 5.00 excl. / 6.00 incl. VAT
        ["Alpha Charge Ltd", "CPOA-DC", "GBP", "6.00", "24.84", "13.59 excl. VAT", "50.49 excl. VAT", "now",
         "ad hoc payment", "0.6900", "—", "6.00", "—", "—", "6.00", "—"],
        ["Beta Power plc", "CPOB-AC", "GBP", "3.23 excl. VAT", "12.20 excl. VAT", "4.79 excl. VAT", "8.69 excl. VAT",
         "now", "—", "0.3900", "—", "—", "0.50", "—", "—", "—"],
        # a night rate: no single price per kWh
        ["Beta Power plc", "CPOB-NIGHT", "GBP", "3.15 excl. VAT", "13.50 excl. VAT", "4.95 excl. VAT",
         "5.25 excl. VAT", "now", "—", "—", "—", "—", "—", "—", "—", "—"]]
    # per station: the tariffs its connectors name (B1-2 names two, B2-1 one that cpoB never sent)
    assert browser.table("station-tariffs") == [
        ["Station", "Area", "Operator", "Tariff", "Chargers naming it", "Note", *SESSION_HEADINGS],
        ["Alpha Market Sq", "CV1", "Alpha Charge Ltd", "CPOA-AC", "2 of 2", "—", "3.78", "16.20", "7.74", "22.14"],
        ["Alpha Park", "CV1", "Alpha Charge Ltd", "CPOA-AC", "1 of 1", "—", "3.78", "16.20", "7.74", "22.14"],
        ["Alpha Rail Station", "CV2", "Alpha Charge Ltd", "CPOA-DC", "2 of 2", "—", "6.00", "24.84",
         "13.59 excl. VAT", "50.49 excl. VAT"],
        ["Beta Hospital", "CV3", "Beta Power plc", "CPOB-2027", "1 of 1", "not published", "—", "—", "—", "—"],
        ["Beta Hospital", "CV3", "Beta Power plc", "CPOB-NIGHT", "1 of 1", "—", "3.15 excl. VAT", "13.50 excl. VAT",
         "4.95 excl. VAT", "5.25 excl. VAT"],
        ["Beta Leisure Centre", "CV1", "Beta Power plc", "CPOB-AC", "2 of 2", "—", "3.23 excl. VAT",
         "12.20 excl. VAT", "4.79 excl. VAT", "8.69 excl. VAT"],
        ["Beta Leisure Centre", "CV1", "Beta Power plc", "CPOB-NIGHT", "1 of 2", "—", "3.15 excl. VAT",
         "13.50 excl. VAT", "4.95 excl. VAT", "5.25 excl. VAT"]]
    page = browser.page
    expect(page.locator("#tariff-ranges")).to_contain_text("21 kWh at 7 kW (AC, 30 A) plugged in 22:00")

    browser.open("/energy?operator=cpoB")  # one operator: its tariffs only
    assert [r[0] for r in browser.table("tariff-ranges")[1:]] == ["Beta Power plc"]
    assert [r[1] for r in browser.table("tariffs")[1:]] == ["CPOB-AC", "CPOB-NIGHT"]
    assert [r[0] for r in browser.table("station-tariffs")[1:]] == ["Beta Hospital", "Beta Hospital",
                                                                    "Beta Leisure Centre", "Beta Leisure Centre"]
    assert browser.errors == []


def test_demand_next_week_at_a_station(browser: Browser) -> None:
    station = scenario.station_id("A1")
    page = browser.open("/demand")
    # the network's profile: every day 10 % but 18:00, 50 %, and 90 % on Friday 13 March
    expect(page.locator(".tile", has_text="Busiest hour")).to_contain_text("Fri 18:00")
    page.locator("select[name=station]").select_option(station)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#next-week")).to_be_visible()
    assert browser.table("next-week")[1:3] == [["Thu 19 Mar 2026", "4.0", "2.0", "6.0"],
                                               ["Fri 20 Mar 2026", "5.0", "2.5", "7.5"]]
    assert len(browser.table("next-week")) == 1 + 7
    expect(page.locator('[data-chart="forecast-p1d"] svg')).to_be_visible()  # drawn, with its band
    assert browser.errors == []


def test_a_csv_download_equals_its_table(browser: Browser) -> None:
    for path, table_id in (("/", "operators"), ("/energy", "operators"), ("/energy", "tariff-ranges"),
                           ("/energy", "tariffs"), ("/energy?area=CV3", "station-tariffs"),
                           ("/reliability", "stations")):
        page = browser.open(path)
        with page.expect_download() as download:
            page.locator(f"#{table_id} a.csv").click()
        text = Path(download.value.path()).read_text("utf-8")
        assert list(csv.reader(io.StringIO(text))) == browser.table(table_id), path
        assert download.value.suggested_filename.endswith(".csv")
    assert browser.errors == []


def test_a_new_alert_appears_without_a_reload(browser: Browser, town: NgsiLdClient) -> None:
    page = browser.open("/")
    expect(page.locator("#alerts tbody tr")).to_have_count(1)  # the charger down since yesterday 06:00
    page.evaluate("window.__sameDocument = true")
    result = town.batch_upsert([scenario.bay_blocked_alert()])
    assert result.ok
    rows = page.locator("#alerts tbody tr")
    expect(rows).to_have_count(2, timeout=WAIT_MS)
    expect(rows.filter(has_text="bay blocked")).to_contain_text("2026-03-18 11:40")
    assert page.evaluate("window.__sameDocument") is True  # updated in place, not reloaded
    expect(page.locator(".tile", has_text="Open alerts")).to_contain_text("2")

    browser.open("/bays")
    assert browser.table("now")[1][:3] == ["bay blocked", "b1", "Market Sq EV bays"]
    expect(page.locator(".tile", has_text="Bays blocked now")).to_contain_text("1")
    assert browser.errors == []


def test_screenshots_of_every_page(browser: Browser, tmp_path: Path) -> None:
    shots = SHOTS if os.environ.get("CIC_UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for name, path in (("overview", "/"), ("reliability", "/reliability"), ("bays", "/bays"),
                       ("demand", f"/demand?station={scenario.station_id('A1')}"), ("energy", "/energy"),
                       ("where-next", "/where-next")):
        page = browser.open(path)
        for chart in page.locator("[data-chart]").all():
            expect(chart.locator("svg")).to_be_visible()
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    assert browser.errors == []


# -- mistakes and a missing broker: plain HTTP is enough --------------------------------------------
@pytest.mark.parametrize(("path", "status", "says"), [
    ("/?operator=cpoZ", 404, "no operator &#39;cpoZ&#39;; known operators: cpoA, cpoB"),
    ("/?area=ZZ9", 404, "areas (postcode districts): CV1, CV2, CV3"),
    ("/?period=fortnight", 400, "is not one of today, 7d, 30d"),
    ("/energy?period=2026-13", 400, "month 13 does not exist"),
    ("/reliability?period=7d", 400, "this page reports by a month"),
    ("/?csv=nothing", 404, "no table"),
])
def test_a_bad_address_gets_a_clear_4xx(base: str, path: str, status: int, says: str) -> None:
    response = requests.get(base + path, timeout=30)
    assert response.status_code == status
    assert says in response.text


def test_the_dashboard_is_read_only(base: str) -> None:
    assert requests.post(base + "/", data={"x": "1"}, timeout=30).status_code == 405


def test_an_unreachable_broker_gives_a_clear_page() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    process, url = start_dashboard(dead)
    try:
        response = requests.get(url + "/", timeout=30)
        assert response.status_code == 503
        assert "The context broker cannot be read" in response.text
        assert f"broker {dead} unreachable: connection refused" in response.text
    finally:
        process.stop()


def test_behind_the_brokers_token_when_one_is_set(town: NgsiLdClient) -> None:
    process, url = start_dashboard(town.base, CIC_BROKER_AUTH_TOKEN="s3cret-token")
    try:
        assert requests.get(url + "/", timeout=30).status_code == 401
        assert requests.get(url + "/", headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401
        assert requests.get(url + "/energy", headers={"Authorization": "Bearer s3cret-token"},
                            timeout=30).status_code == 200
        session = requests.Session()  # a browser: the sign-in form keeps the token in a cookie
        assert session.post(url + "/login", data={"token": "s3cret-token"}, timeout=30).status_code == 200
        assert session.get(url + "/bays", timeout=30).status_code == 200
    finally:
        process.stop()
