"""Every panel's and variable's query of the five boards, run as Grafana + Infinity would (see
infinity.py) against a real broker holding the dashboard's scripted town
(tests/integration/dashboard/scenario.py), with the rows checked against figures worked out by hand
from the scenario's numbers.

The data sources are the provisioned ones (docker/grafana/provisioning/datasources/ngsi-ld.yaml)
with compose's ``CIC_*`` settings pointed at the test broker, which serves entities and the temporal
API alike; the test's tenant goes in ``NGSILD-Tenant`` as the file's comment tells a site to add it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from citiesincharge.client import NgsiLdClient
from tests.integration.dashboard import scenario
from tests.support import wait_until

from .infinity import DataSource, Frame, Grafana, Infinity, TimeRange, Variable, environment

ROOT = Path(__file__).resolve().parents[3]
PROVISIONING = ROOT / "docker" / "grafana" / "provisioning"
BOARDS = PROVISIONING / "dashboards" / "citiesincharge"
NOW = scenario.NOW
A2_CORRECTED = 82.0  # a late correction of A2's March reliability: a second instance, same observedAt


def board(name: str) -> dict[str, Any]:
    return dict(json.loads((BOARDS / f"{name}.json").read_text()))


def panel(name: str, title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in board(name)["panels"] if p["title"].startswith(title)]
    assert len(found) == 1, [p["title"] for p in board(name)["panels"]]
    return found[0]


def variable(name: str, variable_name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in board(name)["templating"]["list"] if v["name"] == variable_name)
    return found


@pytest.fixture(scope="module")
def town(broker_url: str) -> Iterator[tuple[str, str]]:
    """The scenario written to a tenant of the test broker, as the dashboard's browser tests do."""
    tenant = "grafana" + datetime.now(UTC).strftime("%H%M%S%f")
    with NgsiLdClient(broker_url=broker_url, tenant=tenant) as client:
        assert client.batch_upsert(scenario.places()).ok
        assert client.batch_upsert([scenario.charger_down_alert(), scenario.bay_blocked_alert()]).ok
        for batch in scenario.kpis() + scenario.utilisation():
            assert client.batch_upsert(batch).ok
        assert client.batch_upsert(scenario.forecasts()).ok
        a2 = scenario.station_id("A2")
        wanted = ":reliability:EVChargingStation:cpoA:A2:monthly"
        march = next(e for e in scenario.kpis()[1] if e["id"].endswith(wanted))
        assert march["refEVChargingStation"]["object"] == a2
        corrected = copy.deepcopy(march)
        corrected["kpiValue"]["value"] = A2_CORRECTED

        def correction_is_newer() -> bool:  # the correction must carry a later modifiedAt (ms) than the first
            assert client.batch_upsert([corrected]).ok
            history = client.request("GET", f"/ngsi-ld/v1/temporal/entities/{march['id']}",
                                     params={"attrs": "kpiValue", "options": "sysAttrs"}).json()["kpiValue"]
            same = [i for i in history if i["observedAt"] == march["kpiValue"]["observedAt"]]
            return len({i["modifiedAt"] for i in same}) == len(same)

        wait_until(correction_is_newer, timeout=5)
    yield broker_url, tenant


def infinity(town: tuple[str, str], *, operator: str = "*", station: str | None = None,
             start: datetime = datetime(2026, 1, 1, tzinfo=UTC), end: datetime = NOW) -> Infinity:
    url, tenant = town
    env = environment(url)
    sources = {}
    for item in yaml.safe_load((PROVISIONING / "datasources" / "ngsi-ld.yaml").read_text())["datasources"]:
        source = DataSource.from_provisioning(item, env)
        source.headers["NGSILD-Tenant"] = tenant
        sources[source.uid] = source
    variables = {"operator": Variable(operator, "All" if operator == "*" else operator)}
    if station:
        variables["station"] = Variable(station, scenario.STATIONS[station.rsplit(":", 1)[-1]][1])
    return Infinity(sources, Grafana(variables, TimeRange(start, end)))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def by(frame: Frame, key: str) -> dict[Any, dict[str, Any]]:
    rows = {row[key]: row for row in frame.rows}
    assert len(rows) == len(frame.rows), f"{key} repeats in {frame.rows}"
    return rows


