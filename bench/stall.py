"""Stall benchmark: can hostile requests hold up everyone else?

Eight attacker clients send, in a loop, the requests that once stalled the broker: backtracking
regexes in ``idPattern`` and ``q``, a temporal aggregation counted in hours from 1970, a
thousand-year period, and a broad query with ``count``. Meanwhile a well-behaved client measures
``/health`` and GET-by-id latency. Run with ``make bench``; the target is p99 < 50 ms for both.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.broker import pct
from tests.support import BrokerProcess

_EVIL = "(a+)+$"
_HOSTILE: list[dict[str, str]] = [
    {"path": "/entities", "idPattern": "urn:ngsi-ld:R:" + _EVIL},
    {"path": "/entities", "type": "R", "q": f'name~="{_EVIL}"'},
    {"path": "/temporal/entities", "type": "R", "attrs": "load", "timerel": "after",
     "timeAt": "1970-01-01T00:00:00Z", "aggrMethods": "sum", "aggrPeriodDuration": "PT1H"},
    {"path": "/temporal/entities", "type": "R", "attrs": "load", "aggrMethods": "sum",
     "aggrPeriodDuration": "P99999999Y"},
    {"path": "/entities", "type": "R", "count": "true", "limit": "1000"},
]


def _seed(api: str, entities: int, instances: int) -> None:
    http = requests.Session()
    for n in range(entities):
        entity_id = "urn:ngsi-ld:R:" + "a" * 27 + f"!{n}"
        for k in range(instances):
            body: list[dict[str, Any]] = [{
                "id": entity_id, "type": "R", "name": {"type": "Property", "value": "a" * 27 + "!"},
                "load": {"type": "Property", "value": float(k),
                         "observedAt": f"2026-03-01T{k // 60 % 24:02d}:{k % 60:02d}:00Z"}}]
            http.post(f"{api}/entityOperations/upsert", json=body, params={"options": "update"}).raise_for_status()


def _attack(api: str, stop: threading.Event, counts: list[int]) -> None:
    http = requests.Session()
    n = 0
    while not stop.is_set():
        params = dict(_HOSTILE[n % len(_HOSTILE)])
        http.get(api + params.pop("path"), params=params, timeout=120)
        n += 1
    counts.append(n)


def _probe(http: requests.Session, url: str, samples: int) -> list[float]:
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        http.get(url, timeout=120).raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attackers", type=int, default=8)
    parser.add_argument("--entities", type=int, default=20)
    parser.add_argument("--instances", type=int, default=50, help="history instances per entity")
    parser.add_argument("--samples", type=int, default=400, help="requests per probe kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        broker = BrokerProcess(Path(data))
        api = broker.url + "/ngsi-ld/v1"
        try:
            _seed(api, args.entities, args.instances)
            http = requests.Session()
            known = f"{api}/entities/urn:ngsi-ld:R:{'a' * 27}!0"
            quiet = {"health": _probe(http, broker.url + "/health", args.samples // 4),
                     "get": _probe(http, known, args.samples // 4)}
            stop, counts = threading.Event(), list[int]()
            attackers = [threading.Thread(target=_attack, args=(api, stop, counts)) for _ in range(args.attackers)]
            for thread in attackers:
                thread.start()
            time.sleep(0.5)  # let every attacker have a request in flight
            started = time.perf_counter()
            loaded: dict[str, list[float]] = {"health": [], "get": []}
            for _ in range(4):
                loaded["health"] += _probe(http, broker.url + "/health", args.samples // 4)
                loaded["get"] += _probe(http, known, args.samples // 4)
            elapsed = time.perf_counter() - started
            stop.set()
            for thread in attackers:
                thread.join()
        finally:
            broker.stop()
    hostile_rate = sum(counts) / elapsed
    print(f"stall: {args.attackers} clients sending hostile requests ({hostile_rate:.0f} answered/s), "
          f"{args.entities} entities x {args.instances} history instances")
    for kind, label in (("health", "/health"), ("get", "GET /entities/{id}")):
        print(f"  {label:<20} idle p50 {pct(quiet[kind], 50):6.1f} ms  p99 {pct(quiet[kind], 99):6.1f} ms | "
              f"under attack p50 {pct(loaded[kind], 50):6.1f} ms  p99 {pct(loaded[kind], 99):6.1f} ms  "
              f"(target p99 < 50 ms)")


if __name__ == "__main__":
    main()
