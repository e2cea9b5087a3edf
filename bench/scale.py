"""Scale benchmark: what queries cost at 1k, 10k and 100k entities, and whether they stay fair.

Why: a council's context reaches 10k-100k entities (bays, sessions, KPIs, areas) and the dashboard
runs geo and ``q`` queries on every page; a query path that scans grows linearly and holds up
everyone else. For each size the broker runs as its own process on SQLite, is filled with
EVSE-like entities, and this process measures over loopback HTTP (3 rounds of each query): geo
``near``, ``q`` equality with limit 100, ``count``, GET by id while 4 other client processes run
queries, the broker's RSS, a restart up to its first answer, and the bytes on disk per entity.
Printed as the table of issue 16, with the 1k -> 100k ratio of each query. Run with ``make bench``
(``python -m bench.scale --sizes 1000,10000`` for a quicker look).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.synchronize
import tempfile
import time
from pathlib import Path

import requests

from bench.broker import evse, pct
from tests.support import BrokerProcess

ROUNDS = 3
PER_ROUND = 5
NEAR = {"type": "EVSE", "georel": "near;maxDistance==500", "geometry": "Point"}
EQUALITY = {"type": "EVSE", "q": 'status=="AVAILABLE"', "limit": "100"}
COUNT = {"type": "EVSE", "count": "true", "limit": "0"}


def _near(size: int, n: int) -> dict[str, str]:
    """A point inside the filled grid (100 columns, size/100 rows), a different one each time."""
    rows = max(1, size // 100)
    return {**NEAR, "coordinates": json.dumps([-1.51 + (n * 37 % 100) * 0.001, 52.40 + (n * 13 % rows) * 0.001])}


def _fill(api: str, size: int) -> None:
    http = requests.Session()
    for start in range(0, size, 500):
        batch = [evse(n) for n in range(start, min(start + 500, size))]
        response = http.post(f"{api}/entityOperations/upsert", data=json.dumps(batch),
                             headers={"Content-Type": "application/json"})
        assert response.status_code in (201, 204), response.text


def _timed(http: requests.Session, url: str, params: dict[str, str]) -> float:
    started = time.perf_counter()
    response = http.get(url, params=params, timeout=300)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text
    return elapsed


def _rounds(http: requests.Session, api: str, size: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"near": [], "equality": [], "count": []}
    for round_ in range(ROUNDS):
        for n in range(PER_ROUND):
            times["near"].append(_timed(http, f"{api}/entities", _near(size, round_ * PER_ROUND + n)))
            times["equality"].append(_timed(http, f"{api}/entities", EQUALITY))
            times["count"].append(_timed(http, f"{api}/entities", COUNT))
    return times


def _querier(api: str, size: int, stop: multiprocessing.synchronize.Event) -> None:
    """One of the 4 clients that keep the broker busy with queries (its own process: no shared GIL)."""
    http = requests.Session()
    n = 0
    while not stop.is_set():
        params = (_near(size, n), EQUALITY, COUNT)[n % 3]
        http.get(f"{api}/entities", params=params, timeout=300)
        n += 1


def _gets_under_load(http: requests.Session, api: str, size: int, samples: int, budget: float = 60.0) -> list[float]:
    """GET-by-id latencies while 4 clients query: ``samples`` of them, or what ``budget`` seconds allow."""
    stop = multiprocessing.Event()
    clients = [multiprocessing.Process(target=_querier, args=(api, size, stop)) for _ in range(4)]
    for client in clients:
        client.start()
    time.sleep(1.0)
    try:
        return _gets(http, api, size, samples, time.monotonic() + budget)
    finally:
        stop.set()
        for client in clients:
            client.join()


def _gets(http: requests.Session, api: str, size: int, samples: int, deadline: float) -> list[float]:
    latencies: list[float] = []
    for i in range(samples):
        if time.monotonic() > deadline:
            break
        entity_id = f"urn:ngsi-ld:EVSE:bench:{(i * 7919) % size:06d}"
        started = time.perf_counter()
        response = http.get(f"{api}/entities/{entity_id}", timeout=300)
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return latencies


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def measure(size: int, samples: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        broker = BrokerProcess(data)
        api = broker.url + "/ngsi-ld/v1"
        http = requests.Session()
        try:
            _fill(api, size)
            times = _rounds(http, api, size)
            idle = _gets(http, api, size, samples, time.monotonic() + 60)
            gets = _gets_under_load(http, api, size, samples)
            rss = _rss_mb(broker.process.pid)
        finally:
            broker.stop()
        disk = _disk_bytes(data)
        started = time.perf_counter()
        broker = BrokerProcess(data)
        up = time.perf_counter() - started
        try:
            _timed(http, f"{broker.url}/ngsi-ld/v1/entities", EQUALITY)
            restart = time.perf_counter() - started
            rss_restart = _rss_mb(broker.process.pid)
        finally:
            broker.stop()
    return {"near": pct(times["near"], 50), "eq": pct(times["equality"], 50), "eq_max": max(times["equality"]),
            "eq_max_warm": max(times["equality"][1:]),
            "count": pct(times["count"], 50), "get_p99": pct(gets, 99), "gets": len(gets),
            "idle_p99": pct(idle, 99), "up": up, "rss": rss,
            "rss_restart": rss_restart, "restart": restart, "disk": disk / size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated entity counts")
    parser.add_argument("--samples", type=int, default=300, help="GETs by id measured under query load")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in sizes:
        results[size] = measure(size, args.samples)
        print(f"{size:,} entities: " + ", ".join(f"{k} {v:,.2f}" for k, v in results[size].items()), flush=True)
    rows = [("geo `near;maxDistance==500` p50", "near", "{:,.1f} ms", "< 20 ms"),
            ('`type=EVSE&q=status=="AVAILABLE"&limit=100` p50', "eq", "{:,.1f} ms", "< 20 ms"),
            ('`type=EVSE&q=status=="AVAILABLE"&limit=100` max', "eq_max", "{:,.1f} ms", ""),
            ('... max after the first (which may build the index of `status`)', "eq_max_warm", "{:,.1f} ms", ""),
            ("`count=true` p50", "count", "{:,.1f} ms", "< 10 ms"),
            ("GET by id while 4 clients query, p99", "get_p99", "{:,.1f} ms", "< 10 ms"),
            ("GET by id, nothing else running, p99", "idle_p99", "{:,.1f} ms", ""),
            ("broker RSS", "rss", "{:,.0f} MB", ""),
            ("broker RSS after restart + first query", "rss_restart", "{:,.0f} MB", ""),
            ("restart -> first answer", "restart", "{:,.2f} s", "< 2 s"),
            ("of which the process starting (imports, up to /version)", "up", "{:,.2f} s", ""),
            ("on disk per entity", "disk", "{:,.0f} B", "<= 3,000 B")]
    first, last = sizes[0], sizes[-1]
    print(f"\nBroker at scale ({ROUNDS} rounds x {PER_ROUND} of each query; EVSE-like entities)")
    print("| figure | " + " | ".join(f"{s:,}" for s in sizes) + f" | {first:,} -> {last:,} | target |")
    print("|---|" + "---|" * len(sizes) + "---|---|")
    for label, key, fmt, target in rows:
        ratio = results[last][key] / results[first][key] if results[first][key] else float("nan")
        shown = f"{ratio:.1f} x" if key in ("near", "eq", "eq_max", "eq_max_warm", "count", "get_p99") else ""
        cells = " | ".join(fmt.format(results[s][key]) for s in sizes)
        print(f"| {label} | {cells} | {shown} | {target} |")


if __name__ == "__main__":
    main()