def every_column_answers(frame: Frame) -> None:
    """A column the panel reads but no row fills is a typo in a key: fail on it."""
    assert frame.rows, frame.url
    for name in frame.columns:
        assert any(row[name] is not None for row in frame.rows), f"column {name!r} is empty: {frame.url}"


# -- variables ------------------------------------------------------------------------------------
def test_operator_variable_lists_the_operators_not_the_council(town: tuple[str, str]) -> None:
    for name in ("overview", "reliability", "blocked-bays", "demand", "energy-revenue"):
        frame = infinity(town).run(variable(name, "operator")["query"]["infinityQuery"])
        assert frame.rows == [{"__text": "Alpha Charge Ltd (cpoA)", "__value": "cpoA"},
                              {"__text": "Beta Power plc (cpoB)", "__value": "cpoB"}]


def test_station_variable_follows_the_operator(town: tuple[str, str]) -> None:
    query = variable("demand", "station")["query"]["infinityQuery"]
    every = infinity(town).run(query)
    assert [r["__text"] for r in every.rows] == sorted(s[1] for s in scenario.STATIONS.values())
    assert {r["__value"] for r in every.rows} == {scenario.station_id(k) for k in scenario.STATIONS}
    beta = infinity(town, operator="cpoB").run(query)
    assert [r["__value"] for r in beta.rows] == [scenario.station_id("B2"), scenario.station_id("B1")]


# -- Overview -------------------------------------------------------------------------------------
def test_overview_stations_by_status(town: tuple[str, str]) -> None:
    # A1 AVAILABLE+CHARGING: available; A2 OUTOFORDER+INOPERATIVE: down; A3 CHARGING: charging;
    # B1 AVAILABLE+OUTOFORDER: available; B2 UNKNOWN: unknown
    query = panel("overview", "Stations by status now")
    frame = infinity(town).panel(query)
    every_column_answers(frame)
    assert frame.rows == [{"status": "available", "stations": 2.0}, {"status": "charging", "stations": 1.0},
                          {"status": "down", "stations": 1.0}, {"status": "unknown", "stations": 1.0}]
    alpha = infinity(town, operator="cpoA").panel(query)
    assert [r["stations"] for r in alpha.rows] == [1.0, 1.0, 1.0, 0.0]
    beta = infinity(town, operator="cpoB").panel(query)
    assert [r["stations"] for r in beta.rows] == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("title", ["Stations by status", "Stations"])
def test_overview_stations_map_and_table(town: tuple[str, str], title: str) -> None:
    query = next(p for p in board("overview")["panels"] if p["title"] == title)
    frame = infinity(town).panel(query)
    stations = {row["name"]: row for row in frame.rows}
    assert set(stations) == {s[1] for s in scenario.STATIONS.values()}
    expected = {"A1": ("available", 1, 1, 0, 0), "A2": ("down", 0, 0, 2, 0), "A3": ("charging", 0, 1, 0, 0),
                "B1": ("available", 1, 0, 1, 0), "B2": ("unknown", 0, 0, 0, 1)}
    for key, (operator, name, _street, postcode, lon, lat, _evses) in scenario.STATIONS.items():
        row = stations[name]
        status, available, charging, down, unknown = expected[key]
        assert (row["status"], row["available"], row["charging"], row["down"], row["unknown"]) == (
            status, available, charging, down, unknown), name
        assert row["operator"] == operator and row["area"] == postcode.split()[0]
        if title == "Stations by status":  # the map places each marker
            assert (row["longitude"], row["latitude"]) == (lon, lat)
        else:  # the table hides the coordinates and the id it joined on
            assert "latitude" not in row and "station" not in row
    beta = infinity(town, operator="cpoB").panel(query)
    assert {row["name"] for row in beta.rows} == {"Beta Leisure Centre", "Beta Hospital"}


