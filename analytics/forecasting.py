"""Demand forecasting (pure modelling on pandas series; no I/O).

Models, per series:
  * seasonal naive (the baseline): the value one season ago (a week for hourly and daily data);
  * autoregression with seasonality (statsmodels ``AutoReg``): lags (1, 2, a day, a week for hourly;
    1, 7 for daily) plus exogenous drivers: Fourier terms of the daily and weekly cycles (hourly),
    day-of-week dummies (daily), a public-holiday flag, and an optional user series (e.g. new EV
    registrations per month) carried forward to each period;
  * VAR across areas (statsmodels ``VAR``) on daily series with the weekday profile removed, so
    that neighbouring areas inform each other.
The model of each series is chosen by a rolling-origin backtest over the forecast horizon; its
MASE (scaled by the in-sample seasonal-naive error, so 1.0 = as good as the baseline) and sMAPE
are kept with every forecast, next to the baseline's.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import holidays
import numpy as np
import pandas as pd
from statsmodels.tsa.api import VAR
from statsmodels.tsa.ar_model import AutoReg

Resolution = Literal["hourly", "daily"]
SEASON: dict[Resolution, int] = {"hourly": 168, "daily": 7}
HORIZON: dict[Resolution, int] = {"hourly": 48, "daily": 56}
LAGS: dict[Resolution, list[int]] = {"hourly": [1, 2, 24, 168], "daily": [1, 7]}
LEVEL = 0.9  # prediction interval coverage


@dataclass(frozen=True)
class Scores:
    mase: float
    smape: float
    folds: int


@dataclass
class Forecast:
    series: str
    resolution: Resolution
    model: str
    index: list[pd.Timestamp]
    mean: list[float]
    lower: list[float]
    upper: list[float]
    scores: dict[str, Scores] = field(default_factory=dict)

    @property
    def chosen(self) -> Scores | None:
        return self.scores.get(self.model)

    @property
    def baseline(self) -> Scores | None:
        return self.scores.get("seasonalNaive")


# -- features ------------------------------------------------------------------------------
def holiday_dates(years: range, country: str = "GB", subdivision: str | None = "ENG") -> set[date]:
    calendar = holidays.country_holidays(country, subdiv=subdivision, years=list(years))
    return set(calendar)


def features(index: pd.DatetimeIndex, resolution: Resolution, exog: pd.Series | None = None) -> pd.DataFrame:
    """Exogenous drivers for each period of ``index`` (known in advance, so usable for the future)."""
    frame = pd.DataFrame(index=index)
    days = pd.DatetimeIndex(sorted(holiday_dates(range(index.min().year, index.max().year + 1))), tz=index.tz)
    frame["holiday"] = index.normalize().isin(days).astype(float)
    if resolution == "hourly":
        hour_of_day = index.hour.to_numpy() + index.minute.to_numpy() / 60
        hour_of_week = index.day_of_week.to_numpy() * 24 + hour_of_day
        for k in (1, 2, 3):
            frame[f"day_sin{k}"] = np.sin(2 * math.pi * k * hour_of_day / 24)
            frame[f"day_cos{k}"] = np.cos(2 * math.pi * k * hour_of_day / 24)
        for k in (1, 2):
            frame[f"week_sin{k}"] = np.sin(2 * math.pi * k * hour_of_week / 168)
            frame[f"week_cos{k}"] = np.cos(2 * math.pi * k * hour_of_week / 168)
    else:
        for day in range(1, 7):
            frame[f"dow{day}"] = (index.day_of_week == day).astype(float)
    if exog is not None:
        aligned = exog.sort_index().reindex(index.union(exog.index)).ffill().bfill().reindex(index)
        scale = float(exog.abs().max()) or 1.0
        frame["driver"] = aligned.to_numpy() / scale  # scaled so that AR coefficients stay comparable
    return frame


# -- models --------------------------------------------------------------------------------
def seasonal_naive(y: pd.Series, resolution: Resolution, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    season = SEASON[resolution]
    history = y.to_numpy()
    mean = np.array([history[len(history) - season + (step % season)] for step in range(horizon)])
    errors = (y - y.shift(season)).dropna().to_numpy()
    low, high = np.quantile(errors, [(1 - LEVEL) / 2, (1 + LEVEL) / 2]) if len(errors) else (0.0, 0.0)
    return mean, np.maximum(mean + low, 0), mean + high


def autoregression(y: pd.Series, x: pd.DataFrame, x_future: pd.DataFrame,
                   resolution: Resolution) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    varying = [column for column in x.columns if x[column].std() > 0]  # e.g. no holiday in the window
    x, x_future = x[varying], x_future[varying]
    model = AutoReg(y.to_numpy(), lags=LAGS[resolution], exog=x.to_numpy(), trend="c").fit()
    start = len(y)
    frame = model.get_prediction(start=start, end=start + len(x_future) - 1,
                                 exog_oos=x_future.to_numpy()).summary_frame(alpha=1 - LEVEL)
    mean = np.maximum(frame["mean"].to_numpy(), 0)  # demand is never negative
    return mean, np.maximum(frame["mean_ci_lower"].to_numpy(), 0), frame["mean_ci_upper"].to_numpy()


def _future_index(y: pd.Series, resolution: Resolution, horizon: int) -> pd.DatetimeIndex:
    step = pd.Timedelta(hours=1) if resolution == "hourly" else pd.Timedelta(days=1)
    return pd.date_range(y.index[-1] + step, periods=horizon, freq=step)


# -- scoring ---------------------------------------------------------------------------------
def mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray, season: int) -> float:
    scale = np.mean(np.abs(train[season:] - train[:-season])) if len(train) > season else 0.0
    error = np.mean(np.abs(actual - predicted))
    return float(error / scale) if scale > 0 else (0.0 if error == 0 else math.inf)


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.where(denominator == 0, 0.0, 2 * np.abs(actual - predicted) / np.where(denominator == 0, 1, denominator))
    return float(100 * np.mean(ratio))


def min_train(resolution: Resolution) -> int:
    """Periods an autoregression needs to be fitted at all: two seasons, its longest lag and a margin."""
    return 2 * SEASON[resolution] + max(LAGS[resolution]) + 10


def min_history(resolution: Resolution) -> int:
    """Periods of history before a forecast is worth making: enough to fit *and* to back-test one
    season, so that every forecast written comes with its scores next to the baseline's."""
    return min_train(resolution) + SEASON[resolution]


