"""Every planning indicator of every area for one period, from plain inputs (no broker here).

Why plain inputs: the same computation serves ``cic plan`` on a live broker, the scripted tests
whose right answers are known by construction, and the benchmark of 1,000 areas x 5,000 chargers
x a year of hours (issue 13 §4); the reading from NGSI-LD is ``plan_inputs``' job.

The figures (docs/PLANNING.md has the catalogue):
  * supply: stations, chargers (EVSEs) and kW, per 1,000 residents and per 100 plug-in vehicles;
    the share of rapid chargers (≥ 50 kW, the threshold of the reliability KPIs);
  * coverage: straight-line distance from the area's points to the nearest charger (``coverage``);
  * use over the period: utilisation (occupied share of known charger time), reliability (not-down
    share), saturation (``occupancy``: share of the station-hours in which every charger within a
    short walk of the station was busy, over the area's stations), sessions and kWh per charger
    (from the stations' monthly energy KPIs);
  * growth: annual demand 1-3 years ahead from plug-in vehicle registrations (``growth``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from .coverage import Projection as Metres
from .coverage import coverage
from .growth import MIN_MONTHS, Projection, VehicleTrend, monthly_rate, project
from .occupancy import HOUR, Intervals, StatusChanges, occupancy, saturated_hours

RAPID_KW = 50.0
GROWTH_MONTHS = 12  # complete months of energy figures the demand rate is learnt from


@dataclass
class AreaInput:
    id: str
    name: str
    geometry: BaseGeometry
    population: int | None = None
    households_without_parking: int | None = None
    vehicles: list[tuple[date, int]] = field(default_factory=list)  # plug-in vehicles by date


@dataclass
class ChargerInput:
    """One EVSE: its area (index into the areas, None outside all of them), power and status changes."""

    id: str
    area: int | None
    power_kw: float | None
    timeline: list[tuple[datetime, str]] = field(default_factory=list)
    position: tuple[float, float] | None = None  # its station's [lon, lat]


@dataclass
class PlanInputs:
    areas: list[AreaInput]
    chargers: list[ChargerInput]
    stations_lonlat: np.ndarray  # every public station's [lon, lat], inside the areas or not
    stations_per_area: list[int]
    start: datetime  # the period the use figures cover, [start, end), on hour boundaries
    end: datetime
    now: datetime  # data time: growth is projected from here
    #: per area: (month start, kWh, sessions) of its stations, complete months and the period's month
    energy: list[list[tuple[date, float, int]]] = field(default_factory=list)
    period_month: date | None = None  # the month of ``energy`` the period's sessions and kWh are read from
    gap_m: float = 500.0
    walk_m: float = 250.0  # a driver finding a station full would walk this far to another charger
    changes: StatusChanges | None = None  # the chargers' status changes as arrays, else from their timelines


@dataclass
class AreaFigures:
    values: dict[str, float | None]
    projection: Projection | None


def _ratio(numerator: float | None, denominator: float | None, scale: float = 1.0) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator * scale


def _vehicles_at(trend: VehicleTrend | None, months: Sequence[date]) -> list[float]:
    if trend is None or not months:
        return [0.0] * len(months)
    return [float(v) for v in trend.at(list(months))[0]]


def compute(inputs: PlanInputs) -> list[AreaFigures]:
    """The indicators of every area, in the order of ``inputs.areas``."""
    hours = int((inputs.end - inputs.start).total_seconds() // HOUR)
    changes = inputs.changes or StatusChanges.from_timelines([c.timeline for c in inputs.chargers])
    use = occupancy(Intervals.from_changes(changes, inputs.start, inputs.end), len(inputs.chargers), inputs.start,
                    hours)
    rows: list[list[int]] = [[] for _ in inputs.areas]
    for row, charger in enumerate(inputs.chargers):
        if charger.area is not None:
            rows[charger.area].append(row)
    saturation = [(sum(s for s, _ in found), sum(j for _, j in found))
                  for found in (saturated_hours(use, clusters) for clusters in walk_clusters(inputs, rows))]
    gaps = coverage([a.geometry for a in inputs.areas], inputs.stations_lonlat, gap_m=inputs.gap_m)
    trends = [VehicleTrend.fit(a.vehicles) for a in inputs.areas]
    energy = inputs.energy or [[] for _ in inputs.areas]
    council_rate = _council_rate(inputs, trends, energy)
    out = []
    for index, area in enumerate(inputs.areas):
        chargers = [inputs.chargers[r] for r in rows[index]]
        n = len(chargers)
        kw = float(sum(c.power_kw or 0.0 for c in chargers))
        vehicles = float(area.vehicles[-1][1]) if area.vehicles else None
        known = float(use.known_seconds[rows[index]].sum()) if n else 0.0
        month = {m: (kwh, sessions) for m, kwh, sessions in energy[index]}
        kwh, sessions = month.get(inputs.period_month, (None, None)) if inputs.period_month else (None, None)
        if n and kwh is None:
            kwh, sessions = 0.0, 0
        projection = _projection(inputs, trends[index], energy[index], n, council_rate)
        saturated, counted = saturation[index]
        values: dict[str, float | None] = {
            "stations": inputs.stations_per_area[index], "chargers": n, "powerKW": round(kw, 1),
            "population": area.population, "plugInVehicles": vehicles,
            "householdsWithoutOffStreetParking": area.households_without_parking,
            "chargersPer1000Residents": _ratio(n, area.population, 1000),
            "kWPer1000Residents": _ratio(kw, area.population, 1000),
            "chargersPer100PlugInVehicles": _ratio(n, vehicles, 100),
            "kWPer100PlugInVehicles": _ratio(kw, vehicles, 100),
            "rapidShare": _ratio(sum(1 for c in chargers if (c.power_kw or 0) >= RAPID_KW), n),
            "meanDistanceM": gaps[index].mean_m, "p90DistanceM": gaps[index].p90_m,
            "coverageGapShare": gaps[index].gap_share,
            "utilisation": _ratio(float(use.occupied_seconds[rows[index]].sum()), known) if n else None,
            "reliability": (1 - float(use.down_seconds[rows[index]].sum()) / known) if known else None,
            "saturation": _ratio(saturated, counted),
            "saturationHours": counted,  # the hours it is judged on: every charger's state known
            "sessionsPerCharger": _ratio(sessions, n), "kWhPerCharger": _ratio(kwh, n),
            "projectedKWh1y": projection.kwh[0] if projection else None,
            "projectedKWh3y": projection.kwh[-1] if projection else None,
            # an area without chargers: what its first charger would take
            "projectedKWhPerCharger": projection.kwh[0] / max(n, 1) if projection else None,
        }
        out.append(AreaFigures({k: _rounded(v) for k, v in values.items()}, projection))
    return out


def walk_clusters(inputs: PlanInputs, rows: list[list[int]]) -> list[list[list[int]]]:
    """Per area, per station of the area (a distinct position of its chargers): the charger rows within
    ``walk_m`` of it, in the area or not.

    Why: "every charger of the area busy" almost never happens in a ward of forty chargers, yet a
    driver finds a full station and no free charger within a short walk every evening; that is demand
    turned away. A charger without a position is a station of its own.
    """
    located = [row for row, charger in enumerate(inputs.chargers) if charger.position is not None]
    points = np.array([inputs.chargers[row].position for row in located], dtype=float).reshape(-1, 2)
    projection = Metres.about(float(points[:, 1].mean())) if len(points) else None
    tree = cKDTree(projection.xy(points[:, 0], points[:, 1])) if projection is not None else None
    out: list[list[list[int]]] = []
    for area_rows in rows:
        clusters: list[list[int]] = []
        seen: set[tuple[float, float]] = set()
        for row in area_rows:
            position = inputs.chargers[row].position
            if position is None or tree is None or projection is None:
                clusters.append([row])
                continue
            if position in seen:
                continue
            seen.add(position)
            near = tree.query_ball_point(projection.xy(np.array([position[0]]), np.array([position[1]]))[0],
                                         inputs.walk_m)
            clusters.append(sorted(located[i] for i in near))
        out.append(clusters)
    return out


def _complete_months(inputs: PlanInputs, series: list[tuple[date, float, int]]) -> list[tuple[date, float]]:
    """The last :data:`GROWTH_MONTHS` months before the period's month (which may still be running)."""
    last = inputs.period_month or inputs.now.date().replace(day=1)
    return sorted((m, kwh) for m, kwh, _ in series if m < last)[-GROWTH_MONTHS:]


