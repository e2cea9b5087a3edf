"""Names and streets of the places alerts are about, read from the broker once and cached.

Why: a council officer reads "Bay 2 at Broxden Park & Ride (Station Road)", not an entity id; the
names live on the EVChargingStation and parking-site entities the agents write, and they seldom
change, so a worker reads them at back-fill (one query per type) and on a miss one entity at a
time, never per event. A miss is asked again after ``retry`` seconds (a station the OCPI agent
has not written yet gets its name once it has), not on every look-up. Alerts and KPI names both
read here.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError

from .base import attribute_value

log = logging.getLogger(__name__)
ATTRS = ["name", "address", "refEVChargingStation", "refParkingSite", "refDevice"]


class Places:
    def __init__(self, client: NgsiLdClient, retry: float = 600.0) -> None:
        self.client = client
        self.retry = retry
        self._known: dict[str, dict[str, Any]] = {}
        self._missed: dict[str, float] = {}  # id -> when the broker last did not have it (monotonic)

    def prefetch(self, *types: str) -> None:
        """Every entity of ``types`` at once (stations, parking sites), for the back-fill."""
        for entity_type in types:
            for entity in self.client.query_entities(type=entity_type, attrs=ATTRS):
                self.remember(entity)

    def remember(self, entity: dict[str, Any]) -> None:
        known = self._known.setdefault(entity["id"], {})
        for name in ATTRS:
            value = attribute_value(entity, name)
            if value is not None:
                known[name] = value

    def _get(self, entity_id: str | None) -> dict[str, Any]:
        if not entity_id:
            return {}
        if entity_id in self._known:
            return self._known[entity_id]
        if time.monotonic() - self._missed.get(entity_id, float("-inf")) < self.retry:
            return {}
        try:
            found = self.client.entities_by_ids([entity_id], attrs=ATTRS)
        except NgsiLdClientError as error:  # a name is a nicety: the finding goes out without it
            log.warning("cannot read %s for a description (%s)", entity_id, error)
            found = {}
        if entity_id not in found:
            self._missed[entity_id] = time.monotonic()
            return {}
        self._missed.pop(entity_id, None)
        self.remember(found[entity_id])
        return self._known[entity_id]

    def name(self, entity_id: str | None) -> str | None:
        value = self._get(entity_id).get("name")
        return str(value) if value else None

    def street(self, entity_id: str | None) -> str | None:
        address = self._get(entity_id).get("address")
        street = address.get("streetAddress") if isinstance(address, dict) else None
        return str(street) if street else None

    def station_of(self, evse_id: str | None) -> str | None:
        value = self._get(evse_id).get("refEVChargingStation")
        return str(value) if value else None

    def site_of(self, bay_id: str | None) -> str | None:
        value = self._get(bay_id).get("refParkingSite")
        return str(value) if value else None

    def device_of(self, bay_id: str | None) -> str | None:
        value = self._get(bay_id).get("refDevice")
        value = value[0] if isinstance(value, list) and value else value
        return str(value) if value else None

    def where(self, station: str | None) -> str | None:
        """``Broxden Park & Ride (Station Road)``: a station's name and street, what is known of them."""
        name, street = self.name(station), self.street(station)
        if name and street:
            return f"{name} ({street})"
        return name or street
