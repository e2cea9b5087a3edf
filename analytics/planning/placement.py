"""Stations placed in planning areas by the broker's geo-query, never by hand.

Why a geo-query per polygon: it is plain NGSI-LD (``georel=intersects&geometry=Polygon&
coordinates=…``), so Orion-LD answers it as the embedded broker does, and nothing here keeps its
own copy of where stations are. ``intersects`` rather than ``within`` so that a station exactly on a
shared border is counted; a station two areas both claim (on a border, or where areas overlap) is
given to the area with the smaller id, so the counts add up to the stations inside the areas.
A MultiPolygon is asked part by part (brokers differ in MultiPolygon support); a polygon whose
coordinates would make an over-long URL is asked by ``POST /entityOperations/query`` with ``geoQ``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from citiesincharge.client import NgsiLdClient

from .entities import TYPE

STATION = "EVChargingStation"
MAX_URL_COORDINATES = 4000  # characters; longer goes in a POST body (URL limits of proxies and brokers)
#: entities per request of every planning read: the embedded broker evaluates a query whole for each
#: page, so fewer, larger pages cost several times less (a demo town's monthly KPIs: 26.5 s in pages
#: of 100, 7.5 s in pages of 1,000)
PAGE = 1000


@dataclass
class Placement:
    """Stations per area id, and how many were claimed by more than one area."""

    stations: dict[str, list[str]] = field(default_factory=dict)
    chargers: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    shared: int = 0


def _parts(geometry: dict[str, Any]) -> list[list[Any]]:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else list(geometry["coordinates"])


def _posted(client: NgsiLdClient, coordinates: list[Any]) -> Iterator[dict[str, Any]]:
    query = {"type": "Query", "entities": [{"type": STATION}], "attrs": ["capacity"],
             "geoQ": {"georel": "intersects", "geometry": "Polygon", "coordinates": coordinates}}
    offset = 0
    while True:
        page = client.request("POST", "/ngsi-ld/v1/entityOperations/query", json=query,
                              params={"limit": PAGE, "offset": offset}, ok=(200,)).json()
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


def stations_in(client: NgsiLdClient, geometry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The stations a (Multi)Polygon intersects, by id, each with its ``capacity`` (EVSE count)."""
    found: dict[str, dict[str, Any]] = {}
    for part in _parts(geometry):
        text = json.dumps(part, separators=(",", ":"))
        answer = (client.query_entities(type=STATION, attrs=["capacity"], georel="intersects", geometry="Polygon",
                                        coordinates=text, page_size=PAGE)
                  if len(text) <= MAX_URL_COORDINATES else _posted(client, part))
        found.update((station["id"], station) for station in answer)
    return found


def _capacity(station: dict[str, Any]) -> int:
    value = station.get("capacity", {})
    value = value.get("value", 0) if isinstance(value, dict) else value
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def place_stations(client: NgsiLdClient, council: str | None = None) -> Placement:
    """Ask the broker which stations lie in each planning area (of one council, or all)."""
    query = f'refOrganization=="urn:ngsi-ld:Organization:{council}"' if council else None
    areas = sorted(client.query_entities(type=TYPE, q=query, attrs=["location", "name"], page_size=PAGE),
                   key=lambda a: a["id"])
    result = Placement()
    owner: dict[str, str] = {}
    capacity: dict[str, int] = {}
    for area in areas:
        result.stations[area["id"]] = []
        result.names[area["id"]] = str(area.get("name", {}).get("value", area["id"]))
        for station_id, station in stations_in(client, area["location"]["value"]).items():
            if station_id in owner:
                result.shared += 1
                continue
            owner[station_id] = area["id"]
            capacity[station_id] = _capacity(station)
            result.stations[area["id"]].append(station_id)
    for area_id, stations in result.stations.items():
        stations.sort()
        result.chargers[area_id] = sum(capacity[s] for s in stations)
    return result


def write_counts(client: NgsiLdClient, placement: Placement, now: datetime) -> list[str]:
    """``stations`` and ``chargers`` on each area, observed ``now``; the failures' ids and reasons."""
    stamp = now.isoformat().replace("+00:00", "Z")
    batch = [{"id": area_id, "type": TYPE,
              "stations": {"type": "Property", "value": len(stations), "observedAt": stamp},
              "chargers": {"type": "Property", "value": placement.chargers[area_id], "observedAt": stamp}}
             for area_id, stations in placement.stations.items()]
    result = client.batch_update(batch)
    return [f"{e.entity_id}: {e.error.detail or e.error.title}" for e in result.errors]
