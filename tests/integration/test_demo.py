"""``cic demo`` runs the whole system: broker, simulated CPOs, OCPI agent, sample bays."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from citiesincharge.client import NgsiLdClient
from citiesincharge.demo import sample_bays
from citiesincharge.sdm import SCHEMA_TYPES, schema_errors
from citiesincharge.settings import Settings
from tests.support import free_port, wait_until


@pytest.mark.parametrize("entity", [e for e in sample_bays() if e["type"] in SCHEMA_TYPES], ids=lambda e: e["id"])
def test_sample_bays_validate_against_sdm_schemas(entity: dict[str, object]) -> None:
    key_values = {k: (v["value"] if isinstance(v, dict) and "value" in v else
                      v["object"] if isinstance(v, dict) and "object" in v else v) for k, v in entity.items()}
    assert schema_errors(key_values) == []


def test_demo_runs_the_system_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CIC_SIMULATOR_PORT": str(free_port()), "CIC_OCPI_AGENT_PORT": str(free_port()),
           "CIC_LOG_LEVEL": "WARNING"}
    demo = subprocess.Popen([sys.executable, "-m", "citiesincharge.cli", "demo", "--port", str(port),
                             "--data-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    try:
        assert demo.stdout is not None
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line or demo.poll() is not None:
                break
        assert any("OCPI agent status" in line for line in lines), "".join(lines)
        client = NgsiLdClient(Settings(broker_url=f"http://127.0.0.1:{port}"))
        wait_until(lambda: client.count_entities(type="EVChargingStation") == 180, timeout=60, interval=0.5)
        stations = list(client.query_entities(type="EVChargingStation", options="keyValues"))
        assert all(schema_errors(s) == [] for s in stations)  # what the broker serves is SDM-valid
        assert {s["dataProvider"] for s in stations} == {"cpoA", "cpoB", "cpoC"}
        bays = list(client.query_entities(type="ParkingSpot", options="keyValues"))
        assert len(bays) == 3 and all(client.find_entity(b["refEVSE"]) for b in bays)  # beside real chargers
        assert (tmp_path / "broker.sqlite").exists() and (tmp_path / "agent-ocpi.sqlite").exists()
    finally:
        demo.terminate()
        demo.wait(timeout=30)
