"""Forecasts on held-out data: series of known structure (daily and weekly cycles, a level shift,
growth), the simulators' sessions, and series that are dead or new.

Every comparison is made on periods the model never saw (neither for fitting nor for choosing).
All series are seeded; nothing depends on the date the tests run.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from agents.ocpi.simulator.world import World, default_town
from analytics.forecasting import (
    HORIZON,
    Calendar,
    Forecast,
    Resolution,
    Scores,
    as_json,
    better_of,
    demand_series,
    features,
    forecast,
    interval,
    mase,
    smape,
    var_forecast,
)


def synthetic(weeks: int, seed: int = 7) -> pd.Series:
    """Hourly sessions: a daily curve, busier weekdays, Poisson noise."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-01-05", periods=weeks * 168, freq="h", tz="UTC")
    hour = index.hour.to_numpy()
    weekday = (index.day_of_week < 5).astype(float)
    rate = 1.0 + 2.0 * np.exp(-((hour - 9) ** 2) / 8) + 1.5 * np.exp(-((hour - 18) ** 2) / 6) + 0.8 * weekday
    return pd.Series(rng.poisson(rate), index=index, dtype=float)


def shifted(days: int = 420, seed: int = 5) -> pd.Series:
    """Daily sessions: a weekly profile on a level that grows, halves at day 250 (a lockdown) and recovers."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = np.where(t < 250, 40 + 0.05 * t, 26 + 0.2 * (t - 250))
    weekly = np.array([1.1, 1.15, 1.15, 1.1, 1.2, 0.7, 0.6])[t % 7]
    return pd.Series(rng.poisson(level * weekly), dtype=float,
                     index=pd.date_range("2024-01-01", periods=days, freq="D", tz="Europe/London"))


def naive(train: pd.Series, season: int, steps: int) -> np.ndarray:
    """The seasonal-naive forecast, by its definition: the value one season before each period."""
    history = train.to_numpy()
    return np.array([history[len(history) - season + step % season] for step in range(steps)])


def held_out(series: pd.Series, resolution: Resolution, steps: int | None = None) -> tuple[float, float, float]:
    """(model MASE, baseline MASE, interval coverage) on the last ``steps`` periods, unseen by the model."""
    steps = steps or HORIZON[resolution]
    train, test = series.iloc[:-steps], series.iloc[-steps:].to_numpy()
    result = forecast(train, resolution, steps=steps)
    season = 168 if resolution == "hourly" else 7
    covered = np.mean((test >= np.array(result.lower)) & (test <= np.array(result.upper)))
    return mase(test, np.array(result.mean), train.to_numpy(), season), \
        mase(test, naive(train, season, steps), train.to_numpy(), season), float(covered)


def test_known_structure_hourly_beats_the_seasonal_naive_baseline() -> None:
    model, baseline, coverage = held_out(synthetic(16), "hourly")
    assert model < 0.85 * baseline
    assert coverage >= 0.8  # a 90 % interval that mostly holds


def test_after_a_level_shift_the_chosen_model_beats_the_seasonal_naive_baseline() -> None:
    """Rolling origins through the recovery after a drop, 7 days ahead: the baseline repeats last
    week's noise, a model that follows the level and the week does clearly better."""
    series = shifted()
    model, baseline = [], []
    for end in range(len(series) - 7 * 6, len(series) + 1, 7):  # six origins, weekly, after the shift
        m, b, _ = held_out(series.iloc[:end], "daily", steps=7)
        model.append(m)
        baseline.append(b)
    assert np.mean(model) < 0.85 * np.mean(baseline)


def test_a_growing_series_is_not_pulled_back_to_its_long_run_mean() -> None:
    """Eight weeks ahead of a series that has grown all along, the forecast stays at the recent level
    (an autoregression on the whole history fell to 72-83 % of it)."""
    series = shifted(days=245)  # growth only, before the drop
    result = forecast(series, "daily", steps=56)
    recent = series.iloc[-28:].mean()
    assert np.mean(result.mean[-28:]) > 0.95 * recent


def test_scores_are_reported_with_the_forecast() -> None:
    result = forecast(synthetic(12), "hourly", name="S1")
    assert result.model in result.scores and "seasonalNaive" in result.scores
    assert len(result.mean) == 48 and all(lo <= m <= hi for lo, m, hi in zip(result.lower, result.mean, result.upper,
                                                                           strict=True))
    assert result.scores[result.model].mase <= result.scores["seasonalNaive"].mase
    assert 0 <= result.scores[result.model].coverage <= 1


def test_the_interval_is_calibrated_from_backtest_errors() -> None:
    # split conformal, n errors: the ceil(0.95 (n + 1))-th smallest is the upper offset
    assert interval(np.arange(1.0, 21.0)) == (1.0, 20.0)  # 20 errors: 0.95 x 21 > 19, so min and max
    assert interval(np.arange(1.0, 101.0)) == (5.0, 96.0)  # 100 errors: the 96th and the 5th
    daily = shifted(days=245)
    result = forecast(daily, "daily", steps=7)
    width = np.array(result.upper) - np.array(result.lower)
    assert (width > 0).all() and result.scores[result.model].folds >= 5
    # about 45 sessions a day: an interval of whole sessions; kWh (not whole) keeps its fractions
    assert all(float(bound).is_integer() for bound in result.lower + result.upper)
    energy = forecast(daily * 7.31, "daily", steps=7)
    assert not all(float(bound).is_integer() for bound in energy.lower + energy.upper)


