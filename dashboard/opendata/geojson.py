"""Stations as an RFC 7946 GeoJSON FeatureCollection: one Point feature per published station with
what a map or an app needs — name, address, operator, chargers and how many are available now,
maximum power, connector standards, prices where the operator opens them — and its licence.

RFC 7946 lets a document carry members of its own ("foreign members"): the collection's
``metadata`` lists the licences in it, each with its providers and the attributions they ask for,
so a consumer that keeps only the file still has its terms.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import licences, prices
from .entities import value
from .source import Snapshot

LIVE = "AVAILABLE"


def _connector_standards(evses: list[dict[str, Any]]) -> list[str]:
    found = {c.get("standard") for e in evses for c in (value(e, "connectors") or []) if isinstance(c, dict)}
    return sorted(s for s in found if isinstance(s, str))


def feature(station: dict[str, Any], snapshot: Snapshot) -> dict[str, Any]:
    evses = [e for e in snapshot.evses_of(station["id"]) if value(e, "status") != "REMOVED"]
    terms = snapshot.terms_of(station)
    named = [snapshot.tariff(t) for e in evses for t in prices.tariff_ids(e)]
    tariffs = [prices.summary(t) for t in dict((t["id"], t) for t in named if t is not None).values()]
    address = value(station, "address")
    properties = {
        "id": station["id"], "name": value(station, "name"),
        "address": address if isinstance(address, dict) else None,
        "operator": value(station, "operator"), "dataProvider": terms.provider,
        "evses": len(evses), "available": sum(1 for e in evses if value(e, "status") == LIVE),
        "status": value(station, "status"), "maxPowerKW": value(station, "maxPower"),
        "connectorStandards": _connector_standards(evses), "socketType": value(station, "socketType"),
        "openingHours": value(station, "openingHours"), "prices": tariffs,
        "license": terms.license, "licenseUrl": terms.url, "attribution": terms.attribution}
    return {"type": "Feature", "id": station["id"], "geometry": value(station, "location"),
            "properties": {k: v for k, v in properties.items() if v is not None}}


def collection(snapshot: Snapshot, licences_url: str) -> tuple[dict[str, Any], list[licences.LicenceGroup]]:
    """The FeatureCollection of every published station with a point, and its licences."""
    stations = [s for s in snapshot.stations if isinstance(value(s, "location"), dict)]
    found = licences.groups(snapshot.terms_of(s) for s in stations)
    metadata = {"title": "Public EV charging stations", "generated": _iso(snapshot.since),
                "licenses": [g.model_dump() for g in found], "license": licences.expression(found),
                "licensesDocument": licences_url, "count": len(stations)}
    return {"type": "FeatureCollection", "metadata": metadata,
            "features": [feature(s, snapshot) for s in stations]}, found


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
