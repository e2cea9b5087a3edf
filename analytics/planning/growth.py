"""An area's charging demand 1-3 years ahead, driven by its plug-in vehicle registrations.

Why this model: public charging demand grows with the vehicles that need it, and registrations are
the one driver councils have per area, quarterly, years back. Daily models (``forecasting``) cannot
reach years ahead from a year of sessions, and an area without chargers has no demand history at
all — yet it is exactly the area a plan must see. So:

  * the registrations are projected with a log-linear trend (statsmodels OLS of log count on time:
    steady percentage growth, as plug-in fleets have grown), with its 90 % prediction interval;
  * demand per registered plug-in vehicle (kWh a month) is the area's own where its chargers have
    at least ``MIN_MONTHS`` months of energy figures, else the council's (all areas' energy over all
    areas' vehicles) — the demand the area's vehicles would bring to a charger near home;
  * the annual demand of year *k* is 12 x that rate x the projected vehicles, its interval combining
    both uncertainties in log space (the rate's as the standard error of its monthly mean).
The result says which rate it used, so the council can see why an area with no charger has a figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import statsmodels.api as sm

MIN_POINTS = 3  # registration dates needed for a trend; fewer: held flat, no interval
MIN_MONTHS = 3  # months of an area's own energy figures before its own rate is trusted
YEARS = (1, 2, 3)
Z90 = 1.6449  # two-sided 90 %


@dataclass(frozen=True)
class Projection:
    """Annual kWh for each year ahead, with its 90 % interval, and how it was made."""

    kwh: list[float]
    lower: list[float]
    upper: list[float]
    vehicles: list[float]  # projected plug-in vehicles at each year's end
    rate_kwh_per_vehicle_month: float
    rate_source: str  # "area" | "council"
    growth_per_year: float | None  # projected registrations growth, e.g. 0.3 = +30 %/year


def _years(day: date | datetime, origin: date) -> float:
    moment = day.date() if isinstance(day, datetime) else day
    return (moment - origin).days / 365.25


@dataclass(frozen=True)
class VehicleTrend:
    """log(count) = a + b·t, t in years since ``origin``; ``sigma`` the residual scale of an observation."""

    origin: date
    model: sm.regression.linear_model.RegressionResults | None
    last: float

    @classmethod
    def fit(cls, history: Sequence[tuple[date, int]]) -> VehicleTrend | None:
        points = sorted((d, n) for d, n in history if n > 0)
        if not points:
            return None
        origin = points[0][0]
        if len(points) < MIN_POINTS:
            return cls(origin, None, float(points[-1][1]))
        t = np.array([_years(d, origin) for d, _ in points])
        fitted = sm.OLS(np.log([n for _, n in points]), sm.add_constant(t)).fit()
        return cls(origin, fitted, float(points[-1][1]))

    def at(self, moments: Sequence[date | datetime]) -> tuple[np.ndarray, np.ndarray]:
        """Projected counts and their log-scale standard deviations at each moment."""
        if self.model is None:
            return np.full(len(moments), self.last), np.zeros(len(moments))
        t = np.array([_years(m, self.origin) for m in moments])
        frame = self.model.get_prediction(np.column_stack([np.ones_like(t), t])).summary_frame(alpha=0.1)
        mean = frame["mean"].to_numpy()
        sd = (frame["obs_ci_upper"].to_numpy() - mean) / Z90
        return np.exp(mean), sd

    @property
    def growth(self) -> float | None:
        return None if self.model is None else float(math.exp(self.model.params[1]) - 1)


def monthly_rate(kwh: Sequence[float], vehicles: Sequence[float]) -> tuple[float, float] | None:
    """Mean kWh per vehicle per month over the months given, and the log-scale standard error."""
    ratios = np.array([k / v for k, v in zip(kwh, vehicles, strict=True) if k > 0 and v > 0])
    if len(ratios) == 0:
        return None
    logs = np.log(ratios)
    error = float(logs.std(ddof=1) / math.sqrt(len(logs))) if len(logs) > 1 else 0.0
    return float(ratios.mean()), error


def project(trend: VehicleTrend | None, now: datetime, rate: tuple[float, float], source: str) -> Projection | None:
    """Annual demand for each of :data:`YEARS` after ``now``."""
    if trend is None:
        return None
    year = timedelta(days=365.25)
    ends = [now + k * year for k in YEARS]
    middles = [now + (k - 0.5) * year for k in YEARS]  # a year's demand follows its vehicles: its middle is fair
    vehicles, sd = trend.at(middles)
    at_end, _ = trend.at(ends)
    per_month, rate_error = rate
    kwh = 12 * per_month * vehicles
    spread = np.sqrt(sd ** 2 + rate_error ** 2) * Z90
    return Projection(kwh=[round(float(v), 1) for v in kwh],
                      lower=[round(float(v), 1) for v in kwh * np.exp(-spread)],
                      upper=[round(float(v), 1) for v in kwh * np.exp(spread)],
                      vehicles=[round(float(v), 1) for v in at_end], rate_kwh_per_vehicle_month=round(per_month, 3),
                      rate_source=source, growth_per_year=trend.growth)
