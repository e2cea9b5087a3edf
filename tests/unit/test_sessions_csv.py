"""Session history from CSV exports: dirty rows skipped and counted, dates read as written
(day or month first, separate date and time, local time across clock changes), names checked.

Expectations are worked out by hand from the rows each test writes.
"""

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

BOULDER = Path(__file__).resolve().parents[3] / "shared/data/ev-sessions/boulder"
BOULDER_FILE = BOULDER / "Electric_Vehicle_Charging_Station_Energy_Consumption.csv"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sessions.csv"
    path.write_text(text)
    return path


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# A council export as found: dd/mm dates, date and time in separate columns, UK local time,
# a Site column with a name variant and a test site, and the faults real files have.
COUNCIL = """CP ID,Site,Start Date,Start Time,End Date,End Time,Total kWh
CP1,Broxden Park & Ride,13/12/2016,08:00,13/12/2016,09:30,10.5
CP1,Broxden Park & Ride,31/08/2016,23:30,01/09/2016,00:45,7
CP2,"Broxden Park & Ride, Perth",01/07/2017,08:00,01/07/2017,10:00,20
CP2,"Broxden Park & Ride, Perth",02/07/2017,08:00,02/07/2017,09:00,
CP3,Canal Street Car Park 3rd Floor,03/07/2017,12:00,03/07/2017,13:00,-1394.711
CP3,Canal Street Car Park 3rd Floor,04/07/2017,12:00,01/01/1970,00:00,5
CP1,Broxden Park & Ride,13/12/2016,08:00,13/12/2016,09:30,10.5
CP9,***TEST SITE***,05/07/2017,09:00,05/07/2017,09:05,0.1
CP3,Canal Street Car Park 3rd Floor,06/07/2017,12:00,06/07/2017,11:00,3
"""


def test_a_dirty_council_export_loads_with_a_summary_of_what_was_skipped(tmp_path: Path) -> None:
    frame, report = load_sessions(write(tmp_path, COUNCIL))
    # rows 2, 3, 4 and 9 are good; 5 empty kWh, 6 negative, 7 ends in 1970, 8 repeats row 2,
    # 10 ends before it starts (file rows: the header is row 1)
    assert report.rows == 9 and report.kept == 4 and len(frame) == 4
    assert {reason: len(rows) for reason, rows in report.skipped.items()} == {
        "empty kWh": 1, "negative kWh": 1, "placeholder end (before 1990)": 1, "duplicate of an earlier row": 1,
        "ends before it starts": 1}
    assert report.skipped["negative kWh"] == ["row 6: '-1394.711'"]
    assert report.skipped["duplicate of an earlier row"][0].startswith("row 8:")
    assert report.order == "day-first"  # 13/12 and 31/08 can only be day-first
    # over midnight, from the date and time columns (not "today" + 23:30); BST in summer, GMT in winter
    first = frame.set_index("kwh")
    assert first.loc[7.0, "start"] == utc("2016-08-31T22:30") and first.loc[7.0, "end"] == utc("2016-08-31T23:45")
    assert first.loc[10.5, "start"] == utc("2016-12-13T08:00")
    assert first.loc[20.0, "start"] == utc("2017-07-01T07:00")
    assert (report.first, report.last) == (frame["start"].min(), frame["start"].max())
    assert report.variants == [["Broxden Park & Ride", "Broxden Park & Ride, Perth"]]
    assert report.test_sites == ["***TEST SITE***", "CP9"]
    assert list(frame["test"]) == [False, False, False, True]
    text = "\n".join(report.lines())
    assert "2016-08-31 .. 2017-07-05" in text and "day-first (dd/mm/yyyy)" in text
    assert "skipped 1 row: empty kWh (row 5: '')" in text


@pytest.mark.parametrize(("dates", "dayfirst", "expected"), [
    (["03/13/2026", "04/01/2026"], None, ["2026-03-13", "2026-04-01"]),  # 13 in second place: month-first
    (["13/03/2026", "04/01/2026"], None, ["2026-01-04", "2026-03-13"]),  # 13 in first place: day-first
    (["01/02/2026", "03/04/2026"], True, ["2026-02-01", "2026-04-03"]),
    (["01/02/2026", "03/04/2026"], False, ["2026-01-02", "2026-03-04"]),
    (["2026/01/02", "2026-03-04"], None, ["2026-01-02", "2026-03-04"]),  # year first: never ambiguous
])
def test_day_or_month_first_is_decided_from_the_whole_column(tmp_path: Path, dates: list[str], dayfirst: bool | None,
                                                             expected: list[str]) -> None:
    path = write(tmp_path, "Date,Time,Station\n" + "".join(f"{d},12:00,S1\n" for d in dates))
    frame, _ = load_sessions(path, zone="UTC", dayfirst=dayfirst)
    assert [f"{moment:%Y-%m-%d}" for moment in frame["start"]] == expected


@pytest.mark.parametrize(("dates", "needle"), [
    (["01/02/2026", "03/04/2026"], "day-first and month-first both fit; say which with --dayfirst"),
    (["13/02/2026", "02/13/2026"], "in one file; say which"),
])
def test_ambiguous_dates_are_refused(tmp_path: Path, dates: list[str], needle: str) -> None:
    path = write(tmp_path, "Start Date,Start Time,Station\n" + "".join(f"{d},12:00,S1\n" for d in dates))
    with pytest.raises(SessionsFileError, match=needle):
        load_sessions(path)


