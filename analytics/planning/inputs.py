"""What a plan needs, read from the context broker with plain NGSI-LD (Orion-LD answers it too).

Why these reads and no others: every figure comes from what the product already keeps — areas and
their registration history, stations placed by geo-query (``placement``), EVSE status history
(temporal API) for occupancy, and the stations' monthly ``energyDelivered``/``sessions`` KPIs for
demand (so no year of charging sessions is pulled over HTTP). A few queries per entity type, paged;
never one request per charger.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from shapely.geometry import shape

from analytics.base import attribute_value
from analytics.clock import iso, parse
from analytics.kpis import Period
from citiesincharge.client import NgsiLdClient

from .entities import TYPE
from .indicators import GROWTH_MONTHS, AreaInput, ChargerInput, PlanInputs
from .placement import PAGE, Placement, place_stations

log = logging.getLogger(__name__)
NOT_PUBLIC = ("REMOVED", "PLANNED")  # EVSEs that are no (longer a) public charger: not counted in any area


def _instances(entity: dict[str, Any], name: str) -> list[dict[str, Any]]:
    found = entity.get(name, [])
    return found if isinstance(found, list) else [found]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read_areas(client: NgsiLdClient, council: str) -> list[dict[str, Any]]:
    query = f'refOrganization=="urn:ngsi-ld:Organization:{council}"'
    return sorted(client.query_entities(type=TYPE, q=query, page_size=PAGE), key=lambda a: a["id"])


def read_vehicles(client: NgsiLdClient) -> dict[str, list[tuple[date, int]]]:
    """Each area's plug-in vehicle registrations by date (the history ``cic areas import`` wrote)."""
    out: dict[str, dict[date, int]] = defaultdict(dict)
    for entity in client.temporal_query(type=TYPE, attrs=["plugInVehicles"], page_size=PAGE):
        for instance in _instances(entity, "plugInVehicles"):
            count = _number(instance.get("value"))
            if "observedAt" in instance and count is not None:
                out[entity["id"]][parse(str(instance["observedAt"])).date()] = int(count)
    return {area: sorted(series.items()) for area, series in out.items()}


def read_timelines(client: NgsiLdClient, evses: list[dict[str, Any]], start: datetime,
                   end: datetime) -> dict[str, list[tuple[datetime, str]]]:
    """Each EVSE's status at ``start`` (its last change before it, ``lastN=1``) and its changes up to ``end``.

    Where the broker keeps no history, a current status (of ``evses``, already read) observed before
    ``start`` held throughout.
    """
    timelines: dict[str, dict[datetime, str]] = defaultdict(dict)

    def add(entities: Iterator[dict[str, Any]]) -> None:
        for entity in entities:
            for instance in _instances(entity, "status"):
                if "observedAt" in instance:
                    timelines[entity["id"]][parse(str(instance["observedAt"]))] = str(instance.get("value"))

    add(client.temporal_query(type="EVSE", attrs=["status"], timerel="before", time_at=iso(start), last_n=1,
                              page_size=PAGE))
    add(client.temporal_query(type="EVSE", attrs=["status"], timerel="between", time_at=iso(start),
                              end_time_at=iso(end), page_size=PAGE))
    for entity in evses:
        status = entity.get("status")
        if (entity["id"] not in timelines and isinstance(status, dict) and "observedAt" in status
                and parse(status["observedAt"]) <= start):
            timelines[entity["id"]][parse(status["observedAt"])] = str(status["value"])
    return {evse: sorted(changes.items()) for evse, changes in timelines.items()}


def _month_of(instant: datetime, period: Period) -> date:
    """The local month a monthly KPI instance is about (its ``observedAt`` is the month's end)."""
    return (instant - timedelta(seconds=1)).astimezone(period.zone).date().replace(day=1)


