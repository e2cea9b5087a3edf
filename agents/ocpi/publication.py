"""What the shared context may hold of a Location its operator does not publish.

OCPI 2.2.1 ``publish: false``: the Location "may not be published on a website or app" (a
destination charger for guests, a company's fleet depot, a home charge point). The council's
context is shared with other apps, so such a Location is written **restricted**: what the council
needs to count and judge its network (operator, EVSEs and their statuses, sockets, power, energy
and sessions that refer to it) and an area, not a place: no name, no street, postcode or physical
reference, and a position rounded to 0.01° (about 1 km), as an area-level map shows it.
``publish`` (false) and ``publishAllowedTo`` (the kinds and issuers of the tokens allowed to see
it; never a token's uid or visual number, which are personal data) are kept, so every consumer
can tell. Entities of published Locations pass unchanged.
"""

from __future__ import annotations

from typing import Any

_DROPPED = ("name", "physicalReference", "floorLevel")
_ADDRESS_KEPT = ("addressLocality", "addressCountry")
_DECIMALS = 2


def restrict(entity: dict[str, Any]) -> dict[str, Any]:
    """The entity (normalized NGSI-LD) as the shared context may hold it."""
    out = {k: v for k, v in entity.items() if k not in _DROPPED}
    address = out.get("address")
    if isinstance(address, dict) and isinstance(address.get("value"), dict):
        area = {k: v for k, v in address["value"].items() if k in _ADDRESS_KEPT}
        out["address"] = address | {"value": area}
        if not area:
            del out["address"]
    where = out.get("location")
    if isinstance(where, dict) and isinstance(where.get("value"), dict):
        lon, lat = where["value"]["coordinates"]
        out["location"] = where | {"value": {"type": "Point", "coordinates": [round(lon, _DECIMALS),
                                                                              round(lat, _DECIMALS)]}}
    return out