def test_local_times_across_the_clock_changes(tmp_path: Path) -> None:
    # London 2026: clocks go forward at 01:00 on 29 March (01:30 does not exist), back at 02:00 BST
    # on 25 October (01:30 happens twice; without a zone column, read as the first, BST)
    path = write(tmp_path, "start,station\n2026-03-29 00:30,S\n2026-03-29 01:30,S\n2026-03-29 02:30,S\n"
                           "2026-10-25 01:30,S\n2026-10-25 02:30,S\n2026-06-01T12:00:00Z,S\n")
    frame, _ = load_sessions(path)
    assert [moment.tz_convert("UTC") for moment in frame["start"]] == [
        utc("2026-03-29T00:30"), utc("2026-03-29T01:00"), utc("2026-03-29T01:30"),
        utc("2026-06-01T12:00"), utc("2026-10-25T00:30"), utc("2026-10-25T02:30")]


def test_a_zone_abbreviation_column_settles_the_repeated_hour(tmp_path: Path) -> None:
    # Denver, 2 November 2025: 01:30 MDT (UTC-6) is 07:30 UTC, 01:30 MST (UTC-7) 08:30 UTC
    path = write(tmp_path, "Start_Date___Time,Start_Time_Zone,Station_Name\n"
                           "2025/11/02 01:30:00,MDT,S\n2025/11/02 01:30:00,MST,S\n")
    frame, _ = load_sessions(path, zone="America/Denver")
    assert list(frame["start"].dt.tz_convert("UTC")) == [utc("2025-11-02T07:30"), utc("2025-11-02T08:30")]


@pytest.mark.parametrize("header", ["start,end,kwh,station", "Start Time,End Time,Energy (kWh),Location ID",
                                    "StartDateTime,EndDateTime,TotalEnergy,EVSE_UID"])
def test_common_column_names(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, f"{header}\n2026-03-02T08:00:00Z,2026-03-02T09:30:00Z,12.5,L1\n"
                           f"2026-03-02 10:00:00,2026-03-02 10:45:00,\"7,25\",L2\n")
    frame, _ = load_sessions(path)
    assert list(frame["station"]) == ["L1", "L2"] and list(frame["kwh"]) == [12.5, 7.25]
    assert frame["start"].iloc[1] == utc("2026-03-02T10:00")  # GMT in March


@pytest.mark.parametrize(("text", "needle"), [
    ("", "not a readable CSV"),
    ("start,end,kwh,station\n", "no sessions"),
    ("begin_at,kwh,station\n2026-03-02T08:00:00Z,1,L1\n", "no start column; looked for start, startdatetime"),
    ("start,kwh\n2026-03-02T08:00:00Z,1\n", "no station column"),
    ("Start Time,station\n08:00,L1\n", "Start Time holds times of day only, and no start date column"),
    ("start,kwh,station\nyesterday,2,L1\ntomorrow,2,L1\n", "column start: no value reads as a date-time"),
    ("start,kwh,station\n2026-03-02T08:00:00Z,lots,L1\n", "column kwh: no value reads as a number"),
    ("start,kwh,station\n2026-03-02T08:00:00Z,-4,L1\n2026-03-03T08:00:00Z,,L1\n",
     "no usable session left; skipped 1 row: empty kWh (row 3: ''); skipped 1 row: negative kWh (row 2: '-4')"),
])
def test_unusable_files_are_refused_with_a_precise_message(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(SessionsFileError) as raised:
        load_sessions(write(tmp_path, text))
    assert needle in str(raised.value)


@pytest.mark.skipif(not BOULDER_FILE.exists(), reason=f"real data not found at {BOULDER}")
def test_the_raw_boulder_export_loads() -> None:
    """23,560 real sessions (City of Boulder, 2018-2021) as published: their faults are found and named."""
    frame, report = load_sessions(BOULDER_FILE, zone="America/Denver")
    skipped = {reason: len(rows) for reason, rows in report.skipped.items()}
    assert set(skipped) <= {"duplicate of an earlier row", "no start time", "placeholder end (before 1990)",
                            "ends before it starts", "no station"}
    assert skipped["duplicate of an earlier row"] > 0 and skipped["placeholder end (before 1990)"] > 0
    assert report.kept == len(frame) > 0.99 * report.rows
    assert report.order == "year-first" and report.columns["start"] == "Start_Date___Time"
    assert report.columns["site"] == "Address" and frame["site"].nunique() > 10
    # the first session, 2018/01/02 00:49 MST, is 07:49 UTC; summer sessions are MDT (UTC-6)
    assert frame["start"].iloc[0].tz_convert("UTC") == utc("2018-01-02T07:49")
    july = frame[frame["start"].dt.month == 7]
    assert (july["start"].dt.tz_convert("UTC").dt.hour != july["start"].dt.hour).all()
    assert (frame["end"] >= frame["start"]).all() and (frame["kwh"] >= 0).all()


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
    assert "MASE" in done.stdout and done.stderr == ""
    result = json.loads(out.read_text())
    kinds = {(f["resolution"], f["model"] == "var") for f in result["forecasts"]}
    assert kinds == {("hourly", False), ("daily", False), ("daily", True)}  # per station, and VAR across areas
    hourly = next(f for f in result["forecasts"] if f["resolution"] == "hourly")
    assert len(hourly["forecast"]) == 48 and "seasonalNaive" in hourly["scores"]


def test_cli_refuses_a_bad_file(tmp_path: Path) -> None:
    path = write(tmp_path, "when,where\n2026-03-02T08:00:00Z,L1\n")
    done = subprocess.run([sys.executable, "-m", "citiesincharge.cli", "forecast", "--sessions", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no station column" in done.stderr and "Traceback" not in done.stderr
