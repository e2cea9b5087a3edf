"""MQTT -> context ingest benchmark for 5,000 bays, side by side with the per-event baseline.

Real Mosquitto, the embedded broker on SQLite and the agent each run as their own process; this
process publishes. Three measurements in one run:
  1. sustained ingest: 50,000 status changes published as fast as possible -> events/s processed
     until the last one is in the broker (the batching agent);
  2. the same kind of traffic through a baseline subscriber that sends one HTTP request per event,
     as the FIWARE IoT Agent does (fewer events: it is slow);
  3. latency at 1,000 events/s: publish time (= the event's observedAt) to entity visible in the
     broker, observed through an NGSI-LD subscription.
Targets: >= 5,000 events/s, >= 10x the baseline, p99 < 500 ms at 1,000 events/s.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import requests
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from agents.parking.simulator import message
from citiesincharge.client import NgsiLdClient
from tests.support import BrokerProcess, Mosquitto, Process, free_port, http_ok

SITES, PER_SITE = 50, 100


def registry(folder: Path) -> Path:
    sites = [{"id": f"S{s:02d}", "location": [-1.51 + s * 0.001, 52.40]} for s in range(SITES)]
    bays = [{"id": f"b{b:03d}", "site": f"S{s:02d}", "sensor": f"json-{s:02d}{b:03d}",
             "location": [-1.51 + s * 0.001, 52.40 + b * 0.00001]} for s in range(SITES) for b in range(PER_SITE)]
    path = folder / "bays.yaml"
    path.write_text(yaml.safe_dump({"sources": [{"topic": "cic/parking/json/+", "mapping": "parking-json"}],
                                    "heartbeat": 86400, "sites": sites, "bays": bays}))
    return path


def publisher(url: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{time.monotonic_ns()}",
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", int(url.rsplit(":", 1)[1]))
    client.loop_start()
    return client


def sensors() -> list[str]:
    return [f"json-{s:02d}{b:03d}" for s in range(SITES) for b in range(PER_SITE)]


def stamp(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def agent_status(port: int) -> dict[str, Any]:
    return dict(requests.get(f"http://127.0.0.1:{port}/status", timeout=5).json())


def publish_changes(mqtt_url: str, events: int, round_offset: int) -> None:
    """``events`` status changes over the 5,000 bays, each newer than everything before it."""
    client = publisher(mqtt_url)
    names = sensors()
    base = time.time() - 3600 + round_offset
    for n in range(events):
        occupied = (n // len(names) + round_offset) % 2 == 0
        info = client.publish(*message(names[n % len(names)], occupied, stamp(base + n / 1000), 90), qos=1)
    info.wait_for_publish(60)
    client.disconnect()


def drained(port: int, before: float, events: int) -> None:
    while True:
        status = agent_status(port)
        if sum(status["events"].values()) - before >= events and status["outbox"]["depth"] == 0:
            return
        time.sleep(0.05)


def sustained(mqtt_url: str, port: int, events: int) -> float:
    """Publisher and agent at the same time (all on the same two cores)."""
    before = sum(agent_status(port)["events"].values())
    started = time.perf_counter()
    publish_changes(mqtt_url, events, 0)
    drained(port, before, events)
    return events / (time.perf_counter() - started)


def backlog(mqtt_url: str, start_agent: Callable[[], Process], agent: Process, port: int, events: int) -> tuple[
        float, Process]:
    """The agent is down while the events arrive (the MQTT broker keeps them for its persistent
    session), then comes back: the drain rate is the ingest path's own capacity."""
    agent.stop()
    publish_changes(mqtt_url, events, 20)
    started = time.perf_counter()
    agent = start_agent()
    drained(port, 0, events)
    return events / (time.perf_counter() - started), agent


def baseline(mqtt_url: str, broker: str, events: int) -> float:
    """One HTTP request per event (the IoT Agent way), on the same kind of traffic."""
    http = requests.Session()
    done = threading.Event()
    count = [0]

    def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        bay = body["bay"]
        entity_id = f"urn:ngsi-ld:ParkingSpot:S{bay[5:7]}:b{bay[7:]}"
        http.post(f"{broker}/ngsi-ld/v1/entityOperations/upsert", params={"options": "update"},
                  data=json.dumps([{"id": entity_id, "type": "ParkingSpot", "status": {
                      "type": "Property", "value": "occupied" if body["occupied"] else "free",
                      "observedAt": body["ts"]}}]), headers={"Content-Type": "application/json"}, timeout=10)
        count[0] += 1
        if count[0] >= events:
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-baseline", protocol=mqtt.MQTTv5)
    sub.on_message = on_message
    sub.connect("127.0.0.1", int(mqtt_url.rsplit(":", 1)[1]))
    sub.subscribe("bench/baseline/#", qos=1)
    sub.loop_start()
    time.sleep(0.5)
    client = publisher(mqtt_url)
    names = sensors()
    started = time.perf_counter()
    for n in range(events):
        _topic, payload = message(names[n % len(names)], n % 2 == 0, stamp(time.time()), 90)
        client.publish(f"bench/baseline/{n % len(names)}", payload, qos=1)
    done.wait(600)
    elapsed = time.perf_counter() - started
    sub.disconnect()
    client.disconnect()
    return count[0] / elapsed


