"""A transparent score per area for where to build next, its reasons, and the kind of charger that fits.

Why this form: a council has to defend where it spends, so the score is a weighted sum the officers
can read and re-weigh (``CIC_PLAN_WEIGHT_*``), not a model's verdict. Each indicator is scaled to
0-1 across the council's areas (min-max: the most saturated area gets 1, the least 0; an indicator
equal everywhere tells areas apart in nothing and scores 0), multiplied by its weight, and the
points sum to the 0-100 score. The reasons are the indicators that gave the most points.

Which kind: points from coverage gaps and households without off-street parking call for on-street
AC chargers where people live; points from saturation, demand per charger and unreliable chargers
call for capacity — a rapid hub. The larger side wins, and its top indicator is the reason given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["onStreetResidential", "rapidHub"]


@dataclass(frozen=True)
class Criterion:
    label: str  # what an officer reads
    unit: str
    percent: bool  # a 0-1 share shown as %
    kind: Kind


CRITERIA: dict[str, Criterion] = {
    "saturation": Criterion("Saturation (no free charger within a walk)", "%", True, "rapidHub"),
    "projectedKWhPerCharger": Criterion("Projected demand per charger, next year", "kWh", False, "rapidHub"),
    "coverageGapShare": Criterion("Area farther than 500 m from a charger", "%", True, "onStreetResidential"),
    "householdsWithoutOffStreetParking": Criterion("Households without off-street parking", "households", False,
                                                   "onStreetResidential"),
    "unreliability": Criterion("Time the area's chargers were down", "%", True, "rapidHub"),
}
DEFAULT_WEIGHTS: dict[str, float] = {"saturation": 0.30, "projectedKWhPerCharger": 0.25, "coverageGapShare": 0.20,
                                     "householdsWithoutOffStreetParking": 0.15, "unreliability": 0.10}
KIND_NAMES: dict[Kind, str] = {"onStreetResidential": "on-street AC chargers (7-22 kW) for residents",
                               "rapidHub": "a rapid hub (50 kW or more)"}
#: why each kind follows from its criteria, said after the top one (the kind's name is shown beside it)
KIND_BECAUSE: dict[Kind, str] = {
    "onStreetResidential": "residents without a driveway need a charger they can walk to and leave the car at",
    "rapidHub": "the chargers there cannot meet the demand: capacity turns drivers round faster"}
TOP_REASONS = 3


@dataclass(frozen=True)
class Reason:
    indicator: str
    label: str
    value: float | None
    unit: str
    points: float

    def as_dict(self) -> dict[str, object]:
        return {"indicator": self.indicator, "label": self.label, "value": self.value, "unit": self.unit,
                "points": self.points}

    def words(self) -> str:
        if self.value is None:
            return self.label
        shown = f"{self.value:,.0f}" if abs(self.value) >= 100 else f"{self.value:g}"
        return f"{self.label} {shown} {self.unit}"


@dataclass(frozen=True)
class Assessment:
    area: str
    score: float
    rank: int
    contributions: dict[str, float]
    reasons: list[Reason]
    kind: Kind
    kind_reason: str


def criteria_values(indicators: Mapping[str, float | None]) -> dict[str, float | None]:
    """The weighted criteria of one area from its indicators (unreliability is 1 - reliability)."""
    reliability = indicators.get("reliability")
    return {"saturation": indicators.get("saturation"),
            "projectedKWhPerCharger": indicators.get("projectedKWhPerCharger"),
            "coverageGapShare": indicators.get("coverageGapShare"),
            "householdsWithoutOffStreetParking": indicators.get("householdsWithoutOffStreetParking"),
            "unreliability": None if reliability is None else 1 - reliability}


def _scaled(values: Sequence[float | None]) -> list[float]:
    present = [v for v in values if v is not None]
    if not present or max(present) == min(present):
        return [0.0] * len(values)
    low, high = min(present), max(present)
    return [0.0 if v is None else (v - low) / (high - low) for v in values]


def _shown(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    return round(value * 100, 1) if CRITERIA[name].percent else round(value, 1)


def assess(areas: Sequence[str], criteria: Sequence[Mapping[str, float | None]],
           weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> list[Assessment]:
    """Score, rank (1 = build first; ties to the larger demand, then the id) and explain every area."""
    total = sum(max(0.0, weights.get(name, 0.0)) for name in CRITERIA) or 1.0
    scaled = {name: _scaled([c.get(name) for c in criteria]) for name in CRITERIA}
    drafts = []
    for index, area in enumerate(areas):
        points = {name: round(100 * max(0.0, weights.get(name, 0.0)) * scaled[name][index] / total, 2)
                  for name in CRITERIA}
        reasons = sorted((Reason(name, CRITERIA[name].label, _shown(name, criteria[index].get(name)),
                                 CRITERIA[name].unit, p) for name, p in points.items() if p > 0),
                         key=lambda r: -r.points)[:TOP_REASONS]
        side: dict[Kind, float] = {"onStreetResidential": 0.0, "rapidHub": 0.0}
        for name, p in points.items():
            side[CRITERIA[name].kind] += p
        kind: Kind = "onStreetResidential" if side["onStreetResidential"] >= side["rapidHub"] else "rapidHub"
        top = next((r for r in reasons if CRITERIA[r.indicator].kind == kind), None)
        because = f"{top.words()}: {KIND_BECAUSE[kind]}" if top else "no indicator stands out"
        drafts.append((area, round(sum(points.values()), 1), points, reasons, kind, f"{because}.",
                       criteria[index].get("projectedKWhPerCharger") or 0.0))
    drafts.sort(key=lambda d: (-d[1], -d[6], d[0]))
    return [Assessment(area, score, rank, points, reasons, kind, why)
            for rank, (area, score, points, reasons, kind, why, _) in enumerate(drafts, 1)]
