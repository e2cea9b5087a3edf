"""The parking agent on the run's one clock, and the Device entities its bays refer to (issue 9 §2).

A compact sensor sends no time: its event is stamped with the world clock's instant at arrival,
which in an accelerated demo is the simulated time every other event carries, not the wall clock.
Each sensor is an SDM Device (battery, last report) written with the bay updates, not per heartbeat.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from analytics.clock import parse
from citiesincharge.client import NgsiLdClient
from citiesincharge.worldclock import WorldClock
from tests.integration.parking.conftest import AgentFactory, Publisher, bay_status, write_registry
from tests.support import wait_until

START = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)  # a simulated instant, far from whatever the wall clock says


def test_a_compact_payload_gets_the_world_clocks_time(make_agent: AgentFactory, publisher: Publisher,
                                                      ngsi: NgsiLdClient) -> None:
    clock = WorldClock.anchored(START, 60)
    make_agent(clock_start=clock.start, clock_wall=clock.wall, clock_scale=clock.scale)
    before = clock.now()
    publisher.event("compact-0003", True, datetime.now(UTC))  # the compact format carries no time at all
    wait_until(lambda: bay_status(ngsi, "b3") == "occupied")
    after = clock.now()
    observed = parse(ngsi.get_entity("urn:ngsi-ld:ParkingSpot:S1:b3", attrs=["status"])["status"]["observedAt"])
    assert before - timedelta(milliseconds=1) <= observed <= after  # simulated time at arrival (60x)
    assert after - before < timedelta(hours=1)  # the bounds are tight enough to tell the two clocks apart


def test_a_silent_bay_is_stamped_with_the_world_clock(make_agent: AgentFactory, ngsi: NgsiLdClient,
                                                      tmp_path: Path) -> None:
    clock = WorldClock.anchored(START, 60)
    before = clock.now()
    make_agent(clock_start=clock.start, clock_wall=clock.wall, clock_scale=clock.scale,
               registry=write_registry(tmp_path, bays_per_vendor=1, heartbeat=0.2))
    wait_until(lambda: bay_status(ngsi, "b1") == "unknown", timeout=10)
    observed = parse(ngsi.get_entity("urn:ngsi-ld:ParkingSpot:S1:b1", attrs=["status"])["status"]["observedAt"])
    assert before <= observed <= clock.now()


def test_devices_exist_with_battery_and_last_report_and_heartbeats_cost_no_write(
        make_agent: AgentFactory, publisher: Publisher, ngsi: NgsiLdClient) -> None:
    agent = make_agent()
    at = datetime.now(UTC) - timedelta(seconds=5)
    publisher.event("json-0001", True, at)
    wait_until(lambda: ngsi.find_entity("urn:ngsi-ld:Device:json-0001") is not None)
    spot = ngsi.get_entity("urn:ngsi-ld:ParkingSpot:S1:b1", options="keyValues")
    device = ngsi.get_entity("urn:ngsi-ld:Device:json-0001", options="keyValues")
    assert spot["refDevice"] == [device["id"]]  # what the bay refers to exists
    assert device["batteryLevel"] == 0.9 and device["controlledProperty"] == ["occupancy"]
    assert device["controlledAsset"] == "urn:ngsi-ld:ParkingSpot:S1:b1" and device["deviceCategory"] == ["sensor"]
    assert parse(device["dateLastValueReported"]) == parse(
        ngsi.get_entity(spot["id"], attrs=["status"])["status"]["observedAt"])
    publisher.event("json-0001", True, at + timedelta(seconds=1))  # a heartbeat: same status, same battery
    wait_until(lambda: agent.status()["events"]["repeated"] >= 1)
    wait_until(lambda: agent.outbox.depth() == 0)
    history = ngsi.temporal_entity(device["id"], attrs=["dateLastValueReported"], options="temporalValues")
    assert len(history["dateLastValueReported"]["values"]) == 1  # within the heartbeat: not written again
