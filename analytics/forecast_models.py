"""The candidate models: each turns a history into point forecasts (intervals are calibrated later,
from back-test errors, the same way for every model).

Why several: demand grows, drops (a lockdown, a broken charger) and recovers. A model fitted to the
whole history pulls the forecast back to the long-run mean (AutoReg's week-8 forecast was 72-83 %
of the recent level on real data), so the candidates include models that follow the level:
  * ``seasonalNaive``: the value one season ago (the baseline every score is scaled by);
  * ``autoregression``: lags and calendar drivers (weekday or Fourier terms of the daily and weekly
    cycles, public holidays, an optional user series) fitted on the whole history;
  * ``recentAutoregression`` (daily): the same on the last 16 weeks, so its mean is today's level;
  * ``dampedETS`` (daily): exponential smoothing with a damped trend and a weekly season;
  * ``theta`` (daily): the theta method (smoothing with drift) on the deseasonalised series;
  * ``mstlAutoregression`` (hourly): MSTL removes the daily and weekly cycles of the last 4 weeks,
    an autoregression forecasts what remains, the last week's cycles are added back.
A model that cannot be fitted cleanly (singular matrix, no convergence, non-finite output) raises
``ModelFailed`` with the reason, never a warning traceback: the selection leaves it out and says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from statsmodels.tools import sm_exceptions
from statsmodels.tsa.ar_model import AutoReg
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.seasonal import MSTL

Resolution = Literal["hourly", "daily"]
SEASON: dict[Resolution, int] = {"hourly": 168, "daily": 7}
LAGS: dict[Resolution, list[int]] = {"hourly": [1, 2, 24, 168], "daily": [1, 7]}
RECENT_DAYS = 16 * 7  # the recent autoregression's window
SMOOTHING_DAYS = 365  # damped ETS and theta: a year is enough to learn the week, and keeps fits fast
MSTL_HOURS = 4 * 168
_FAILURES = (sm_exceptions.ConvergenceWarning, sm_exceptions.SingularMatrixWarning,
             sm_exceptions.HessianInversionWarning, sm_exceptions.EstimationWarning,
             sm_exceptions.CollinearityWarning, RuntimeWarning)


class ModelFailed(Exception):
    """A candidate that could not be fitted cleanly on this history; the message says why."""


@dataclass(frozen=True)
class Inputs:
    """What every model sees: the history, its calendar features and those of the periods ahead."""

    y: pd.Series
    x: pd.DataFrame
    x_future: pd.DataFrame
    resolution: Resolution

    @property
    def steps(self) -> int:
        return len(self.x_future)


def seasonal_naive(i: Inputs) -> np.ndarray:
    season, history = SEASON[i.resolution], i.y.to_numpy()
    return np.array([history[len(history) - season + (step % season)] for step in range(i.steps)])


def _varying(x: pd.DataFrame, x_future: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Drivers that vary in the window (a holiday flag with no holiday in it would be singular)."""
    columns = [column for column in x.columns if x[column].std() > 0]
    if not columns:
        return None, None
    return x[columns].to_numpy(), x_future[columns].to_numpy()


def _autoregression(y: np.ndarray, x: pd.DataFrame, x_future: pd.DataFrame, lags: list[int]) -> np.ndarray:
    exog, exog_future = _varying(x, x_future)
    fitted = AutoReg(y, lags=lags, exog=exog, trend="c").fit()
    return np.asarray(fitted.predict(start=len(y), end=len(y) + len(x_future) - 1, exog_oos=exog_future))


def autoregression(i: Inputs) -> np.ndarray:
    return _autoregression(i.y.to_numpy(), i.x, i.x_future, LAGS[i.resolution])


def recent_autoregression(i: Inputs) -> np.ndarray:
    window = min(len(i.y), RECENT_DAYS)
    return _autoregression(i.y.to_numpy()[-window:], i.x.iloc[-window:], i.x_future, [1, 2, 7])


def damped_ets(i: Inputs) -> np.ndarray:
    y = i.y.to_numpy()[-SMOOTHING_DAYS:]
    fitted = ExponentialSmoothing(y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=7,
                                  initialization_method="heuristic").fit(use_brute=False)
    return np.asarray(fitted.forecast(i.steps))


def theta(i: Inputs) -> np.ndarray:
    y = i.y.to_numpy()[-SMOOTHING_DAYS:]
    if np.ptp(y) == 0:
        raise ModelFailed("a constant series")
    fitted = ThetaModel(y, period=7, deseasonalize=True, method="additive").fit()
    return np.asarray(fitted.forecast(i.steps))


def mstl_autoregression(i: Inputs) -> np.ndarray:
    y = i.y.to_numpy()[-MSTL_HOURS:]
    if len(y) < 2 * 168:
        raise ModelFailed("under two weeks of hourly history")
    # one pass, no robustness iterations: 4x cheaper, and the AR on the remainder absorbs what it misses
    decomposition = MSTL(y, periods=(24, 168), iterate=1, stl_kwargs={"inner_iter": 1, "outer_iter": 0}).fit()
    seasonal: np.ndarray = np.asarray(decomposition.seasonal).sum(axis=1)
    rest = y - seasonal
    fitted = AutoReg(rest, lags=[1, 2, 24], trend="c").fit()
    ahead = np.asarray(fitted.predict(start=len(y), end=len(y) + i.steps - 1))
    cycle = seasonal[-168:]
    return np.asarray(ahead + np.array([cycle[step % 168] for step in range(i.steps)]), dtype=float)


Model = Callable[[Inputs], np.ndarray]
CANDIDATES: dict[Resolution, dict[str, Model]] = {
    "hourly": {"seasonalNaive": seasonal_naive, "autoregression": autoregression,
               "mstlAutoregression": mstl_autoregression},
    "daily": {"seasonalNaive": seasonal_naive, "autoregression": autoregression,
              "recentAutoregression": recent_autoregression, "dampedETS": damped_ets, "theta": theta},
}
BASELINE = "seasonalNaive"


def predict(name: str, i: Inputs) -> np.ndarray:
    """Forecasts of model ``name`` (never negative), or ``ModelFailed`` with the reason."""
    model = CANDIDATES[i.resolution][name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mean = model(i)
        except (ValueError, np.linalg.LinAlgError, IndexError, ZeroDivisionError) as error:
            raise ModelFailed(f"{type(error).__name__}: {error}") from None
    failures = [w for w in caught if issubclass(w.category, _FAILURES)]
    if failures:
        first = failures[0]
        raise ModelFailed(f"{first.category.__name__}: {str(first.message).splitlines()[0]}")
    if len(mean) != i.steps or not all(math.isfinite(v) for v in mean):
        raise ModelFailed("non-finite forecasts")
    return np.maximum(mean, 0.0)  # demand is never negative
