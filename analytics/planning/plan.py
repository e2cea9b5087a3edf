"""A roll-out plan: indicators, score, rank and reasons per area, written to the context.

Why one function for the command and the service: ``cic plan`` (one plan now) and the analytics
service (a plan every ``CIC_PLAN_EVERY_HOURS`` of data time, for the dashboard's "Where next" page)
must produce the same figures; only how they write differs (the service drops unchanged findings).

The period: the council's current month once a week of it has passed, else the previous month, so a
plan never rests on a day or two of use. The indicators are written three ways (docs/PLANNING.md):
on the ``PlanningArea`` (``planIndicators``, ``planScore``… — what the map reads in one query),
as monthly ``KeyPerformanceIndicator`` entities per area (their history is the month-by-month
record, as for every other KPI), and the growth projection as a yearly ``DemandForecast``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from analytics import kpis
from analytics.clock import iso
from citiesincharge import ids
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings

from .coverage import DISTANCE_METHOD
from .entities import TYPE
from .indicators import AreaFigures, compute
from .inputs import gather
from .placement import write_counts
from .scoring import CRITERIA, Assessment, assess, criteria_values

MIN_DAYS_OF_MONTH = 7
PLAN_HTTP_TIMEOUT_S = 120.0  # a plan is a batch of big reads (a month of status history), not a live request
Write = Callable[[list[dict[str, Any]]], None]

#: indicators kept as monthly KPIs per area: (title, unit code, what it is)
AREA_KPIS: dict[str, tuple[str, str | None, str]] = {
    "saturation": ("Saturation", None, "share of the station-hours in which every charger within a short walk "
                   "of one of the area's stations had a known state and was occupied or down (for at least half "
                   "the hour)"),
    "utilisation": ("Utilisation", None, "occupied share of the known time of the area's chargers"),
    "areaReliability": ("Reliability of the area's chargers", None, "share of the known time the area's "
                        "chargers were not down"),
    "coverageGapShare": ("Coverage gap", None, "share of the area farther than the gap distance, straight line, "
                         "from any public charger"),
    "meanDistanceM": ("Mean distance to a charger", "MTR", "mean straight-line distance from evenly spaced "
                      "points of the area to the nearest public charger"),
    "chargersPer1000Residents": ("Chargers per 1,000 residents", None, "EVSEs in the area per 1,000 residents"),
    "chargersPer100PlugInVehicles": ("Chargers per 100 plug-in vehicles", None, "EVSEs in the area per 100 "
                                     "plug-in vehicles registered in it"),
    "kWPer1000Residents": ("kW per 1,000 residents", "KWT", "maximum power of the area's EVSEs per 1,000 "
                           "residents"),
    "rapidShare": ("Share of rapid chargers", None, "share of the area's EVSEs of 50 kW or more"),
    "sessionsPerCharger": ("Sessions per charger", None, "sessions (CDRs ended in the period) per EVSE"),
    "kWhPerCharger": ("Energy per charger", "KWH", "kWh (CDRs ended in the period) per EVSE"),
}
SOURCE_OF = {"areaReliability": "reliability"}  # KPI name -> indicator name where they differ
kpis.TITLES.update({name: title for name, (title, _unit, _what) in AREA_KPIS.items()})


def plan_client(settings: Settings) -> NgsiLdClient:
    """A client whose requests may take as long as a plan's big reads do on a busy broker."""
    return NgsiLdClient(settings.model_copy(update={"http_timeout": max(settings.http_timeout,
                                                                           PLAN_HTTP_TIMEOUT_S)}))


def weights(settings: Settings) -> dict[str, float]:
    return {"saturation": settings.plan_weight_saturation, "projectedKWhPerCharger": settings.plan_weight_demand,
            "coverageGapShare": settings.plan_weight_coverage,
            "householdsWithoutOffStreetParking": settings.plan_weight_households,
            "unreliability": settings.plan_weight_reliability}


def plan_period(now: datetime, settings: Settings) -> kpis.Period:
    current = kpis.period("monthly", now, settings.zone())
    return current if now - current.start >= timedelta(days=MIN_DAYS_OF_MONTH) else current.previous()


@dataclass
class Plan:
    period: kpis.Period
    names: dict[str, str]  # area id -> name
    figures: dict[str, AreaFigures]
    ranking: list[Assessment]
    failed: list[str]


