"""``cic forecast --sessions FILE.csv``: back-test and forecast from a session export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from .forecasting import (
    MAX_VAR_SERIES,
    VAR_MIN_DAYS,
    Forecast,
    Resolution,
    demand_series,
    forecast,
    min_history,
    var_forecast,
)
from .sessions_csv import SessionsFileError, load_driver, load_sessions


def _as_json(item: Forecast) -> dict[str, Any]:
    return {"series": item.series, "resolution": item.resolution, "model": item.model,
            "scores": {name: vars(score) for name, score in item.scores.items()},
            "forecast": [{"period": moment.isoformat(), "mean": mean, "lower": low, "upper": high}
                         for moment, mean, low, high in zip(item.index, item.mean, item.lower, item.upper,
                                                            strict=True)]}


def _areas(frame: pd.DataFrame, skipped: list[str]) -> list[Forecast]:
    """The VAR across areas (the file's area column, else the stations when they are few)."""
    by = "area" if "area" in frame else "station"
    daily = demand_series(frame, "daily", by=by)
    if daily.shape[1] < 2 or daily.shape[1] > MAX_VAR_SERIES or len(daily) < VAR_MIN_DAYS:
        skipped.append(f"VAR across {by}s ({daily.shape[1]} series, {len(daily)} days: needs 2-{MAX_VAR_SERIES} "
                       f"series and 11 weeks; add an area column to group stations)")
        return []
    return list(var_forecast(daily).values())


def run(sessions: Path, resolutions: list[Resolution], out: Path | None, driver: Path | None) -> int:
    try:
        frame = load_sessions(sessions)
        exog = load_driver(driver) if driver else None
    except SessionsFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    results: list[Forecast] = []
    skipped: list[str] = []
    for resolution in resolutions:
        table = demand_series(frame, resolution)
        needed = min_history(resolution)
        for station in table.columns:
            series = table[station]
            if len(series) < needed:
                skipped.append(f"{station} ({resolution}: {len(series)} periods of history, {needed} needed)")
                continue
            results.append(forecast(series, resolution, name=str(station), exog=exog))
        if resolution == "daily":
            results += _areas(frame, skipped)
    if not results:
        print("error: not enough history to forecast any station: " + "; ".join(skipped), file=sys.stderr)
        return 2
    print(f"{len(frame):,} sessions, {frame['station'].nunique()} stations, "
          f"{frame['start'].min():%Y-%m-%d} .. {frame['start'].max():%Y-%m-%d}")
    print(f"{'series':24} {'res':7} {'model':15} {'MASE':>7} {'baseline':>9} {'sMAPE':>7}  next")
    for item in results:
        chosen, baseline = item.chosen, item.baseline
        scores = (f"{chosen.mase:7.3f} {baseline.mase:9.3f} {chosen.smape:7.1f}" if chosen and baseline
                  else f"{'not back-tested':>25}")
        print(f"{item.series[:24]:24} {item.resolution:7} {item.model:15} {scores}  "
              + " ".join(f"{v:.1f}" for v in item.mean[:6]) + " ...")
    for note in skipped:
        print(f"skipped: {note}")
    if out is not None:
        out.write_text(json.dumps({"sessions": str(sessions), "generated": pd.Timestamp.now(tz="UTC").isoformat(),
                                   "forecasts": [_as_json(item) for item in results]}, indent=1))
        print(f"written: {out}")
    return 0
