"""One bad message never blocks the others (issue 8 §5): each message is judged on its own.

Real Mosquitto, real NGSI-LD broker over HTTP. A message that cannot be read is quarantined once,
with a reason a person understands, and acknowledged; a transient failure only delays; a message
that keeps failing for a reason nobody foresaw is quarantined after ``CIC_PARKING_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import random
import socket
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from agents.parking.registry import load_registry
from agents.parking.service import ParkingAgent
from agents.parking.simulator import message
from citiesincharge.client import NgsiLdClient
from tests.integration.parking.conftest import AgentFactory, Publisher, bay_status, now_minus, write_registry
from tests.support import BrokerProcess, Mosquitto, free_port, wait_until

REPRODUCER = b'{"bay":"json-0004","occupied":true,"ts":null}'
REPRODUCER_TOPIC = "cic/parking/json/json-0004"
TS_NULL = "field 'ts' is missing or null: an event needs the sensor's time to be ordered"
EXTRA_BAYS = 40


def final_states(ngsi: NgsiLdClient) -> dict[str, str]:
    """Every bay's status in the broker, by bay id."""
    return {e["id"].rsplit(":", 1)[-1]: e["status"] for e in
            ngsi.query_entities(type="ParkingSpot", attrs=["status"], options="keyValues")}


def held_in_quarantine(agent: ParkingAgent) -> float:
    """What the quarantine gauge reports, summed over its labels."""
    family = next(m for m in agent.metrics_registry.collect() if m.name == "cic_agent_quarantined_records")
    return sum(sample.value for sample in family.samples)


def test_reproducer_is_quarantined_once_and_the_restarted_agent_applies_the_rest(
        make_agent: AgentFactory, publisher: Publisher, ngsi: NgsiLdClient) -> None:
    agent = make_agent()
    publisher.raw(REPRODUCER_TOPIC, REPRODUCER)
    publisher.event("json-0001", True, now_minus(30))  # a valid event for another bay, same batch or next
    wait_until(lambda: bay_status(ngsi, "b1") == "occupied")
    wait_until(lambda: agent.quarantine.count() == 1)
    agent.stop()

    # Published while the agent is down: the persistent session keeps them, poison first.
    publisher.raw(REPRODUCER_TOPIC, REPRODUCER)
    publisher.event("json-0001", False, now_minus(20))
    publisher.event("tts-0002", True, now_minus(20))
    agent = make_agent()  # same client id and data: the MQTT broker redelivers what it holds
    wait_until(lambda: bay_status(ngsi, "b1") == "free" and bay_status(ngsi, "b2") == "occupied")
    wait_until(lambda: agent.quarantine.count() == 2)
    assert agent.status()["events"]["applied"] == 2

    agent.stop()
    agent = make_agent()  # nothing is pending any more: an event after the restart is the first one in
    publisher.event("compact-0003", True, now_minus(0))
    wait_until(lambda: bay_status(ngsi, "b3") == "occupied")
    rows = agent.quarantine.recent()
    assert [(r["source"], r["record"], r["field"], r["reason"]) for r in rows] == [
        ("mqtt/parking-json", "json-0004", "time", TS_NULL)] * 2  # one row per poison message, never again
    assert held_in_quarantine(agent) == 2  # the metric counts the table, across restarts
    assert bay_status(ngsi, "b4") is None


@dataclass(frozen=True)
class Poison:
    topic: str
    payload: bytes
    field: str
    reason: str  # a part of the reason the quarantine row must give


def _json(**fields: Any) -> bytes:
    return orjson.dumps(fields)