def test_overview_chargers_down_longest_first(town: tuple[str, str]) -> None:
    frame = infinity(town).panel(panel("overview", "Chargers down now"))
    every_column_answers(frame)
    assert [(r["charger"], r["station"], r["operator"], r["status"], r["since"]) for r in frame.rows] == [
        ("A2-1", "A2", "cpoA", "OUTOFORDER", NOW - timedelta(hours=30)),
        ("B1-2", "B1", "cpoB", "OUTOFORDER", NOW - timedelta(hours=5)),
        ("A2-2", "A2", "cpoA", "INOPERATIVE", NOW - timedelta(hours=2))]
    assert [r["charger"] for r in infinity(town, operator="cpoB").panel(panel("overview", "Chargers down")).rows] == [
        "B1-2"]


def test_overview_open_alerts_most_severe_first(town: tuple[str, str]) -> None:
    query = panel("overview", "Open alerts")
    frame = infinity(town).panel(query)
    assert [(r["severity"], r["kind"], r["operator"], r["since"]) for r in frame.rows] == [
        ("high", "chargerDown", "cpoA", NOW - timedelta(hours=30)),
        ("low", "chargingBayBlocked", "cpoA", NOW - timedelta(minutes=20))]
    assert frame.rows[0]["subject"] == scenario.evse_id("A2", "A2-1")
    assert frame.rows[0]["description"].startswith("Rapid charger A2-1 (150 kW)")
    assert "rank" not in frame.columns  # sorted on, not shown
    assert infinity(town, operator="cpoB").panel(query).rows == []


# -- Reliability & SLA ----------------------------------------------------------------------------
def test_reliability_operators_this_month_against_99(town: tuple[str, str]) -> None:
    query = panel("reliability", "Operators this month")
    frame = infinity(town).panel(query)
    every_column_answers(frame)
    rows = by(frame, "operator")
    assert list(rows) == ["cpoA", "cpoB", "network"]  # the network's row last
    for key, figures in (("cpoA", scenario.OPERATOR_MARCH["cpoA"]), ("cpoB", scenario.OPERATOR_MARCH["cpoB"]),
                         ("network", scenario.COUNCIL_MARCH)):
        reliability, rapid, incidents, mttr, mtbf = figures
        assert (rows[key]["reliability"], rows[key]["rapidReliability"], rows[key]["incidents"],
                rows[key]["mttrHours"], rows[key]["mtbfHours"]) == (reliability, rapid, incidents, mttr, mtbf)
        assert rows[key]["standing"] == ("meets 99 %" if rapid >= 99 else "misses 99 %")
    assert rows["cpoA"]["standing"] == "misses 99 %" and rows["cpoB"]["standing"] == "meets 99 %"
    alpha = infinity(town, operator="cpoA").panel(query)
    assert [r["operator"] for r in alpha.rows] == ["cpoA"]
    gauge = infinity(town).panel(panel("reliability", "Rapid-charger reliability this month"))
    assert [r["rapidReliability"] for r in gauge.rows] == [98.2, 99.6, 98.9]


def test_reliability_stations_per_month_worst_first(town: tuple[str, str]) -> None:
    query = panel("reliability", "Stations per month")
    frame = infinity(town).panel(query)
    every_column_answers(frame)
    february, march = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    expected = []
    for key, ((feb, feb_cov), (mar, mar_cov)) in scenario.STATION_MONTHS.items():
        mar = A2_CORRECTED if key == "A2" else mar  # the newest instance of the period wins
        expected += [(feb, february, key, feb_cov, False), (mar, march, key, mar_cov, True)]
    got = [(r["reliability"], r["month"], r["station"], r["coverage"], r["provisional"] is True) for r in frame.rows]
    assert got == sorted(expected, key=lambda e: (e[0], e[1].isoformat(), e[2]))
    assert got[0] == (A2_CORRECTED, march, "A2", 0.5, True)
    beta = infinity(town, operator="cpoB").panel(query)
    assert sorted({r["station"] for r in beta.rows}) == ["B1", "B2"] and len(beta.rows) == 4
    # the time range bounds the months: from 2 March on, February's figure (ended 1 March) is gone
    later = infinity(town, start=datetime(2026, 3, 2, tzinfo=UTC)).panel(query)
    assert {r["month"] for r in later.rows} == {march}