def run(client: NgsiLdClient, settings: Settings, now: datetime, write: Write | None = None) -> Plan:
    """Compute the plan as of data time ``now`` and write it (through ``write``, or upserts)."""
    period = plan_period(now, settings)
    inputs, areas, placement = gather(client, settings.council_id, period, now, gap_m=settings.plan_gap_metres,
                                      walk_m=settings.plan_walk_metres)
    figures = compute(inputs)
    ranking = assess([a.id for a in inputs.areas], [criteria_values(f.values) for f in figures], weights(settings))
    by_id = {a.id: f for a, f in zip(inputs.areas, figures, strict=True)}
    names = {a.id: a.name for a in inputs.areas}
    failed: list[str] = []
    if areas:
        failed += write_counts(client, placement, now)
        entities = ([_area_update(a, by_id[a.area], period, now, settings) for a in ranking]
                    + [k for a in ranking for k in _kpis(a.area, names[a.area], by_id[a.area], period, now)]
                    + [f for a in ranking if (f := _forecast(a.area, by_id[a.area], now)) is not None])
        if write is not None:
            write(entities)
        else:
            result = client.batch_upsert(entities, mode="update")
            failed += [f"{e.entity_id}: {e.error.detail or e.error.title}" for e in result.errors]
    return Plan(period, names, by_id, ranking, failed)


def _prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def _area_update(assessment: Assessment, figures: AreaFigures, period: kpis.Period, now: datetime,
                 settings: Settings) -> dict[str, Any]:
    return {
        "id": assessment.area, "type": TYPE,
        "planScore": _prop(assessment.score, observedAt=iso(now)),
        "planRank": _prop(assessment.rank),
        "recommendedChargerKind": _prop(assessment.kind, reason=_prop(assessment.kind_reason)),
        "planReasons": _prop([r.as_dict() for r in assessment.reasons]),
        "planContributions": _prop(assessment.contributions),
        "planIndicators": _prop(figures.values),
        "planPeriod": _prop({"start": iso(period.start), "end": iso(period.end), "label": period.label}),
        "planWeights": _prop(weights(settings)),
        "distanceMethod": _prop(DISTANCE_METHOD),
    }


def _kpis(area: str, name: str, figures: AreaFigures, period: kpis.Period, now: datetime) -> list[dict[str, Any]]:
    out = []
    for kpi_name, (title, unit, what) in AREA_KPIS.items():
        value = figures.values.get(SOURCE_OF.get(kpi_name, kpi_name))
        if value is None:
            continue
        out.append(kpis.kpi(kpi_name, area, "area", period, value, now=now, subject_name=name, unit=unit,
                            description=f"{title} of {name}: {what}", formula=what,
                            aggregated=[{"entityType": "EVSE", "attrs": ["status", "maxPower"]},
                                        {"entityType": "EVChargingStation", "attrs": ["location"]},
                                        {"entityType": "PlanningArea", "attrs": ["location", "population",
                                                                                 "plugInVehicles"]}]))
    return out


def _forecast(area: str, figures: AreaFigures, now: datetime) -> dict[str, Any] | None:
    projection = figures.projection
    if projection is None:
        return None
    return {
        "id": ids.derived("DemandForecast", "yearly", area), "type": "DemandForecast",
        "measure": _prop("energyKWh"), "resolution": _prop("P1Y"),
        "validFrom": _prop(iso(now)), "validTo": _prop(iso(now + timedelta(days=round(365.25 * len(projection.kwh))))),
        "forecastValues": _prop(projection.kwh), "lowerBound": _prop(projection.lower),
        "upperBound": _prop(projection.upper), "intervalLevel": _prop(0.9), "model": _prop("perPlugInVehicle"),
        "driver": _prop("plugInVehicles"), "projectedPlugInVehicles": _prop(projection.vehicles),
        "demandRate": _prop(projection.rate_kwh_per_vehicle_month, unitCode="KWH",
                            source=_prop(projection.rate_source)),
        "dateIssued": _prop(iso(now)),
        "refPlanningArea": {"type": "Relationship", "object": area},
    }


def describe(plan: Plan) -> list[str]:
    """The ranking as a person reads it in a terminal."""
    if not plan.ranking:
        return []
    width = max(len(n) for n in plan.names.values())
    lines = [f"Where to build next — use figures of {plan.period.label}; score 0-100 (higher: sooner)",
             f"{'rank':>4}  {'area':<{width}}  {'score':>5}  {'chargers':>8}  kind                 why"]
    for a in plan.ranking:
        values = plan.figures[a.area].values
        why = "; ".join(r.words() for r in a.reasons) or "no indicator stands out"
        lines.append(f"{a.rank:>4}  {plan.names[a.area]:<{width}}  {a.score:>5.1f}  {int(values['chargers'] or 0):>8}  "
                     f"{a.kind:<19}  {why}")
    lines.append("criteria: " + ", ".join(f"{c.label}" for c in CRITERIA.values()))
    return lines
