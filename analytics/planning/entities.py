"""Planning areas as NGSI-LD ``PlanningArea`` entities (docs/PLANNING.md), written idempotently.

Why the registrations are attribute instances: the temporal API is where every other series of the
product is read (KPIs, status), so ``plugInVehicles`` holds the latest count and its history holds
one instance per date with ``observedAt`` = that date. A re-import writes only the dates the
broker does not hold yet, oldest first, so importing the same files twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from citiesincharge import ids
from citiesincharge.client import NgsiLdClient

from .area_tables import Households, Registrations
from .areas_file import Area

TYPE = "PlanningArea"


@dataclass
class ImportResult:
    """What an import wrote."""

    areas: int
    instances: int  # plugInVehicles instances added to the history
    failed: list[str]


def _instant(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def area_entity(area: Area, council: str, households: Households | None = None) -> dict[str, Any]:
    """The entity of one area without its registrations (normalized form, project @context terms)."""
    population = households.population.get(area.code) if households else None
    without = households.without_parking.get(area.code) if households else None
    entity: dict[str, Any] = {
        "id": ids.planning_area(council, area.code), "type": TYPE,
        "name": _prop(area.name), "areaCode": _prop(area.code),
        "location": {"type": "GeoProperty", "value": area.geojson},
        "areaKm2": _prop(round(area.km2, 4), unitCode="KMK"),
        "refOrganization": {"type": "Relationship", "object": ids.organization(council)},
    }
    if (population := population if population is not None else area.population) is not None:
        entity["population"] = _prop(population)
    if (without := without if without is not None else area.households_without_parking) is not None:
        entity["householdsWithoutOffStreetParking"] = _prop(without)
    return entity


def _held(client: NgsiLdClient, entity_ids: list[str]) -> dict[str, set[str]]:
    """observedAt of every plugInVehicles instance the broker holds, per area id."""
    held: dict[str, set[str]] = {i: set() for i in entity_ids}
    for entity in client.temporal_query(type=TYPE, attrs=["plugInVehicles"], page_size=1000):
        if entity["id"] in held:
            instances = entity.get("plugInVehicles", [])
            for instance in instances if isinstance(instances, list) else [instances]:
                if "observedAt" in instance:
                    held[entity["id"]].add(str(instance["observedAt"]).replace(".000Z", "Z"))
    return held


def import_areas(client: NgsiLdClient, areas: list[Area], council: str, *,
                 registrations: Registrations | None = None, households: Households | None = None) -> ImportResult:
    """Upsert every area (attributes not written here, e.g. station counts, are kept), then add the
    registration instances the broker lacks, one batch per date, oldest first."""
    entities = [area_entity(a, council, households) for a in areas]
    result = client.batch_upsert(entities, mode="update")
    failed = [f"{e.entity_id}: {e.error.detail or e.error.title}" for e in result.errors]
    written = 0
    if registrations is not None:
        by_code = {a.code: ids.planning_area(council, a.code) for a in areas}
        held = _held(client, list(by_code.values()))
        dates = sorted({d for series in registrations.series.values() for d in series})
        latest: dict[str, date] = {code: max(series) for code, series in registrations.series.items()}
        rewrite: list[dict[str, Any]] = []
        for day in dates:
            batch = [{"id": by_code[code], "type": TYPE,
                      "plugInVehicles": _prop(series[day], observedAt=_instant(day))}
                     for code, series in sorted(registrations.series.items())
                     if day in series and code in by_code and _instant(day) not in held[by_code[code]]]
            if batch:
                outcome = client.batch_update(batch)
                failed += [f"{e.entity_id}: {e.error.detail or e.error.title}" for e in outcome.errors]
                written += len(batch)
        for code, series in sorted(registrations.series.items()):
            # an older date added later must not leave the current value behind the newest one
            if code not in by_code or not held[by_code[code]]:
                continue
            new_dates = [d for d in series if _instant(d) not in held[by_code[code]]]
            if new_dates and max(new_dates) < latest[code]:
                rewrite.append({"id": by_code[code], "type": TYPE, "plugInVehicles": _prop(
                    series[latest[code]], observedAt=_instant(latest[code]))})
        if rewrite:
            client.batch_update(rewrite)
    return ImportResult(len(entities) - len(result.errors), written, failed)