def test_reliability_incidents(town: tuple[str, str]) -> None:
    frame = infinity(town).panel(panel("reliability", "Incidents this month"))
    assert frame.rows == [{"charger": "A2-1", "operator": "cpoA", "status": "OUTOFORDER",
                           "start": NOW - timedelta(hours=30), "end": None, "hours": 30.0}]
    assert infinity(town, operator="cpoB").panel(panel("reliability", "Incidents")).rows == []


# -- Blocked bays ---------------------------------------------------------------------------------
def test_bays_blocked_now_and_in_the_range(town: tuple[str, str]) -> None:
    week: dict[str, Any] = {"start": NOW - timedelta(days=7), "end": NOW}
    now = infinity(town, **week).panel(panel("blocked-bays", "Bays blocked and overstays now"))
    every_column_answers(now)
    assert now.rows == [{"kind": "chargingBayBlocked", "bay": "b1", "site": "P1", "operator": "cpoA",
                         "charger": "AVAILABLE", "since": NOW - timedelta(minutes=20)}]
    history = infinity(town, **week).panel(panel("blocked-bays", "Blocked-bay and overstay alerts"))
    assert [(r["bay"], r["start"], r["end"]) for r in history.rows] == [("b1", NOW - timedelta(minutes=20), None)]
    before = infinity(town, start=NOW - timedelta(days=7), end=NOW - timedelta(hours=1))
    assert before.panel(panel("blocked-bays", "Blocked-bay and overstay alerts")).rows == []  # began after the range
    assert infinity(town, operator="cpoB", **week).panel(panel("blocked-bays", "Bays blocked")).rows == []
    sites = infinity(town, **week).panel(panel("blocked-bays", "Charging bays per site now"))
    assert sites.rows == [{"site": "P1", "bays": 2.0, "occupied": 1.0, "free": 1.0}]


# -- Demand ---------------------------------------------------------------------------------------
def test_demand_daily_and_hourly_forecasts_with_intervals(town: tuple[str, str]) -> None:
    a1 = scenario.station_id("A1")
    grafana = infinity(town, station=a1, start=NOW - timedelta(days=7), end=NOW + timedelta(days=2))
    daily = grafana.panel(panel("demand", "Sessions per day"))
    every_column_answers(daily)
    tomorrow = datetime(2026, 3, 19, tzinfo=UTC)
    assert daily.rows == [{"time": tomorrow + timedelta(days=i), "forecast": v, "low": round(v * 0.5, 3),
                           "high": round(v * 1.5, 3)} for i, v in enumerate(scenario.FORECAST_DAILY)]
    hourly = grafana.panel(panel("demand", "Sessions per hour"))
    assert len(hourly.rows) == 48
    assert hourly.rows[0]["time"] == NOW and hourly.rows[-1]["time"] == NOW + timedelta(hours=47)
    for i, row in enumerate(hourly.rows):
        value = 0.2 + 0.1 * (i % 12)
        assert row["forecast"] == pytest.approx(value) and row["low"] == round(value * 0.5, 3)
        assert row["low"] <= row["forecast"] <= row["high"]
    other = infinity(town, station=scenario.station_id("B1"))
    assert other.panel(panel("demand", "Sessions per day")).rows == []  # no forecast there yet


def test_demand_forecast_quality(town: tuple[str, str]) -> None:
    frame = infinity(town).panel(panel("demand", "Forecast models and back-test"))
    every_column_answers(frame)
    assert [(r["station"], r["resolution"], r["model"], r["mase"], r["smape"], r["naiveMase"], r["interval"])
            for r in frame.rows] == [("A1", "daily, 8 weeks", "autoregression", 0.8, 30.0, 1.1, 0.9),
                                     ("A1", "hourly, 48 h", "autoregression", 0.8, 30.0, 1.1, 0.9)]
    assert infinity(town, operator="cpoB").panel(panel("demand", "Forecast models")).rows == []


def test_demand_utilisation_by_hour(town: tuple[str, str]) -> None:
    query = panel("demand", "Utilisation by hour")
    frame = infinity(town, start=NOW - timedelta(days=7)).panel(query)
    every_column_answers(frame)
    first = datetime(2026, 3, 11, tzinfo=UTC)  # the seven days before 18 March (GMT: local = UTC)
    assert [r["time"] for r in frame.rows] == [first + timedelta(hours=h) for h in range(7 * 24)]
    values = {r["time"]: r["utilisation"] for r in frame.rows}
    assert values[datetime(2026, 3, 13, 18, tzinfo=UTC)] == 0.9  # Friday 18:00, the busiest
    assert values[datetime(2026, 3, 12, 18, tzinfo=UTC)] == 0.5
    assert values[datetime(2026, 3, 12, 9, tzinfo=UTC)] == 0.1
    assert infinity(town, operator="cpoA", start=NOW - timedelta(days=7)).panel(query).rows == []  # none written


