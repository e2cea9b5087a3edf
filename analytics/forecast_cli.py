"""``cic forecast --sessions FILE.csv``: back-test and forecast what a council plans with, from its export.

Daily (or hourly) sessions or kWh for the whole network, per site or per station. What the loader
skipped and how it read the dates is printed first, so a user can trust (or fix) the input; every
forecast line carries its back-test scores next to the seasonal-naive baseline's.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .forecast_models import ModelFailed
from .forecasting import (
    HORIZON,
    MAX_VAR_SERIES,
    VAR_MIN_DAYS,
    Calendar,
    Forecast,
    Resolution,
    as_json,
    demand_series,
    forecast,
    min_history,
    var_forecast,
)
from .sessions_csv import LoadReport, SessionsFileError, load_driver, load_sessions

Measure = Literal["sessions", "kwh"]
By = Literal["network", "site", "station"]
UNITS = {"sessions": "sessions started", "kwh": "kWh of the sessions started"}


@dataclass
class Options:
    """What ``cic forecast`` was asked (the CLI's options, settings applied)."""

    sessions: Path
    resolutions: list[Resolution] = field(default_factory=lambda: ["hourly", "daily"])
    measure: Measure = "sessions"
    by: By = "station"
    steps: dict[Resolution, int] = field(default_factory=lambda: dict(HORIZON))
    dayfirst: bool | None = None
    timezone: str = "Europe/London"
    calendar: Calendar = field(default_factory=Calendar)
    driver: Path | None = None
    out: Path | None = None


def _areas(frame: pd.DataFrame, options: Options, skipped: list[str]) -> list[Forecast]:
    """The VAR across areas (the file's area column, else the stations when they are few)."""
    by = "area" if "area" in frame else "station"
    daily = demand_series(frame, "daily", by=by, measure=options.measure)
    if daily.shape[1] < 2 or daily.shape[1] > MAX_VAR_SERIES or len(daily) < VAR_MIN_DAYS:
        skipped.append(f"VAR across {by}s ({daily.shape[1]} series, {len(daily)} days: needs 2-{MAX_VAR_SERIES} "
                       f"series and 11 weeks; add an area column to group stations)")
        return []
    try:
        return list(var_forecast(daily, steps=options.steps["daily"], calendar=options.calendar).values())
    except ModelFailed as failure:
        skipped.append(f"VAR across {by}s: {failure}")
        return []


def _score(value: float, width: int, digits: int) -> str:
    return f"{value:{width}.{digits}f}" if math.isfinite(value) else f"{'n/a':>{width}}"


def _table(results: list[Forecast], tests: set[str]) -> list[str]:
    """One line per forecast; names in full (a cut name can be another station's)."""
    width = max([6, *(len(item.series) + (12 if item.series in tests else 0) for item in results)])
    lines = [f"{'series':{width}} {'res':7} {'model':20} {'MASE':>6} {'naive':>6} {'sMAPE':>6} {'cover':>6}  next"]
    for item in results:
        chosen, baseline = item.chosen, item.baseline
        name = item.series + (" [test site]" if item.series in tests else "")
        if chosen is None or baseline is None:
            scores = f"{'not back-tested':>27}"
        else:
            scores = (f"{_score(chosen.mase, 6, 3)} {_score(baseline.mase, 6, 3)} {_score(chosen.smape, 6, 1)} "
                      f"{_score(chosen.coverage * 100, 5, 0)}%")
        lines.append(f"{name:{width}} {item.resolution:7} {item.model:20} {scores}  "
                     + " ".join(f"{v:.1f}" for v in item.mean[:6]) + (" ..." if len(item.mean) > 6 else ""))
    return lines


def _series(frame: pd.DataFrame, report: LoadReport, options: Options) -> tuple[list[Forecast], list[str]]:
    exog = load_driver(options.driver) if options.driver else None
    results: list[Forecast] = []
    skipped: list[str] = []
    for resolution in options.resolutions:
        if resolution == "hourly" and report.dates_only:
            skipped.append("hourly forecasts: the sessions have dates without times of day")
            continue
        table = demand_series(frame, resolution, by=options.by, measure=options.measure)
        needed = min_history(resolution)
        for column in table.columns:
            series = table[column]
            if len(series) < needed:
                skipped.append(f"{column} ({resolution}: {len(series)} periods of history, {needed} needed)")
                continue
            results.append(forecast(series, resolution, steps=options.steps[resolution], name=str(column),
                                    exog=exog, calendar=options.calendar))
        if resolution == "daily" and options.by == "station":
            results += _areas(frame, options, skipped)
    return results, skipped


def _load(options: Options) -> tuple[pd.DataFrame, LoadReport]:
    frame, report = load_sessions(options.sessions, zone=options.timezone, dayfirst=options.dayfirst)
    if options.measure == "kwh" and "kwh" not in frame:
        raise SessionsFileError(f"{options.sessions}: --measure kwh, but the file has no energy (kWh) column")
    if options.by == "site" and "site" not in frame:
        raise SessionsFileError(f"{options.sessions}: --by site, but the file has no site column (Site, Site Name, "
                                f"Address, ...)")
    return frame, report


def run(options: Options) -> int:
    try:
        frame, report = _load(options)
        results, skipped = _series(frame, report, options)
    except SessionsFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    if not results:
        print("error: not enough history to forecast any series: " + "; ".join(skipped), file=sys.stderr)
        return 2
    tests = set(report.test_sites)
    print(f"{UNITS[options.measure]} per {'period' if options.by == 'network' else options.by}, "
          + ", ".join(f"{options.steps[r]} {'hours' if r == 'hourly' else 'days'} ahead" for r in options.resolutions)
          + "; MASE < 1 beats the seasonal-naive baseline; cover: back-test share inside the 90 % interval")
    for line in _table(results, tests):
        print(line)
    for item in results:
        for note in item.notes:
            print(f"note: {item.series} {item.resolution}: {note}")
    for note in skipped:
        print(f"skipped: {note}")
    if options.out is not None:
        document = {"sessions": str(options.sessions), "generated": pd.Timestamp.now(tz="UTC").isoformat(),
                    "measure": options.measure, "by": options.by, "timezone": options.timezone,
                    "load": _report_json(report),
                    "forecasts": [as_json(item) | {"testSite": item.series in tests} for item in results]}
        options.out.write_text(json.dumps(document, indent=1, allow_nan=False))
        print(f"written: {options.out}")
    return 0


def _report_json(report: LoadReport) -> dict[str, Any]:
    return {"rows": report.rows, "kept": report.kept, "dateOrder": report.order,
            "skipped": {reason: {"rows": len(examples), "examples": examples[:3]}
                        for reason, examples in report.skipped.items()},
            "nameVariants": report.variants, "testSites": report.test_sites}
