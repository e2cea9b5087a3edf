"""Blocked charging bays and overstays, in event time.

A bay paired with a charger is *blocked* when it is occupied while its charger is not charging,
for longer than the grace period; it *overstays* when it has been occupied longer than the site's
maximum stay. Each becomes an SDM Alert (open while it lasts, its duration updated, closed when
the bay frees or charging starts). Grace expiries are timers on the data clock, not polling.

Robustness: a bay must stay free for the debounce time before it counts as free (sensor flicker
does not end or restart a violation); an observation older than the one already known is ignored
(out of order); an unknown bay or charger status never produces a violation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from . import findings
from .base import Context, Worker, attribute_value
from .clock import parse

log = logging.getLogger(__name__)
TIMER = {"chargingBayBlocked": "blocked", "overstay": "stay"}  # alert kind -> its timer's key prefix
NOT_A_VIOLATION = {"CHARGING", "UNKNOWN", "REMOVED", "PLANNED"}  # charging, or we do not know


@dataclass
class Bay:
    id: str
    site: str | None = None
    evse: str | None = None
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


@dataclass
class Open:
    kind: str
    since: datetime
    alert: dict[str, Any]



class ViolationsWorker(Worker):
    name = "violations"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        settings = context.settings
        self.grace = timedelta(minutes=settings.violations_grace_minutes)
        self.debounce = timedelta(seconds=settings.violations_debounce_seconds)
        self.max_stay = timedelta(minutes=settings.violations_max_stay_minutes)
        self.sites: dict[str, dict[str, float]] = {}
        if settings.violations_sites:
            self.sites = yaml.safe_load(Path(settings.violations_sites).read_text("utf-8")) or {}
        self.bays: dict[str, Bay] = {}
        self.chargers: dict[str, Charger] = {}
        self.open: dict[tuple[str, str], Open] = {}  # (bay id, kind) -> open alert

    # -- inputs ------------------------------------------------------------------------------
    def backfill(self) -> None:
        client = self.ctx.client
        entities = list(client.query_entities(type="EVSE", attrs=["status", "dataProvider"]))
        entities += list(client.query_entities(type="ParkingSpot", attrs=["status", "refEVSE", "refParkingSite"]))
        entities.sort(key=lambda e: (e.get("status") or {}).get("observedAt", ""))
        for entity in entities:
            self.handle(entity)
        log.info("violations: back-filled %d bays and %d chargers", len(self.bays), len(self.chargers))

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

    def _evaluate(self, bay: Bay) -> None:
        blocked = self._blocked_since(bay)
        key = f"{TIMER['chargingBayBlocked']}:{bay.id}"
        if blocked is None:
            self.ctx.timers.cancel(key)
        elif (bay.id, "chargingBayBlocked") not in self.open:
            grace = self._site_limit(bay, "grace_minutes", self.grace)
            self.ctx.timers.schedule(key, blocked + grace, lambda: self._raise(bay, "chargingBayBlocked"))
        stay_key = f"{TIMER['overstay']}:{bay.id}"
        if bay.occupied_since is None:
            self.ctx.timers.cancel(stay_key)
        elif (bay.id, "overstay") not in self.open:
            limit = self._site_limit(bay, "max_stay_minutes", self.max_stay)
            self.ctx.timers.schedule(stay_key, bay.occupied_since + limit, lambda: self._raise(bay, "overstay"))

    def _raise(self, bay: Bay, kind: str) -> None:
        since = self._blocked_since(bay) if kind == "chargingBayBlocked" else bay.occupied_since
        if since is None or (bay.id, kind) in self.open:
            return
        charger = self.chargers.get(bay.evse or "")
        now = self.ctx.clock.now()
        what = "occupied while its charger is not charging" if kind == "chargingBayBlocked" else \
            "occupied longer than the maximum stay"
        alert = findings.alert(
            kind, bay.id, since, now=now, source=bay.id, sub_category="carStopped",
            description=f"Charging bay {bay.id.rsplit(':', 1)[-1]} {what} since {since:%H:%M} UTC",
            data={"bay": bay.id, "site": bay.site, "evse": bay.evse, "operator": charger.operator if charger else None,
                  "chargerStatus": charger.status if charger else None})
        self.open[(bay.id, kind)] = Open(kind, since, alert)
        self.ctx.write([alert])
        log.info("alert %s for %s since %s", kind, bay.id, since)

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
        opened = self.open.pop((bay.id, kind), None)
        if opened is None:
            return
        data = findings.own_data(opened.alert) | {"closedBecause": why}
        closed = findings.alert(kind, bay.id, opened.since, now=self.ctx.clock.now(), until=max(at, opened.since),
                                source=bay.id, sub_category="carStopped",
                                description=opened.alert["description"]["value"], data=data)
        self.ctx.write([closed])

    def status(self) -> dict[str, Any]:
        return {"bays": len(self.bays), "chargers": len(self.chargers), "openAlerts": len(self.open)}

    def tick(self) -> None:
        """Keep open alerts' duration and severity current."""
        now = self.ctx.clock.now()
        updates = []
        for (bay_id, kind), opened in self.open.items():
            data = findings.own_data(opened.alert)
            updates.append(findings.alert(kind, bay_id, opened.since, now=now, source=bay_id, sub_category="carStopped",
                                          description=opened.alert["description"]["value"], data=data))
        if updates:
            self.ctx.write(updates)
