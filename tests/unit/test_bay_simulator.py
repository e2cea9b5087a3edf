"""The bay sensor simulator: pairing with chargers, blocked bays, every vendor readable, noise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from agents.parking.registry import load_registry
from agents.parking.simulator import BaySimulator, Noise
from mappings.engine import MappingError

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def run(seed: int, truth: dict[str, str], hours: float, noise: Noise | None = None) -> list[tuple[str, bytes]]:
    sent: list[tuple[str, bytes]] = []
    sim = BaySimulator(load_registry(None), seed=seed, publish=lambda t, p: sent.append((t, p)),
                       evse_status=lambda: truth, noise=noise or Noise(0, 0, 0))
    for minute in range(int(hours * 60)):
        sim.step(START + timedelta(minutes=minute))
    return sent


def decoded(sent: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    """(bay entity id, status) of every message, read with the real mapping files."""
    registry = load_registry(None)
    out = []
    for topic, payload in sent:
        mapping = registry.mapping_for_topic(topic)
        assert mapping is not None
        record = payload.decode() if mapping.payload == "text" else orjson.loads(payload)
        envelope = {"record": record, "topic": topic.split("/"), "received": "2026-03-02T06:00:00Z"}
        bay = registry.by_sensor[mapping.lookup_key(envelope) or ""]
        envelope |= registry.envelope_parts(bay)
        entity = mapping.apply(envelope)
        out.append((entity["id"], entity["status"]["value"]))
    return out


def test_paired_bays_follow_their_charger_and_every_vendor_is_readable() -> None:
    registry = load_registry(None)
    charging = {b.evse: "CHARGING" for b in registry.bays if b.evse}
    events = decoded(run(1, charging, 0.1))
    vendors = {topic.split("/")[0] + "/" + topic.split("/")[2] for topic, _ in run(1, charging, 0.1)}
    assert {"cic/json", "v3/devices", "cic/compact"} <= vendors
    paired = {registry.spot_id(b) for b in registry.bays if b.evse}
    assert all(status == "occupied" for entity_id, status in events if entity_id in paired)


def test_blocked_bays_happen_beside_available_chargers() -> None:
    registry = load_registry(None)
    available = {b.evse: "AVAILABLE" for b in registry.bays if b.evse}
    paired = {registry.spot_id(b) for b in registry.bays if b.evse}
    events = decoded(run(2, available, 12))
    blocked = {entity_id for entity_id, status in events if entity_id in paired and status == "occupied"}
    assert blocked  # occupied although the charger is free: the blocked-bay case


def test_same_seed_same_messages_and_noise_is_there() -> None:
    truth = {b.evse: "AVAILABLE" for b in load_registry(None).bays if b.evse}
    assert run(3, truth, 2) == run(3, truth, 2)
    noisy = run(3, truth, 6, Noise(duplicate=0.2, late=0.1, garbage_per_minute=1))
    payloads = [p for _, p in noisy]
    assert len(payloads) != len(set(payloads))  # duplicates
    assert any(p == b"banana" or p.endswith(b"tru") for p in payloads)  # garbage
    with pytest.raises((MappingError, ValueError, KeyError)):
        decoded(noisy)  # the garbage does not decode
