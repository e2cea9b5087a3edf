"""A restarted ``cic demo`` goes on from its stored data: the simulated clock continues (not from
the wall clock, ~a simulated day behind at 60x), so the agents find nothing of theirs "stale"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from tests.support import free_port, wait_until


def _start(data: Path, ports: dict[str, int]) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "CIC_SIMULATOR_PORT": str(ports["simulator"]), "CIC_OCPI_AGENT_PORT": str(ports["ocpi"]),
           "CIC_PARKING_AGENT_PORT": str(ports["parking"]), "CIC_MQTT_URL": f"mqtt://127.0.0.1:{ports['mqtt']}",
           "CIC_ANALYTICS_PORT": str(ports["analytics"]), "CIC_DEMO_HISTORY_DAYS": "1",
           "CIC_DEMO_SPEED": "600", "CIC_MQTT_CLIENT_ID": "demo-restart-test", "CIC_LOG_LEVEL": "WARNING"}
    demo = subprocess.Popen([sys.executable, "-m", "citiesincharge.cli", "demo", "--port", str(ports["broker"]),
                             "--data-dir", str(data)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)
    assert demo.stdout is not None
    lines = []
    for line in demo.stdout:
        lines.append(line)
        if "Press Ctrl-C" in line or demo.poll() is not None:
            break
    assert any("Press Ctrl-C" in line for line in lines), "".join(lines)
    return demo, lines


def _ocpi_status(port: int) -> list[dict[str, Any]]:
    operators: list[dict[str, Any]] = requests.get(f"http://127.0.0.1:{port}/status", timeout=5).json()["operators"]
    return operators


def _synced(port: int) -> bool:
    return all(op["last_success"] and op["entities_written"] > 0 for op in _ocpi_status(port))


def _stop(demo: subprocess.Popen[str]) -> None:
    os.killpg(demo.pid, signal.SIGTERM)
    demo.wait(timeout=30)


def test_a_restarted_demo_continues_its_clock(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("broker", "simulator", "ocpi", "parking", "analytics", "mqtt")}
    demo, lines = _start(tmp_path, ports)
    try:
        assert any("new simulated town" in line for line in lines)
        wait_until(lambda: _synced(ports["ocpi"]), timeout=90, interval=0.5)
    finally:
        _stop(demo)
    reached = datetime.fromisoformat(json.loads((tmp_path / "demo-clock.json").read_text())["reached"])

    demo, lines = _start(tmp_path, ports)
    try:
        assert any("continuing the simulated clock" in line for line in lines), "".join(lines)
        summary = requests.get(f"http://127.0.0.1:{ports['simulator']}/admin/cpoA/summary", timeout=5).json()
        assert datetime.fromisoformat(summary["now"].replace("Z", "+00:00")) >= reached
        wait_until(lambda: _synced(ports["ocpi"]), timeout=90, interval=0.5)
        # the second run's records are the same town, later: none is older than what is stored
        assert [op["stale_skipped"] for op in _ocpi_status(ports["ocpi"])] == [0, 0, 0]
    finally:
        _stop(demo)
