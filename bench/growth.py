"""Growth benchmark: the demo town played for N simulated days as fast as the machine allows.

Runs ``cic demo`` (every real process: broker on SQLite, simulated CPOs and bay sensors, both
agents, the analytics workers) on a fresh data directory at ``--speed`` times real time, with the
OCPI polling intervals scaled by the same factor as the demo's 60x (so each simulated day is
sampled as in the demo), and prints at each simulated day: the broker database's size on disk,
its attribute-history rows and the entity count per type. Then the growth per simulated day after
the first day (when every station, bay and sensor exists).
Targets (issue 9): entity counts flat once every subject exists, sessions, CDRs and alerts bounded
by retention; database growth < 20 MB per simulated day.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import requests
import yaml

from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.support import DemoProcess

TYPES = ("EVChargingStation", "EVSE", "ParkingSpot", "OnStreetParking", "OffStreetParking", "Device",
         "Organization", "ChargingSession", "ChargeDetailRecord", "ChargingTariff", "Alert", "KeyPerformanceIndicator",
         "DemandForecast")
DEMO_SPEED = 60.0


def operators_file(folder: Path, speed: float) -> Path:
    """The shipped operators file with polling intervals shortened as the clock is sped up."""
    shipped = Path(__file__).resolve().parent.parent / "agents" / "ocpi" / "operators.yaml"
    spec = yaml.safe_load(shipped.read_text("utf-8"))
    factor = speed / DEMO_SPEED
    for operator in spec["operators"]:
        operator["token_file"] = str(shipped.parent / operator["token_file"])
        operator["intervals"] = {k: max(1.0, v / factor) for k, v in operator.get("intervals", {}).items()}
        if "full_sync_every" in operator:
            operator["full_sync_every"] = max(10.0, operator["full_sync_every"] / factor)
    path = folder / "operators.yaml"
    path.write_text(yaml.safe_dump(spec), "utf-8")
    return path


def measure(data: Path, client: NgsiLdClient) -> dict[str, float]:
    files = [p for p in data.glob("broker.sqlite*") if p.is_file()]
    size = sum(p.stat().st_size for p in files) / 1e6
    with sqlite3.connect(f"file:{data / 'broker.sqlite'}?mode=ro", uri=True, timeout=30) as db:
        rows = db.execute("SELECT COUNT(*) FROM history").fetchone()[0]
    return {"MB": round(size, 1), "history": rows, **{t: client.count_entities(type=t) for t in TYPES}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30, help="simulated days to play")
    parser.add_argument("--speed", type=float, default=720, help="simulated seconds per wall second")
    parser.add_argument("--history-days", type=float, default=0, help="days of history the town starts with")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cic-growth-"))
    demo = DemoProcess(folder, {"CIC_DEMO_HISTORY_DAYS": str(args.history_days), "CIC_DEMO_SPEED": str(args.speed),
                                "CIC_OCPI_OPERATORS": str(operators_file(folder, args.speed)),
                                "CIC_MQTT_CLIENT_ID": "growth-bench"}, timeout=300)
    data = demo.data
    client = NgsiLdClient(Settings(broker_url=demo.broker_url))
    summary = f"{demo.simulator_url}/admin/cpoA/summary"

    def simulated_now() -> datetime:
        return datetime.fromisoformat(requests.get(summary, timeout=30).json()["now"].replace("Z", "+00:00"))

    began = time.monotonic()
    try:
        start = simulated_now()
        print(f"{args.days} simulated days at {args.speed:g}x from {start:%Y-%m-%d %H:%M} UTC; data in {data}")
        rows: list[dict[str, float]] = []
        for day in range(1, args.days + 1):
            while simulated_now() < start + timedelta(days=day):
                if demo.process.poll() is not None:
                    raise SystemExit(f"the demo exited with code {demo.process.returncode} on day {day}")
                time.sleep(min(5.0, 86400 / args.speed / 20))
            figures = measure(data, client)
            rows.append(figures)
            print(f"day {day:3d} ({time.monotonic() - began:5.0f} s): " + json.dumps(figures), flush=True)
        if len(rows) >= 2:
            per_day = (rows[-1]["MB"] - rows[0]["MB"]) / (len(rows) - 1)
            history = (rows[-1]["history"] - rows[0]["history"]) / (len(rows) - 1)
            print(f"growth after day 1: {per_day:.1f} MB and {history:,.0f} history rows per simulated day "
                  f"(target < 20 MB); entities per type on the last day vs day 1:")
            for kind in TYPES:
                print(f"  {kind:26} {rows[0][kind]:8.0f} -> {rows[-1][kind]:8.0f}")
    except (requests.RequestException, SystemExit):
        print("the demo's console, last lines:\n" + "".join(demo.text().splitlines(True)[-15:]))
        raise
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
