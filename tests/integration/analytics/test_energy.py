"""Energy & revenue KPIs from CDRs, checked against hand-computed figures."""

from __future__ import annotations

from typing import Any

import pytest

from citiesincharge.client import NgsiLdClient
from citiesincharge.sdm import schema_errors
from tests.integration.analytics.conftest import ServiceFactory
from tests.support import wait_until

STATION = "urn:ngsi-ld:EVChargingStation:cpoT:L1"


def cdr(n: int, start: str, end: str, kwh: float, excl: float, incl: float | None, hours: float,
        idle: float, currency: str = "GBP") -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:ChargeDetailRecord:cpoT:C{n}", "type": "ChargeDetailRecord",
        "startDateTime": {"type": "Property", "value": start}, "endDateTime": {"type": "Property", "value": end},
        "energyDelivered": {"type": "Property", "value": kwh, "unitCode": "KWH"},
        "totalCostExclVat": {"type": "Property", "value": excl}, "currency": {"type": "Property", "value": currency},
        "totalTime": {"type": "Property", "value": hours}, "totalParkingTime": {"type": "Property", "value": idle},
        "refEVChargingStation": {"type": "Relationship", "object": STATION},
        "dataProvider": {"type": "Property", "value": "cpoT"}}
    if incl is not None:
        entity["totalCostInclVat"] = {"type": "Property", "value": incl}
    return entity


def station_kpis(ngsi: NgsiLdClient) -> dict[str, Any]:
    found = ngsi.query_entities(type="KeyPerformanceIndicator", options="keyValues", q='calculationFrequency=="daily"')
    return {k["process"]: k for k in found if "EVChargingStation" in k["id"]}


def test_daily_station_figures(start_analytics: ServiceFactory, ngsi: NgsiLdClient) -> None:
    start_analytics(["energy"])
    # 08:00-10:00 22 kWh (1.5 h charging, 0.5 h idle) and 09:00-09:30 25 kWh (all charging): overlap 09:00-09:30
    ngsi.batch_upsert([cdr(1, "2026-03-02T08:00:00Z", "2026-03-02T10:00:00Z", 22.0, 8.80, 10.56, 2.0, 0.5),
                       cdr(2, "2026-03-02T09:00:00Z", "2026-03-02T09:30:00Z", 25.0, 17.50, 21.00, 0.5, 0.0)])
    wait_until(lambda: len(station_kpis(ngsi)) >= 8, timeout=15)
    kpis = station_kpis(ngsi)
    assert kpis["energyDelivered"]["kpiValue"] == 47.0 and kpis["sessions"]["kpiValue"] == 2
    assert kpis["revenueExclVat"]["kpiValue"] == 26.30 and kpis["revenueInclVat"]["kpiValue"] == 31.56
    assert kpis["avgPricePerKWh"]["kpiValue"] == pytest.approx(26.30 / 47, abs=1e-4)
    assert kpis["avgDurationHours"]["kpiValue"] == 1.25 and kpis["avgIdleHours"]["kpiValue"] == 0.25
    assert kpis["peakPowerKW"]["kpiValue"] == pytest.approx(22 / 1.5 + 25 / 0.5, abs=0.01)  # both at 09:00-09:30
    assert kpis["energyDelivered"]["refEVChargingStation"] == STATION
    assert all(schema_errors(k) == [] for k in kpis.values())


def test_a_cdr_delivered_twice_counts_once(start_analytics: ServiceFactory, ngsi: NgsiLdClient) -> None:
    start_analytics(["energy"])
    record = cdr(1, "2026-03-02T08:00:00Z", "2026-03-02T10:00:00Z", 22.0, 8.80, None, 2.0, 0.5)
    ngsi.batch_upsert([record])
    wait_until(lambda: "energyDelivered" in station_kpis(ngsi), timeout=15)
    ngsi.batch_upsert([record], mode="replace")
    ngsi.batch_upsert([cdr(2, "2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z", 10.0, 4.0, None, 1.0, 0.0)])
    wait_until(lambda: station_kpis(ngsi)["sessions"]["kpiValue"] == 2, timeout=15)
    kpis = station_kpis(ngsi)
    assert kpis["energyDelivered"]["kpiValue"] == 32.0
    assert "revenueInclVat" not in kpis  # OCPI 2.1.1 CDRs carry no incl. VAT total: no made-up figure