VAR_MIN_DAYS = 8 * 7 + 3 * 7  # the VAR's own training window plus three folds of a week


def backtest(y: pd.Series, x: pd.DataFrame, resolution: Resolution, folds: int = 3) -> dict[str, Scores]:
    """Rolling-origin evaluation: the last ``folds`` horizons, each forecast from what came before."""
    season = SEASON[resolution]
    fit_from = min_train(resolution)
    # each fold tests one horizon; with less history, shorter test windows (never under a season)
    horizon = min(HORIZON[resolution], max(season, (len(y) - fit_from) // folds))
    results: dict[str, list[tuple[float, float]]] = {"seasonalNaive": [], "autoregression": []}
    for fold in range(folds, 0, -1):
        origin = len(y) - fold * horizon
        if origin < fit_from:
            continue
        train, test = y.iloc[:origin], y.iloc[origin:origin + horizon].to_numpy()
        candidates = {"seasonalNaive": seasonal_naive(train, resolution, len(test))[0]}
        with contextlib.suppress(ValueError, np.linalg.LinAlgError):  # degenerate data: the baseline it is
            candidates["autoregression"] = autoregression(train, x.iloc[:origin], x.iloc[origin:origin + len(test)],
                                                          resolution)[0]
        for name, predicted in candidates.items():
            results[name].append((mase(test, predicted, train.to_numpy(), season), smape(test, predicted)))
    return {name: Scores(round(float(np.mean([m for m, _ in scored])), 4),
                         round(float(np.mean([s for _, s in scored])), 3), len(scored))
            for name, scored in results.items() if scored}


def forecast(y: pd.Series, resolution: Resolution, *, name: str = "", exog: pd.Series | None = None,
             folds: int = 3) -> Forecast:
    """Back-test the candidates, pick the best by MASE, and forecast the horizon with it."""
    y = y.astype(float)
    horizon = HORIZON[resolution]
    future = _future_index(y, resolution, horizon)
    x_all = features(y.index.append(future), resolution, exog)
    x, x_future = x_all.iloc[: len(y)], x_all.iloc[len(y):]
    scores = backtest(y, x, resolution, folds)
    ranked = sorted(scores, key=lambda model: scores[model].mase)
    model = ranked[0] if ranked else "seasonalNaive"
    if model == "autoregression":
        mean, lower, upper = autoregression(y, x, x_future, resolution)
    else:
        mean, lower, upper = seasonal_naive(y, resolution, horizon)
    return Forecast(name, resolution, model, list(future), [round(float(v), 4) for v in mean],
                    [round(float(v), 4) for v in lower], [round(float(v), 4) for v in upper], scores)


MAX_VAR_SERIES = 8  # a VAR's parameters grow with the square of its series: areas, not every station


def var_forecast(frame: pd.DataFrame, *, folds: int = 3, maxlags: int = 14) -> dict[str, Forecast]:
    """Daily VAR across areas (columns): weekday profile removed, lags chosen by AIC."""
    if frame.shape[1] > MAX_VAR_SERIES:
        raise ValueError(f"{frame.shape[1]} series are too many for one VAR (at most {MAX_VAR_SERIES}); "
                         f"group stations into areas")
    horizon = HORIZON["daily"]
    frame = frame.astype(float)

    def fit_predict(history: pd.DataFrame, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        profile = history.groupby(history.index.day_of_week).mean()
        residual = history - profile.reindex(history.index.day_of_week).to_numpy()
        feasible = max(1, (len(history) - 1) // (history.shape[1] + 1) - 1)  # the largest model must fit
        fitted = VAR(residual.to_numpy()).fit(maxlags=min(maxlags, len(history) // 10, feasible), ic="aic")
        lags = max(fitted.k_ar, 1)
        mean, lower, upper = fitted.forecast_interval(residual.to_numpy()[-lags:], steps, alpha=1 - LEVEL)
        days = pd.date_range(history.index[-1] + pd.Timedelta(days=1), periods=steps, freq="D")
        back = profile.reindex(days.day_of_week).to_numpy()
        return np.maximum(mean + back, 0), np.maximum(lower + back, 0), upper + back

    scored: dict[str, list[tuple[float, float]]] = {c: [] for c in frame.columns}
    var_train = 8 * 7
    test_len = min(horizon, max(7, (len(frame) - var_train) // folds))
    for fold in range(folds, 0, -1):
        origin = len(frame) - fold * test_len
        if origin < var_train:
            continue
        predicted = fit_predict(frame.iloc[:origin], test_len)[0]
        for column_index, column in enumerate(frame.columns):
            actual = frame[column].iloc[origin:origin + test_len].to_numpy()
            train = frame[column].iloc[:origin].to_numpy()
            scored[column].append((mase(actual, predicted[: len(actual), column_index], train, 7),
                                   smape(actual, predicted[: len(actual), column_index])))
    mean, lower, upper = fit_predict(frame, horizon)
    days = list(pd.date_range(frame.index[-1] + pd.Timedelta(days=1), periods=horizon, freq="D"))
    out = {}
    for column_index, column in enumerate(frame.columns):
        scores = {}
        if scored[column]:
            scores["var"] = Scores(round(float(np.mean([m for m, _ in scored[column]])), 4),
                                   round(float(np.mean([s for _, s in scored[column]])), 3), len(scored[column]))
            baseline = backtest(frame[column], features(frame.index, "daily"), "daily", folds)
            if "seasonalNaive" in baseline:
                scores["seasonalNaive"] = baseline["seasonalNaive"]
        out[str(column)] = Forecast(str(column), "daily", "var", days,
                                    [round(float(v), 4) for v in mean[:, column_index]],
                                    [round(float(v), 4) for v in lower[:, column_index]],
                                    [round(float(v), 4) for v in upper[:, column_index]], scores)
    return out


def demand_series(sessions: pd.DataFrame, resolution: Resolution, by: str = "station",
                  until: pd.Timestamp | None = None) -> pd.DataFrame:
    """Sessions started per hour or day, one column per station (or area), gaps filled with 0.

    ``until``: the last complete period to include (quiet periods at the end are zeros, not gaps).
    """
    frequency = "h" if resolution == "hourly" else "D"
    counts = sessions.assign(period=sessions["start"].dt.floor(frequency)).groupby(["period", by]).size()
    table = counts.unstack(by, fill_value=0).sort_index()
    last = max(table.index.max(), until.floor(frequency)) if until is not None else table.index.max()
    full = pd.date_range(table.index.min(), last, freq=frequency)
    return table.reindex(full, fill_value=0).astype(float)
