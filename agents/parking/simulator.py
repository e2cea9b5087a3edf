"""Simulated bay sensors (``cic simulate parking``): realistic occupancy over real MQTT.

Bays paired with a charger follow it (occupied while it charges, read from the simulated CPOs'
ground truth) and now and then hold a car that is *not* charging: the blocked-bay case the
violations worker looks for. Stand-alone bays fill and empty by a daily rhythm. Every vendor
format of the registry is spoken (the sensor id's prefix names the vendor: json-, tts-,
compact-), heartbeats repeat the state, and the network misbehaves as real ones do: duplicates,
late deliveries of older events, garbage payloads, unknown sensors. Seeded and time-accelerated;
timestamps are in simulated time, like the CPO simulator's.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import requests

from citiesincharge.settings import Settings

from .. import mqtt as mqtt_setup
from .registry import Bay, Registry, load_registry

log = logging.getLogger(__name__)
Publish = Callable[[str, bytes], None]
TOPICS = {"json": "cic/parking/json/{sensor}", "tts": "v3/cic-town/devices/{sensor}/up",
          "compact": "cic/parking/compact/{sensor}"}


def vendor_of(sensor: str) -> str:
    vendor = sensor.split("-", 1)[0]
    if vendor not in TOPICS:
        raise ValueError(f"sensor {sensor!r}: the simulator speaks json-, tts- and compact- sensors")
    return vendor


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


DELIBERATE = "deliberately-broken"  # in the bad payloads the simulator sends on purpose


def message(sensor: str, occupied: bool, at: datetime, battery: int) -> tuple[str, bytes]:
    """One sensor event in its vendor's format."""
    vendor = vendor_of(sensor)
    topic = TOPICS[vendor].format(sensor=sensor)
    body: Any
    if vendor == "json":
        body = {"bay": sensor, "occupied": occupied, "ts": _ts(at), "battery": battery}
    elif vendor == "tts":
        body = {"end_device_ids": {"device_id": sensor, "application_ids": {"application_id": "cic-town"},
                                   "dev_eui": f"70B3D57ED{abs(hash(sensor)) % 10**7:07d}"},
                "received_at": _ts(at + timedelta(milliseconds=40)),
                "uplink_message": {"f_port": 1, "decoded_payload": {"occupied": int(occupied), "battery": battery},
                                   "rx_metadata": [{"gateway_ids": {"gateway_id": "gw-coventry-1"}, "time": _ts(at),
                                                    "rssi": -97}]}}
    else:
        return topic, b"1" if occupied else b"0"
    return topic, orjson.dumps(body)


@dataclass
class _BayState:
    bay: Bay
    occupied: bool = False
    last_sent: datetime | None = None
    last_message: tuple[str, bytes] | None = None
    blocked_until: datetime | None = None
    next_flip: datetime | None = None
    battery: int = 100
    history: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Noise:
    duplicate: float = 0.02  # share of events sent twice
    late: float = 0.01  # share of events followed by a late copy of the bay's previous event
    garbage_per_minute: float = 0.2  # broken payloads or unknown sensors per simulated minute


