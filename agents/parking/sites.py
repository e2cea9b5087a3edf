"""Site occupancy (OnStreetParking / OffStreetParking counts), recounted from the broker.

Counting from the broker rather than from this process's memory keeps the counts right when
several agent replicas share the sensor traffic: each one only sees part of a site's bays. A
site is recounted once the bay writes that touched it have left the outbox.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError

from ..outbox import Outbox
from .registry import Registry, Site

log = logging.getLogger(__name__)


class SiteCounter:
    def __init__(self, registry: Registry, client: NgsiLdClient, outbox: Outbox) -> None:
        self.registry = registry
        self.client = client
        self.outbox = outbox
        self._dirty: dict[str, int] = {}  # site id -> outbox seq its bay writes were queued at
        self._lock = threading.Lock()

    def touch(self, sites: set[str], seq: int) -> None:
        with self._lock:
            for site in sites:
                self._dirty[site] = max(seq, self._dirty.get(site, 0))

    def site_entity(self, site: Site, counts: Counter[str] | None) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "id": site.entity_id, "type": site.kind,
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": list(site.location)}},
            "category": {"type": "Property", "value": site.category},
            "totalSpotNumber": {"type": "Property", "value": len(self.registry.bays_by_site.get(site.id, []))}}
        if site.name:
            entity["name"] = {"type": "Property", "value": site.name}
        if counts is not None:
            entity["occupiedSpotNumber"] = {"type": "Property", "value": counts["occupied"]}
            entity["availableSpotNumber"] = {"type": "Property", "value": counts["free"]}
        return entity

    def recount(self) -> int:
        """Recount every site whose bay writes have reached the broker; returns how many."""
        with self._lock:
            ready = {s: seq for s, seq in self._dirty.items() if seq <= self.outbox.flushed_seq}
        if not ready:
            return 0
        bays = {self.registry.spot_id(bay): site_id for site_id in ready
                for bay in self.registry.bays_by_site.get(site_id, [])}
        try:  # by id: a direct look-up in any broker, not a query scanning every bay of the town
            found = self.client.entities_by_ids(list(bays), type="ParkingSpot", attrs=["status"])
            counts: dict[str, Counter[str]] = {site_id: Counter() for site_id in ready}
            for entity_id, entity in found.items():
                status = entity.get("status")
                counts[bays[entity_id]][str(status.get("value") if isinstance(status, dict) else status)] += 1
            self.client.batch_upsert([self.site_entity(self.registry.sites_by_id[s], counts[s]) for s in ready],
                                     mode="update")
        except NgsiLdClientError as error:
            log.warning("site recount postponed: %s", error)
            return 0
        with self._lock:
            for site_id, seq in ready.items():
                if self._dirty.get(site_id) == seq:  # not touched again while we counted
                    self._dirty.pop(site_id, None)
        return len(ready)
