"""Entity ids of the project's entity model (see docs/ARCHITECTURE.md), built and parsed in one place.

Source identifiers (OCPI location ids, EVSE uids, bay names) are free text in the wild; each part
is percent-encoded so that an id is always a valid URN and ``:`` inside a part cannot shift the
meaning of the parts after it. Building the same id twice gives the same string (idempotency).
"""

from __future__ import annotations

from typing import Literal, NamedTuple
from urllib.parse import quote, unquote

PREFIX = "urn:ngsi-ld:"
_SAFE = "-._~*+!$&'(),;=@"  # RFC 8141 NSS characters except ':' and '/'


class EntityRef(NamedTuple):
    type: str
    parts: tuple[str, ...]


def _part(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return quote(value.strip(), safe=_SAFE)


def entity_id(entity_type: str, *parts: str) -> str:
    if not parts:
        raise ValueError("an entity id needs at least one part after its type")
    encoded = [_part(p, f"{entity_type} id part {n + 1}") for n, p in enumerate(parts)]
    return PREFIX + ":".join([_part(entity_type, "entity type"), *encoded])


def case_insensitive(value: str) -> str:
    """The one form of a case-insensitive source identifier (OCPI's CiString: country codes, party
    ids, location ids, EVSE uids, session, CDR and tariff ids): ASCII upper case, as the OCPI
    examples write them. Ids built from it survive a peer that switches case between two runs and
    a restart (no memory of a first-seen form is needed); CiStrings are ASCII, other letters stay."""
    return value.upper() if value.isascii() else "".join(c.upper() if c.isascii() else c for c in value)


def charging_station(cpo: str, location_id: str) -> str:
    return entity_id("EVChargingStation", cpo, location_id)


def evse(cpo: str, evse_uid: str) -> str:
    return entity_id("EVSE", cpo, evse_uid)


def parking_spot(site: str, bay: str) -> str:
    return entity_id("ParkingSpot", site, bay)


def organization(name: str) -> str:
    """An operator's (its OCPI party as configured, e.g. cpoA) or the council's (CIC_COUNCIL_ID)."""
    return entity_id("Organization", name)


def parking_site(site: str, kind: Literal["OnStreetParking", "OffStreetParking"] = "OnStreetParking") -> str:
    return entity_id(kind, site)


def derived(entity_type: str, kind: str, subject: str, *suffix: str) -> str:
    """Id of a finding about ``subject`` (an Alert, a KPI, a forecast): ``urn:ngsi-ld:Alert:overstay:
    ParkingSpot:site1:b2:20261201T1229Z``.

    The subject's id is kept verbatim after its ``urn:ngsi-ld:`` (not percent-encoded again), so a
    finding's id holds no ``%3A`` and can be pasted into ``/entities/{id}`` as it is; the subject's
    own id is already a valid URN, so the result is one too. Not meant to be split with :func:`parse`.
    """
    if not subject.startswith(PREFIX):
        raise ValueError(f"subject {subject!r} is not an NGSI-LD URN ({PREFIX}...)")
    return entity_id(entity_type, kind) + ":" + ":".join(
        [subject.removeprefix(PREFIX), *(_part(p, f"{entity_type} id suffix") for p in suffix)])


def parse(value: str) -> EntityRef:
    """Split a project id back into its type and decoded parts."""
    if not value.startswith(PREFIX):
        raise ValueError(f"{value!r} is not an NGSI-LD URN ({PREFIX}...)")
    entity_type, *parts = value[len(PREFIX):].split(":")
    if not parts:
        raise ValueError(f"{value!r} has no id part after its type")
    return EntityRef(unquote(entity_type), tuple(unquote(p) for p in parts))


def planning_area(council: str, code: str) -> str:
    """A council's planning area (ward, LSOA, grid cell): ``urn:ngsi-ld:PlanningArea:<council>:<code>``."""
    return entity_id("PlanningArea", council, code)
