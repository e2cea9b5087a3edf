"""What the feed serves, read from the broker in a few paged queries and kept for a few seconds.

Why a snapshot: a popular feed must not hammer the broker, and the three formats must agree. So
one read (a handful of requests: stations, EVSEs, tariffs, the operators' terms, 1,000 entities a
page, never one request per station) serves every request for ``CIC_OPENDATA_CACHE_SECONDS``. A
re-read that finds the same data keeps the previous snapshot, with its ``since`` instant: the bodies
built from it stay byte-identical, so ETags and ``If-None-Match`` keep working across re-reads.

Only what is open ever enters a snapshot: the broker is asked for ``dataAccess=="public"`` and
every entity is checked again (``entities.is_public``); stations not published (OCPI
``publish: false``) are dropped, and so are EVSEs whose station is not in the feed (a public EVSE
of a non-public or unpublished station would reveal the place its operator keeps closed).
Attributes are asked for by name: a new attribute written by an agent one day is not published
until someone adds it here. Sessions, CDRs and tokens are never read.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from citiesincharge.client import NgsiLdClient

from . import licences
from .entities import is_public, is_published, modified, value

PUBLIC = 'dataAccess=="public"'
STATION_ATTRS = ["name", "address", "location", "capacity", "availableCapacity", "socketNumber", "socketType",
                 "allowedVehicleType", "status", "amperage", "voltage", "maxPower", "openingHours",
                 "exceptionalOpenings", "exceptionalClosings", "publish", "publishAllowedTo", "operator",
                 "dataProvider", "partyId", "countryCode", "license", "dataAccess"]
EVSE_ATTRS = ["status", "evseId", "evseUid", "connectors", "connectorStandards", "socketType", "maxPower",
              "capabilities", "parkingRestrictions", "floorLevel", "physicalReference", "location",
              "refEVChargingStation", "dataProvider", "license", "dataAccess"]
TARIFF_ATTRS = ["currency", "tariffElements", "minPrice", "maxPrice", "referencePrices", "pricePerKWh", "pricePerHour",
                "parkingPricePerHour", "flatFee", "vatRate", "tariffType", "validFrom", "validTo", "dataProvider",
                "license", "dataAccess"]
TERMS_ATTRS = ["name", "cpo", "license", "licenceDetails"]
PAGE = 1000


@dataclass(frozen=True)
class Snapshot:
    """The open data at one moment, every list sorted by id (pages are stable)."""

    stations: list[dict[str, Any]] = field(default_factory=list)
    evses: list[dict[str, Any]] = field(default_factory=list)
    tariffs: list[dict[str, Any]] = field(default_factory=list)
    terms: dict[str, licences.Terms] = field(default_factory=dict)
    digest: str = ""
    since: float = 0.0  # wall epoch seconds this content was first read
    by_station: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # station id -> its EVSEs
    tariff_by_id: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, stations: list[dict[str, Any]], evses: list[dict[str, Any]], tariffs: list[dict[str, Any]],
           terms: dict[str, licences.Terms], digest: str, since: float) -> Snapshot:
        by_station: dict[str, list[dict[str, Any]]] = {}
        for evse in evses:
            by_station.setdefault(str(value(evse, "refEVChargingStation")), []).append(evse)
        return cls(stations, evses, tariffs, terms, digest, since, by_station, {t["id"]: t for t in tariffs})

    def evses_of(self, station_id: str) -> list[dict[str, Any]]:
        return self.by_station.get(station_id, [])

    def tariff(self, tariff_id: str) -> dict[str, Any] | None:
        return self.tariff_by_id.get(tariff_id)

    def terms_of(self, entity: dict[str, Any]) -> licences.Terms:
        return licences.terms_of(entity, self.terms)

    def newest(self, entities: list[dict[str, Any]]) -> datetime | None:
        """The newest ``modifiedAt`` among ``entities`` (the response's Last-Modified)."""
        return max((m for e in entities if (m := modified(e)) is not None), default=None)


def select(stations: list[dict[str, Any]], evses: list[dict[str, Any]],
           tariffs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """What may be published of what the broker returned (defence in depth, see the module's doc)."""
    open_stations = sorted((s for s in stations if is_public(s) and is_published(s)), key=lambda e: e["id"])
    kept = {s["id"] for s in open_stations}
    open_evses = sorted((e for e in evses if is_public(e) and value(e, "refEVChargingStation") in kept),
                        key=lambda e: e["id"])
    return open_stations, open_evses, sorted((t for t in tariffs if is_public(t)), key=lambda e: e["id"])


def read(client: NgsiLdClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]],
                                        list[dict[str, Any]]]:
    """Stations, EVSEs, tariffs (public ones, normalized, with sysAttrs) and the operators' terms."""
    def query(type_: str, attrs: list[str], q: str | None = PUBLIC) -> list[dict[str, Any]]:
        return list(client.query_entities(type=type_, q=q, attrs=attrs, options="sysAttrs", page_size=PAGE))

    return (query("EVChargingStation", STATION_ATTRS), query("EVSE", EVSE_ATTRS),
            query("ChargingTariff", TARIFF_ATTRS), query("Organization", TERMS_ATTRS, q=None))


class Feed:
    """The current snapshot, re-read when older than ``ttl`` seconds (one reader at a time)."""

    def __init__(self, client: NgsiLdClient, ttl: float, *, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.client, self.ttl, self.monotonic, self.wall = client, ttl, monotonic, wall
        self._snapshot: Snapshot | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()
        self.reads = 0  # broker reads so far (status, tests)

    def get(self) -> Snapshot:
        with self._lock:
            if self._snapshot is not None and self.monotonic() - self._read_at < self.ttl:
                return self._snapshot
            stations, evses, tariffs, organizations = read(self.client)
            self.reads += 1
            self._read_at = self.monotonic()
            stations, evses, tariffs = select(stations, evses, tariffs)
            terms = licences.directory(organizations)
            digest = hashlib.sha256(orjson.dumps([stations, evses, tariffs, sorted(terms.items())],
                                                 default=_plain, option=orjson.OPT_SORT_KEYS)).hexdigest()
            if self._snapshot is None or self._snapshot.digest != digest:
                self._snapshot = Snapshot.of(stations, evses, tariffs, terms, digest, self.wall())
            return self._snapshot


def _plain(found: Any) -> Any:
    if isinstance(found, licences.Terms):
        return found.model_dump()
    raise TypeError(type(found).__name__)