# -- Energy & revenue -----------------------------------------------------------------------------
@pytest.mark.parametrize("title", ["kWh and revenue per operator per month"])
def test_energy_and_revenue_per_operator_per_month(town: tuple[str, str], title: str) -> None:
    frame = infinity(town).panel(panel("energy-revenue", title))
    every_column_answers(frame)
    march = datetime(2026, 3, 1, tzinfo=UTC)
    expected = {}
    for operator in scenario.OPERATORS:
        mine = [f for k, f in scenario.STATION_ENERGY.items() if scenario.STATIONS[k][0] == operator]
        kwh, sessions = sum(f[0] for f in mine), sum(f[1] for f in mine)
        excl, incl = round(sum(f[2] for f in mine), 2), round(sum(f[3] for f in mine), 2)
        expected[operator] = {"month": march, "operator": operator, "kwh": kwh, "sessions": float(sessions),
                              "revenueExclVat": excl, "revenueInclVat": incl,
                              "avgPricePerKWh": round(excl / kwh, 4), "currency": "GBP"}
    assert frame.rows == [expected["cpoA"], expected["cpoB"]]
    assert expected["cpoA"]["kwh"] == 650.0 and expected["cpoB"]["revenueExclVat"] == 156.0  # by hand: 250+400, 117+39
    alpha = infinity(town, operator="cpoA").panel(panel("energy-revenue", title))
    assert alpha.rows == [expected["cpoA"]]
    chart = infinity(town).panel(panel("energy-revenue", "kWh per operator per month"))
    assert chart.rows == [{"month\\operator": march, "cpoA": 650.0, "cpoB": 400.0}]
    revenue = infinity(town).panel(panel("energy-revenue", "Revenue excl. VAT per operator per month"))
    assert revenue.rows == [{"month\\operator": march, "cpoA": 292.5, "cpoB": 156.0}]


def test_energy_tariffs(town: tuple[str, str]) -> None:
    frame = infinity(town).panel(panel("energy-revenue", "Tariffs side by side"))
    every_column_answers(frame)
    none = {"pricePerKWh": None, "pricePerKWhInclVat": None, "pricePerHour": None, "parkingPricePerHour": None,
            "flatFee": None, "vatRate": None, "validFrom": None, "validTo": None, "tariffType": None}
    assert frame.rows == [  # summary prices only where unambiguous; incl. VAT only with a vatRate
        {**none, "operator": "cpoA", "tariff": "CPOA-AC", "tariffType": "REGULAR", "currency": "GBP",
         "pricePerKWh": 0.45, "pricePerKWhInclVat": 0.54, "parkingPricePerHour": 1.5, "vatRate": 20.0},
        {**none, "operator": "cpoA", "tariff": "CPOA-AC-2025", "tariffType": "REGULAR", "currency": "GBP",
         "pricePerKWh": 0.4, "pricePerKWhInclVat": 0.48, "pricePerHour": 0.6, "parkingPricePerHour": 1.0,
         "vatRate": 20.0, "validFrom": datetime(2025, 1, 1, tzinfo=UTC), "validTo": datetime(2026, 1, 1, tzinfo=UTC)},
        {**none, "operator": "cpoA", "tariff": "CPOA-DC", "tariffType": "AD_HOC_PAYMENT", "currency": "GBP",
         "pricePerKWh": 0.69, "parkingPricePerHour": 6.0},
        {**none, "operator": "cpoB", "tariff": "CPOB-AC", "currency": "GBP", "pricePerKWh": 0.39, "flatFee": 0.5},
        {**none, "operator": "cpoB", "tariff": "CPOB-NIGHT", "currency": "GBP"}]


