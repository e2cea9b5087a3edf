"""SDM ``Alert`` entities, written only when their state changes: opened, severity changed, closed.

Why a book of open alerts rather than a function a worker calls every tick: an alert rewritten as
time passes grows the broker's history without bound and re-notifies every subscriber (issue 9
§1). What an alert says is therefore fixed at its state changes; how long it has lasted is
derivable from ``validFrom`` (only a closed alert carries its final ``durationMinutes``), and a
severity that rises with time is a data-clock timer at the moment a threshold is crossed.

One open alert per (subject, kind), always: the id is ``ids.derived("Alert", kind, subject,
<since, UTC>)`` (no ``%3A``, pastes into a URL path), and at back-fill a worker reads the open
alerts of its kinds from the broker (``q=!validTo``) and adopts them (same id, ``validFrom`` and
``dateIssued``) while their cause is still there, or closes them; it never raises a second one.

Categories are the SDM Alert schema's own enum (traffic, naturalDisaster, weather, environment,
health, security, agriculture): it has no "asset" or "infrastructure" value, so bay alerts are
``traffic`` (a car stopped: ``carStopped``) and charger alerts ``environment`` (public charging is
clean-air infrastructure; no SDM subCategory fits, so none is claimed). ``data.kind`` says exactly
what the alert is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from citiesincharge import ids

from .base import Context
from .clock import iso, parse

log = logging.getLogger(__name__)
Severity = Literal["informational", "low", "medium", "high", "critical"]
LEVELS: tuple[Severity, ...] = ("informational", "low", "medium", "high", "critical")
CATEGORY: dict[str, tuple[str, str | None]] = {  # kind -> (SDM category, SDM subCategory)
    "chargingBayBlocked": ("traffic", "carStopped"),
    "overstay": ("traffic", "carStopped"),
    "sensorSilent": ("traffic", None),
    "chargerDown": ("environment", None),
    "slaBreach": ("environment", None),
}
_OURS = ("kind", "subject", "since", "status", "durationMinutes", "closedBecause")


def severity_for(minutes: float, steps: tuple[float, ...] = (10, 30, 120, 1440)) -> Severity:
    """Severity rises with how long it has lasted (thresholds in minutes)."""
    return LEVELS[min(len(LEVELS) - 1, sum(1 for threshold in steps if minutes >= threshold))]


def raised(level: Severity, steps: int) -> Severity:
    """``level`` raised by ``steps`` levels (at most critical)."""
    return LEVELS[min(len(LEVELS) - 1, LEVELS.index(level) + steps)]


def at_least(level: Severity, floor: Severity) -> Severity:
    return LEVELS[max(LEVELS.index(level), LEVELS.index(floor))]


def stamp(moment: datetime) -> str:
    """The since-part of an alert id: UTC to the second, e.g. ``20261201T122912Z``."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def alert_id(kind: str, subject: str, since: datetime) -> str:
    return ids.derived("Alert", kind, subject, stamp(since))


def local(moment: datetime, zone: ZoneInfo, *, date: bool = False) -> str:
    """A time as the council reads it: ``13:02 GMT`` (``1 Dec 2026 13:02 GMT`` with the date)."""
    here = moment.astimezone(zone)
    return f"{here.day} {here:%b %Y %H:%M %Z}" if date else f"{here:%H:%M %Z}"


def own_data(alert_entity: dict[str, Any]) -> dict[str, Any]:
    """The worker-specific part of an alert's ``data`` (what this module adds is left out);
    normalized (``{"value": ...}``) or keyValues."""
    data = alert_entity.get("data", {})
    data = data.get("value", data) if isinstance(data, dict) and data.get("type") == "Property" else data
    return {k: v for k, v in (data or {}).items() if k not in _OURS}


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


@dataclass
class OpenAlert:
    """What an open alert says; the entity is derived from it at each state change."""

    kind: str
    subject: str
    since: datetime
    issued: datetime
    severity: Severity
    source: str
    description: str
    data: dict[str, Any]
    level: Callable[[datetime], Severity] | None = None  # severity at a moment (re-evaluated at thresholds)
    thresholds: list[datetime] = field(default_factory=list)  # moments at which ``level`` may change
    id: str = ""

    def __post_init__(self) -> None:
        self.id = self.id or alert_id(self.kind, self.subject, self.since)

    def entity(self, until: datetime | None = None, why: str | None = None) -> dict[str, Any]:
        category, sub_category = CATEGORY.get(self.kind, ("traffic", None))
        data = {**self.data, "kind": self.kind, "subject": self.subject, "since": iso(self.since),
                "status": "closed" if until else "open"}
        if until is not None:
            data["durationMinutes"] = round((until - self.since).total_seconds() / 60, 1)
            if why:
                data["closedBecause"] = why
        entity: dict[str, Any] = {
            "id": self.id, "type": "Alert", "category": _prop(category), "alertSource": _prop(self.source),
            "dateIssued": _prop(iso(self.issued)), "validFrom": _prop(iso(self.since)),
            "severity": _prop(self.severity), "description": _prop(self.description), "data": _prop(data)}
        if sub_category:
            entity["subCategory"] = _prop(sub_category)
        if until is not None:
            entity["validTo"] = _prop(iso(until))
        return entity


