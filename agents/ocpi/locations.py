"""One OCPI Location -> its station and EVSE entities, with bad parts quarantined at their grain.

A Location is a tree (station, EVSEs, connectors), and real peers send trees with one bad leaf: an
EVSE with a status outside the enum, a connector without voltage or amperage (as the official
``location_put_example_add_evse.json``). Dropping the whole Location for it makes a station and
its good EVSEs vanish, so the mapping is tried at each grain: an EVSE that does not map is tried
connector by connector; bad connectors are quarantined and the EVSE kept with the others; an EVSE
with no good connector, or bad for another reason, is quarantined alone; the station is mapped
from the EVSEs that were kept. Only a Location whose station itself cannot be mapped (no
coordinates, no id) is quarantined whole. EVSEs quarantined this time keep their last good state
in the broker: they are reported as ``kept`` so that a full sync does not mark them REMOVED.

Two Locations are not written as the mapping alone would:

* **expired** (OCPI: "a Location without any valid EVSE object can be considered expired and
  should no longer be displayed"): every EVSE REMOVED, or none. ``capacity: 0`` is not an SDM
  EVChargingStation (capacity >= 1), so a station written before is updated to
  ``status: outOfService`` and ``availableCapacity: 0`` and keeps the capacity it had (what the
  site offered); one never written is not written now. Its EVSEs still say REMOVED.
* **not published** (``publish: false``): see ``publication``.

Whatever is written as an SDM type is checked against its schema first; a station that would
break it is quarantined with the schema's reason, never written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from citiesincharge.sdm import SCHEMA_TYPES, schema_errors
from mappings.engine import Mapping, MappingError

from . import publication


@dataclass(frozen=True)
class Part:
    """A quarantined part of a Location: ``record`` names it (``LOC1/3256``, ``LOC1/3256/2``)."""

    record: str
    field: str
    reason: str
    payload: Any


@dataclass
class Mapped:
    entities: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Part] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)  # ids of EVSEs quarantined now: not gone
    notes: list[str] = field(default_factory=list)


def key_values(entity: dict[str, Any]) -> dict[str, Any]:
    """The key-values form the SDM schemas describe."""
    return {k: (v.get("value", v.get("object")) if isinstance(v, dict) and k not in ("id", "type") else v)
            for k, v in entity.items()}


class LocationMapper:
    def __init__(self, station: Mapping, evse: Mapping, *, cpo: str, source: str, party_id: str, country_code: str,
                 secrets: dict[str, str], known: Callable[[str], bool]) -> None:
        self.station, self.evse = station, evse
        self.context = {"cpo": cpo, "source": source, "party_id": party_id, "country_code": country_code}
        self.secrets = secrets
        self.known = known  # whether an entity id was written before

    def map(self, record: dict[str, Any]) -> Mapped:
        """Entities of one Location, and its parts that had to be quarantined."""
        out = Mapped()
        name = str(record.get("id"))
        evses = record.get("evses") or []
        if not isinstance(evses, list):
            out.rejected.append(Part(name, "evses", "not a list", record))
            return out
        kept: list[dict[str, Any]] = []
        for evse in evses:
            entity, accepted = self._evse(record, evse, out)
            if entity is not None and accepted is not None:
                out.entities.append(entity)
                kept.append(accepted)
        if out.rejected and not self._sound(record, out):
            return out
        expired = all(isinstance(e, dict) and e.get("status") == "REMOVED" for e in evses)
        try:
            if not expired and not any(e.get("status") != "REMOVED" for e in kept):
                raise MappingError(self.station.name, name, "evses",
                                   f"none of its {len(evses)} EVSEs in service could be mapped (see their rows)")
            station = self._station(record | {"evses": kept}, expired, out)
        except MappingError as error:  # the station cannot be written: nor can its EVSEs
            out.rejected.append(Part(name, error.field, error.reason, record))
            out.kept |= {e["id"] for e in out.entities}
            out.entities.clear()
            return out
        if station is None:
            return out
        if record.get("publish") is False:
            station, out.entities = publication.restrict(station), [publication.restrict(e) for e in out.entities]
        out.entities.insert(0, station)
        return out

    # -- grains ------------------------------------------------------------------------------
    def _sound(self, record: dict[str, Any], out: Mapped) -> bool:
        """Whether the Location itself maps (checked once an EVSE failed: no coordinates or no id are
        the Location's fault, not its EVSEs'); if not, it is quarantined whole, in one row."""
        try:
            self.station.apply({"record": record | {"evses": []}, **self.context}, self.secrets)
        except MappingError as error:
            out.rejected = [Part(str(record.get("id")), error.field, error.reason, record)]
            found = (self._evse_id(record, e) for e in record.get("evses") or [] if isinstance(e, dict))
            out.kept |= {e["id"] for e in out.entities} | {i for i in found if i}
            out.entities.clear()
            return False
        return True

    def _evse(self, location: dict[str, Any], evse: Any, out: Mapped) -> tuple[dict[str, Any] | None, Any]:
        """The EVSE's entity and the EVSE as kept (without its bad connectors), or quarantine."""
        where = f"{location.get('id')}/{evse.get('uid') if isinstance(evse, dict) else '(not an object)'}"
        if not isinstance(evse, dict):
            out.rejected.append(Part(where, "evse", "not a JSON object", evse))
            return None, None
        try:
            return self._apply_evse(location, evse), evse
        except MappingError as error:
            failure = error
        salvaged = self._without_bad_connectors(location, evse, where)
        if salvaged is not None:
            entity, pruned, parts = salvaged
            out.rejected += parts
            return entity, pruned
        out.rejected.append(Part(where, failure.field, failure.reason, evse))
        identity = self._evse_id(location, evse)
        if identity is not None:
            out.kept.add(identity)
        return None, None

    def _without_bad_connectors(self, location: dict[str, Any], evse: dict[str, Any],
                                where: str) -> tuple[dict[str, Any], dict[str, Any], list[Part]] | None:
        """The EVSE mapped without the connectors that fail alone, if some are good and that works."""
        connectors = evse.get("connectors")
        if not isinstance(connectors, list) or len(connectors) < 2:
            return None
        bad = self._bad_connectors(location, evse)
        good = [c for n, c in enumerate(connectors) if n not in bad]
        if not bad or not good:
            return None
        pruned = evse | {"connectors": good}
        try:
            entity = self._apply_evse(location, pruned)
        except MappingError:
            return None
        parts = [Part(f"{where}/{_connector_name(connectors[n], n)}", f"connector.{error.field}", error.reason,
                      connectors[n]) for n, error in bad.items()]
        return entity, pruned, parts

    def _bad_connectors(self, location: dict[str, Any], evse: dict[str, Any]) -> dict[int, MappingError]:
        bad: dict[int, MappingError] = {}
        for n, connector in enumerate(evse["connectors"]):
            try:
                self._apply_evse(location, evse | {"connectors": [connector]})
            except MappingError as error:
                bad[n] = error
        return bad

    def _apply_evse(self, location: dict[str, Any], evse: dict[str, Any]) -> dict[str, Any]:
        return self.evse.apply({"record": evse, "parent": location, **self.context}, self.secrets)

    def _evse_id(self, location: dict[str, Any], evse: dict[str, Any]) -> str | None:
        try:
            return str(self.evse.apply({"record": evse, "parent": location, **self.context}, {},
                                       only=frozenset())["id"])
        except MappingError:
            return None

    def _station(self, location: dict[str, Any], expired: bool, out: Mapped) -> dict[str, Any] | None:
        station = self.station.apply({"record": location, **self.context}, self.secrets)
        if expired:
            return self._expired(station, out)
        if station["type"] in SCHEMA_TYPES:
            errors = schema_errors(key_values(station))
            if errors:
                raise MappingError(self.station.name, str(location.get("id")), "schema", "; ".join(errors))
        return station

    def _expired(self, station: dict[str, Any], out: Mapped) -> dict[str, Any] | None:
        if not self.known(station["id"]):
            out.notes.append("expired (no EVSE but REMOVED ones) and never written: not written")
            out.entities.clear()
            return None
        out.notes.append("expired (no EVSE but REMOVED ones): written as outOfService, capacity kept")
        status = dict(station["status"]) | {"value": "outOfService"}
        return {"id": station["id"], "type": station["type"], "status": status,
                "availableCapacity": dict(station["availableCapacity"]) | {"value": 0}}


def _connector_name(connector: Any, position: int) -> str:
    found = connector.get("id") if isinstance(connector, dict) else None
    return str(found) if found is not None else f"connector {position + 1}"
