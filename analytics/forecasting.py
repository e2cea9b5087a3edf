"""Demand forecasting (pure modelling on pandas series; no I/O): choose, fit, calibrate.

The model of each series is chosen by a rolling-origin back-test over the horizon that was asked
(a 7-day question is judged on 7-day forecasts), from recent origins (demand changes: what won two
years ago says little), among the candidates of ``forecast_models`` and their combination (the
mean of the three best, which often beats each of them). The 90 % interval is calibrated from the
same back-test's errors (split conformal): model-based intervals assumed the model was right and
covered 80-87 % of real daily outcomes. Every forecast keeps its scores next to the seasonal-naive
baseline's: MASE (scaled by the in-sample seasonal-naive error, 1.0 = as good as the baseline;
undefined, not 0, for a series that never moved), sMAPE and the interval's back-test coverage.

A VAR across areas (statsmodels ``VAR``, daily, weekday profile removed) lets neighbouring areas
inform each other's forecasts.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import holidays
import numpy as np
import pandas as pd
from statsmodels.tsa.api import VAR

from .forecast_models import BASELINE, CANDIDATES, LAGS, SEASON, Inputs, ModelFailed, Resolution, predict

__all__ = ["HORIZON", "LAGS", "LEVEL", "SEASON", "Calendar", "Forecast", "Resolution", "Scores", "backtest",
           "demand_series", "features", "forecast", "mase", "min_history", "smape", "var_forecast"]

HORIZON: dict[Resolution, int] = {"hourly": 48, "daily": 56}  # default periods ahead
LEVEL = 0.9  # prediction interval coverage
ORIGINS: dict[Resolution, int] = {"hourly": 3, "daily": 10}  # back-test origins, the most recent ones
SPACING: dict[Resolution, int] = {"hourly": 48, "daily": 7}  # periods between two origins
MIN_SPAN: dict[Resolution, int] = {"hourly": 48, "daily": 7}  # periods forecast from each origin, at least
MAX_HISTORY: dict[Resolution, int] = {"hourly": 365 * 24, "daily": 5 * 365}  # older data: slower, not better
WHOLE_FROM = 5.0  # mean sessions per period from which interval bounds are rounded to whole sessions
COMBINED = "combination"
COMBINE_AT_MOST = 3


@dataclass(frozen=True)
class Calendar:
    """Whose public holidays: a country and, where holidays differ within it, a subdivision."""

    country: str = "GB"
    subdivision: str | None = "ENG"


@dataclass(frozen=True)
class Scores:
    mase: float  # NaN: undefined (the series never moved in training)
    smape: float  # NaN: undefined (actual and forecast all zero)
    coverage: float  # share of back-test outcomes inside the 90 % interval; NaN with one fold
    folds: int

    def as_dict(self) -> dict[str, float | int | None]:
        """For JSON: an undefined score is null, never NaN or Infinity."""
        return {name: (None if isinstance(value, float) and not math.isfinite(value) else value)
                for name, value in vars(self).items()}


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
    notes: list[str] = field(default_factory=list)  # models left out or fallen back from, and why

    @property
    def chosen(self) -> Scores | None:
        return self.scores.get(self.model)

    @property
    def baseline(self) -> Scores | None:
        return self.scores.get(BASELINE)


# -- features ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def holiday_dates(years: range, calendar: Calendar = Calendar()) -> frozenset[date]:
    """Cached: building a calendar costs more than a small model fit, and back-tests ask for it often."""
    return frozenset(holidays.country_holidays(calendar.country, subdiv=calendar.subdivision, years=list(years)))


def features(index: pd.DatetimeIndex, resolution: Resolution, exog: pd.Series | None = None,
             calendar: Calendar = Calendar()) -> pd.DataFrame:
    """Exogenous drivers for each period of ``index`` (known in advance, so usable for the future)."""
    frame = pd.DataFrame(index=index)
    days = holiday_dates(range(index.min().year, index.max().year + 1), calendar)
    frame["holiday"] = pd.Index(index.date).isin(days).astype(float)
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


def _future_index(y: pd.Series, resolution: Resolution, steps: int) -> pd.DatetimeIndex:
    if resolution == "hourly":  # hours of the wall clock may repeat or vanish; instants do not
        last = y.index[-1].tz_convert("UTC") if y.index.tz is not None else y.index[-1]
        future = pd.date_range(last + pd.Timedelta(hours=1), periods=steps, freq="h")
        return future.tz_convert(y.index.tz) if y.index.tz is not None else future
    return pd.date_range(y.index[-1] + pd.DateOffset(days=1), periods=steps, freq="D")


# -- scoring ---------------------------------------------------------------------------------
def naive_scale(train: np.ndarray, season: int) -> float:
    """The in-sample seasonal-naive error: what a MASE of 1.0 means for this series."""
    return float(np.mean(np.abs(train[season:] - train[:-season]))) if len(train) > season else 0.0


def mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray, season: int) -> float:
    """Mean absolute error scaled by the in-sample seasonal-naive error; NaN when that is zero (a series
    that never moved: neither perfect nor infinitely bad, just not measurable this way)."""
    scale = naive_scale(train, season)
    return float(np.mean(np.abs(actual - predicted)) / scale) if scale > 0 else math.nan


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE in %, over the periods where actual or forecast is non-zero; NaN if there are none."""
    denominator = np.abs(actual) + np.abs(predicted)
    counted = denominator > 0
    if not counted.any():
        return math.nan
    return float(100 * np.mean(2 * np.abs(actual - predicted)[counted] / denominator[counted]))