def poison_messages(at: datetime) -> list[Poison]:
    """Every kind of bad message, each different (so that each is one quarantine row)."""
    ts = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    topic = "cic/parking/json/json-01003"
    tts = "v3/cic-town/devices/tts-0002/up"
    return [
        Poison(topic, b"\xff\xfe{not json", "payload", "not json ("),
        Poison(tts, b"\x00\x01", "payload", "not json ("),
        Poison("cic/parking/compact/compact-0003", b"\xff", "payload", "not text (the payload is not UTF-8)"),
        Poison(topic, b"[1, 2, 3]", "payload", "the payload must be a JSON object, got a list"),
        Poison(topic, b'"occupied"', "payload", "the payload must be a JSON object, got text"),
        Poison(topic, b"", "payload", "the payload is empty"),
        Poison("cic/parking/compact/compact-0006", b"", "payload", "the payload is empty"),
        Poison(topic, _json(bay="json-01003", occupied=True, ts=ts, pad="x" * 100_000), "payload",
               "the payload of 100"),
        Poison(topic, _json(bay={"id": "json-01003"}, occupied=True, ts=ts), "sensor",
               "field 'bay' must be a string, got an object"),
        Poison(topic, _json(bay=["json-01003"], occupied=True, ts=ts), "sensor",
               "field 'bay' must be a string, got a list"),
        Poison(topic, _json(bay=True, occupied=True, ts=ts), "sensor", "field 'bay' must be a string, got a boolean"),
        Poison(topic, _json(bay=1003, occupied=True, ts=ts), "sensor", "unknown sensor (not in the bay registry)"),
        Poison(topic, _json(bay="", occupied=True, ts=ts), "sensor", "no sensor id: field 'bay' is empty"),
        Poison(topic, _json(occupied=True, ts=ts), "sensor", "no sensor id: field 'bay' is missing"),
        Poison("cic/parking/json/json-7777", _json(bay="json-7777", occupied=True, ts=ts), "sensor",
               "unknown sensor (not in the bay registry)"),
        Poison(topic, _json(bay="json-01003", occupied=True, ts=None), "time", TS_NULL),
        Poison(topic, _json(bay="json-01003", occupied=True), "time", TS_NULL),
        Poison(topic, _json(bay="json-01003", occupied=True, ts="yesterday"), "time",
               "field 'ts': 'yesterday' is not a valid ISO 8601 date-time"),
        Poison(topic, _json(bay="json-01003", occupied=True, ts="2191-01-01T00:00:00Z"), "time",
               "outside the plausible range 2000-2100"),
        Poison(topic, _json(bay="json-01003", occupied=True, ts=1e300), "time", "epoch 1e+300 is not a plausible time"),
        Poison(topic, _json(bay="json-01003", occupied=True, ts=(at + timedelta(days=1)).isoformat()), "time",
               "(in the future: "),
        Poison(topic, _json(bay="json-01003", occupied=True, ts=(at - timedelta(days=60)).isoformat()), "time",
               "(too old: "),
        Poison(topic, _json(bay="json-01003", occupied=True, ts={"t": ts}), "time",
               "field 'ts' must be an ISO 8601 time or epoch seconds, got an object"),
        Poison(topic, _json(bay="json-01003", occupied="maybe", ts=ts), "status",
               "field 'occupied': value 'maybe' is not one of"),
        Poison(topic, _json(bay="json-01003", occupied=2, ts=ts), "status", "field 'occupied': value 2 is not one of"),
        Poison(topic, _json(bay="json-01003", occupied={"v": True}, ts=ts), "status",
               "field 'occupied' must be a boolean, a number or text, got an object"),
        Poison(topic, _json(bay="json-01003", ts=ts), "status", "field 'occupied' is missing"),
        Poison("cic/parking/compact/compact-0003", b"banana", "status", "the payload: value 'banana' is not one of"),
        Poison("cic/parking/compact/", b"1", "sensor", "no sensor id: topic level [-1] is empty"),  # topic shape
        Poison(tts, _json(bay="tts-0002", occupied=True, ts=ts), "sensor",  # another vendor's format
               "no sensor id: field 'end_device_ids.device_id' is missing"),
        Poison(tts, _json(end_device_ids={"device_id": "tts-0002"}, received_at=ts,
                          uplink_message={"decoded_payload": {"occupied": [1]}}), "status",
               "field 'uplink_message.decoded_payload.occupied' must be a boolean, a number or text, got a list"),
    ]


