"""``cic forecast`` on an export as short as it accepts: every forecast it prints is back-tested.

The demo's own export (three weeks) once gave ``seasonalNaive nan nan nan`` for every series:
the history threshold let through series too short for a single back-test fold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import forecast_cli
from analytics.forecasting import min_history


def _export(path: Path, days: float, stations: int = 2, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-05T00:00:00Z")
    rows = []
    for hour in range(int(days * 24)):
        moment = start + pd.Timedelta(hours=hour)
        busy = 3.0 if 7 <= moment.hour < 20 else 0.5
        for station in range(stations):
            for _ in range(rng.poisson(busy)):
                rows.append({"start": (moment + pd.Timedelta(minutes=int(rng.integers(60)))).isoformat(),
                             "station": f"S{station}"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("days", [21, min_history("hourly") / 24 + 1])
def test_every_printed_forecast_has_backtest_scores(tmp_path: Path, days: float,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = forecast_cli.run(_export(tmp_path / "sessions.csv", days), ["hourly", "daily"], None, None)
    out, err = capsys.readouterr()
    assert "nan" not in out
    if days < min_history("hourly") / 24:  # too short for anything: said so, nothing made up
        assert code == 2 and "needed" in err
    else:
        assert code == 0
        hourly = [line for line in out.splitlines() if line.startswith("S") and " hourly " in line]
        assert len(hourly) == 2 and all("not back-tested" not in line for line in hourly)