class AlertBook:
    """A worker's open alerts of its ``kinds``, keyed by (subject, kind); writes only state changes."""

    def __init__(self, ctx: Context, kinds: Iterable[str]) -> None:
        self.ctx = ctx
        self.kinds = tuple(kinds)
        self.open: dict[tuple[str, str], OpenAlert] = {}
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}  # open in the broker at start, not yet settled

    # -- back-fill ---------------------------------------------------------------------------
    def load(self) -> None:
        """Read the broker's open alerts of our kinds; a duplicate (two open for one subject and
        kind, as older versions could leave) is closed at once, the oldest one is kept."""
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for entity in self.ctx.client.query_entities(type="Alert", q="!validTo", options="keyValues"):
            data = entity["data"] if isinstance(entity.get("data"), dict) else {}
            kind, subject = data.get("kind"), data.get("subject")
            if kind in self.kinds and isinstance(subject, str) and "validFrom" in entity:
                found.setdefault((subject, str(kind)), []).append(entity)
        self.stored = {}
        for key, entities in found.items():
            entities.sort(key=lambda e: str(e["validFrom"]))
            self.stored[key] = entities[0]
            for duplicate in entities[1:]:
                self._close_stored(duplicate, parse(str(duplicate["validFrom"])), "a duplicate of " + entities[0]["id"])
        log.info("alerts: %d open %s alerts in the broker", len(self.stored), "/".join(self.kinds))

    def adopt(self, subject: str, kind: str, alert: OpenAlert) -> None:
        """Take over the stored open alert of (subject, kind) as ``alert`` (keeping its id, since and
        issue time); written only if what it says (severity) changed."""
        stored = self.stored.pop((subject, kind))
        alert.id, alert.since = str(stored["id"]), parse(str(stored["validFrom"]))
        alert.issued = parse(str(stored.get("dateIssued") or stored["validFrom"]))
        alert.data = {**own_data(stored), **alert.data}
        if alert.level is not None:
            alert.severity = alert.level(self.ctx.clock.now())
        self.open[(subject, kind)] = alert
        if alert.severity != stored.get("severity"):
            self.ctx.write([alert.entity()])
        self._schedule(alert)

    def settle(self, cause: Callable[[str, str], datetime | None]) -> None:
        """Close every stored open alert not adopted: ``cause(subject, kind)`` says when its cause
        ended (None: unknown, now)."""
        for (subject, kind), stored in list(self.stored.items()):
            ended = cause(subject, kind) or self.ctx.clock.now()
            self._close_stored(stored, ended, "the cause was gone when the worker started")
        self.stored.clear()

    def _close_stored(self, stored: dict[str, Any], at: datetime, why: str) -> None:
        since = parse(str(stored["validFrom"]))
        data = stored["data"] if isinstance(stored.get("data"), dict) else {}
        alert = OpenAlert(str(data.get("kind")), str(data.get("subject")), since,
                          parse(str(stored.get("dateIssued") or stored["validFrom"])),
                          stored.get("severity", "low"), str(stored.get("alertSource", data.get("subject"))),
                          str(stored.get("description", "")), own_data(stored), id=str(stored["id"]))
        self.ctx.write([alert.entity(until=max(at, since), why=why)])

    # -- state changes -----------------------------------------------------------------------
    def is_open(self, subject: str, kind: str) -> bool:
        return (subject, kind) in self.open

    def get(self, subject: str, kind: str) -> OpenAlert | None:
        return self.open.get((subject, kind))

    def raise_(self, alert: OpenAlert) -> bool:
        """Open ``alert`` unless one is open for its (subject, kind); adopts a stored one. True if opened."""
        key = (alert.subject, alert.kind)
        if key in self.open:
            return False
        if key in self.stored:
            self.adopt(alert.subject, alert.kind, alert)
            return True
        if alert.level is not None:
            alert.severity = alert.level(self.ctx.clock.now())
        self.open[key] = alert
        self.ctx.write([alert.entity()])
        self._schedule(alert)
        log.info("alert %s for %s since %s (%s)", alert.kind, alert.subject, iso(alert.since), alert.severity)
        return True

    def refresh(self, subject: str, kind: str) -> None:
        """Re-evaluate the severity of an open alert (a threshold crossed, or its context changed)."""
        alert = self.open.get((subject, kind))
        if alert is None or alert.level is None:
            return
        level = alert.level(self.ctx.clock.now())
        if level != alert.severity:
            alert.severity = level
            self.ctx.write([alert.entity()])
        self._schedule(alert)

    def update(self, subject: str, kind: str, *, severity: Severity, description: str | None = None,
               data: dict[str, Any] | None = None) -> None:
        """Change what an open alert says (written only if its severity changes: that is a state change)."""
        alert = self.open.get((subject, kind))
        if alert is None or alert.severity == severity:
            return
        alert.severity = severity
        alert.description = description or alert.description
        alert.data = {**alert.data, **(data or {})}
        self.ctx.write([alert.entity()])

    def close(self, subject: str, kind: str, at: datetime, why: str, data: dict[str, Any] | None = None) -> bool:
        """Close the open alert of (subject, kind), if any, at ``at`` (its final duration)."""
        alert = self.open.pop((subject, kind), None)
        if alert is None:
            return False
        self.ctx.timers.cancel(self._timer(alert))
        alert.data = {**alert.data, **(data or {})}
        self.ctx.write([alert.entity(until=max(at, alert.since), why=why)])
        log.info("alert %s for %s closed: %s", kind, subject, why)
        return True

    @staticmethod
    def _timer(alert: OpenAlert) -> str:
        return f"severity:{alert.kind}:{alert.subject}"

    def _schedule(self, alert: OpenAlert) -> None:
        """A timer at the next threshold still ahead (none once they are all passed)."""
        now = self.ctx.clock.now()
        ahead = [moment for moment in alert.thresholds if moment > now]
        if alert.level is None or not ahead:
            self.ctx.timers.cancel(self._timer(alert))
            return
        subject, kind = alert.subject, alert.kind
        self.ctx.timers.schedule(self._timer(alert), min(ahead), lambda: self.refresh(subject, kind))