def _month_ends(months: Sequence[date]) -> list[date]:
    return [date(m.year + m.month // 12, m.month % 12 + 1, 1) for m in months]


def _council_rate(inputs: PlanInputs, trends: list[VehicleTrend | None],
                  energy: list[list[tuple[date, float, int]]]) -> tuple[float, float] | None:
    """kWh per plug-in vehicle per month over every area: the rate of areas without their own."""
    per_area = [dict(_complete_months(inputs, series)) for series in energy]
    months = sorted({m for series in per_area for m in series})
    if not months:
        return None
    ends = _month_ends(months)
    vehicles = np.sum([_vehicles_at(trend, ends) for trend in trends], axis=0)
    return monthly_rate([sum(s.get(m, 0.0) for s in per_area) for m in months], [float(v) for v in vehicles])


def _projection(inputs: PlanInputs, trend: VehicleTrend | None, series: list[tuple[date, float, int]],
                chargers: int, council: tuple[float, float] | None) -> Projection | None:
    months = _complete_months(inputs, series)
    own = (monthly_rate([k for _, k in months], _vehicles_at(trend, _month_ends([m for m, _ in months])))
           if chargers and len([k for _, k in months if k > 0]) >= MIN_MONTHS else None)
    if own is not None:
        return project(trend, inputs.now, own, "area")
    return project(trend, inputs.now, council, "council") if council else None


def _rounded(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if number.is_integer():
        return number
    return round(number, 4) if abs(number) < 10 else round(number, 1)
