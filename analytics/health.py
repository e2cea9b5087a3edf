"""Charger health & SLA: availability, incidents, MTTR/MTBF, UK reliability, and their alerts.

Keeps each EVSE's status timeline (back-filled from the temporal API, then from notifications)
and, every few seconds, writes KeyPerformanceIndicators for today and this month per EVSE, per
station and per operator, including the network average of rapid chargers (>= 50 kW) against
the UK 99 % target. Alerts: a charger unreliable for longer than its operator's maximum time to
repair (``chargerDown``), an operator below its availability SLA this month (``slaBreach``), a
bay sensor that went silent (``sensorSilent``). Each alert closes when the cause is gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from citiesincharge import ids

from . import kpis
from .alerts import AlertBook, OpenAlert, Severity, at_least, local, raised, severity_for
from .base import Context, Worker, attribute_value
from .clock import iso, parse
from .places import Places
from .reliability import UNRELIABLE, Summary, combined, insert, summarise

log = logging.getLogger(__name__)
RAPID_KW = 50.0
UK_TARGET = 99.0
RECOMPUTE_EVERY = 15  # ticks between full recomputations (time passes even without events)
ALERT_KINDS = ("chargerDown", "sensorSilent", "slaBreach")
SLA_MIN_DAYS = 7.0  # observed days per charger before a below-target month is projected as a breach
FREQUENCIES: tuple[kpis.Frequency, ...] = ("daily", "monthly", "yearly")
_COUNTING = ("reliable = AVAILABLE, CHARGING, RESERVED; unreliable = INOPERATIVE, OUTOFORDER; "
             "UNKNOWN, BLOCKED not counted")
FORMULAS = {  # calculationFormula, as docs/KPIS.md states them
    "reliability": f"100 * reliable time / (reliable + unreliable time), summed over the chargers; {_COUNTING}",
    "rapidReliability": f"reliability of the chargers of >= {RAPID_KW:g} kW only (UK target {UK_TARGET:g} %); "
                        f"{_COUNTING}",
    "mttrHours": "mean duration in hours of the incidents (continuous unreliable stretches) that ended",
    "mtbfHours": "reliable hours / number of incidents",
    "incidents": "number of incidents (continuous unreliable stretches) in the period",
    "incidentLog": "each incident of the period: start, end (null while it lasts), hours, status",
}


class Sla(BaseModel):
    availability: float = Field(99.0, ge=0, le=100, description="monthly reliability an operator promises, %")
    max_repair_hours: float = Field(24.0, gt=0, description="longest acceptable time to repair one charger")


class SlaFile(BaseModel):
    default: Sla = Field(default_factory=Sla)
    operators: dict[str, Sla] = Field(default_factory=dict)

    def for_operator(self, operator: str | None) -> Sla:
        return self.operators.get(operator or "", self.default)


@dataclass
class Charger:
    id: str
    operator: str | None = None
    station: str | None = None
    power_kw: float | None = None
    timeline: list[tuple[datetime, str]] = field(default_factory=list)

    def add(self, moment: datetime, status: str) -> bool:
        return insert(self.timeline, moment, status)



def sla_verdict(summary: Summary, chargers: int, month: datetime, month_end: datetime, now: datetime,
                target: float) -> tuple[str, dict[str, Any]] | None:
    """Whether a month's SLA is breached, from what has been observed of it so far.

    ``certain``: even if every remaining charger-hour of the month were reliable, the month would
    end below ``target``. ``projected``: at least ``SLA_MIN_DAYS`` observed per charger and the rate
    so far is below target (the month, continuing so, ends below it). Otherwise None: a day of data
    on day 2 is no verdict. The data carry the partial figure and its coverage (the share of the
    month's charger-hours observed), so a reader sees how much the verdict rests on.
    """
    reliability = summary.reliability
    counted = summary.reliable_hours + summary.unreliable_hours
    if reliability is None or chargers == 0 or reliability >= target:
        return None
    month_hours = (month_end - month).total_seconds() / 3600 * chargers
    remaining = max(0.0, (month_end - now).total_seconds() / 3600) * chargers
    best = 100 * (summary.reliable_hours + remaining) / (counted + remaining)
    observed_days = counted / chargers / 24
    data = {"reliability": reliability, "target": target, "coverage": round(counted / month_hours, 4),
            "observedHours": round(counted, 3), "observedDays": round(observed_days, 2),
            "bestPossible": round(best, 3), "projected": best >= target}
    if best < target:
        return "certain", {**data, "verdict": "certain"}
    if observed_days >= SLA_MIN_DAYS:
        return "projected", {**data, "verdict": "projected", "projectedReliability": reliability}
    return None


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(moment: datetime) -> datetime:
    return (_month_start(moment) + timedelta(days=32)).replace(day=1)


class HealthWorker(Worker):
    name = "health"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        path = context.settings.sla_file
        self.sla = SlaFile.model_validate(yaml.safe_load(Path(path).read_text("utf-8")) or {}) if path else SlaFile()
        self.chargers: dict[str, Charger] = {}
        self.down: dict[str, datetime] = {}  # EVSE -> incident start, for chargerDown alerts raised
        self.silent: dict[str, datetime] = {}  # bay -> since when unknown
        self.breaches: dict[str, datetime] = {}  # operator -> when its open slaBreach began
        self.book = AlertBook(context, ALERT_KINDS)
        self.places = Places(context.client)
        self.zone = context.settings.zone()
        self._ticks = 0
        self._dirty: set[str] = set()
        self.kpis = kpis.Publisher.from_settings(context.settings)
        self.council = kpis.council_id(context.settings)
        self.names = kpis.Names(self.places, self.council)

    # -- inputs ------------------------------------------------------------------------------
    def backfill(self) -> None:
        client = self.ctx.client
        self.book.load()  # the open alerts of our kinds: adopted below if their cause is still there
        self.places.prefetch("EVChargingStation", "OnStreetParking", "OffStreetParking")
        now = self.ctx.settings.world_clock().now()  # the run's one clock (a continued demo is ahead of the wall)
        for entity in client.query_entities(type="EVSE", attrs=["status", "dataProvider", "refEVChargingStation",
                                                                "maxPower"]):
            self._describe(entity)
        since = _month_start(now) - timedelta(days=1)
        for entity in client.temporal_query(type="EVSE", attrs=["status"], timerel="after", time_at=since.isoformat()):
            charger = self.chargers.setdefault(entity["id"], Charger(entity["id"]))
            for instance in entity.get("status", []):
                if "observedAt" in instance:
                    charger.add(parse(instance["observedAt"]), str(instance["value"]))
        for entity in client.query_entities(type="EVSE", attrs=["status"]):  # the latest, in case history is off
            self.handle(entity)
        for entity in client.query_entities(type="ParkingSpot", attrs=["status"]):
            self.handle(entity)
        self._dirty = set(self.chargers)
        for charger in self.chargers.values():  # a charger already down when we start gets its deadline too
            self._watch_repair(charger)
        self._settle_alerts()
        log.info("health: back-filled %d chargers", len(self.chargers))

    def _describe(self, entity: dict[str, Any]) -> Charger:
        charger = self.chargers.setdefault(entity["id"], Charger(entity["id"]))
        charger.operator = attribute_value(entity, "dataProvider") or charger.operator
        charger.station = attribute_value(entity, "refEVChargingStation") or charger.station
        power = attribute_value(entity, "maxPower")
        charger.power_kw = float(power) if isinstance(power, int | float) else charger.power_kw
        return charger

    def handle(self, entity: dict[str, Any]) -> None:
        status = entity.get("status")
        if not isinstance(status, dict) or "observedAt" not in status:
            return
        moment = parse(status["observedAt"])
        self.ctx.clock.observe(moment)
        if entity["type"] == "ParkingSpot":
            self._bay(entity["id"], str(status["value"]), moment)
            return
        charger = self._describe(entity)
        if charger.add(moment, str(status["value"])):
            self._dirty.add(charger.id)
            self._watch_repair(charger)

    # -- alerts ------------------------------------------------------------------------------
    def _incident_start(self, charger: Charger) -> datetime | None:
        """Start of the unreliable stretch the charger is in now, if it is in one."""
        start = None
        for moment, status in reversed(charger.timeline):
            if status in UNRELIABLE:
                start = moment
            elif status in ("UNKNOWN", "BLOCKED"):
                continue
            else:
                break
        return start

    def _watch_repair(self, charger: Charger) -> None:
        """A charger's repair deadline (a data-clock timer), or the close of its chargerDown alert once
        it is back; the other chargers of its site re-judge their severity (the share down changed)."""
        start = self._incident_start(charger)
        key = f"repair:{charger.id}"
        if start is None:
            self.ctx.timers.cancel(key)
            if charger.id in self.down:
                since = self.down.pop(charger.id)
                recovered = next((m for m, s in reversed(charger.timeline) if s not in UNRELIABLE), since)
                self.book.close(charger.id, "chargerDown", recovered, "back in service",
                                {"chargerStatus": charger.timeline[-1][1] if charger.timeline else None})
        elif charger.id not in self.down:
            self.ctx.timers.schedule(key, start + self._repair_limit(charger), lambda: self._raise_down(charger))
        for other in self.down:
            if other != charger.id and self.chargers[other].station == charger.station:
                self.book.refresh(other, "chargerDown")

    def _repair_limit(self, charger: Charger) -> timedelta:
        return timedelta(hours=self.sla.for_operator(charger.operator).max_repair_hours)

    def _raise_down(self, charger: Charger) -> None:
        start = self._incident_start(charger)
        if start is None or charger.id in self.down or start + self._repair_limit(charger) > self.ctx.clock.now():
            return
        self.down[charger.id] = start
        self.book.raise_(self._down_alert(charger, start))

    def _site_share_down(self, charger: Charger) -> tuple[int, int]:
        """(EVSEs of the charger's station down now, EVSEs of the station)."""
        site = [c for c in self.chargers.values() if c.station == charger.station] if charger.station else [charger]
        return sum(1 for c in site if self._incident_start(c) is not None), len(site)

    def _down_severity(self, charger: Charger, since: datetime, moment: datetime) -> Severity:
        """Time down against the operator's repair time (medium at it, high at twice, critical at three
        times), a level higher for a rapid charger (>= 50 kW) and for half its site or more down, and
        at least high when the whole site is down (nobody can charge there)."""
        limit_minutes = self._repair_limit(charger).total_seconds() / 60
        level = severity_for((moment - since).total_seconds() / 60,
                             (0, limit_minutes, 2 * limit_minutes, 3 * limit_minutes))
        level = raised(level, 1 if (charger.power_kw or 0) >= RAPID_KW else 0)
        down, total = self._site_share_down(charger)
        if total > 1 and down * 2 >= total:
            level = raised(level, 1)
        return at_least(level, "high") if down >= total else level

    def _down_alert(self, charger: Charger, since: datetime) -> OpenAlert:
        sla = self.sla.for_operator(charger.operator)
        limit = self._repair_limit(charger)
        where = self.places.where(charger.station)
        rapid = (charger.power_kw or 0) >= RAPID_KW
        uid = charger.id.rsplit(":", 1)[-1]
        what = f"Rapid charger {uid} ({charger.power_kw:g} kW)" if rapid and charger.power_kw else f"Charger {uid}"
        organization = ids.organization(charger.operator) if charger.operator else None
        return OpenAlert(
            "chargerDown", charger.id, since, self.ctx.clock.now(), "medium", charger.id,
            f"{what}{f' at {where}' if where else ''} of {charger.operator} out of service since "
            f"{local(since, self.zone, date=True)}, beyond the {sla.max_repair_hours:g} h to repair",
            {"evse": charger.id, "operator": charger.operator, "organization": organization,
             "station": charger.station, "rapid": rapid, "powerKW": charger.power_kw,
             "chargerStatus": charger.timeline[-1][1] if charger.timeline else None,
             "maxRepairHours": sla.max_repair_hours},
            level=lambda moment: self._down_severity(charger, since, moment),
            thresholds=[since + limit * n for n in (1, 2, 3)])

    def _bay(self, bay: str, status: str, moment: datetime) -> None:
        if status == "unknown" and bay not in self.silent:
            self.silent[bay] = moment
            self.book.raise_(self._silent_alert(bay, moment))
        elif status != "unknown" and bay in self.silent:
            self.silent.pop(bay)
            self.book.close(bay, "sensorSilent", moment, f"the sensor reported again ({status})")

    def _silent_alert(self, bay: str, since: datetime) -> OpenAlert:
        """Informational at first, low after an hour, medium after a day (the bay's state is unknown)."""
        site = self.places.site_of(bay)
        name = self.places.name(bay) or bay.rsplit(":", 1)[-1]
        label = name if name.lower().startswith("bay") else f"bay {name}"
        where = f"{label} at {self.places.name(site)}" if self.places.name(site) else label
        steps = (0, 60, 1440)
        return OpenAlert("sensorSilent", bay, since, self.ctx.clock.now(), "informational", bay,
                         f"Sensor of {where} silent beyond its heartbeat since {local(since, self.zone, date=True)}",
                         {"bay": bay, "site": site, "device": self.places.device_of(bay)},
                         level=lambda moment: severity_for((moment - since).total_seconds() / 60, steps),
                         thresholds=[since + timedelta(minutes=m) for m in steps])

    def _settle_alerts(self) -> None:
        """The broker's open alerts of our kinds: adopted while their cause is still there (a charger
        still down beyond its repair time, a bay sensor still silent, a breach still certain or
        projected), closed otherwise; never a second one."""
        now = self.ctx.clock.now()
        for subject, kind in list(self.book.stored):
            charger = self.chargers.get(subject)
            if kind == "chargerDown" and charger is not None:
                start = self._incident_start(charger)
                if start is not None and start + self._repair_limit(charger) <= now:
                    since = parse(str(self.book.stored[(subject, kind)]["validFrom"]))
                    self.down[charger.id] = since
                    self.book.adopt(subject, kind, self._down_alert(charger, since))
            elif kind == "slaBreach":
                operator = subject.rsplit(":", 1)[-1]
                mine = [c for c in self.chargers.values() if c.operator == operator]
                calendar = self.ctx.clock.calendar_now().astimezone(self.zone)
                self._sla(operator, mine, _month_start(calendar), calendar)

        def ended(subject: str, kind: str) -> datetime | None:
            charger = self.chargers.get(subject)
            if kind == "chargerDown" and charger is not None and charger.timeline:
                return next((m for m, s in reversed(charger.timeline) if s not in UNRELIABLE), None)
            return None

        self.book.settle(ended)

    # -- KPIs --------------------------------------------------------------------------------
    def tick(self) -> None:
        """Recompute the KPIs of what changed (and, every few ticks or when a period has ended, of
        everything, as time passes without events); the Publisher decides what is written."""
        self._ticks += 1
        now = self.ctx.clock.calendar_now()
        if self._ticks % RECOMPUTE_EVERY == 0 or self.kpis.expired(now):
            self._dirty |= set(self.chargers)
        if not self._dirty:
            self.ctx.write(self.kpis.release(now))
            return
        zone = self.ctx.settings.zone()
        periods = {frequency: kpis.period(frequency, now, zone) for frequency in FREQUENCIES}
        entities: list[dict[str, Any]] = []
        dirty = [self.chargers[i] for i in sorted(self._dirty)]
        for charger in dirty:
            refs = {"refEVChargingStation": charger.station} if charger.station else None
            label = self.names.evse(charger.id, charger.station)
            entities += self._kpis(("reliability",), charger.id, "evse", periods["daily"], now, [charger],
                                   charger.operator, label, refs)
            entities += self._kpis(("reliability", "incidentLog"), charger.id, "evse", periods["monthly"], now,
                                   [charger], charger.operator, label, refs)
        for station in sorted({c.station for c in dirty if c.station}):
            mine = [c for c in self.chargers.values() if c.station == station]
            for frequency in ("daily", "monthly"):
                entities += self._kpis(("reliability",), station, "station", periods[frequency], now, mine,
                                       mine[0].operator, self.names.of(station))
        network, alerts = self._operator_kpis({c.operator for c in dirty}, periods, now)
        self._dirty.clear()
        self.ctx.write(alerts + self.kpis.offer(entities + network, now) + self.kpis.release(now))

    def _operator_kpis(self, operators: set[str | None], periods: dict[kpis.Frequency, kpis.Period],
                       now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Operator KPIs of the operators touched, the council's (whole network) with them; and the
        operators' SLA alerts. Returns (KPIs, alerts)."""
        entities: list[dict[str, Any]] = []
        alerts: list[dict[str, Any]] = []
        touched = sorted(o for o in operators if o)
        subjects: list[tuple[str | None, str, kpis.Scope, list[Charger]]] = [
            (o, ids.organization(o), "operator", [c for c in self.chargers.values() if c.operator == o])
            for o in touched]
        if touched:
            subjects.append((None, self.council, "council", list(self.chargers.values())))
        for operator, subject, scope, mine in subjects:
            rapid = [c for c in mine if (c.power_kw or 0) >= RAPID_KW]
            label = self.names.of(subject)
            for frequency in FREQUENCIES:
                entities += self._kpis(("reliability", "mttrHours", "mtbfHours", "incidents"), subject, scope,
                                       periods[frequency], now, mine, operator, label)
                if rapid:
                    entities += self._kpis(("rapidReliability",), subject, scope, periods[frequency], now, rapid,
                                           operator, label)
            if operator is not None:
                alerts += self._sla(operator, mine, periods["monthly"].start, now)
        return entities, alerts

    def _kpis(self, names: tuple[str, ...], subject: str, scope: kpis.Scope, current: kpis.Period, now: datetime,
              chargers: list[Charger], operator: str | None, label: str,
              refs: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """``names`` of ``subject`` for the running period, and for the one before it too while this run
        wrote that one (to finalise it once it has ended, or correct it after late data)."""
        out: list[dict[str, Any]] = []
        before = current.previous()
        for when in (before, current):
            if when is before and not any(self.kpis.wrote(kpis.kpi_id(n, subject, when.frequency), when.end)
                                          for n in names):
                continue  # all of a group or none: a figure that first exists once the period ended (MTTR) too
            until = min(now, when.end)
            summary = combined([summarise(c.timeline, when.start, until) for c in chargers])
            coverage = (summary.reliable_hours + summary.unreliable_hours) / (len(chargers) * when.hours())
            out += [self._kpi(n, subject, scope, when, now, summary, coverage, operator, label, refs) for n in names]
        return out

    def _sla(self, operator: str, mine: list[Charger], month: datetime, now: datetime) -> list[dict[str, Any]]:
        """The operator's slaBreach alert, at its state changes only: opened when the month's breach is
        certain or clearly projected (:func:`sla_verdict`), its severity raised when a projected one
        becomes certain, closed when neither holds (or the month ended). Writes through the alert
        book; returns nothing for the caller to write."""
        sla = self.sla.for_operator(operator)
        subject = ids.organization(operator)
        summary = combined([summarise(c.timeline, month, now) for c in mine])
        verdict = sla_verdict(summary, len(mine), month, _next_month(month), now, sla.availability)
        open_ = self.book.get(subject, "slaBreach")
        if open_ is not None and open_.data.get("month") != month.strftime("%Y-%m"):
            self.book.close(subject, "slaBreach", month, "the month ended")
            self.breaches.pop(operator, None)
            open_ = None
        if verdict is None:
            if self.book.close(subject, "slaBreach", now, "no longer certain nor projected below the target"):
                self.breaches.pop(operator, None)
            return []
        state, data = verdict
        severity: Severity = "critical" if state == "certain" else "high"
        description = self._breach_description(operator, state, data, sla)
        data = {**data, "operator": operator, "organization": subject, "month": month.strftime("%Y-%m")}
        if open_ is None:  # opened, or the broker's open one adopted (raise_ does that)
            self.book.raise_(self._breach_alert(operator, subject, now, severity, description, data))
            self.breaches[operator] = self.book.open[(subject, "slaBreach")].since
        elif open_.data.get("verdict") != state:
            self.book.update(subject, "slaBreach", severity=severity, description=description, data=data)
        return []

    def _breach_description(self, operator: str, state: str, data: dict[str, Any], sla: Sla) -> str:
        name = self.places.name(ids.organization(operator)) or operator
        if state == "certain":
            return (f"{name}: reliability this month cannot reach the {sla.availability:g} % agreed any more (at "
                    f"most {data['bestPossible']:g} % even if every remaining hour is reliable; "
                    f"{data['reliability']:g} % so far, {data['coverage']:.0%} of the month observed)")
        return (f"{name}: reliability this month projected below the {sla.availability:g} % agreed "
                f"({data['reliability']:g} % over {data['observedDays']:g} observed days, "
                f"{data['coverage']:.0%} of the month)")

    def _breach_alert(self, operator: str, subject: str, since: datetime, severity: Severity, description: str,
                      data: dict[str, Any]) -> OpenAlert:
        return OpenAlert("slaBreach", subject, since, self.ctx.clock.now(), severity, subject, description, data)

    def _kpi(self, name: str, subject: str, scope: kpis.Scope, when: kpis.Period, now: datetime, summary: Summary,
             coverage: float, operator: str | None, label: str, refs: dict[str, str] | None) -> dict[str, Any]:
        until = min(now, when.end)
        log_ = [{"start": iso(i.start), "end": iso(i.end) if i.end else None, "hours": round(i.hours(until), 3),
                 "status": i.status} for i in summary.incidents]
        values: dict[str, tuple[Any, str | None]] = {
            "reliability": (summary.reliability, "P1"), "rapidReliability": (summary.reliability, "P1"),
            "mttrHours": (summary.mttr_hours, "HUR"), "mtbfHours": (summary.mtbf_hours, "HUR"),
            "incidents": (len(summary.incidents), None), "incidentLog": (log_, None)}
        value, unit = values[name]
        entity = kpis.kpi(name, subject, scope, when, value, now=now, subject_name=label, unit=unit,
                          organization=operator, coverage=coverage, refs=refs, formula=FORMULAS[name],
                          description=f"{kpis.TITLES[name]} of {label}, {when.frequency} (UK PCPR 2023 counting)",
                          aggregated=[{"entityType": "EVSE", "attrs": ["status"]}])
        if name in ("reliability", "rapidReliability") and value is not None:
            target = UK_TARGET if name == "rapidReliability" else self.sla.for_operator(operator).availability
            entity["currentStanding"] = {"type": "Property", "value": "good" if value >= target else "bad"}
            entity["businessTarget"] = {"type": "Property", "value": f">= {target:g} %"}
        return entity

    def status(self) -> dict[str, Any]:
        return {"chargers": len(self.chargers), "chargersDown": len(self.down), "silentBays": len(self.silent),
                "slaBreaches": sorted(self.breaches)}
