"""Where next: the council's planning areas shaded by ``cic plan``'s score, each explained on
selection (rank, recommended kind of charger and why, the top reasons with their points, the key
indicators, the period the data covers), and the ranking as a table — "which parts of the town
need chargers next, of what kind, and why" (issue 13 §3).

The ranking is the council's as a whole: operators and postcode districts do not change where the
town needs chargers, so the page takes no filters. When the plan or the areas are missing it says
which command to run rather than showing an empty map.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from .. import scale
from ..geo import label_point
from ..page import AreaMap, Detail, LegendEntry, Note, Page, PageSpec, Shape, Tile
from ..plan import PlannedArea, Reason, read
from ..tables import Column, Table, integer, number, percent
from . import Ctx

SPEC = PageSpec("where-next", "/where-next", "Where next", "30d", ("days",), filtered=False)
KINDS = {"onStreetResidential": ("On-street residential AC", "on-street AC (7\N{EN DASH}22 kW) for residents "
                                                             "without a driveway"),
         "rapidHub": ("Rapid hub", "a rapid hub (50 kW or more)")}
DISTANCE = {"straightLine": "straight line", "walking": "walking distance"}


def _amount(found: float | None, unit: str = "") -> str:
    """A figure with its unit, as a sentence reads it: ``41 %``, ``9,800 kWh``, ``0.4 per 1,000 residents``."""
    if found is None:
        return "—"
    digits = 0 if abs(found) >= 100 or float(found).is_integer() else 1
    shown = f"{found:,.{digits}f}"
    return f"{shown} {unit}".strip()


def _share(found: float | None) -> str:
    return "—" if found is None else f"{found * 100:,.0f} %"


def _unit(unit: str) -> Callable[[float | None], str]:
    return lambda found: _amount(found, unit)


# the indicators the panel shows, in its order: (planIndicators key, label, how to show it)
INDICATORS: tuple[tuple[str, str, Callable[[float | None], str]], ...] = (
    ("saturation", "Saturation (hours all chargers busy or down)", _share),
    ("saturationHours", "Hours saturation is judged on", _unit("h")),
    ("coverageGapShare", "Coverage gap (farther than 500 m from a charger)", _share),
    ("meanDistanceM", "Mean distance to the nearest charger", _unit("m")),
    ("p90DistanceM", "Distance to a charger from 90 % of the area", _unit("m")),
    ("utilisation", "Utilisation", _share),
    ("reliability", "Reliability", _share),
    ("chargersPer1000Residents", "Chargers per 1,000 residents", _unit("")),
    ("chargersPer100PlugInVehicles", "Chargers per 100 plug-in vehicles", _unit("")),
    ("kWPer1000Residents", "kW per 1,000 residents", _unit("kW")),
    ("kWPer100PlugInVehicles", "kW per 100 plug-in vehicles", _unit("kW")),
    ("rapidShare", "Rapid chargers (50 kW or more)", _share),
    ("sessionsPerCharger", "Sessions per charger", _unit("")),
    ("kWhPerCharger", "kWh per charger", _unit("kWh")),
    ("projectedKWh1y", "Projected demand in 1 year", _unit("kWh")),
    ("projectedKWh3y", "Projected demand in 3 years", _unit("kWh")),
    ("projectedKWhPerCharger", "Projected demand per charger, next year", _unit("kWh")),
)
LABELS = {key: label for key, label, _ in INDICATORS} | {
    "householdsWithoutOffStreetParking": "Households without off-street parking",
    "plugInVehicles": "Plug-in vehicles", "unreliability": "Time the area's chargers were down"}


def _label(indicator: str, area: PlannedArea) -> str:
    """What an officer reads for an indicator the plan weighs: the plan's own words where its reasons
    give them, ours for the indicators we know, else the name spelt out."""
    said = next((r.label for r in area.reasons if r.indicator == indicator), None) or LABELS.get(indicator)
    if said:
        return said
    words = "".join(" " + c.lower() if c.isupper() else c for c in indicator).strip()
    return words[:1].upper() + words[1:]


def _reason(reason: Reason) -> str:
    points = "—" if reason.points is None else f"+{reason.points:,.1f}"
    return f"{reason.label}: {_amount(reason.value, reason.unit)} ({points} points)"


def _kind(area: PlannedArea) -> str:
    return KINDS[area.kind][0] if area.kind in KINDS else (area.kind or "—")


def _detail(area: PlannedArea, ranked: int, ctx: Ctx) -> Detail:
    figures = [("Chargers", _amount(area.chargers)), ("Stations", _amount(area.stations)),
               ("Population", _amount(area.population)),
               ("Households without off-street parking", _amount(area.households_without_parking)),
               ("Plug-in vehicles", _amount(area.plug_in_vehicles))]
    if not area.ranked:
        return Detail(area.id, area.name, "No score yet", [
            "This area has no plan score: it was not in the last plan run (imported since?). "
            "Run cic plan to rank it with the others."], [], figures)
    assert area.score is not None
    kind = KINDS.get(area.kind or "", (area.kind or "no kind given", ""))
    paragraphs = [f"Recommended: {kind[1] or kind[0]}.", *([area.kind_reason] if area.kind_reason else [])]
    period = area.period_label or "—"
    computed = area.computed.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M") if area.computed else "—"
    paragraphs.append(f"Data of {period}; plan computed {computed} ({ctx.tz}); distances "
                      f"{DISTANCE.get(area.distance_method or '', area.distance_method or 'not stated')}.")
    contributions = [f"{_label(k, area)}: {v:+,.1f}"
                     for k, v in sorted(area.contributions.items(), key=lambda kv: -kv[1])]
    lists = [("Why here", [_reason(r) for r in area.reasons] or ["no criterion gave points"])]
    if contributions:
        lists.append(("Score, point by point", contributions))
    figures += [(label, show(area.indicators.get(key))) for key, label, show in INDICATORS
                if key in area.indicators]
    return Detail(area.id, area.name, f"Rank {area.rank} of {ranked} · score {area.score:,.1f} of 100",
                  paragraphs, lists, figures)


def _legend(areas: list[PlannedArea]) -> list[LegendEntry]:
    counts = Counter(scale.band_of(a.score).key for a in areas if a.score is not None)
    entries = [LegendEntry(b.key, f"score {b.label}", b.colour, counts[b.key]) for b in reversed(scale.BANDS)]
    return [*entries, LegendEntry("none", "no score yet", scale.UNSCORED, sum(a.score is None for a in areas))]


def _rows(areas: list[PlannedArea]) -> list[dict[str, Any]]:
    return [{"id": a.id, "rank": a.rank, "area": a.name, "code": a.code, "score": a.score,
             "kind": _kind(a) if a.ranked else "—",
             "why": ("; ".join(_reason(r) for r in a.reasons) or "no criterion gave points") if a.ranked
             else "not in the last plan run",
             "chargers": a.chargers, "saturation": a.indicators.get("saturation"),
             "gap": a.indicators.get("coverageGapShare"),
             "per_charger": a.indicators.get("projectedKWhPerCharger"), "evs": a.plug_in_vehicles}
            for a in areas]


def _missing(page: Page, council: str) -> Page:
    page.subtitle = "no areas yet"
    page.tiles = [Tile("Planning areas", "0")]
    page.sections.append(Note("no-areas", "No planning areas yet", [
        f"The broker holds no planning area of council {council!r}, so there is nothing to rank. Import the "
        "council's areas (GeoJSON polygons: wards, LSOAs or a grid, with their population and plug-in vehicle "
        "figures; docs/PLANNING.md), count the stations in them, then compute the plan:"],
        ["cic areas import FILE.geojson", "cic areas stations", "cic plan"]))
    return page


def build(ctx: Ctx) -> Page:
    areas = read(ctx.reader, ctx.council)
    page = Page(SPEC.slug, SPEC.title, ctx.filters)
    if not areas:
        return _missing(page, ctx.council)
    ranked = [a for a in areas if a.ranked]
    latest = max(ranked, key=lambda a: a.computed.timestamp() if a.computed else 0.0) if ranked else None
    page.subtitle = f"data of {latest.period_label}" if latest and latest.period_label else "no plan yet"
    kinds = Counter(a.kind for a in ranked)
    computed = latest.computed.astimezone(ctx.zone) if latest and latest.computed else None
    page.tiles = [
        Tile("Planning areas", f"{len(areas):,d}", f"{len(ranked):,d} ranked"),
        Tile("Build next", ranked[0].name if ranked else "—",
             f"score {ranked[0].score:,.1f} · {_kind(ranked[0])}" if ranked and ranked[0].score is not None
             else "run cic plan"),
        Tile("Areas without a charger", f"{sum(1 for a in areas if not a.chargers):,d}"),
        Tile("On-street AC recommended", f"{kinds['onStreetResidential']:,d}", "areas, for residents"),
        Tile("Rapid hubs recommended", f"{kinds['rapidHub']:,d}", "areas, 50 kW or more"),
        Tile("Plan computed", computed.strftime("%Y-%m-%d") if computed else "never",
             f"{computed:%H:%M} ({ctx.tz})" if computed else "run cic plan")]
    if not ranked:
        page.sections.append(Note("no-plan", "No plan computed yet", [
            f"The {len(areas):,d} planning areas are in the broker, but none has a plan score yet: the ranking has "
            "not been computed. Compute it (it writes each area's score, rank, reasons and recommended kind of "
            "charger, which this page then shows):"], ["cic plan"]))
    elif len(ranked) < len(areas):
        page.notes.append(f"{len(areas) - len(ranked):,d} of {len(areas):,d} areas have no score (not in the last "
                          "plan run, e.g. imported since): they are hatched on the map; run cic plan to rank them.")
    shapes = [Shape(a.id, a.name, a.geometry, scale.fill(a.score), str(a.rank) if a.ranked else "",
                    label_point(a.geometry)) for a in areas if a.geometry is not None]
    points = [(s.name, s.lat, s.lon) for s in ctx.directory.stations.values()
              if s.lat is not None and s.lon is not None]
    page.sections.append(AreaMap(
        "areas", "Areas by plan score", shapes, _legend(areas), points, [_detail(a, len(ranked), ctx) for a in areas],
        f"Map of {len(shapes)} planning areas shaded by plan score (darker: build sooner), each labelled with its "
        f"rank, and {len(points)} stations as dots. The same areas are in the Ranking table below: its area buttons "
        "show each area's explanation."))
    method = {a.distance_method for a in ranked} - {None}
    page.sections.append(Table(
        "ranking", "Ranking", [
            Column("rank", "Rank", integer, numeric=True), Column("area", "Area", selects="id"),
            Column("code", "Code"), Column("score", "Score (of 100)", number(1), numeric=True),
            Column("kind", "Recommended"), Column("why", "Why here (points)"),
            Column("chargers", "Chargers", integer, numeric=True),
            Column("saturation", "Saturation (%)", percent, numeric=True),
            Column("gap", "Coverage gap (%)", percent, numeric=True),
            Column("per_charger", "Projected kWh per charger, next year", number(0), numeric=True),
            Column("evs", "Plug-in vehicles", integer, numeric=True)],
        _rows(areas),
        caption="1 = build here first. Saturation: share of the area's station-hours in which no charger within a "
                "short walk was free (all occupied or down). Coverage gap: share of the area farther than 500 m "
                "from any public charger ("
                + (", ".join(sorted(DISTANCE.get(m or "", m or "") for m in method)) or "distance method not stated")
                + "). Choose an area to see why it ranks there."))
    return page
