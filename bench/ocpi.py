"""OCPI agent benchmark: full sync of ~10,000 EVSEs (~3,000 locations) into the embedded broker,
then an incremental sync after 1 % of the EVSEs changed.

The simulated CPO (``--town bench``, frozen clock) and the broker run as their own processes; the
agent runs here, exactly as ``cic agent ocpi --once`` would. Target: full sync under 10 s.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import requests
import yaml

from agents.ocpi.config import default_operators_file, load_operators
from agents.ocpi.service import OcpiAgent
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.support import BrokerProcess, Process, free_port, http_ok

START = "2026-03-02T03:00:00Z"  # a pinned simulated instant (see main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=float, default=0.01, help="share of EVSEs changed before the incremental")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        sim_url = f"http://127.0.0.1:{port}"
        # a pinned start: the simulated town's sessions follow the time of day, so an unpinned run measured
        # a different incremental (532 entities at 13 UTC, 242 at night) depending on when it ran
        simulator = Process(["simulate", "cpo", "--town", "bench", "--speed", "0", "--start", START,
                             "--port", str(port)], lambda: http_ok(f"{sim_url}/admin/cpoA/summary"), timeout=60)
        broker = BrokerProcess(folder / "broker")
        try:
            doc = yaml.safe_load(default_operators_file().read_text())
            token_file = default_operators_file().parent / "demo-tokens/cpoA.token"
            operator = doc["operators"][0] | {"versions_url": f"{sim_url}/ocpi/cpoA/versions",
                                              "modules": ["locations"], "token_file": str(token_file)}
            (folder / "operators.yaml").write_text(yaml.safe_dump({"operators": [operator]}))
            settings = Settings(broker_url=broker.url, data_dir=folder, batch_size=500)
            agent = OcpiAgent(settings, load_operators(folder / "operators.yaml"), db_path=folder / "agent.sqlite")
            summary = requests.get(f"{sim_url}/admin/cpoA/summary", timeout=30).json()
            evses, locations = len(summary["evses"]), len(summary["locations"])

            http = requests.Session()
            http.post(f"{sim_url}/admin/advance", params={"minutes": 1}, timeout=30)  # the clock is frozen otherwise
            started = time.perf_counter()
            assert agent.run_once(full=True)
            full_s = time.perf_counter() - started
            full_entities = agent.syncs["cpoA"].status.entities_written
            stored = NgsiLdClient(settings).count_entities(type="EVSE")
            assert stored == evses, (stored, evses)

            http.post(f"{sim_url}/admin/advance", params={"minutes": 5}, timeout=30)
            rng = random.Random(1)
            changed = rng.sample(sorted(summary["evses"]), max(1, int(evses * args.changes)))
            for uid in changed:
                http.post(f"{sim_url}/admin/cpoA/evses/{uid}/status", json={"status": "OUTOFORDER"}, timeout=10)
            started = time.perf_counter()
            assert agent.run_once(full=False)
            incremental_s = time.perf_counter() - started
            incremental_entities = agent.syncs["cpoA"].status.entities_written - full_entities
            agent.stop()
        finally:
            broker.stop()
            simulator.stop()
    print(f"""
OCPI agent benchmark (simulated CPO on OCPI 2.2.1, pages of 500 locations, embedded broker on SQLite)
  full sync            : {locations:,} locations, {evses:,} EVSEs -> {full_entities:,} entities in {full_s:.2f} s \
({full_entities / full_s:,.0f} entities/s)   target < 10 s
  incremental, {args.changes:.0%} EVSEs changed: {incremental_entities:,} entities written in {incremental_s:.2f} s
  incremental / full   : {incremental_s / full_s:.1%} of the time for {incremental_entities / full_entities:.1%} \
of the entities
""")


if __name__ == "__main__":
    main()
