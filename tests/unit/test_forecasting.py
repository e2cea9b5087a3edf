"""Forecasts on held-out data: a synthetic series of known structure and the simulators' sessions.

Every comparison is made on periods the model never saw (neither for fitting nor for choosing).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from agents.ocpi.simulator.world import World, default_town
from analytics.forecasting import HORIZON, demand_series, forecast, mase, seasonal_naive, smape, var_forecast


def synthetic(weeks: int, seed: int = 7) -> pd.Series:
    """Hourly sessions: a daily curve, busier weekdays, a bit of persistence, Poisson noise."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-01-05", periods=weeks * 168, freq="h", tz="UTC")
    hour = index.hour.to_numpy()
    weekday = (index.day_of_week < 5).astype(float)
    rate = 1.0 + 2.0 * np.exp(-((hour - 9) ** 2) / 8) + 1.5 * np.exp(-((hour - 18) ** 2) / 6) + 0.8 * weekday
    return pd.Series(rng.poisson(rate), index=index, dtype=float)


def held_out(series: pd.Series, resolution: str) -> tuple[float, float, float]:
    """(model MASE, baseline MASE, interval coverage) on the last horizon, unseen by the model."""
    horizon = HORIZON[resolution]  # type: ignore[index]
    train, test = series.iloc[:-horizon], series.iloc[-horizon:].to_numpy()
    result = forecast(train, resolution)  # type: ignore[arg-type]
    baseline = seasonal_naive(train, resolution, horizon)[0]  # type: ignore[arg-type]
    season = 168 if resolution == "hourly" else 7
    covered = np.mean((test >= np.array(result.lower)) & (test <= np.array(result.upper)))
    return mase(test, np.array(result.mean), train.to_numpy(), season), \
        mase(test, baseline, train.to_numpy(), season), float(covered)


def test_known_structure_hourly_beats_the_seasonal_naive_baseline() -> None:
    model, baseline, coverage = held_out(synthetic(16), "hourly")
    assert model < 0.85 * baseline
    assert coverage >= 0.8  # a 90 % interval that mostly holds


def test_known_structure_daily_beats_the_seasonal_naive_baseline() -> None:
    daily = synthetic(40).resample("D").sum()
    model, baseline, _ = held_out(daily, "daily")
    assert model < baseline


def test_scores_are_reported_with_the_forecast() -> None:
    result = forecast(synthetic(12), "hourly", name="S1")
    assert result.model in result.scores and "seasonalNaive" in result.scores
    assert len(result.mean) == 48 and all(lo <= m <= hi for lo, m, hi in zip(result.lower, result.mean, result.upper,
                                                                           strict=True))
    assert result.scores[result.model].mase <= result.scores["seasonalNaive"].mase


def test_var_across_areas_uses_neighbours_and_beats_the_baseline() -> None:
    rng = np.random.default_rng(3)
    days = pd.date_range("2025-06-02", periods=7 * 30, freq="D", tz="UTC")
    # a stationary VAR(1): each area's deviation feeds the other's the next day, plus a weekly profile
    deviation = np.zeros((len(days), 2))
    for t in range(1, len(days)):
        deviation[t] = deviation[t - 1] @ np.array([[0.5, 0.3], [0.35, 0.45]]).T + rng.normal(0, 3, 2)
    weekly = np.tile([10, 11, 12, 12, 14, 8, 6], 30)
    frame = pd.DataFrame({"north": 60 + weekly + deviation[:, 0], "south": 40 + weekly + deviation[:, 1]},
                         index=days)
    train, test = frame.iloc[:-56], frame.iloc[-56:]
    forecasts = var_forecast(train)
    for area in ("north", "south"):
        model = mase(test[area].to_numpy(), np.array(forecasts[area].mean), train[area].to_numpy(), 7)
        baseline = mase(test[area].to_numpy(), seasonal_naive(train[area], "daily", 56)[0], train[area].to_numpy(), 7)
        assert model < baseline and forecasts[area].model == "var" and "var" in forecasts[area].scores


def test_simulated_town_forecasts_beat_the_baseline() -> None:
    world = World(default_town({"cpoA": "a", "cpoB": "b", "cpoC": "c"}), seed=11, speed=0,
                  start=datetime(2026, 1, 5, tzinfo=UTC))
    world.jump(60 * 24 * 7 * 10)
    sessions = pd.DataFrame([{"start": pd.Timestamp(s.start), "station": name}
                             for name, op in world.operators.items() for s in op.sessions.values()])
    hourly = demand_series(sessions, "hourly")  # one column per operator: the areas of the town
    results = [held_out(hourly[area], "hourly") for area in hourly.columns]
    assert np.mean([m for m, _, _ in results]) < np.mean([b for _, b, _ in results])


def test_metrics() -> None:
    actual, predicted = np.array([2.0, 0.0, 4.0]), np.array([1.0, 0.0, 4.0])
    assert smape(actual, predicted) == pytest.approx(100 * (2 / 3) / 3)
    train = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 2.0])
    assert mase(actual, predicted, train, 3) == pytest.approx((1 / 3) / (1 / 4))