def min_train(resolution: Resolution) -> int:
    """Periods an autoregression needs to be fitted at all: two seasons, its longest lag and a margin."""
    return 2 * SEASON[resolution] + max(LAGS[resolution]) + 10


def min_history(resolution: Resolution) -> int:
    """Periods of history before a forecast is worth making: enough to fit *and* to back-test one
    season, so that every forecast written comes with its scores next to the baseline's."""
    return min_train(resolution) + SEASON[resolution]


VAR_MIN_DAYS = 8 * 7 + 3 * 7  # the VAR's own training window plus three folds of a week


def interval(errors: np.ndarray) -> tuple[float, float]:
    """Offsets (low, high) to add to a forecast for a 90 % interval: split-conformal quantiles of the
    back-test errors (actual - forecast), with the finite-sample correction."""
    if len(errors) == 0:
        return 0.0, 0.0
    level = min(1.0, (1 + LEVEL) / 2 * (len(errors) + 1) / len(errors))
    return (float(np.quantile(errors, 1 - level, method="lower")),
            float(np.quantile(errors, level, method="higher")))


@dataclass
class Backtest:
    """Errors (actual - forecast) per model and origin over ``span`` periods, scored on the first ``steps``."""

    steps: int
    span: int
    actuals: list[np.ndarray] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)
    errors: dict[str, list[np.ndarray]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    whole: bool = False  # outcomes are whole numbers (sessions): intervals end on whole numbers

    def mae(self, model: str) -> float:
        return float(np.mean(np.abs(np.concatenate([e[: self.steps] for e in self.errors[model]]))))

    def spread(self, mean: np.ndarray) -> np.ndarray:
        """How far outcomes are expected to stray from a forecast, up to a common factor: demand is
        counts (sessions, or kWh summed over them), whose spread grows like the square root of the
        level, so errors from a quiet spell (a lockdown) do not set the interval of a busy one. The
        offset (a quarter of the mean outcome) keeps quiet hours from a zero-width interval."""
        offset = 0.25 * self.level()
        return np.asarray(np.sqrt(np.maximum(mean, 0.0) + max(offset, 1e-9)), dtype=float)

    def level(self) -> float:
        """The mean outcome over the back-test periods."""
        return float(np.mean(np.abs(np.concatenate(self.actuals)))) if self.actuals else 0.0

    def band(self, model: str, mean: np.ndarray, folds: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The 90 % interval around ``mean``: split-conformal quantiles of the back-test errors of
        ``model`` (those of ``folds``, default all), each divided by its spread, scaled back by
        the spread of ``mean``."""
        errors = self.errors.get(model, [])
        chosen = range(len(errors)) if folds is None else folds
        if not errors or not chosen:
            return _bounds(mean, np.zeros_like(mean), np.zeros_like(mean))
        normalised = np.concatenate([errors[f] / self.spread(self.actuals[f] - errors[f]) for f in chosen])
        low, high = interval(normalised)
        spread = self.spread(mean)
        lower, upper = _bounds(mean, low * spread, high * spread)
        if self.whole and self.level() >= WHOLE_FROM:
            # whole sessions: "24.4 to 46.6" is 24 to 47 (cut at 24.4, 24 would be a miss: 86 % of real
            # daily outcomes inside instead of 90 %). Not for a few sessions per period, where a rounded
            # bound moves by a large share of the interval (hourly: 97 % inside instead of 91 %).
            return np.minimum(np.round(lower), np.floor(mean)), np.maximum(np.round(upper), np.ceil(mean))
        return lower, upper

    def scores(self, model: str) -> Scores:
        errors = self.errors[model]
        scaled = [float(np.mean(np.abs(e[: self.steps]))) / s for e, s in zip(errors, self.scales, strict=True)
                  if s > 0]
        actual = np.concatenate([a[: self.steps] for a in self.actuals])
        error = np.concatenate([e[: self.steps] for e in errors])
        if not actual.any():  # a dead series: forecasting its zeros is no skill, so no MASE 0 ("perfect")
            scaled = []
        inside = []
        for fold, fold_errors in enumerate(errors):  # each origin judged by an interval from the others
            others = [other for other in range(len(errors)) if other != fold]
            if others:
                outcome = self.actuals[fold][: self.steps]
                lower, upper = self.band(model, outcome - fold_errors[: self.steps], others)
                inside.append((outcome >= lower) & (outcome <= upper))
        return Scores(round(float(np.mean(scaled)), 4) if scaled else math.nan,
                      round(smape(actual, actual - error), 3),
                      round(float(np.mean(np.concatenate(inside))), 3) if inside else math.nan, len(errors))


def _bounds(mean: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The interval around ``mean``: never below zero, and always holding the forecast itself."""
    return np.maximum(np.minimum(mean + low, mean), 0.0), np.maximum(mean + high, mean)


def _whole(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


def backtest(y: pd.Series, x: pd.DataFrame, resolution: Resolution, steps: int,
             models: list[str] | None = None) -> Backtest:
    """Rolling-origin evaluation from the most recent origins, each forecast from what came before it.

    Each origin forecasts at least ``MIN_SPAN`` periods (so that a 1-day question still yields
    enough errors to calibrate an interval), scored on the first ``steps``. With less history the
    windows get shorter, never under a season's worth of training beyond ``min_train``.
    """
    names = models if models is not None else list(CANDIDATES[resolution])
    fit_from = min_train(resolution)
    span = min(max(steps, MIN_SPAN[resolution]), len(y) - fit_from)
    result = Backtest(min(steps, max(span, 0)), max(span, 0), errors={name: [] for name in names},
                      whole=_whole(y.to_numpy()))
    if span < 1:
        return result
    origins = sorted(origin for k in range(ORIGINS[resolution])
                     if (origin := len(y) - span - k * SPACING[resolution]) >= fit_from)
    for origin in origins:
        train = y.iloc[:origin]
        actual = y.iloc[origin:origin + span].to_numpy()
        inputs = Inputs(train, x.iloc[:origin], x.iloc[origin:origin + span], resolution)
        result.actuals.append(actual)
        result.scales.append(naive_scale(train.to_numpy(), SEASON[resolution]))
        for name in names:
            if name in result.failed:
                continue
            try:
                result.errors[name].append(actual - predict(name, inputs))
            except ModelFailed as failure:
                result.failed[name] = f"{failure} (back-test origin {y.index[origin]:%Y-%m-%d %H:%M})"
    for name in result.failed:
        del result.errors[name]
    if not origins:
        result.errors = {}
    return result


def _combine(result: Backtest) -> list[str]:
    """The members of the combination: the best single models (never the baseline), if two or more."""
    singles = sorted((name for name in result.errors if name != BASELINE), key=result.mae)[:COMBINE_AT_MOST]
    if len(singles) < 2:
        return []
    result.errors[COMBINED] = [np.mean(fold, axis=0) for fold in zip(*(result.errors[n] for n in singles),
                                                                     strict=True)]
    return singles


def forecast(y: pd.Series, resolution: Resolution, *, steps: int | None = None, name: str = "",
             exog: pd.Series | None = None, calendar: Calendar = Calendar()) -> Forecast:
    """Back-test the candidates over ``steps`` periods ahead, pick the best, forecast with it and
    calibrate its 90 % interval from its back-test errors."""
    y = y.astype(float).iloc[-MAX_HISTORY[resolution]:]
    steps = steps or HORIZON[resolution]
    future = _future_index(y, resolution, steps)
    x_all = features(y.index.append(future), resolution, exog, calendar)
    x, x_future = x_all.iloc[: len(y)], x_all.iloc[len(y):]
    result = backtest(y, x, resolution, steps)
    members = _combine(result)
    notes = [f"{model} left out: {reason}" for model, reason in result.failed.items()]
    order = list(result.errors)  # the baseline first: a tie goes to the simpler model
    ranked = sorted(order, key=lambda model: (result.mae(model), order.index(model))) if result.actuals else []
    inputs = Inputs(y, x, x_future, resolution)
    mean, model = None, BASELINE
    for model in [*ranked, BASELINE]:
        try:
            mean = _final(model, members, inputs)
            break
        except ModelFailed as failure:
            notes.append(f"{model} failed on the whole history ({failure}); the next best used")
    assert mean is not None  # the baseline never fails
    scores = {m: result.scores(m) for m in result.errors}
    lower, upper = result.band(model, mean)
    if model == COMBINED:
        notes.append("combination of " + ", ".join(members))
    if result.actuals and not np.concatenate(result.actuals).any():
        notes.append("no demand in any back-test period: scores undefined")
    return Forecast(name, resolution, model, list(future), _rounded(mean), _rounded(lower), _rounded(upper),
                    scores, notes)


def _final(model: str, members: list[str], inputs: Inputs) -> np.ndarray:
    if model != COMBINED:
        return predict(model, inputs)
    return np.asarray(np.mean([predict(member, inputs) for member in members], axis=0), dtype=float)


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in values]


MAX_VAR_SERIES = 8  # a VAR's parameters grow with the square of its series: areas, not every station


def var_forecast(frame: pd.DataFrame, *, steps: int | None = None, folds: int = 3, maxlags: int = 14,
                 calendar: Calendar = Calendar()) -> dict[str, Forecast]:
    """Daily VAR across areas (columns): weekday profile removed, lags chosen by AIC; intervals
    calibrated from the back-test errors, as for single series."""
    if frame.shape[1] > MAX_VAR_SERIES:
        raise ValueError(f"{frame.shape[1]} series are too many for one VAR (at most {MAX_VAR_SERIES}); "
                         f"group stations into areas")
    horizon = steps or HORIZON["daily"]
    frame = frame.astype(float)
    var_train = 8 * 7
    span = min(max(horizon, MIN_SPAN["daily"]), max(7, (len(frame) - var_train) // folds))
    scored = min(horizon, span)
    backtests = {str(column): Backtest(scored, span, errors={"var": []}, whole=_whole(frame[column].to_numpy()))
                 for column in frame.columns}
    notes: list[str] = []
    for fold in range(folds, 0, -1):
        origin = len(frame) - fold * span
        if origin < var_train:
            continue
        try:
            predicted = _var_predict(frame.iloc[:origin], span, maxlags)
        except ModelFailed as failure:
            notes.append(f"var: back-test origin {frame.index[origin]:%Y-%m-%d} failed ({failure})")
            continue
        for column_index, column in enumerate(frame.columns):
            result = backtests[str(column)]
            actual = frame[column].iloc[origin:origin + span].to_numpy()
            result.actuals.append(actual)
            result.scales.append(naive_scale(frame[column].iloc[:origin].to_numpy(), 7))
            result.errors["var"].append(actual - predicted[:, column_index])
    mean = _var_predict(frame, horizon, maxlags)
    days = list(pd.date_range(frame.index[-1] + pd.DateOffset(days=1), periods=horizon, freq="D"))
    out = {}
    for column_index, column in enumerate(frame.columns):
        result = backtests[str(column)]
        scores: dict[str, Scores] = {}
        if result.actuals:
            scores["var"] = result.scores("var")
            baseline = backtest(frame[column], features(frame.index, "daily", calendar=calendar), "daily",
                                horizon, models=[BASELINE])
            if baseline.actuals:
                scores[BASELINE] = baseline.scores(BASELINE)
        lower, upper = result.band("var", mean[:, column_index])
        out[str(column)] = Forecast(str(column), "daily", "var", days, _rounded(mean[:, column_index]),
                                    _rounded(lower), _rounded(upper), scores, list(notes))
    return out


def better_of(first: Forecast, second: Forecast) -> Forecast:
    """The forecast whose chosen model back-tested better (lower MASE; an undefined score loses),
    carrying the other's score too, so that ``backtest`` shows what it was weighed against.

    Why: a VAR across operators is a rival, not a default. On the demo's flaky operator it scored
    MASE 4.6 where a single-series model did better, and was written anyway.
    """
    def mase(candidate: Forecast) -> float:
        chosen = candidate.chosen
        return chosen.mase if chosen is not None and math.isfinite(chosen.mase) else math.inf

    winner, loser = (first, second) if mase(first) <= mase(second) else (second, first)
    rival = {loser.model: loser.chosen} if loser.chosen is not None and loser.model not in winner.scores else {}
    return replace(winner, scores={**winner.scores, **rival})


def _var_predict(history: pd.DataFrame, steps: int, maxlags: int) -> np.ndarray:
    """VAR forecasts (steps x areas) of the deviations from each area's weekday profile, profile added back."""
    profile = history.groupby(history.index.day_of_week).mean()
    residual = history - profile.reindex(history.index.day_of_week).to_numpy()
    feasible = max(1, (len(history) - 1) // (history.shape[1] + 1) - 1)  # the largest model must fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a near-singular lag order is skipped by the AIC, not printed
        try:
            fitted = VAR(residual.to_numpy()).fit(maxlags=min(maxlags, len(history) // 10, feasible), ic="aic")
            lags = max(fitted.k_ar, 1)
            mean = fitted.forecast(residual.to_numpy()[-lags:], steps)
        except (ValueError, np.linalg.LinAlgError) as error:
            raise ModelFailed(f"{type(error).__name__}: {error}") from None
    days = pd.date_range(history.index[-1] + pd.DateOffset(days=1), periods=steps, freq="D")
    return np.asarray(np.maximum(np.asarray(mean) + profile.reindex(days.day_of_week).to_numpy(), 0.0), dtype=float)


def demand_series(sessions: pd.DataFrame, resolution: Resolution, by: str = "station",
                  until: pd.Timestamp | None = None, measure: str = "sessions") -> pd.DataFrame:
    """Sessions started (or kWh of the sessions started) per hour or local day, one column per
    station, site or area (``by="network"``: one column, test sites left out); gaps filled with 0.

    Periods are those of the sessions' time zone: a local day, DST-correct (23 or 25 hours at
    the clock changes). ``until``: the last complete period to include (quiet periods at the end
    are zeros, not gaps).
    """
    frame = sessions
    if by == "network":
        frame = sessions[~sessions["test"]] if "test" in sessions else sessions
        frame = frame.assign(network="network")
    start = frame["start"]
    zone = start.dt.tz
    if resolution == "hourly":
        period = start.dt.tz_convert("UTC").dt.floor("h") if zone is not None else start.dt.floor("h")
        last = until.tz_convert("UTC").floor("h") if until is not None and zone is not None else until
    else:
        period = start.dt.tz_localize(None).dt.floor("D") if zone is not None else start.dt.floor("D")
        last = (until.tz_convert(zone).tz_localize(None) if until is not None and zone is not None
                else until)
        last = last.floor("D") if last is not None else None
    grouped = frame.assign(period=period).groupby(["period", by])
    values = grouped.size() if measure == "sessions" else grouped["kwh"].sum()
    table = values.unstack(by, fill_value=0).sort_index()
    end = max(table.index.max(), last) if last is not None else table.index.max()
    full = pd.date_range(table.index.min(), end, freq="h" if resolution == "hourly" else "D")
    table = table.reindex(full, fill_value=0).astype(float)
    if zone is not None:
        table.index = (table.index.tz_convert(zone) if resolution == "hourly"
                       else table.index.tz_localize(zone, ambiguous=True, nonexistent="shift_forward"))
    table.columns = [str(column) for column in table.columns]
    return table


def as_json(item: Forecast) -> dict[str, Any]:
    """A forecast as JSON-ready data (no NaN or Infinity: undefined scores are null)."""
    return {"series": item.series, "resolution": item.resolution, "model": item.model,
            "scores": {name: score.as_dict() for name, score in item.scores.items()}, "notes": item.notes,
            "forecast": [{"period": moment.isoformat(), "mean": mean, "lower": low, "upper": high}
                         for moment, mean, low, high in zip(item.index, item.mean, item.lower, item.upper,
                                                            strict=True)]}
