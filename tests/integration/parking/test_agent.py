"""The parking agent with a real Mosquitto and a real NGSI-LD broker."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from citiesincharge.client import NgsiLdClient
from citiesincharge.sdm import schema_errors
from tests.integration.parking.conftest import AgentFactory, Publisher, bay_status, now_minus, write_registry
from tests.support import wait_until


def test_every_vendor_format_end_to_end(make_agent: AgentFactory, publisher: Publisher, ngsi: NgsiLdClient) -> None:
    make_agent()
    at = now_minus(5)
    for sensor in ("json-0001", "tts-0002", "compact-0003"):
        publisher.event(sensor, True, at)
    wait_until(lambda: all(bay_status(ngsi, b) == "occupied" for b in ("b1", "b2", "b3")))
    spots = {s["id"]: s for s in ngsi.query_entities(type="ParkingSpot", options="keyValues")}
    for spot in spots.values():
        assert schema_errors(spot) == []
        assert spot["refParkingSite"] == "urn:ngsi-ld:OnStreetParking:S1" and spot["category"] == ["onStreet"]
    b1 = ngsi.get_entity("urn:ngsi-ld:ParkingSpot:S1:b1", attrs=["status", "refDevice", "refEVSE"])
    assert b1["status"]["observedAt"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))  # sensor time, not arrival
    assert b1["refDevice"]["object"] == ["urn:ngsi-ld:Device:json-0001"]
    assert b1["refEVSE"]["object"] == "urn:ngsi-ld:EVSE:cpoT:E1"

    def site_counts() -> tuple[int, int, int] | None:
        site = ngsi.get_entity("urn:ngsi-ld:OnStreetParking:S1", options="keyValues")
        if "occupiedSpotNumber" not in site:
            return None
        return site["totalSpotNumber"], site["occupiedSpotNumber"], site["availableSpotNumber"]

    wait_until(lambda: site_counts() == (6, 3, 0))
    publisher.event("json-0004", False, now_minus(4))
    wait_until(lambda: site_counts() == (6, 3, 1))
    site = ngsi.get_entity("urn:ngsi-ld:OnStreetParking:S1", options="keyValues")
    assert schema_errors(site) == []


def test_out_of_order_and_duplicates(make_agent: AgentFactory, publisher: Publisher, ngsi: NgsiLdClient) -> None:
    agent = make_agent()
    newest = now_minus(10)
    publisher.event("json-0001", True, now_minus(30))
    publisher.event("json-0001", False, newest)
    publisher.event("json-0001", False, newest)  # duplicate delivery of the same event
    publisher.event("json-0001", True, now_minus(20))  # late: older than what is known
    wait_until(lambda: sum(agent.status()["events"].values()) == 4)  # each message has exactly one outcome
    events = agent.status()["events"]
    assert events["stale"] + events["repeated"] >= 2  # the late one and the duplicate were recognised
    wait_until(lambda: agent.outbox.depth() == 0)
    assert bay_status(ngsi, "b1") == "free"
    history = ngsi.temporal_entity("urn:ngsi-ld:ParkingSpot:S1:b1", attrs=["status"], options="temporalValues")
    values = [v for v, _t in history["status"]["values"]]
    assert values[-1] == "free" and values.count("free") == 1  # the duplicate did not write again


def test_garbage_is_quarantined_while_good_traffic_continues(make_agent: AgentFactory, publisher: Publisher,
                                                              ngsi: NgsiLdClient) -> None:
    agent = make_agent()
    publisher.raw("cic/parking/json/json-0001", b'{"bay": "json-0001", "occ')  # not JSON
    publisher.raw("cic/parking/json/json-0001", b'{"occupied": true}')  # no sensor id
    publisher.event("json-7777", True, now_minus(1))  # unknown sensor
    publisher.raw("cic/parking/compact/compact-0003", b"banana")  # not a state
    publisher.raw("cic/parking/json/json-0004", b'{"bay": "json-0004", "occupied": true, "ts": "2191-01-01T00:00:00Z"}')
    publisher.raw("cic/parking/json/json-0004", b'{"bay": "json-0004", "occupied": true, "ts": 4102444800}')
    publisher.raw("some/other/topic", b"{}")  # not in the registry's sources (not even subscribed)
    publisher.event("tts-0002", True, now_minus(1))  # good traffic right after the garbage
    wait_until(lambda: bay_status(ngsi, "b2") == "occupied")
    wait_until(lambda: agent.quarantine.count() == 6)
    reasons = {(q["field"], q["reason"].split(" (")[0]) for q in agent.quarantine.recent()}
    assert ("payload", "not json") in reasons
    assert ("sensor", "unknown sensor") in reasons
    assert any(field == "status" and "banana" in reason for field, reason in reasons)
    assert any(field == "time" for field, _ in reasons) or any("2100" in r for _, r in reasons)
    assert bay_status(ngsi, "b4") is None


def test_silent_sensor_turns_its_bay_unknown(make_agent: AgentFactory, publisher: Publisher, ngsi: NgsiLdClient,
                                             tmp_path: Path) -> None:
    make_agent(registry=write_registry(tmp_path, heartbeat=2))
    publisher.event("json-0001", True, now_minus(0.5))
    wait_until(lambda: bay_status(ngsi, "b1") == "occupied")
    wait_until(lambda: bay_status(ngsi, "b1") == "unknown", timeout=10)
    publisher.event("json-0001", True, now_minus(0))  # back: the state is known again
    wait_until(lambda: bay_status(ngsi, "b1") == "occupied")


def test_broker_down_fills_the_outbox_then_all_is_applied_in_order(make_agent: AgentFactory, publisher: Publisher,
                                                                  tmp_path: Path) -> None:
    from tests.support import BrokerProcess, free_port

    port = free_port()
    broker = BrokerProcess(port=port)
    agent = make_agent(broker=broker.url)
    broker.stop()
    for n, occupied in enumerate([True, False, True, False]):
        publisher.event("json-0001", occupied, now_minus(40 - n * 10))
        wait_until(lambda n=n: sum(agent.status()["events"].values()) == n + 1)  # one batch each: no coalescing
    wait_until(lambda: agent.outbox.depth() >= 4)  # the four changes wait for the broker
    broker = BrokerProcess(port=port)
    try:
        wait_until(lambda: agent.outbox.depth() == 0, timeout=40)
        ngsi = NgsiLdClient(agent.settings, broker_url=broker.url)
        history = ngsi.temporal_entity("urn:ngsi-ld:ParkingSpot:S1:b1", attrs=["status"], options="temporalValues")
        assert [v for v, _t in history["status"]["values"]] == ["occupied", "free", "occupied", "free"]
    finally:
        broker.stop()


def test_every_change_of_a_burst_reaches_the_history_in_order(make_agent: AgentFactory, publisher: Publisher,
                                                               ngsi: NgsiLdClient) -> None:
    """Issue 16: merging a bay's events within a batch lost a third of the stays under a burst. Gathered for
    2 s, the burst lands in one batch: each change must still be one instance of the history, in event
    order, and the final state the last change."""
    agent = make_agent(parking_batch_ms=2000)
    base = now_minus(60)
    changes = [True, False, True, False, True]
    for n, occupied in enumerate(changes):
        publisher.event("json-0001", occupied, base + timedelta(seconds=5 * n))
        publisher.event("json-0004", n % 2 == 0, base + timedelta(seconds=5 * n + 1))
    publisher.event("json-0001", True, base + timedelta(seconds=21))  # the same status again: no new instance
    wait_until(lambda: sum(agent.status()["events"].values()) == 11)
    wait_until(lambda: agent.outbox.depth() == 0)
    for bay in ("b1", "b4"):
        history = ngsi.temporal_entity(f"urn:ngsi-ld:ParkingSpot:S1:{bay}", attrs=["status"],
                                       options="temporalValues")
        values = sorted(history["status"]["values"], key=lambda pair: pair[1])
        assert [v for v, _t in values] == ["occupied" if c else "free" for c in changes]
        assert bay_status(ngsi, bay) == "occupied"