class BaySimulator:
    def __init__(self, registry: Registry, *, seed: int, publish: Publish,
                 evse_status: Callable[[], dict[str, str]] | None = None, heartbeat: float = 300.0,
                 noise: Noise | None = None, block_rate_per_hour: float = 0.03) -> None:
        self.rng = random.Random(seed)
        self.publish = publish
        self.evse_status = evse_status
        self.heartbeat = timedelta(seconds=heartbeat)
        self.noise = noise or Noise()
        self.block_rate = block_rate_per_hour
        self.bays = [_BayState(bay, battery=self.rng.randint(60, 100)) for bay in registry.bays]
        self.sent = 0
        self._last_step: datetime | None = None

    def step(self, now: datetime) -> int:
        """Publish what happened up to ``now`` (simulated time); returns messages sent."""
        minutes = 0.0 if self._last_step is None else (now - self._last_step).total_seconds() / 60
        self._last_step = now
        truth = self._truth()
        before = self.sent
        for state in self.bays:
            occupied = self._occupied(state, now, minutes, truth)
            due = state.last_sent is None or now - state.last_sent >= self.heartbeat
            if occupied != state.occupied or due:
                state.occupied = occupied
                self._send(state, now)
        for _ in range(self._poisson(self.noise.garbage_per_minute * minutes)):
            self._garbage(now)
        return self.sent - before

    def _truth(self) -> dict[str, str]:
        if self.evse_status is None:
            return {}
        try:
            return self.evse_status()
        except Exception as error:  # the CPO simulator may not run: paired bays then act alone
            log.debug("no charger ground truth (%s)", error)
            return {}

    def _occupied(self, state: _BayState, now: datetime, minutes: float, truth: dict[str, str]) -> bool:
        evse_status = truth.get(state.bay.evse or "")
        if evse_status is not None:
            if state.blocked_until and now < state.blocked_until:
                return True
            state.blocked_until = None
            if evse_status == "AVAILABLE" and self.rng.random() < self.block_rate * minutes / 60:
                state.blocked_until = now + timedelta(minutes=self.rng.uniform(10, 120))  # parked, not charging
                return True
            return evse_status in ("CHARGING", "BLOCKED")
        if state.next_flip is None or now >= state.next_flip:
            busy = 0.8 if 8 <= now.hour < 19 else 0.3
            occupied = self.rng.random() < busy
            state.next_flip = now + timedelta(minutes=self.rng.expovariate(1 / (150 if occupied else 90)))
            return occupied
        return state.occupied

    def _send(self, state: _BayState, now: datetime) -> None:
        topic, payload = message(state.bay.sensor, state.occupied, now, state.battery)
        self._publish(topic, payload)
        if self.rng.random() < self.noise.duplicate:
            self._publish(topic, payload)
        if state.last_message is not None and self.rng.random() < self.noise.late:
            self._publish(*state.last_message)  # an older event arriving after a newer one
        state.last_message = (topic, payload)
        state.last_sent = now

    def _garbage(self, now: datetime) -> None:
        """A bad message on purpose, saying so where the agent's quarantine log line shows it (the value,
        the topic or the sensor id: "... value 'deliberately-broken' is not one of ..."), so that nobody
        looking at the demo's console hunts a real fault."""
        kind = self.rng.choice(("json", "tts", "compact", "unknown"))
        if kind == "json":  # not JSON at all: the log line names the topic
            self._publish("cic/parking/json/json-deliberately-broken",
                          b'{"bay": "json-deliberately-broken", "occupied": tru')
        elif kind == "tts":  # a registered sensor, a state that is none
            topic, payload = message("tts-0002", True, now, 50)
            uplink = orjson.loads(payload)
            uplink["uplink_message"]["decoded_payload"]["occupied"] = DELIBERATE
            self._publish(topic, orjson.dumps(uplink))
        elif kind == "compact":
            self._publish("cic/parking/compact/compact-0003", DELIBERATE.encode())
        else:
            self._publish(*message("json-deliberately-unknown", True, now, 50))

    def _publish(self, topic: str, payload: bytes) -> None:
        self.publish(topic, payload)
        self.sent += 1

    def _poisson(self, mean: float) -> int:
        count, threshold, product = 0, pow(2.718281828, -mean), self.rng.random()
        while product > threshold:
            count += 1
            product *= self.rng.random()
        return count


class ChargerTruth:
    """EVSE statuses and the simulated time, straight from the simulated CPOs (the physical truth,
    not the broker's view): the bays then share the chargers' clock."""

    def __init__(self, simulator_url: str) -> None:
        self.url = simulator_url
        self.http = requests.Session()
        self.now: datetime | None = None

    def __call__(self) -> dict[str, str]:
        statuses: dict[str, str] = {}
        for cpo in ("cpoA", "cpoB", "cpoC"):
            summary = self.http.get(f"{self.url}/admin/{cpo}/summary", timeout=2).json()
            statuses.update({f"urn:ngsi-ld:EVSE:{cpo}:{uid}": s for uid, s in summary["evses"].items()})
            self.now = datetime.fromisoformat(summary["now"])
        return statuses


def main(settings: Settings, *, seed: int, speed: float) -> int:
    registry = load_registry(settings.parking_bays)
    client = mqtt_setup.client(settings, f"cic-sim-parking-{seed}")
    mqtt_setup.connect(client, settings, persistent=False)
    def publish(topic: str, payload: bytes) -> None:
        client.publish(topic, payload, qos=1)

    truth = ChargerTruth(settings.simulator_url)
    simulator = BaySimulator(registry, seed=seed, evse_status=truth, publish=publish)
    start, began = datetime.now(UTC), time.monotonic()
    log.info("simulating %d bay sensors on %s at %gx", len(registry.bays), settings.mqtt_url, speed)
    try:
        while True:
            own = start + timedelta(seconds=(time.monotonic() - began) * speed)
            simulator.step(truth.now or own)  # the CPO simulator's clock when it runs, else our own
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        client.disconnect()
        client.loop_stop()
