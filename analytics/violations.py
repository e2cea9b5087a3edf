"""Blocked charging bays and overstays, in event time.

A bay paired with a charger is *blocked* when it is occupied while its charger is not charging,
for longer than the grace period; it *overstays* when it has been occupied longer than the site's
maximum stay. Each becomes an SDM Alert, written only at its state changes (see
``analytics/alerts.py``): opened when the grace period or the maximum stay runs out, its severity
raised by data-clock timers as the stay goes on, closed when the bay frees or charging starts.
Grace expiries are timers on the data clock, not polling.

Robustness: a bay must stay free for the debounce time before it counts as free (sensor flicker
does not end or restart a violation); an observation older than the one already known is ignored
(out of order); an unknown bay or charger status never produces a violation; a restarted worker
adopts the open alerts it finds in the broker instead of raising second ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from .alerts import AlertBook, OpenAlert, Severity, local, severity_for
from .base import Context, Worker, attribute_value
from .clock import parse
from .places import Places

log = logging.getLogger(__name__)
TIMER = {"chargingBayBlocked": "blocked", "overstay": "stay"}  # alert kind -> its timer's key prefix
NOT_A_VIOLATION = {"CHARGING", "UNKNOWN", "REMOVED", "PLANNED"}  # charging, or we do not know
# Severity by minutes since the alert's start: a blocked bay is a nuisance at first (low) and a
# lost charging slot for the town after hours; an overstay starts when the maximum stay is over.
STEPS: dict[str, tuple[float, ...]] = {"chargingBayBlocked": (0, 30, 120, 480), "overstay": (0, 60, 240, 720)}


@dataclass
class Bay:
    id: str
    site: str | None = None
    evse: str | None = None
    name: str | None = None
    status: str | None = None
    observed: datetime | None = None
    occupied_since: datetime | None = None
    free_since: datetime | None = None  # pending: free, not yet confirmed by the debounce


@dataclass
class Charger:
    id: str
    status: str | None = None
    observed: datetime | None = None
    since: datetime | None = None  # when the current status began
    operator: str | None = None
    station: str | None = None


class ViolationsWorker(Worker):
    name = "violations"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        settings = context.settings
        self.grace = timedelta(minutes=settings.violations_grace_minutes)
        self.debounce = timedelta(seconds=settings.violations_debounce_seconds)
        self.max_stay = timedelta(minutes=settings.violations_max_stay_minutes)
        self.zone = settings.zone()
        self.sites: dict[str, dict[str, float]] = {}
        if settings.violations_sites:
            self.sites = yaml.safe_load(Path(settings.violations_sites).read_text("utf-8")) or {}
        self.bays: dict[str, Bay] = {}
        self.chargers: dict[str, Charger] = {}
        self.book = AlertBook(context, TIMER)
        self.places = Places(context.client)

    # -- inputs ------------------------------------------------------------------------------
    def backfill(self) -> None:
        client = self.ctx.client
        self.book.load()
        self.places.prefetch("EVChargingStation", "OnStreetParking", "OffStreetParking")
        entities = list(client.query_entities(type="EVSE", attrs=["status", "dataProvider", "refEVChargingStation"]))
        entities += list(client.query_entities(type="ParkingSpot",
                                               attrs=["status", "refEVSE", "refParkingSite", "name"]))
        entities.sort(key=lambda e: (e.get("status") or {}).get("observedAt", ""))
        for entity in entities:
            self.handle(entity)
        self._settle()
        log.info("violations: back-filled %d bays and %d chargers", len(self.bays), len(self.chargers))

    def _settle(self) -> None:
        """The broker's open alerts: adopted while their cause is still there, closed otherwise."""
        for subject, kind in list(self.book.stored):
            bay = self.bays.get(subject)
            if bay is not None and self._cause_since(bay, kind) is not None:
                since = parse(str(self.book.stored[(subject, kind)]["validFrom"]))  # the alert's own start
                self.book.adopt(subject, kind, self._alert(bay, kind, since))

        def ended(subject: str, _kind: str) -> datetime | None:
            bay = self.bays.get(subject)
            return bay.observed if bay is not None else None

        self.book.settle(ended)

    def handle(self, entity: dict[str, Any]) -> None:
        status = entity.get("status")
        if not isinstance(status, dict) or "observedAt" not in status:
            return
        observed = parse(status["observedAt"])
        self.ctx.clock.observe(observed)
        if entity["type"] == "ParkingSpot":
            self._bay_event(entity, str(status["value"]), observed)
        elif entity["type"] == "EVSE":
            self._charger_event(entity, str(status["value"]), observed)

    def _bay_event(self, entity: dict[str, Any], status: str, observed: datetime) -> None:
        bay = self.bays.setdefault(entity["id"], Bay(entity["id"]))
        bay.evse = attribute_value(entity, "refEVSE") or bay.evse
        bay.site = attribute_value(entity, "refParkingSite") or bay.site
        bay.name = attribute_value(entity, "name") or bay.name
        if bay.observed is not None and observed < bay.observed:
            return  # out of order: event time rules
        bay.status, bay.observed = status, observed
        if status == "occupied":
            self.ctx.timers.cancel(f"free:{bay.id}")
            bay.free_since = None  # a flicker shorter than the debounce: the stay goes on
            if bay.occupied_since is None:
                bay.occupied_since = observed
        elif status == "free" and bay.occupied_since is not None:
            bay.free_since = bay.free_since or observed
            self.ctx.timers.schedule(f"free:{bay.id}", bay.free_since + self.debounce, lambda: self._freed(bay))
        elif status != "free":  # unknown / closed: we cannot tell, so nothing may be claimed
            bay.occupied_since = bay.free_since = None
            self._close_all(bay, observed, f"bay status became {status}")
        self._evaluate(bay)

    def _charger_event(self, entity: dict[str, Any], status: str, observed: datetime) -> None:
        charger = self.chargers.setdefault(entity["id"], Charger(entity["id"]))
        charger.operator = attribute_value(entity, "dataProvider") or charger.operator
        charger.station = attribute_value(entity, "refEVChargingStation") or charger.station
        if charger.observed is not None and observed < charger.observed:
            return
        if status != charger.status:
            charger.since = observed
        charger.status, charger.observed = status, observed
        for bay in self.bays.values():
            if bay.evse == charger.id:
                if status == "CHARGING":
                    self._close(bay, "chargingBayBlocked", observed, "charging started")
                self._evaluate(bay)

    # -- rules -------------------------------------------------------------------------------
    def _site_limit(self, bay: Bay, key: str, default: timedelta) -> timedelta:
        site = (bay.site or "").rsplit(":", 1)[-1]
        minutes = self.sites.get(site, {}).get(key)
        return timedelta(minutes=float(minutes)) if minutes is not None else default

    def _blocked_since(self, bay: Bay) -> datetime | None:
        """Since when the bay has been blocked (occupied, charger known and not charging)."""
        if bay.occupied_since is None or bay.free_since is not None or bay.evse is None:
            return None
        charger = self.chargers.get(bay.evse)
        if charger is None or charger.status is None or charger.status in NOT_A_VIOLATION or charger.since is None:
            return None
        return max(bay.occupied_since, charger.since)

    def _cause_since(self, bay: Bay, kind: str) -> datetime | None:
        """Since when the cause of a ``kind`` alert has been there (None: it is not there now)."""
        if kind == "chargingBayBlocked":
            return self._blocked_since(bay)
        return bay.occupied_since if bay.free_since is None else None

    def _evaluate(self, bay: Bay) -> None:
        blocked = self._blocked_since(bay)
        key = f"{TIMER['chargingBayBlocked']}:{bay.id}"
        if blocked is None:
            self.ctx.timers.cancel(key)
        elif not self.book.is_open(bay.id, "chargingBayBlocked"):
            grace = self._site_limit(bay, "grace_minutes", self.grace)
            self.ctx.timers.schedule(key, blocked + grace, lambda: self._raise(bay, "chargingBayBlocked"))
        stay_key = f"{TIMER['overstay']}:{bay.id}"
        if bay.occupied_since is None:
            self.ctx.timers.cancel(stay_key)
        elif not self.book.is_open(bay.id, "overstay"):
            limit = self._site_limit(bay, "max_stay_minutes", self.max_stay)
            self.ctx.timers.schedule(stay_key, bay.occupied_since + limit, lambda: self._raise(bay, "overstay"))

    def _raise(self, bay: Bay, kind: str) -> None:
        since = self._cause_since(bay, kind)
        if since is None or self.book.is_open(bay.id, kind):
            return
        self.book.raise_(self._alert(bay, kind, since))

    def _alert(self, bay: Bay, kind: str, since: datetime) -> OpenAlert:
        """What an alert about ``bay`` says: where (bay, site, street) and since when, in local time."""
        charger = self.chargers.get(bay.evse or "")
        station = (charger.station if charger else None) or self.places.station_of(bay.evse)
        label = bay.name or self.places.name(bay.id) or bay.id.rsplit(":", 1)[-1]
        label = label if label.lower().startswith("bay") else f"Bay {label}"
        site = self.places.name(bay.site)
        street = self.places.street(station)
        where = f"{label} at {site}" if site else label
        where += f" ({street})" if street else ""
        limit = self._site_limit(bay, "max_stay_minutes", self.max_stay)
        what = "occupied while its charger is not charging" if kind == "chargingBayBlocked" else \
            f"occupied longer than the maximum stay of {limit.total_seconds() / 60:g} min"
        start = since if kind == "chargingBayBlocked" else since + limit  # overstay: severity from the limit on
        steps = STEPS[kind]

        def level(moment: datetime) -> Severity:
            return severity_for((moment - start).total_seconds() / 60, steps)

        return OpenAlert(
            kind, bay.id, since, self.ctx.clock.now(), level(self.ctx.clock.now()), bay.id,
            f"{where} {what} since {local(since, self.zone)}",
            {"bay": bay.id, "site": bay.site, "evse": bay.evse, "station": station,
             "operator": charger.operator if charger else None,
             "chargerStatus": charger.status if charger else None},
            level=level, thresholds=[start + timedelta(minutes=m) for m in steps])

    def _freed(self, bay: Bay) -> None:
        if bay.free_since is None:
            return
        ended = bay.free_since
        bay.occupied_since = bay.free_since = None
        self._close_all(bay, ended, "bay freed")
        self._evaluate(bay)

    def _close_all(self, bay: Bay, at: datetime, why: str) -> None:
        for kind in TIMER:
            self._close(bay, kind, at, why)

    def _close(self, bay: Bay, kind: str, at: datetime, why: str) -> None:
        self.ctx.timers.cancel(f"{TIMER[kind]}:{bay.id}")
        self.book.close(bay.id, kind, at, why)

    def status(self) -> dict[str, Any]:
        return {"bays": len(self.bays), "chargers": len(self.chargers), "openAlerts": len(self.book.open)}