def interleave(valid: list[tuple[str, bytes]], bad: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The valid messages with one bad message after every few."""
    stream = list(valid)
    stride = max(1, len(valid) // len(bad))
    for k, item in enumerate(bad):
        stream.insert(k * (stride + 1) + 1, item)
    return stream


def test_every_kind_of_poison_is_quarantined_and_every_bay_ends_in_its_last_valid_state(
        make_agent: AgentFactory, publisher: Publisher, ngsi: NgsiLdClient, tmp_path: Path) -> None:
    registry = write_registry(tmp_path, extra_bays=EXTRA_BAYS)
    bays = load_registry(registry).bays
    agent = make_agent(registry=registry)
    start = now_minus(120)
    poison = poison_messages(start)
    choose = random.Random(8)
    expected: dict[str, str] = {}
    valid: list[tuple[str, bytes]] = []
    for round_ in range(3):  # each round is newer than the last: the last valid event is the newest
        at = start + timedelta(seconds=20 * round_)
        for bay in bays:
            occupied = choose.random() < 0.5
            valid.append(message(bay.sensor, occupied, at, 80))
            expected[bay.id] = "occupied" if occupied else "free"
    # A payload naming another sensor than its topic: the payload says which sensor reported (the
    # mapping does not compare it with the topic), so this is x2's last event.
    valid.append(("cic/parking/json/json-01001", message("json-01002", True, start + timedelta(seconds=50), 80)[1]))
    expected["x2"] = "occupied"
    for topic, payload in interleave(valid, [(bad.topic, bad.payload) for bad in poison]):
        publisher.raw(topic, payload)

    wait_until(lambda: agent.quarantine.count() >= len(poison), timeout=30)
    wait_until(lambda: final_states(ngsi) == expected, timeout=30)
    rows = agent.quarantine.recent(limit=1000)
    assert len(rows) == len(poison)  # one row per poison message
    unmatched = [(r["field"], r["reason"]) for r in rows]
    for bad in poison:
        match = next((row for row in unmatched if row[0] == bad.field and bad.reason in row[1]), None)
        assert match is not None, f"no quarantine row for {bad}; left: {unmatched}"
        unmatched.remove(match)
    assert held_in_quarantine(agent) == len(poison)


def test_ngsi_broker_outage_delays_events_and_quarantines_none(make_agent: AgentFactory, publisher: Publisher,
                                                               tmp_path: Path) -> None:
    registry = write_registry(tmp_path, extra_bays=EXTRA_BAYS)
    bays = load_registry(registry).bays
    port = free_port()
    broker = BrokerProcess(tmp_path / "ngsi", port=port)
    try:
        agent = make_agent(registry=registry, broker=broker.url)
        ngsi = NgsiLdClient(agent.settings)
        start = now_minus(120)
        expected = {bay.id: "occupied" for bay in bays}
        for bay in bays:
            publisher.event(bay.sensor, True, start)
        wait_until(lambda: final_states(ngsi) == expected, timeout=30)
        broker.stop()
        published = len(bays)
        for round_ in (1, 2, 3):  # arriving while the broker is down
            for n, bay in enumerate(bays):
                occupied = (n + round_) % 2 == 0
                publisher.event(bay.sensor, occupied, start + timedelta(seconds=10 * round_))
                expected[bay.id] = "occupied" if occupied else "free"
                published += 1
        wait_until(lambda: sum(agent.status()["events"].values()) == published, timeout=30)  # all judged
        assert agent.outbox.depth() > 0 and agent.outbox.last_error  # and waiting for the broker
        broker = BrokerProcess(tmp_path / "ngsi", port=port)
        wait_until(lambda: agent.outbox.depth() == 0, timeout=60)
        assert final_states(ngsi) == expected
        assert agent.quarantine.count() == 0 and held_in_quarantine(agent) == 0
    finally:
        broker.stop()


def test_a_busy_agent_store_postpones_the_batch_without_quarantining_it(
        make_agent: AgentFactory, publisher: Publisher, ngsi: NgsiLdClient, tmp_path: Path) -> None:
    agent = make_agent()
    store = sqlite3.connect(tmp_path / "agent-parking-agent-1.sqlite", isolation_level=None)
    store.execute("BEGIN IMMEDIATE")  # another writer holds the agent's SQLite file: a transient failure
    try:
        publisher.event("json-0001", True, now_minus(10))
        publisher.raw(REPRODUCER_TOPIC, REPRODUCER)
        publisher.event("tts-0002", True, now_minus(10))
        wait_until(lambda: "database is locked" in (agent.status()["postponed"] or ""), timeout=30)
        status = agent.status()
        assert status["unacknowledged"] == 3 and sum(status["events"].values()) == 0  # postponed whole
        assert agent.quarantine.count() == 0
    finally:
        store.execute("ROLLBACK")
        store.close()
    wait_until(lambda: bay_status(ngsi, "b1") == "occupied" and bay_status(ngsi, "b2") == "occupied", timeout=30)
    wait_until(lambda: agent.status()["unacknowledged"] == 0)
    assert [(r["field"], r["reason"]) for r in agent.quarantine.recent()] == [("time", TS_NULL)]  # exactly once


def test_a_message_that_keeps_failing_is_quarantined_after_max_attempts(
        make_agent: AgentFactory, publisher: Publisher, ngsi: NgsiLdClient) -> None:
    agent = make_agent(parking_max_attempts=3)
    # A real store fault nobody foresaw, for one bay only: its writes are refused, the others' are not.
    agent.db.execute("CREATE TRIGGER refuse_b4 BEFORE INSERT ON outbox WHEN NEW.entity_id LIKE '%:b4' "
                     "BEGIN SELECT RAISE(ABORT, 'this store refuses bay b4'); END")
    at = now_minus(10)
    publisher.event("json-0001", True, at)
    publisher.event("json-0004", True, at)
    publisher.event("tts-0002", True, at)
    wait_until(lambda: bay_status(ngsi, "b1") == "occupied" and bay_status(ngsi, "b2") == "occupied")
    wait_until(lambda: agent.quarantine.count() == 1, timeout=30)
    row = agent.quarantine.recent()[0]
    assert (row["record"], row["field"]) == ("cic/parking/json/json-0004", "processing")
    assert row["reason"].startswith("failed 3 times, the last time with IntegrityError: this store refuses bay b4")
    assert agent.status()["unacknowledged"] == 0 and bay_status(ngsi, "b4") is None
    agent.db.execute("DROP TRIGGER refuse_b4")
    publisher.event("json-0004", False, now_minus(5))
    wait_until(lambda: bay_status(ngsi, "b4") == "free")


def test_a_failing_message_held_over_an_mqtt_reconnect_is_redelivered_not_doubled(
        make_agent: AgentFactory, mosquitto: Mosquitto, ngsi: NgsiLdClient) -> None:
    agent = make_agent()  # five attempts take 7.5 s of backoff: the reconnect comes in the middle
    agent.db.execute("CREATE TRIGGER refuse_b4 BEFORE INSERT ON outbox WHEN NEW.entity_id LIKE '%:b4' "
                     "BEGIN SELECT RAISE(ABORT, 'this store refuses bay b4'); END")
    publisher = Publisher(mosquitto.url)
    publisher.event("json-0004", True, now_minus(10))
    publisher.close()
    wait_until(lambda: agent.status()["unacknowledged"] == 1 and agent.status()["events"])  # tried, held
    connection = agent.mqtt.socket()
    assert connection is not None
    connection.shutdown(socket.SHUT_RDWR)  # the network drops the agent's connection
    wait_until(lambda: not agent.connected)
    wait_until(lambda: agent.connected, timeout=40)  # the session resumes: the broker sends its copy again
    wait_until(lambda: agent.status()["unacknowledged"] == 0, timeout=30)  # a copy left would still wait
    assert agent.quarantine.count() == 1
    again = Publisher(mosquitto.url)
    try:
        again.event("json-0001", True, now_minus(1))  # after it in the session: once it is in, all before is
        wait_until(lambda: bay_status(ngsi, "b1") == "occupied")
    finally:
        again.close()
    assert agent.quarantine.count() == 1
