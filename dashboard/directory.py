"""Who and where: the stations, their operators and areas, read in bulk and kept for a short while.

Why: every page filters by operator and area and names stations, and these change seldom (an
operator adds a site), so they are read with one query per type and reused for ``ttl`` seconds
rather than on every page and every refresh. An area is the postcode district of the station's
address (``CV1 2AB`` -> ``CV1``): the unit a UK council plans by, and present in OCPI locations.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from citiesincharge import ids

from .reader import Reader, value

log = logging.getLogger(__name__)
NO_AREA = "none"


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    operator: str  # the operator's party name as the agents write it (dataProvider), e.g. cpoA
    area: str
    street: str
    lon: float | None
    lat: float | None
    max_power_kw: float | None


@dataclass(frozen=True)
class Operator:
    key: str  # cpoA
    id: str  # urn:ngsi-ld:Organization:cpoA
    name: str  # cpoA Charging Ltd


@dataclass(frozen=True)
class Charger:
    """What a charger (EVSE) is and where: its status is live, read by id (live.py)."""

    id: str
    uid: str
    station: str | None
    power_kw: float | None
    # the ChargingTariff entities its connectors name (``connectors[].tariffIds``), in their order
    tariffs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bay:
    id: str
    name: str
    site: str | None
    evse: str | None


@dataclass
class Directory:
    stations: dict[str, Station] = field(default_factory=dict)
    operators: dict[str, Operator] = field(default_factory=dict)  # by key
    council: Operator | None = None
    sites: dict[str, str] = field(default_factory=dict)  # parking site id -> name
    chargers: dict[str, Charger] = field(default_factory=dict)
    bays: dict[str, Bay] = field(default_factory=dict)
    currencies: dict[str, list[str]] = field(default_factory=dict)  # operator key -> currencies it bills in

    def currencies_of(self, subject: str) -> list[str]:
        """The currencies a station, an operator or the council (all of them) has revenue KPIs in."""
        if subject in self.stations:
            return self.currencies.get(self.stations[subject].operator, [])
        if self.council is not None and subject == self.council.id:
            return sorted({c for found in self.currencies.values() for c in found})
        return self.currencies.get(subject.rsplit(":", 1)[-1], [])

    @property
    def areas(self) -> list[str]:
        return sorted({s.area for s in self.stations.values()}, key=lambda a: (a == NO_AREA, len(a), a))

    def operator_name(self, key: str | None) -> str:
        if not key:
            return "—"
        found = self.operators.get(key)
        return found.name if found else key

    def station_of_bay(self, bay_id: str | None) -> Station | None:
        """A bay's station: the one of the charger it is paired with (None: a bay without a charger)."""
        bay = self.bays.get(bay_id or "")
        charger = self.chargers.get(bay.evse or "") if bay else None
        return self.stations.get(charger.station or "") if charger else None

    def station_name(self, station_id: str | None) -> str:
        if not station_id:
            return "—"
        found = self.stations.get(station_id)
        return found.name if found else station_id.rsplit(":", 1)[-1]


def area_of(address: object) -> str:
    postcode = address.get("postalCode") if isinstance(address, dict) else None
    if not isinstance(postcode, str) or not postcode.strip():
        return NO_AREA
    return postcode.strip().upper().split()[0]


def _point(location: object) -> tuple[float | None, float | None]:
    if isinstance(location, dict) and location.get("type") == "Point":
        coordinates = location.get("coordinates") or []
        if len(coordinates) >= 2:
            return float(coordinates[0]), float(coordinates[1])
    return None, None


def tariffs_of(evse: dict[str, Any]) -> tuple[str, ...]:
    """The ChargingTariff ids an EVSE's connectors name: ``urn:ngsi-ld:ChargingTariff:<EVSE
    dataProvider>:<tariff id>`` (docs/TARIFFS.md), each once, in the connectors' order."""
    operator = value(evse, "dataProvider") or evse["id"].split(":")[3]
    connectors = value(evse, "connectors")
    found: list[str] = []
    for connector in connectors if isinstance(connectors, list) else [connectors] if connectors else []:
        names = connector.get("tariffIds") if isinstance(connector, dict) else None
        for name in names if isinstance(names, list) else [names] if isinstance(names, str) else []:
            if isinstance(name, str) and name:
                try:
                    found.append(ids.entity_id("ChargingTariff", str(operator), name))
                except ValueError:  # not a part an entity id can hold: no tariff entity has it
                    continue
    return tuple(dict.fromkeys(found))


