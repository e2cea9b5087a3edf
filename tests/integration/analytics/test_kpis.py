"""KPIs as one entity per KPI, subject and frequency, each period an instance of ``kpiValue`` history.

Against the embedded broker over HTTP with the health worker in this process. The data clock is
pinned to the events (``analytics_time_scale`` ~ 0: "now" is the newest observation), so every
figure, period and history row below is fixed by the events the test writes, not by when it runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from analytics.kpis import COUNCIL
from citiesincharge import ids
from citiesincharge.client import NgsiLdClient
from citiesincharge.sdm import schema_errors
from citiesincharge.timeutil import parse_utc
from tests.integration.analytics.conftest import ServiceFactory
from tests.support import wait_until

STATION = "urn:ngsi-ld:EVChargingStation:cpoT:L1"
E1 = "urn:ngsi-ld:EVSE:cpoT:E1"
FROZEN = {"analytics_time_scale": 1e-9, "timezone": "Europe/London"}  # London in July: BST, UTC+1


def status(ngsi: NgsiLdClient, when: str, value: str) -> None:
    ngsi.batch_upsert([{"id": E1, "type": "EVSE",
                        "status": {"type": "Property", "value": value, "observedAt": when},
                        "dataProvider": {"type": "Property", "value": "cpoT"},
                        "refEVChargingStation": {"type": "Relationship", "object": STATION},
                        "maxPower": {"type": "Property", "value": 150, "unitCode": "KWT"}}])


def current(ngsi: NgsiLdClient, kpi_id: str) -> dict[str, Any] | None:
    return ngsi.find_entity(kpi_id)


def value_is(ngsi: NgsiLdClient, kpi_id: str, expected: float, observed: str) -> bool:
    entity = current(ngsi, kpi_id)
    return (entity is not None and entity["kpiValue"]["observedAt"] == observed
            and entity["kpiValue"]["value"] == pytest.approx(expected, abs=1e-3))


def history(ngsi: NgsiLdClient, kpi_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ngsi.temporal_entity(kpi_id, attrs=["kpiValue"])["kpiValue"]
    return found if isinstance(found, list) else [found]


def test_one_entity_per_frequency_periods_in_history_local_days_and_corrections(
        start_analytics: ServiceFactory, ngsi: NgsiLdClient) -> None:
    ngsi.batch_upsert([{"id": STATION, "type": "EVChargingStation",
                        "name": {"type": "Property", "value": "Broxden Park & Ride"}}])
    start_analytics(["health"], **FROZEN)
    daily = ids.derived("KeyPerformanceIndicator", "reliability", E1, "daily")
    end_of_1_july = "2026-07-01T23:00:00.000Z"  # local midnight (BST) ends the council's 1 July
    status(ngsi, "2026-07-01T07:00:00Z", "AVAILABLE")  # 08:00 local
    status(ngsi, "2026-07-01T09:00:00Z", "OUTOFORDER")  # 10:00 local: 2 h reliable so far
    wait_until(lambda: value_is(ngsi, daily, 100.0, end_of_1_july), timeout=20)
    status(ngsi, "2026-07-01T10:00:00Z", "AVAILABLE")  # 1 h out of order
    wait_until(lambda: value_is(ngsi, daily, 100 * 2 / 3, end_of_1_july), timeout=20)
    status(ngsi, "2026-07-01T23:30:00Z", "AVAILABLE")  # still 1 July in UTC, already 2 July in London
    end_of_2_july = "2026-07-02T23:00:00.000Z"
    wait_until(lambda: value_is(ngsi, daily, 100.0, end_of_2_july), timeout=20)

    # the entity is today's (provisional) figure; 1 July is history, ended at local midnight, final
    entity = current(ngsi, daily)
    assert entity is not None and entity["kpiValue"]["provisional"]["value"] is True
    assert entity["kpiValue"]["period"]["value"] == {"from": "2026-07-02T00:00:00+01:00",
                                                     "to": "2026-07-03T00:00:00+01:00"}
    plain = ngsi.get_entity(daily, options="keyValues")
    assert plain["name"] == "Reliability, charger E1 at Broxden Park & Ride, 2 July 2026"
    assert plain["kpiScope"] == "evse" and plain["refEVSE"] == E1 and plain["organization"] == "cpoT"
    assert plain["calculationPeriod"] == {"from": "2026-07-02", "to": "2026-07-02"}
    assert schema_errors(plain) == []
    july_1 = [i for i in history(ngsi, daily) if parse_utc(i["observedAt"]) == parse_utc(end_of_1_july)]
    assert [round(i["value"], 3) for i in july_1] == [100.0, 66.667, 93.75]  # 16 h counted, 1 h down
    assert [i["provisional"]["value"] for i in july_1] == [True, True, False]
    assert july_1[-1]["coverage"]["value"] == pytest.approx(16 / 24, abs=1e-4)

    # late data for 1 July: its instance is written again (same observedAt), today stays current
    status(ngsi, "2026-07-01T19:00:00Z", "OUTOFORDER")  # 20:00-21:00 local on 1 July, learnt late
    status(ngsi, "2026-07-01T20:00:00Z", "AVAILABLE")
    wait_until(lambda: [round(i["value"], 3) for i in history(ngsi, daily)
                        if parse_utc(i["observedAt"]) == parse_utc(end_of_1_july)][-1] == 87.5, timeout=20)
    wait_until(lambda: value_is(ngsi, daily, 100.0, end_of_2_july), timeout=20)
    rows = [parse_utc(i["observedAt"]) for i in history(ngsi, daily)]  # the same instant in any ISO 8601 form
    # 1 July: 3 figures + 1 correction per late event seen apart (1 or 2); 2 July: its first figure,
    assert rows.count(parse_utc(end_of_1_july)) in (4, 5)
    assert rows.count(parse_utc(end_of_2_july)) in (2, 3)  # re-stated after each correction

    # found by scope: today's operator-level KPIs of cpoT, and the whole network's
    operator = list(ngsi.query_entities(type="KeyPerformanceIndicator", options="keyValues",
                                        q='kpiScope=="operator";organization=="cpoT";calculationFrequency=="daily"'))
    assert {k["process"] for k in operator} == {"reliability", "rapidReliability", "mttrHours", "mtbfHours",
                                                 "incidents"}
    assert all(k["refOrganization"] == "urn:ngsi-ld:Organization:cpoT" for k in operator)
    assert {k["name"] for k in operator if k["process"] == "reliability"} == {"Reliability, cpoT, 2 July 2026"}
    council = list(ngsi.query_entities(type="KeyPerformanceIndicator", options="keyValues",
                                       q='kpiScope=="council";process=="reliability"'))
    assert {k["calculationFrequency"] for k in council} == {"daily", "monthly", "yearly"}
    assert all(k["refOrganization"] == COUNCIL and "organization" not in k for k in council)
    monthly = next(k for k in council if k["calculationFrequency"] == "monthly")
    assert monthly["name"] == "Reliability, whole network, July 2026"
    assert monthly["calculationPeriod"] == {"from": "2026-07-01", "to": "2026-07-31"}
    station = ngsi.get_entity(ids.derived("KeyPerformanceIndicator", "reliability", STATION, "monthly"),
                              options="keyValues")
    assert station["kpiScope"] == "station" and station["refEVChargingStation"] == STATION
    below = list(ngsi.query_entities(type="KeyPerformanceIndicator", options="keyValues", q=(
        'kpiScope=="station";process=="reliability";calculationFrequency=="monthly";kpiValue<99')))  # docs/KPIS.md
    assert [k["refEVChargingStation"] for k in below] == [STATION]
    final = list(ngsi.query_entities(type="KeyPerformanceIndicator", q="kpiValue.provisional==false"))
    assert final and all(k["kpiValue"]["provisional"]["value"] is False for k in final)
    # O(subjects x KPIs x frequencies): EVSE 3, station 2, operator 15, council 15 — whatever the days
    assert ngsi.count_entities(type="KeyPerformanceIndicator") == 3 + 2 + 15 + 15