def test_energy_reference_session_ranges(town: tuple[str, str]) -> None:
    """Cheapest and dearest over each operator's tariffs in force at the range's end (scenario.TARIFFS,
    by hand): cpoA's CPOA-AC and CPOA-DC (CPOA-AC-2025 ended on 1 January), whose parked sessions
    compare prices excl. VAT (CPOA-DC bills parking without VAT); cpoB gives no VAT at all."""
    title = "What each operator charges for a reference session"
    frame = infinity(town).panel(panel("energy-revenue", title))
    every_column_answers(frame)

    def row(operator: str, session: str, tariffs: int, cheapest: float, dearest: float, prices: str) -> dict[str, Any]:
        return {"operator": operator, "currency": "GBP", "session": session, "tariffs": float(tariffs),
                "cheapest": cheapest, "dearest": dearest, "prices": prices}

    assert frame.rows == [
        row("cpoA", "ac7-evening", 2, 3.78, 6.0, "incl. VAT"), row("cpoA", "dc50-morning", 2, 16.2, 24.84, "incl. VAT"),
        row("cpoA", "ac11-2h", 2, 6.45, 13.59, "excl. VAT"), row("cpoA", "ac7-overnight", 2, 18.45, 50.49, "excl. VAT"),
        row("cpoB", "ac7-evening", 2, 3.15, 3.23, "excl. VAT"), row("cpoB", "dc50-morning", 2, 12.2, 13.5, "excl. VAT"),
        row("cpoB", "ac11-2h", 2, 4.79, 4.95, "excl. VAT"), row("cpoB", "ac7-overnight", 2, 5.25, 8.69, "excl. VAT")]
    # in June 2025 CPOA-AC-2025 was in force too: 30 kWh DC cost 14.832 incl. VAT under it
    then = infinity(town, operator="cpoA", start=datetime(2025, 1, 1, tzinfo=UTC),
                    end=datetime(2025, 6, 1, tzinfo=UTC)).panel(panel("energy-revenue", title))
    assert then.rows[:2] == [row("cpoA", "ac7-evening", 3, 3.78, 6.0, "incl. VAT"),
                             row("cpoA", "dc50-morning", 3, 14.832, 24.84, "incl. VAT")]


def test_energy_reference_prices_per_tariff(town: tuple[str, str]) -> None:
    frame = infinity(town, operator="cpoA").panel(panel("energy-revenue", "Reference session prices per tariff"))
    every_column_answers(frame)
    expected = []
    for (operator, key), (_attributes, _updated, tuesday, excl, incl) in scenario.TARIFFS.items():
        if operator != "cpoA":
            continue
        for session, price_excl, price_incl in zip(scenario.SESSIONS, excl, incl, strict=True):
            expected.append({"operator": operator, "tariff": key, "session": session,
                             "inForce": "no" if key == "CPOA-AC-2025" else "yes",
                             "start": f"{tuesday}T{scenario.HOURS[session]:02d}:00:00", "priceExclVat": price_excl,
                             "priceInclVat": price_incl, "currency": "GBP"})
    assert frame.rows == sorted(expected, key=lambda r: str(r["tariff"]))  # each tariff's sessions in their order
    assert frame.rows[-2:] == [  # CPOA-DC bills parking without VAT: no price incl. VAT
        {"operator": "cpoA", "tariff": "CPOA-DC", "session": "ac11-2h", "inForce": "yes",
         "start": "2026-02-10T12:00:00", "priceExclVat": 13.59, "priceInclVat": None, "currency": "GBP"},
        {"operator": "cpoA", "tariff": "CPOA-DC", "session": "ac7-overnight", "inForce": "yes",
         "start": "2026-02-10T22:00:00", "priceExclVat": 50.49, "priceInclVat": None, "currency": "GBP"}]


def test_every_query_of_every_board_is_run_by_a_test(town: tuple[str, str]) -> None:
    """Each panel's query answers (status < 400, rows of its columns) with the default selection."""
    for path in sorted(BOARDS.glob("*.json")):
        name = path.stem
        grafana = infinity(town, station=scenario.station_id("A1"), start=NOW - timedelta(days=7))
        for item in board(name)["panels"]:
            frame = grafana.panel(item)
            assert frame.rows, (name, item["title"], frame.url)
