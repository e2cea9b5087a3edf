"""Charger health & SLA end to end: history in the broker, KPIs and alerts back, after a restart too."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from citiesincharge.client import NgsiLdClient
from citiesincharge.sdm import schema_errors
from tests.integration.analytics.conftest import ServiceFactory, alerts, at, bay, evse
from tests.support import wait_until


@pytest.fixture
def sla(tmp_path: Path) -> Path:
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump({"default": {"availability": 99.0, "max_repair_hours": 2 / 3600}}))
    return path


def kpi(ngsi: NgsiLdClient, name: str, scope: str) -> list[dict[str, object]]:
    return [k for k in ngsi.query_entities(type="KeyPerformanceIndicator", options="keyValues",
                                           q=f'process=="{name}"')
            if scope in str(k["id"]) and k["calculationFrequency"] == "daily"]


def rapid_day(ngsi: NgsiLdClient) -> None:
    """R1 (150 kW): 20 s available, 10 s out of order, 30 s available, then unknown (not counted)."""
    for offset, status in ((70, "AVAILABLE"), (50, "OUTOFORDER"), (40, "AVAILABLE"), (10, "UNKNOWN")):
        evse(ngsi, "R1", status, at(offset), operator="cpoT", power=150)


def test_reliability_kpis_from_history(start_analytics: ServiceFactory, ngsi: NgsiLdClient,
                                                      sla: Path) -> None:
    rapid_day(ngsi)  # before the worker runs: it must back-fill from the temporal API
    start_analytics(["health"], sla_file=sla)
    wait_until(lambda: kpi(ngsi, "reliability", "EVSE:cpoT:R1"), timeout=15)
    [charger] = kpi(ngsi, "reliability", "EVSE:cpoT:R1")
    assert charger["kpiValue"] == pytest.approx(100 * 50 / 60, abs=0.01)  # UK counting: 50 s of 60 s counted
    assert charger["currentStanding"] == "bad" and charger["refEVSE"] == "urn:ngsi-ld:EVSE:cpoT:R1"
    assert schema_errors(charger) == []
    wait_until(lambda: kpi(ngsi, "rapidReliability", "Organization:cpoT"), timeout=15)
    [network] = kpi(ngsi, "rapidReliability", "Organization:cpoT")
    assert network["kpiValue"] == pytest.approx(100 * 50 / 60, abs=0.01) and network["businessTarget"] == ">= 99 %"
    logs = [k for k in ngsi.query_entities(type="KeyPerformanceIndicator", options="keyValues",
                                           q='process=="incidentLog"') if "R1" in str(k["id"])]
    [incident] = logs[0]["kpiValue"]  # the month's downtime incidents, each with start, end, duration, status
    assert incident["status"] == "OUTOFORDER" and incident["hours"] == pytest.approx(10 / 3600, abs=1e-3)
    assert alerts(ngsi, "slaBreach") == []  # a minute of the month is no SLA verdict (tests/.../test_alerts_state.py)


def test_charger_down_beyond_repair_time_and_recovery(start_analytics: ServiceFactory, ngsi: NgsiLdClient,
                                                      sla: Path) -> None:
    start_analytics(["health"], sla_file=sla)
    evse(ngsi, "E1", "AVAILABLE", at(30))
    evse(ngsi, "E1", "OUTOFORDER", at(0))
    wait_until(lambda: alerts(ngsi, "chargerDown"), timeout=10)
    [down] = alerts(ngsi, "chargerDown")
    assert down["data"]["evse"] == "urn:ngsi-ld:EVSE:cpoT:E1" and down["data"]["status"] == "open"
    evse(ngsi, "E1", "AVAILABLE", at(0))
    wait_until(lambda: alerts(ngsi, "chargerDown")[0]["data"]["status"] == "closed", timeout=10)


def test_silent_bay_sensor_alert(start_analytics: ServiceFactory, ngsi: NgsiLdClient) -> None:
    start_analytics(["health"])
    bay(ngsi, "b1", "free", at(5))
    bay(ngsi, "b1", "unknown", at(2))
    wait_until(lambda: alerts(ngsi, "sensorSilent"), timeout=10)
    bay(ngsi, "b1", "occupied", at(0))
    wait_until(lambda: alerts(ngsi, "sensorSilent")[0]["data"]["status"] == "closed", timeout=10)


def test_restart_back_fills_to_the_same_results(start_analytics: ServiceFactory, ngsi: NgsiLdClient,
                                                sla: Path) -> None:
    rapid_day(ngsi)
    first = start_analytics(["health"], sla_file=sla)
    wait_until(lambda: kpi(ngsi, "reliability", "EVSE:cpoT:R1"), timeout=15)
    before = (kpi(ngsi, "reliability", "EVSE:cpoT:R1")[0]["kpiValue"], [a["id"] for a in alerts(ngsi, "slaBreach")])
    first.stop()
    ngsi.delete_entity(kpi(ngsi, "reliability", "EVSE:cpoT:R1")[0]["id"])  # so the second run must rebuild it
    start_analytics(["health"], sla_file=sla)
    wait_until(lambda: kpi(ngsi, "reliability", "EVSE:cpoT:R1"), timeout=15)
    after = (kpi(ngsi, "reliability", "EVSE:cpoT:R1")[0]["kpiValue"], [a["id"] for a in alerts(ngsi, "slaBreach")])
    assert after == before
