"""Faults the parking agent must survive without losing an event."""

from __future__ import annotations

import signal
from pathlib import Path

import requests

from citiesincharge.client import NgsiLdClient
from tests.integration.parking.conftest import AgentFactory, Mosquitto, Publisher, now_minus, write_registry
from tests.support import Process, free_port, http_ok, wait_until

BAYS = 120


def final_states(ngsi: NgsiLdClient) -> dict[str, str]:
    return {e["id"].rsplit(":", 1)[-1]: e["status"] for e in
            ngsi.query_entities(type="ParkingSpot", q='refParkingSite=="urn:ngsi-ld:OffStreetParking:P1"',
                                attrs=["status"], options="keyValues")}


def test_agent_killed_and_restarted_loses_nothing(mosquitto: Mosquitto, publisher: Publisher, ngsi: NgsiLdClient,
                                                  broker_url: str, tenant: str, tmp_path: Path) -> None:
    registry = write_registry(tmp_path, extra_bays=BAYS)
    port = free_port()
    env = {"CIC_BROKER_URL": broker_url, "CIC_TENANT": tenant, "CIC_DATA_DIR": str(tmp_path),
           "CIC_MQTT_URL": mosquitto.url, "CIC_MQTT_CLIENT_ID": "killed-agent", "CIC_PARKING_BAYS": str(registry),
           "CIC_PARKING_AGENT_PORT": str(port), "CIC_PARKING_BATCH_MS": "20"}

    def connected() -> bool:
        return http_ok(f"http://127.0.0.1:{port}/health") and bool(
            requests.get(f"http://127.0.0.1:{port}/status", timeout=2).json()["mqttConnected"])

    def start() -> Process:
        return Process(["agent", "parking"], connected, env=env)

    agent = start()
    expected: dict[str, str] = {}
    try:
        for round_ in range(4):  # four rounds of events for every bay, the agent dies in round two
            for n in range(BAYS):
                occupied = (n + round_) % 2 == 0
                publisher.event(f"json-{n + 1000:05d}", occupied, now_minus(60 - round_ * 10))
                expected[f"x{n}"] = "occupied" if occupied else "free"
                if round_ == 1 and n == BAYS // 2:
                    agent.process.send_signal(signal.SIGKILL)  # no goodbye, no flush
                    agent.process.wait()
            if round_ == 2:
                agent = start()  # round three was published while the agent was dead
        wait_until(lambda: final_states(ngsi) == expected, timeout=30)
    finally:
        agent.stop()


def test_mqtt_broker_restart_reconnects_and_resumes(make_agent: AgentFactory, mosquitto: Mosquitto,
                                                     ngsi: NgsiLdClient) -> None:
    agent = make_agent()
    first = Publisher(mosquitto.url)
    first.event("json-0001", True, now_minus(10))
    wait_until(lambda: ngsi.find_entity("urn:ngsi-ld:ParkingSpot:S1:b1") is not None)
    first.close()
    mosquitto.stop()
    wait_until(lambda: not agent.connected)
    mosquitto.start()
    wait_until(lambda: agent.connected, timeout=40)
    again = Publisher(mosquitto.url)
    try:
        again.event("json-0001", False, now_minus(1))
        again.event("tts-0002", True, now_minus(1))
        wait_until(lambda: ngsi.get_entity("urn:ngsi-ld:ParkingSpot:S1:b1", options="keyValues")["status"] == "free")
        wait_until(lambda: ngsi.find_entity("urn:ngsi-ld:ParkingSpot:S1:b2") is not None)
    finally:
        again.close()


def test_two_replicas_share_the_traffic_and_apply_each_event_once(make_agent: AgentFactory, publisher: Publisher,
                                                                  ngsi: NgsiLdClient, tmp_path: Path) -> None:
    registry = write_registry(tmp_path, extra_bays=BAYS)
    one = make_agent(client_id="replica-1", registry=registry, mqtt_share_group="cic-parking")
    two = make_agent(client_id="replica-2", registry=registry, mqtt_share_group="cic-parking")
    for n in range(BAYS):
        publisher.event(f"json-{n + 1000:05d}", n % 3 == 0, now_minus(5))
    expected = {f"x{n}": "occupied" if n % 3 == 0 else "free" for n in range(BAYS)}
    wait_until(lambda: final_states(ngsi) == expected, timeout=30)
    applied = [agent.status()["events"].get("applied", 0) for agent in (one, two)]
    assert sum(applied) == BAYS and all(a > 0 for a in applied)  # split between them, none applied twice
    for n in range(0, BAYS, 17):
        history = ngsi.temporal_entity(f"urn:ngsi-ld:ParkingSpot:P1:x{n}", attrs=["status"])
        assert len(history["status"]) == 1