def load(reader: Reader, council_key: str) -> Directory:
    stations_raw, organizations, sites, revenue, evses, spots = reader.in_parallel(
        lambda: reader.entities("EVChargingStation", attrs=["name", "address", "location", "dataProvider",
                                                            "maxPower"]),
        lambda: reader.entities("Organization", attrs=["name", "cpo"]),
        lambda: reader.entities("OnStreetParking", attrs=["name"]) + reader.entities("OffStreetParking",
                                                                                      attrs=["name"]),
        # which currencies each operator bills in: the suffix of its revenue KPIs' ids (docs/KPIS.md)
        lambda: reader.entities("KeyPerformanceIndicator", attrs=["organization"],
                                q='process=="revenueExclVat";kpiScope=="operator";calculationFrequency=="monthly"'),
        lambda: reader.entities("EVSE", attrs=["refEVChargingStation", "maxPower", "connectors", "dataProvider"]),
        lambda: reader.entities("ParkingSpot", attrs=["name", "refParkingSite", "refEVSE"]))
    directory = Directory()
    directory.sites = {s["id"]: str(value(s, "name") or s["id"].rsplit(":", 1)[-1]) for s in sites}
    for entity in evses:
        power, station = value(entity, "maxPower"), value(entity, "refEVChargingStation")
        directory.chargers[entity["id"]] = Charger(entity["id"], entity["id"].rsplit(":", 1)[-1],
                                                   str(station) if station else None,
                                                   float(power) if isinstance(power, int | float) else None,
                                                   tariffs_of(entity))
    for entity in spots:
        site, evse = value(entity, "refParkingSite"), value(entity, "refEVSE")
        directory.bays[entity["id"]] = Bay(entity["id"], str(value(entity, "name") or entity["id"].rsplit(":", 1)[-1]),
                                           str(site) if site else None, str(evse) if evse else None)
    for entity in revenue:
        operator, currency = value(entity, "organization"), entity["id"].rsplit(":", 1)[-1]
        if isinstance(operator, str):
            directory.currencies.setdefault(operator, [])
            if currency not in directory.currencies[operator]:
                directory.currencies[operator].append(currency)
    for entity in organizations:
        key = entity["id"].rsplit(":", 1)[-1]
        operator = Operator(key, entity["id"], str(value(entity, "name") or key))
        if key == council_key:
            directory.council = operator
        else:
            directory.operators[key] = operator
    for entity in stations_raw:
        operator = str(value(entity, "dataProvider") or entity["id"].split(":")[3])
        address = value(entity, "address")
        lon, lat = _point(value(entity, "location"))
        power = value(entity, "maxPower")
        street = address.get("streetAddress", "") if isinstance(address, dict) else ""
        directory.stations[entity["id"]] = Station(
            entity["id"], str(value(entity, "name") or entity["id"].rsplit(":", 1)[-1]), operator, area_of(address),
            str(street or ""), lon, lat, float(power) if isinstance(power, int | float) else None)
        if operator not in directory.operators:  # an operator without its Organization entity still counts
            directory.operators[operator] = Operator(operator, ids.organization(operator), operator)
    return directory


class DirectoryCache:
    """The directory, re-read once older than ``ttl`` seconds: in the background, while pages go on
    with the one they have (only the very first read is waited for; :meth:`warm` starts it early)."""

    def __init__(self, reader: Reader, council_key: str, ttl: float = 30.0) -> None:
        self.reader = reader
        self.council_key = council_key
        self.ttl = ttl
        self._lock = threading.Lock()
        self._value: Directory | None = None
        self._at = 0.0
        self._refreshing = False

    def _load(self) -> Directory:
        value = load(self.reader, self.council_key)
        with self._lock:
            self._value, self._at = value, time.monotonic()
        return value

    def _refresh(self) -> None:
        try:
            self._load()
        except Exception as error:  # the pages keep the directory they have; the next one tries again
            log.warning("dashboard directory not refreshed: %s", error)
        finally:
            with self._lock:
                self._refreshing = False

    def warm(self) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
        threading.Thread(target=self._refresh, name="dashboard-directory", daemon=True).start()

    def get(self) -> Directory:
        with self._lock:
            value, age = self._value, time.monotonic() - self._at
        if value is None:
            return self._load()
        if age > self.ttl:
            self.warm()
        return value
