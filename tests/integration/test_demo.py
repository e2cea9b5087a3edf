"""``cic demo`` runs the whole system: MQTT, broker, simulated CPOs and sensors, both agents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import requests

from agents.ocpi.simulator.server import demo_tokens
from agents.ocpi.simulator.world import World, default_town
from agents.parking.registry import load_registry
from citiesincharge.client import NgsiLdClient
from citiesincharge.sdm import schema_errors
from citiesincharge.settings import Settings
from tests.support import DemoProcess, wait_until


def test_the_demo_registry_pairs_bays_with_real_simulated_chargers() -> None:
    world = World(default_town(demo_tokens()), seed=42, speed=0, start=datetime(2026, 3, 2, tzinfo=UTC))
    evses = {f"urn:ngsi-ld:EVSE:{name}:{e.uid}" for name, op in world.operators.items()
             for loc in op.locations for e in loc.evses}
    registry = load_registry(None)
    paired = [b.evse for b in registry.bays if b.evse]
    assert paired and set(paired) <= evses
    assert any(b.evse is None for b in registry.bays)  # and stand-alone bays


def test_demo_runs_the_system_end_to_end(tmp_path: Path) -> None:
    demo = DemoProcess(tmp_path, {"CIC_DEMO_HISTORY_DAYS": "1", "CIC_MQTT_CLIENT_ID": "demo-test"})
    try:
        assert "parking agent" in demo.text(), demo.text()
        client = NgsiLdClient(Settings(broker_url=demo.broker_url))
        wait_until(lambda: client.count_entities(type="EVChargingStation") == 180, timeout=60, interval=0.5)
        stations = list(client.query_entities(type="EVChargingStation", options="keyValues"))
        assert all(schema_errors(s) == [] for s in stations)  # what the broker serves is SDM-valid
        assert {s["dataProvider"] for s in stations} == {"cpoA", "cpoB", "cpoC"}
        bays = len(load_registry(None).bays)
        wait_until(lambda: client.count_entities(type="ParkingSpot") == bays, timeout=60, interval=0.5)
        spots = list(client.query_entities(type="ParkingSpot", options="keyValues"))
        assert all(schema_errors(s) == [] for s in spots)
        paired = [s for s in spots if "refEVSE" in s]
        assert paired and all(client.find_entity(s["refEVSE"]) for s in paired[:10])  # beside real chargers
        wait_until(lambda: all("occupiedSpotNumber" in s for s in client.query_entities(
            type="OnStreetParking,OffStreetParking", options="keyValues")), timeout=30, interval=0.5)
        def reliability() -> list[dict[str, object]]:
            return list(client.query_entities(type="KeyPerformanceIndicator", options="keyValues",
                                              q='process=="reliability"'))

        wait_until(reliability, timeout=60, interval=0.5)  # the health worker's KPIs for the simulated town
        assert all(schema_errors(k) == [] for k in reliability())
        assert (demo.data / "broker.sqlite").exists() and (demo.data / "agent-ocpi.sqlite").exists()
        dashboard = f"http://127.0.0.1:{demo.ports['dashboard']}/"
        assert f"dashboard          : {dashboard}" in demo.text()  # the banner names the dashboard
        page = requests.get(dashboard, timeout=30)
        assert page.status_code == 200 and "Stations by status" in page.text
    finally:
        demo.stop()