@pytest.mark.parametrize("values", [np.zeros(70), np.r_[np.zeros(60), np.arange(1.0, 11.0)], np.full(70, 5.0)])
def test_dead_new_and_constant_series_get_no_made_up_scores_and_no_warnings(values: np.ndarray) -> None:
    series = pd.Series(values, index=pd.date_range("2026-01-05", periods=len(values), freq="D", tz="UTC"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a SingularMatrixWarning would fail here
        result = forecast(series, "daily", steps=7, name="dead")
    text = json.dumps(as_json(result), allow_nan=False)  # no NaN, no Infinity
    baseline = json.loads(text)["scores"]["seasonalNaive"]
    if np.ptp(values) == 0:  # never moved: no MASE 0 ("perfect") or Infinity, but undefined
        assert baseline["mase"] is None
    if not values.any():
        assert baseline["smape"] is None and "no demand in any back-test period: scores undefined" in result.notes
    assert any(" left out: SingularMatrixWarning" in note for note in result.notes)  # said, not printed


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
        baseline = mase(test[area].to_numpy(), naive(train[area], 7, 56), train[area].to_numpy(), 7)
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


def test_demand_series_counts_local_days_and_kwh_and_leaves_test_sites_out_of_the_network() -> None:
    zone = "Europe/London"
    sessions = pd.DataFrame({
        # 23:30 UTC on 30 June is 00:30 BST on 1 July; 23:30 UTC on 30 December is still 30 December
        "start": pd.to_datetime(["2026-06-30T22:30Z", "2026-06-30T23:30Z", "2026-07-01T10:00Z",
                                 "2026-07-01T11:00Z"]).tz_convert(zone),
        "station": ["A", "A", "B", "T"], "kwh": [5.0, 7.0, 11.0, 100.0], "test": [False, False, False, True]})
    daily = demand_series(sessions, "daily", by="network", measure="kwh")
    assert list(daily.index) == list(pd.DatetimeIndex(["2026-06-30", "2026-07-01"]).tz_localize(zone))
    assert list(daily["network"]) == [5.0, 18.0]
    per_station = demand_series(sessions, "daily", by="station")
    assert per_station.loc[pd.Timestamp("2026-07-01", tz=zone)].to_dict() == {"A": 1.0, "B": 1.0, "T": 1.0}
    # 29 March 2026 is a 23-hour local day in London: 23 hourly periods
    spring = pd.DataFrame({"start": pd.to_datetime(["2026-03-29T00:00Z", "2026-03-29T22:59Z"]).tz_convert(zone),
                           "station": ["A", "A"]})
    hours = demand_series(spring, "hourly")
    assert len(hours) == 23 and (hours.index[-1] - hours.index[0]) == pd.Timedelta(hours=22)
    assert {moment.date().isoformat() for moment in hours.index} == {"2026-03-29"}


def test_metrics() -> None:
    actual, predicted = np.array([2.0, 0.0, 4.0]), np.array([1.0, 0.0, 4.0])
    assert smape(actual, predicted) == pytest.approx(100 * (2 / 3) / 2)  # the 0/0 period is not counted
    assert np.isnan(smape(np.zeros(3), np.zeros(3)))
    train = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 2.0])
    assert mase(actual, predicted, train, 3) == pytest.approx((1 / 3) / (1 / 4))
    assert np.isnan(mase(actual, predicted, np.ones(7), 3))  # a series that never moved: undefined, not inf


def test_holidays_follow_the_council_region() -> None:
    # 2025: Easter Monday 21 April is a holiday in England, not in Scotland; Scotland's summer bank
    # holiday is the first Monday of August (4th), England's the last (25th)
    days = pd.DatetimeIndex(["2025-04-21", "2025-08-04", "2025-08-25"]).tz_localize("Europe/London")
    england = features(days, "daily", calendar=Calendar("GB", "ENG"))["holiday"].tolist()
    scotland = features(days, "daily", calendar=Calendar("GB", "SCT"))["holiday"].tolist()
    assert england == [1.0, 0.0, 1.0] and scotland == [0.0, 1.0, 0.0]


def test_a_var_forecast_is_written_only_where_it_back_tested_better() -> None:
    day = [pd.Timestamp("2026-03-02", tz="UTC")]

    def made(model: str, score: float) -> Forecast:
        return Forecast("cpoC", "daily", model, day, [1.0], [0.0], [2.0],
                        {model: Scores(score, 10.0, 0.9, 3), "seasonalNaive": Scores(2.0, 12.0, 0.9, 3)})

    var, theta = made("var", 4.6), made("theta", 1.7)  # the demo's flaky operator: VAR far worse
    chosen = better_of(var, theta)
    assert chosen.model == "theta" and set(chosen.scores) == {"theta", "seasonalNaive", "var"}
    assert better_of(made("var", 0.8), theta).model == "var"
    assert better_of(made("var", float("nan")), theta).model == "theta"  # an undefined score never wins