def read_station_months(client: NgsiLdClient, period: Period) -> dict[str, dict[date, tuple[float, int]]]:
    """Per station: (kWh, sessions) of each month, from the monthly station KPIs of the energy worker."""
    since = period.start - timedelta(days=31 * (GROWTH_MONTHS + 1))
    figures: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for slot, name in enumerate(("energyDelivered", "sessions")):
        query = f'process=="{name}";calculationFrequency=="monthly";kpiScope=="station"'
        for entity in client.temporal_query(type="KeyPerformanceIndicator", q=query,
                                            attrs=["kpiValue", "refEVChargingStation"], timerel="after",
                                            time_at=iso(since), page_size=PAGE):
            station = entity.get("refEVChargingStation")
            station = station[-1] if isinstance(station, list) and station else station
            target = station.get("object") if isinstance(station, dict) else None
            if not isinstance(target, str):
                continue
            for instance in _instances(entity, "kpiValue"):  # oldest first: a re-written month keeps its last
                value = _number(instance.get("value"))
                if value is not None and "observedAt" in instance:
                    figures[target][_month_of(parse(str(instance["observedAt"])), period)][slot] = value
    return {station: {month: (pair[0], int(pair[1])) for month, pair in months.items()}
            for station, months in figures.items()}


def gather(client: NgsiLdClient, council: str, period: Period, now: datetime, *, gap_m: float = 500.0,
           walk_m: float = 250.0, placement: Placement | None = None
           ) -> tuple[PlanInputs, list[dict[str, Any]], Placement]:
    """The inputs of a plan for ``period`` (use figures up to ``now`` when it is still running)."""
    areas = read_areas(client, council)
    placement = placement or place_stations(client, council)
    vehicles = read_vehicles(client)
    area_index = {a["id"]: n for n, a in enumerate(areas)}
    station_area = {station: area_index[area] for area, stations in placement.stations.items()
                    for station in stations if area in area_index}
    stations = list(client.query_entities(type="EVChargingStation", attrs=["location"], page_size=PAGE))
    where = {s["id"]: (float(s["location"]["value"]["coordinates"][0]), float(s["location"]["value"]["coordinates"][1]))
             for s in stations
             if isinstance(s.get("location"), dict) and s["location"].get("value", {}).get("type") == "Point"}
    points = list(where.values())
    end = min(period.end, now.replace(minute=0, second=0, microsecond=0))
    evses = list(client.query_entities(type="EVSE", attrs=["maxPower", "refEVChargingStation", "status"],
                                       page_size=PAGE))  # read once: for the chargers and their current status
    timelines = read_timelines(client, evses, period.start, end)
    chargers = []
    for evse in evses:
        if attribute_value(evse, "status") in NOT_PUBLIC:
            continue
        station = attribute_value(evse, "refEVChargingStation")
        chargers.append(ChargerInput(evse["id"], station_area.get(str(station)), _number(attribute_value(
            evse, "maxPower")), timelines.get(evse["id"], []), where.get(str(station))))
    months = read_station_months(client, period)
    energy: list[dict[date, list[float]]] = [defaultdict(lambda: [0.0, 0.0]) for _ in areas]
    for station, series in months.items():
        if station in station_area:
            for month, (kwh, sessions) in series.items():
                energy[station_area[station]][month][0] += kwh
                energy[station_area[station]][month][1] += sessions
    inputs = PlanInputs(
        areas=[AreaInput(a["id"], str(attribute_value(a, "name") or a["id"]), shape(a["location"]["value"]),
                         _int(attribute_value(a, "population")),
                         _int(attribute_value(a, "householdsWithoutOffStreetParking")), vehicles.get(a["id"], []))
               for a in areas],
        chargers=chargers, stations_lonlat=np.asarray(points, dtype=float).reshape(-1, 2),
        stations_per_area=[len(placement.stations.get(a["id"], [])) for a in areas],
        start=period.start, end=max(end, period.start), now=now,
        energy=[sorted((m, v[0], int(v[1])) for m, v in series.items()) for series in energy],
        period_month=period.start.astimezone(period.zone).date().replace(day=1), gap_m=gap_m, walk_m=walk_m)
    log.info("plan: %d areas, %d stations, %d chargers, %d with status history", len(areas), len(stations),
             len(chargers), sum(1 for c in chargers if c.timeline))
    return inputs, areas, placement


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None

