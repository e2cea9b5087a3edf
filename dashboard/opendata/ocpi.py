"""Published stations rebuilt as OCPI 2.2.1 Locations, as a national access point serves them.

The entities are the OCPI agent's mapping of the operators' Locations (mappings/files/ocpi-*.yaml);
this goes back the other way for what a roaming platform or an app reads: the Location with its
EVSEs and connectors, coordinates as strings (``52.424087``, the GeoLocation regex), CiString ids
as the agent keeps them (upper case), ``publish: true`` only (an unpublished Location never gets
here), ``last_updated`` from the sources' own times (an EVSE's status ``observedAt``, the station's
``capacity`` ``observedAt``: the Location's last_updated), never the broker's.

What the entities do not keep is not invented: no ``parking_type``, ``facilities`` or images;
``time_zone`` (required) is the council's (``CIC_TIMEZONE``): the stations of one council share it.
Enumerated values outside OCPI 2.2.1's lists (a 2.1.1 operator's) are left out rather than served
invalid; the lists are those of the schema the tests validate against
(citiesincharge/schemas/ocpi-2.2.1-location.schema.json).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import unquote

from .entities import modified, observed, value
from .prices import tariff_entity
from .source import Snapshot

_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_PERIOD = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su) ([0-2]\d:[0-5]\d)-([0-2]\d:[0-5]\d)$")
ALWAYS_OPEN = "Mo-Su 00:00-24:00"


@cache
def enumeration(name: str) -> frozenset[str]:
    """The values OCPI 2.2.1 allows for one of its enumerations (from the project's schema)."""
    text = resources.files("citiesincharge.schemas").joinpath("ocpi-2.2.1-location.schema.json").read_text("utf-8")
    return frozenset(json.loads(text)["$defs"][name]["enum"])


def stamp(moment: datetime | None) -> str:
    return (moment or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _coordinates(point: Any) -> dict[str, str] | None:
    if not isinstance(point, dict) or not isinstance(point.get("coordinates"), list):
        return None
    lon, lat = point["coordinates"][:2]
    return {"latitude": f"{float(lat):.6f}", "longitude": f"{float(lon):.6f}"}


def _text(found: Any, length: int) -> str | None:
    return str(found)[:length] if found not in (None, "") else None


def _integer(found: Any) -> int:
    return int(found) if isinstance(found, int | float) and not isinstance(found, bool) else 0


def opening_times(station: dict[str, Any]) -> dict[str, Any] | None:
    """OCPI Hours from the station's ``openingHours`` text (as the mapping wrote it) and its
    exceptional periods; None when the text is not one the mapping writes."""
    text = value(station, "openingHours")
    if not isinstance(text, str):
        return None
    hours: dict[str, Any] = {"twentyfourseven": text == ALWAYS_OPEN}
    if text != ALWAYS_OPEN:
        periods = [_PERIOD.match(part.strip()) for part in text.split(",")]
        if not periods or any(p is None for p in periods):
            return None
        hours["regular_hours"] = [{"weekday": _DAYS.index(p[1]) + 1, "period_begin": p[2], "period_end": p[3]}
                                  for p in periods if p is not None]
    for name, key in (("exceptionalOpenings", "exceptional_openings"), ("exceptionalClosings", "exceptional_closings")):
        found = value(station, name)
        if isinstance(found, list) and found:
            hours[key] = [{"period_begin": p.get("periodBegin"), "period_end": p.get("periodEnd")}
                          for p in found if isinstance(p, dict)]
    return hours


def evse_updated(evse: dict[str, Any]) -> datetime | None:
    return observed(evse, "status") or modified(evse)


def connector(found: dict[str, Any], provider: str, updated: str, snapshot: Snapshot) -> dict[str, Any] | None:
    if found.get("standard") not in enumeration("ConnectorType") or found.get("format") not in enumeration(
            "ConnectorFormat") or found.get("powerType") not in enumeration("PowerType"):
        return None
    tariffs = [t for t in found.get("tariffIds") or []
               if (entity := tariff_entity(provider, t)) is not None and snapshot.tariff(entity) is not None]
    out = {"id": _text(found.get("id"), 36) or "1", "standard": found["standard"], "format": found["format"],
           "power_type": found["powerType"], "max_voltage": _integer(found.get("maxVoltage")),
           "max_amperage": _integer(found.get("maxAmperage")),
           "max_electric_power": _integer(found["maxElectricPower"]) if found.get("maxElectricPower") else None,
           "tariff_ids": tariffs or None, "last_updated": updated}
    return {k: v for k, v in out.items() if v is not None}


def evse(entity: dict[str, Any], snapshot: Snapshot) -> dict[str, Any] | None:
    """An EVSE entity as an OCPI EVSE (None: no connector OCPI 2.2.1 can describe)."""
    updated = stamp(evse_updated(entity))
    provider = str(value(entity, "dataProvider"))
    connectors = [c for found in value(entity, "connectors") or [] if isinstance(found, dict)
                  if (c := connector(found, provider, updated, snapshot)) is not None]
    status = value(entity, "status")
    if not connectors or status not in enumeration("Status"):
        return None
    out = {"uid": _text(value(entity, "evseUid"), 36) or unquote(entity["id"].rsplit(":", 1)[-1]),
           "evse_id": _text(value(entity, "evseId"), 48), "status": status,
           "capabilities": [c for c in value(entity, "capabilities") or [] if c in enumeration("Capability")] or None,
           "connectors": connectors, "floor_level": _text(value(entity, "floorLevel"), 4),
           "coordinates": _coordinates(value(entity, "location")),
           "physical_reference": _text(value(entity, "physicalReference"), 16),
           "parking_restrictions": [p for p in value(entity, "parkingRestrictions") or []
                                    if p in enumeration("ParkingRestriction")] or None,
           "last_updated": updated}
    return {k: v for k, v in out.items() if v is not None}


def location_updated(station: dict[str, Any], snapshot: Snapshot) -> datetime | None:
    """When the Location or one of its EVSEs last changed, by the sources' clocks."""
    times = [observed(station, "capacity") or modified(station),
             *(evse_updated(e) for e in snapshot.evses_of(station["id"]))]
    return max((t for t in times if t is not None), default=None)


def location_id(station: dict[str, Any]) -> str:
    return unquote(station["id"].rsplit(":", 1)[-1])


def location(station: dict[str, Any], snapshot: Snapshot, time_zone: str) -> dict[str, Any] | None:
    """A published station as an OCPI Location (None: it has no coordinates or no party)."""
    coordinates = _coordinates(value(station, "location"))
    address = value(station, "address") if isinstance(value(station, "address"), dict) else {}
    party, country = value(station, "partyId"), value(station, "countryCode")
    if coordinates is None or not isinstance(party, str) or not isinstance(country, str):
        return None
    operator = _text(value(station, "operator"), 100)
    out = {"country_code": country[:2], "party_id": party[:3], "id": location_id(station)[:36], "publish": True,
           "name": _text(value(station, "name"), 255), "address": _text(address.get("streetAddress"), 45) or "",
           "city": _text(address.get("addressLocality"), 45) or "",
           "postal_code": _text(address.get("postalCode"), 10), "state": _text(address.get("addressRegion"), 20),
           "country": _text(address.get("addressCountry"), 3) or "", "coordinates": coordinates,
           "evses": [e for found in snapshot.evses_of(station["id"]) if (e := evse(found, snapshot)) is not None],
           "operator": {"name": operator} if operator else None, "time_zone": time_zone,
           "opening_times": opening_times(station), "last_updated": stamp(location_updated(station, snapshot))}
    return {k: v for k, v in out.items() if v is not None}
