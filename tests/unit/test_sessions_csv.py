"""Session history from CSV exports: common column names recognised, bad files refused precisely."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from agents.ocpi.simulator.world import World, default_town
from analytics.sessions_csv import SessionsFileError, load_sessions


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sessions.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("header", ["start,end,kwh,station", "Start Time,End Time,Energy (kWh),Location ID",
                                    "StartDateTime,EndDateTime,TotalEnergy,EVSE_UID"])
def test_common_column_names(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, f"{header}\n2026-03-02T08:00:00Z,2026-03-02T09:30:00Z,12.5,L1\n"
                           f"2026-03-02 10:00:00,2026-03-02 10:45:00,\"7,25\",L2\n")
    frame = load_sessions(path)
    assert list(frame["station"]) == ["L1", "L2"] and list(frame["kwh"]) == [12.5, 7.25]
    assert frame["start"].iloc[1] == pd.Timestamp("2026-03-02T10:00:00Z")


@pytest.mark.parametrize(("text", "needle"), [
    ("", "not a readable CSV"),
    ("start,end,kwh,station\n", "no sessions"),
    ("begin_at,kwh,station\n2026-03-02T08:00:00Z,1,L1\n", "no start column; looked for start, starttime"),
    ("start,kwh\n2026-03-02T08:00:00Z,1\n", "no station column"),
    ("start,kwh,station\n2026-03-02T08:00:00Z,1,L1\nyesterday,2,L1\n", "row 3: start 'yesterday' is not a date"),
    ("start,kwh,station\n2026-03-02T08:00:00Z,-4,L1\n", "row 2: kwh '-4' is not a non-negative number"),
    ("start,end,kwh,station\n2026-03-02T08:00:00Z,2026-03-02T07:00:00Z,1,L1\n", "row 2: the session ends before"),
    ("start,kwh,station\n2026-03-02T08:00:00Z,1,\n", "row 2: station is empty"),
])
def test_bad_files_are_refused_with_a_precise_message(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(SessionsFileError) as raised:
        load_sessions(write(tmp_path, text))
    assert needle in str(raised.value)


def test_cli_backtests_and_forecasts_an_export(tmp_path: Path) -> None:
    world = World(default_town({"cpoA": "a", "cpoB": "b", "cpoC": "c"}), seed=2, speed=0,
                  start=datetime(2026, 1, 5, tzinfo=UTC))
    world.jump(60 * 24 * 7 * 12)
    rows = [f"{s.start.isoformat()},{s.kwh_at(s.end or s.start)},{s.location_id},{name}"
            for name, op in world.operators.items() for s in list(op.sessions.values())
            if s.location_id.endswith(("0001", "0002"))]
    path = write(tmp_path, "Start Time,Energy (kWh),Location ID,Operator\n" + "\n".join(rows) + "\n")
    out = tmp_path / "forecast.json"
    done = subprocess.run([sys.executable, "-m", "citiesincharge.cli", "forecast", "--sessions", str(path),
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "MASE" in done.stdout
    result = json.loads(out.read_text())
    kinds = {(f["resolution"], f["model"] == "var") for f in result["forecasts"]}
    assert kinds == {("hourly", False), ("daily", False), ("daily", True)}  # per station, and VAR across areas
    hourly = next(f for f in result["forecasts"] if f["resolution"] == "hourly")
    assert len(hourly["forecast"]) == 48 and "seasonalNaive" in hourly["scores"]


def test_cli_refuses_a_bad_file(tmp_path: Path) -> None:
    path = write(tmp_path, "when,where\n2026-03-02T08:00:00Z,L1\n")
    done = subprocess.run([sys.executable, "-m", "citiesincharge.cli", "forecast", "--sessions", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no start column" in done.stderr and "Traceback" not in done.stderr
