"""Embedded broker benchmark: batch vs. one-by-one writes, GET-by-id, query, notification latency.

Run with ``make bench``. The broker runs as its own process on SQLite (as in production use of the
embedded broker), and this process is the client, over real HTTP on loopback. Figures and ratios
are printed; targets from the foundation issue are shown beside them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from tests.support import BrokerProcess, free_port

STATUSES = ("AVAILABLE", "CHARGING", "BLOCKED", "OUTOFORDER", "INOPERATIVE")


def evse(n: int, status: str | None = None) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:EVSE:bench:{n:06d}", "type": "EVSE",
        "status": {"type": "Property", "value": status or STATUSES[n % len(STATUSES)],
                   "observedAt": "2026-12-01T08:00:00Z"},
        "maxPower": {"type": "Property", "value": (7.4, 22.0, 50.0, 150.0)[n % 4], "unitCode": "KWT"},
        "evseId": {"type": "Property", "value": f"GB*BEN*E{n}"},
        "refEVChargingStation": {"type": "Relationship",
                                 "object": f"urn:ngsi-ld:EVChargingStation:bench:{n // 3}"},
        "location": {"type": "GeoProperty", "value": {
            "type": "Point", "coordinates": [-1.51 + (n % 100) * 0.001, 52.40 + (n // 100) * 0.001]}},
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class _Arrivals(BaseHTTPRequestHandler):
    times: dict[str, float] = {}
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        now = time.perf_counter()
        with self.lock:
            for entity in body["data"]:
                self.times.setdefault(str(entity["seq"]), now)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--one-by-one", type=int, default=1_000, help="entities posted one request each")
    parser.add_argument("--gets", type=int, default=2_000)
    parser.add_argument("--notifications", type=int, default=500)
    args = parser.parse_args()
    http = requests.Session()
    json_headers = {"Content-Type": "application/json"}

    with tempfile.TemporaryDirectory() as data:
        broker = BrokerProcess(Path(data))
        api = broker.url + "/ngsi-ld/v1"
        try:
            # 1. batch upsert, 100 per request
            started = time.perf_counter()
            for start in range(0, args.entities, 100):
                batch = [evse(n) for n in range(start, min(start + 100, args.entities))]
                response = http.post(f"{api}/entityOperations/upsert", data=json.dumps(batch), headers=json_headers)
                assert response.status_code in (201, 204), response.text
            batch_rate = args.entities / (time.perf_counter() - started)

            # 2. the same kind of entities, one POST each (the baseline)
            started = time.perf_counter()
            for n in range(args.entities, args.entities + args.one_by_one):
                response = http.post(f"{api}/entities", data=json.dumps(evse(n)), headers=json_headers)
                assert response.status_code == 201, response.text
            single_rate = args.one_by_one / (time.perf_counter() - started)

            # 3. GET by id
            latencies = []
            for i in range(args.gets):
                entity_id = f"urn:ngsi-ld:EVSE:bench:{(i * 7919) % args.entities:06d}"
                t0 = time.perf_counter()
                response = http.get(f"{api}/entities/{entity_id}")
                latencies.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200
            # 4. query by type + q over all entities
            query_ms = []
            for _ in range(20):
                t0 = time.perf_counter()
                params: dict[str, str | int] = {"type": "EVSE", "q": 'status=="OUTOFORDER";maxPower>=50',
                                                "limit": 1000, "count": "true"}
                response = http.get(f"{api}/entities", params=params)
                query_ms.append((time.perf_counter() - t0) * 1000)
            matched = int(response.headers["NGSILD-Results-Count"])

            # 5. notification latency, write -> receiver
            server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Arrivals)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            sub = {"type": "Subscription", "entities": [{"type": "EVSE", "id": "urn:ngsi-ld:EVSE:bench:000001"}],
                   "notification": {"endpoint": {"uri": f"http://127.0.0.1:{server.server_address[1]}/n"},
                                    "format": "keyValues", "attributes": ["seq"]}}
            assert http.post(f"{api}/subscriptions", data=json.dumps(sub), headers=json_headers).status_code == 201
            sent: dict[str, float] = {}
            for seq in range(args.notifications):
                sent[str(seq)] = time.perf_counter()
                http.patch(f"{api}/entities/urn:ngsi-ld:EVSE:bench:000001", data=json.dumps({"seq": seq}),
                           headers=json_headers)
                time.sleep(0.004)  # ~250 updates/s, so each one is its own notification
            deadline = time.monotonic() + 10
            while len(_Arrivals.times) < args.notifications and time.monotonic() < deadline:
                time.sleep(0.05)
            server.shutdown()
            notify_ms = [(_Arrivals.times[k] - sent[k]) * 1000 for k in sent if k in _Arrivals.times]
        finally:
            broker.stop()

    print(f"""
Embedded NGSI-LD broker benchmark (SQLite WAL, one process, loopback HTTP, {args.entities:,} EVSE entities)
  batch upsert (100/request) : {batch_rate:9,.0f} entities/s      target >= 3,000
  one POST per entity        : {single_rate:9,.0f} entities/s
  batch / one-by-one         : {batch_rate / single_rate:9.1f} x              target >= 10 x
  GET by id                  : p50 {pct(latencies, 50):6.2f} ms   p99 {pct(latencies, 99):6.2f} ms   target p99 < 10 ms
  query type+q over {args.entities + args.one_by_one:,}  : p50 {pct(query_ms, 50):6.1f} ms   \
({matched} matches, limit 1000)
  notification write->recv   : p50 {pct(notify_ms, 50):6.2f} ms   p99 {pct(notify_ms, 99):6.2f} ms   \
target p99 < 100 ms ({len(notify_ms)}/{args.notifications} received, mean {statistics.fmean(notify_ms):.2f} ms)
""")


if __name__ == "__main__":
    main()