class _Arrivals(BaseHTTPRequestHandler):
    latencies: list[float] = []

    def do_POST(self) -> None:
        now = time.time()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        for entity in body["data"]:
            observed = entity["status"]["observedAt"]
            self.latencies.append((now - datetime.fromisoformat(observed).timestamp()) * 1000)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def current_states(broker: str) -> dict[str, bool]:
    """Whether each sensor's bay is occupied now, as the broker has it (the earlier phases left them so)."""
    with NgsiLdClient(broker_url=broker) as client:
        spots = client.query_entities(type="ParkingSpot", attrs=["status"], page_size=1000)
        return {f"json-{spot['id'].split(':')[-2][1:]}{spot['id'].split(':')[-1][1:]}":
                spot.get("status", {}).get("value") == "occupied" for spot in spots}


def latency(mqtt_url: str, broker: str, rate: int, seconds: float) -> list[float]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Arrivals)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sub = {"type": "Subscription", "entities": [{"type": "ParkingSpot"}], "watchedAttributes": ["status"],
           "notification": {"endpoint": {"uri": f"http://127.0.0.1:{server.server_address[1]}/n"},
                            "attributes": ["status"]}}
    context = f'<{broker}/ngsi-ld/contexts/citiesincharge.jsonld>; rel="http://www.w3.org/ns/json-ld#context"'
    requests.post(f"{broker}/ngsi-ld/v1/subscriptions", data=json.dumps(sub),
                  headers={"Content-Type": "application/json", "Link": context}, timeout=10).raise_for_status()
    client = publisher(mqtt_url)
    names = sensors()
    occupied = current_states(broker)  # every event flips its bay: each one is a change the agent writes
    total = int(rate * seconds)
    started = time.perf_counter()
    for n in range(total):
        target = started + n / rate
        while (wait := target - time.perf_counter()) > 0:
            time.sleep(min(0.001, wait))
        name = names[n % len(names)]
        occupied[name] = not occupied.get(name, False)
        client.publish(*message(name, occupied[name], stamp(time.time()), 90), qos=1)
    deadline = time.monotonic() + 30
    while len(_Arrivals.latencies) < total * 0.99 and time.monotonic() < deadline:
        time.sleep(0.1)
    client.disconnect()
    server.shutdown()
    return list(_Arrivals.latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--baseline-events", type=int, default=3_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mosquitto = Mosquitto(folder / "mqtt")
        broker = BrokerProcess(folder / "broker")
        port = free_port()
        env = {"CIC_BROKER_URL": broker.url, "CIC_DATA_DIR": str(folder), "CIC_MQTT_URL": mosquitto.url,
               "CIC_PARKING_BAYS": str(registry(folder)), "CIC_PARKING_AGENT_PORT": str(port),
               "CIC_MQTT_CLIENT_ID": "bench", "CIC_BATCH_SIZE": os.environ.get("CIC_BATCH_SIZE", "500"),
               "CIC_PARKING_BATCH_MS": os.environ.get("CIC_PARKING_BATCH_MS", "20")}

        def start_agent() -> Process:
            return Process(["agent", "parking"], lambda: http_ok(f"http://127.0.0.1:{port}/status") and agent_status(
                port)["mqttConnected"], env=env)

        agent = start_agent()
        try:
            live = sustained(mosquitto.url, port, args.events)
            drain, agent = backlog(mosquitto.url, start_agent, agent, port, args.events)
            lat = latency(mosquitto.url, broker.url, 1000, 10)
            base = baseline(mosquitto.url, broker.url, args.baseline_events)
        finally:
            agent.stop()
            broker.stop()
            mosquitto.stop()
    print(f"""
Parking ingest benchmark: 5,000 bays, real Mosquitto, agent and embedded broker (SQLite) as processes
  ingest capacity (backlog of {args.events:,} changes drained after the agent was down):
                          {drain:9,.0f} events/s into the context        target >= 5,000
  live, with the publisher on the same two cores:
                          {live:9,.0f} events/s
  one request per event : {base:9,.0f} events/s (baseline, {args.baseline_events:,} events)
  agent / baseline      : {drain / base:9.1f} x (capacity), {live / base:.1f} x (live)         target >= 10 x
  latency at 1,000 ev/s : p50 {pct(lat, 50):6.1f} ms   p99 {pct(lat, 99):6.1f} ms   ({len(lat):,} changes seen)   \
target p99 < 500 ms
""")


if __name__ == "__main__":
    main()
