"""A restarted ``cic demo`` goes on from its stored data: the simulated clock continues (not from
the wall clock, ~a simulated day behind at 60x), so the agents find nothing of theirs "stale"."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from tests.support import DemoProcess, wait_until


def _ocpi_status(port: int) -> list[dict[str, Any]]:
    operators: list[dict[str, Any]] = requests.get(f"http://127.0.0.1:{port}/status", timeout=5).json()["operators"]
    return operators


def _synced(port: int) -> bool:
    return all(op["last_success"] and op["entities_written"] > 0 for op in _ocpi_status(port))


def test_a_restarted_demo_continues_its_clock(tmp_path: Path) -> None:
    settings = {"CIC_DEMO_HISTORY_DAYS": "1", "CIC_DEMO_SPEED": "600", "CIC_MQTT_CLIENT_ID": "demo-restart-test"}
    demo = DemoProcess(tmp_path, settings)
    ocpi = demo.ports["ocpi"]
    try:
        assert "new simulated town" in demo.text()
        wait_until(lambda: _synced(ocpi), timeout=90, interval=0.5)
    finally:
        demo.stop()
    reached = datetime.fromisoformat(json.loads((demo.data / "demo-clock.json").read_text())["reached"])

    demo = DemoProcess(tmp_path, settings, ports=demo.ports)
    try:
        assert "continuing the simulated clock" in demo.text(), demo.text()
        summary = requests.get(f"{demo.simulator_url}/admin/cpoA/summary", timeout=5).json()
        assert datetime.fromisoformat(summary["now"].replace("Z", "+00:00")) >= reached
        wait_until(lambda: _synced(ocpi), timeout=90, interval=0.5)
        # the second run's records are the same town, later: none is older than what is stored
        assert [op["stale_skipped"] for op in _ocpi_status(ocpi)] == [0, 0, 0]
    finally:
        demo.stop()
