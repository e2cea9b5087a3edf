"""``cic demo`` starts the broker, seeds the sample town, and the sample is standard SDM."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from citiesincharge.client import NgsiLdClient
from citiesincharge.demo import sample_entities
from citiesincharge.sdm import SCHEMA_TYPES, schema_errors
from citiesincharge.settings import Settings
from tests.support import free_port


@pytest.mark.parametrize("entity", [e for e in sample_entities() if e["type"] in SCHEMA_TYPES],
                         ids=lambda e: e["id"])
def test_sample_entities_validate_against_sdm_schemas(entity: dict[str, object]) -> None:
    key_values = {k: (v["value"] if isinstance(v, dict) and "value" in v else
                      v["object"] if isinstance(v, dict) and "object" in v else v) for k, v in entity.items()}
    assert schema_errors(key_values) == []


def test_demo_serves_the_seeded_town(tmp_path: Path) -> None:
    port = free_port()
    demo = subprocess.Popen([sys.executable, "-m", "citiesincharge.cli", "demo", "--port", str(port),
                             "--data-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        assert demo.stdout is not None
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line or demo.poll() is not None:
                break
        assert any("seeded" in line for line in lines), "".join(lines)
        client = NgsiLdClient(Settings(broker_url=f"http://127.0.0.1:{port}"))
        stations = list(client.query_entities(type="EVChargingStation", options="keyValues"))
        assert len(stations) == 3
        assert all(schema_errors(s) == [] for s in stations)  # what the broker serves is SDM-valid
        assert client.count_entities(type="EVSE", q='status=="OUTOFORDER"') == 1
        bays = list(client.query_entities(type="ParkingSpot", options="keyValues"))
        assert {b["status"] for b in bays} == {"free", "occupied"}
        assert (tmp_path / "broker.sqlite").exists()
    finally:
        demo.terminate()
        demo.wait(timeout=15)
