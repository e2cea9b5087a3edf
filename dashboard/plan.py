"""The roll-out plan as ``cic plan`` leaves it in the broker: the council's ``PlanningArea`` entities,
read in one query and turned into typed areas for the "Where next" page.

Why a module of its own: the plan's shape is a contract with its writer (docs/PLANNING.md: score,
rank, recommended kind with its reason, top reasons, contributions, indicators, period), and the
page must take whatever the broker holds without failing: an area imported after the last plan run
has no score, a figure that cannot be computed is null, another writer may leave an attribute out.
Everything here reads defensively and gives None for what is missing or malformed, so the page
says "—" or "no score" instead of breaking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from citiesincharge import ids
from citiesincharge.timeutil import parse_utc

from .reader import Reader, observed, value

TYPE = "PlanningArea"


@dataclass(frozen=True)
class Reason:
    """One of an area's top contributing indicators, in the officer's words (``planReasons``)."""

    indicator: str
    label: str
    value: float | None
    unit: str
    points: float | None


@dataclass(frozen=True)
class PlannedArea:
    id: str
    code: str
    name: str
    geometry: dict[str, Any] | None  # GeoJSON Polygon or MultiPolygon, lon/lat
    population: float | None = None
    households_without_parking: float | None = None
    plug_in_vehicles: float | None = None
    stations: float | None = None
    chargers: float | None = None
    score: float | None = None  # 0-100, higher = build here sooner; None: not in the last plan run
    rank: int | None = None
    computed: datetime | None = None  # when the plan was computed (planScore's observedAt)
    kind: str | None = None  # onStreetResidential | rapidHub
    kind_reason: str = ""
    reasons: tuple[Reason, ...] = ()
    contributions: dict[str, float] = field(default_factory=dict)
    indicators: dict[str, float | None] = field(default_factory=dict)
    period_label: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    distance_method: str | None = None

    @property
    def ranked(self) -> bool:
        return self.score is not None and self.rank is not None


def _number(found: Any) -> float | None:
    return float(found) if isinstance(found, int | float) and not isinstance(found, bool) else None


def _instant(found: Any) -> datetime | None:
    try:
        return parse_utc(found)
    except ValueError:
        return None


def _geometry(found: Any) -> dict[str, Any] | None:
    if isinstance(found, dict) and found.get("type") in ("Polygon", "MultiPolygon") and found.get("coordinates"):
        return found
    return None


def _reasons(found: Any) -> tuple[Reason, ...]:
    out = []
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and isinstance(item.get("label") or item.get("indicator"), str):
            indicator = str(item.get("indicator") or "")
            out.append(Reason(indicator, str(item.get("label") or indicator), _number(item.get("value")),
                              str(item.get("unit") or ""), _number(item.get("points"))))
    return tuple(out)


def _numbers(found: Any) -> dict[str, float | None]:
    return {str(k): _number(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _kind_reason(entity: dict[str, Any]) -> str:
    attribute = entity.get("recommendedChargerKind")
    reason = value(attribute, "reason") if isinstance(attribute, dict) else None
    return reason if isinstance(reason, str) else ""


def parse(entity: dict[str, Any]) -> PlannedArea:
    """One normalized ``PlanningArea`` entity as the page reads it."""
    code = value(entity, "areaCode")
    code = code if isinstance(code, str) and code else entity["id"].rsplit(":", 1)[-1]
    rank, kind, period = _number(value(entity, "planRank")), value(entity, "recommendedChargerKind"), \
        value(entity, "planPeriod")
    period = period if isinstance(period, dict) else {}
    contributions = {k: v for k, v in _numbers(value(entity, "planContributions")).items() if v is not None}
    return PlannedArea(
        entity["id"], code, str(value(entity, "name") or code), _geometry(value(entity, "location")),
        population=_number(value(entity, "population")),
        households_without_parking=_number(value(entity, "householdsWithoutOffStreetParking")),
        plug_in_vehicles=_number(value(entity, "plugInVehicles")),
        stations=_number(value(entity, "stations")), chargers=_number(value(entity, "chargers")),
        score=_number(value(entity, "planScore")), rank=int(rank) if rank is not None else None,
        computed=observed(entity, "planScore"), kind=kind if isinstance(kind, str) else None,
        kind_reason=_kind_reason(entity), reasons=_reasons(value(entity, "planReasons")),
        contributions=contributions, indicators=_numbers(value(entity, "planIndicators")),
        period_label=period.get("label") if isinstance(period.get("label"), str) else None,
        period_start=_instant(period.get("start")), period_end=_instant(period.get("end")),
        distance_method=value(entity, "distanceMethod") if isinstance(value(entity, "distanceMethod"), str) else None)


def in_plan_order(areas: list[PlannedArea]) -> list[PlannedArea]:
    """Ranked areas by rank (1 first), then the unranked ones by name."""
    return sorted(areas, key=lambda a: (not a.ranked, a.rank or 0, a.name.lower(), a.id))


def read(reader: Reader, council: str) -> list[PlannedArea]:
    """The council's planning areas (``CIC_COUNCIL_ID``), in plan order: one batch query, paged."""
    found = reader.entities(TYPE, q=f'refOrganization=="{ids.organization(council)}"')
    return in_plan_order([parse(entity) for entity in found])
