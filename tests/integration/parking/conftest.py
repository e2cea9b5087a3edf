"""Fixtures for the parking agent: a real Mosquitto of the test's own (so it can be restarted), a
small bay registry, a publisher, and agents (in this process or as `cic agent parking`)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from agents.parking.registry import load_registry
from agents.parking.service import ParkingAgent
from agents.parking.simulator import message
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.support import Mosquitto, wait_until

if shutil.which("mosquitto") is None:
    pytest.skip("the mosquitto binary is missing (.ci/run installs it)", allow_module_level=True)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto")
    yield broker
    broker.stop()


SITE = {"id": "S1", "kind": "OnStreetParking", "name": "Test street", "location": [-1.51, 52.40]}
CAR_PARK = {"id": "P1", "kind": "OffStreetParking", "location": [-1.52, 52.41]}


def write_registry(folder: Path, *, bays_per_vendor: int = 2, heartbeat: float = 3600,
                   extra_bays: int = 0) -> Path:
    bays = []
    for n, vendor in enumerate(["json", "tts", "compact"] * bays_per_vendor):
        bays.append({"id": f"b{n + 1}", "site": "S1", "sensor": f"{vendor}-{n + 1:04d}",
                     "location": [-1.51 + n * 0.0001, 52.40], "evse": f"urn:ngsi-ld:EVSE:cpoT:E{n + 1}"})
    for n in range(extra_bays):
        bays.append({"id": f"x{n}", "site": "P1", "sensor": f"json-{n + 1000:05d}", "location": [-1.52, 52.41]})
    registry = {"sources": [{"topic": "cic/parking/json/+", "mapping": "parking-json"},
                            {"topic": "v3/+/devices/+/up", "mapping": "parking-tts-v3"},
                            {"topic": "cic/parking/compact/+", "mapping": "parking-compact"}],
                "heartbeat": heartbeat, "sites": [SITE, CAR_PARK], "bays": bays}
    path = folder / "bays.yaml"
    path.write_text(yaml.safe_dump(registry))
    return path


class Publisher:
    def __init__(self, url: str) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.monotonic_ns()}",
                                  protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.connect("127.0.0.1", int(url.rsplit(":", 1)[1]))
        self.client.loop_start()

    def raw(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def event(self, sensor: str, occupied: bool, at: datetime) -> None:
        self.raw(*message(sensor, occupied, at, 90))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[Publisher]:
    pub = Publisher(mosquitto.url)
    yield pub
    pub.close()


def now_minus(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


AgentFactory = Callable[..., ParkingAgent]


@pytest.fixture
def make_agent(tmp_path: Path, mosquitto: Mosquitto, broker_url: str, tenant: str) -> Iterator[AgentFactory]:
    agents: list[ParkingAgent] = []

    def make(*, client_id: str = "agent-1", registry: Path | None = None, broker: str | None = None,
             **settings: Any) -> ParkingAgent:
        values: dict[str, Any] = {"parking_batch_ms": 20, "parking_site_interval": 0.2, **settings}
        config = Settings(broker_url=broker or broker_url, tenant=tenant, data_dir=tmp_path, mqtt_url=mosquitto.url,
                          mqtt_client_id=client_id, **values)
        agent = ParkingAgent(config, load_registry(registry or write_registry(tmp_path)))
        agents.append(agent)
        agent.start()
        wait_until(lambda: agent.connected, timeout=10)
        return agent

    yield make
    for agent in agents:
        if not agent._stop.is_set():
            agent.stop()


@pytest.fixture
def ngsi(broker_url: str, tenant: str) -> NgsiLdClient:
    return NgsiLdClient(Settings(broker_url=broker_url, tenant=tenant))


def bay_status(ngsi: NgsiLdClient, bay: str) -> str | None:
    found = ngsi.find_entity(f"urn:ngsi-ld:ParkingSpot:S1:{bay}", attrs=["status"])
    return None if found is None else str(found["status"]["value"])
