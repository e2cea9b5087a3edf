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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from . import findings
from .base import Context, Worker, attribute_value
from .clock import iso, parse
from .reliability import UNRELIABLE, Summary, combined, insert, summarise

log = logging.getLogger(__name__)
RAPID_KW = 50.0
UK_TARGET = 99.0
RECOMPUTE_EVERY = 15  # ticks between full recomputations (time passes even without events)


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
        self.breaches: dict[str, datetime] = {}  # operator -> month start of an open slaBreach
        self._ticks = 0
        self._dirty: set[str] = set()

    # -- inputs ------------------------------------------------------------------------------
    def backfill(self) -> None:
        client = self.ctx.client
        now = datetime.now(UTC)
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
        start = self._incident_start(charger)
        key = f"repair:{charger.id}"
        if start is None:
            self.ctx.timers.cancel(key)
            if charger.id in self.down:
                since = self.down.pop(charger.id)
                recovered = next((m for m, s in reversed(charger.timeline) if s not in UNRELIABLE), since)
                self.ctx.write([self._down_alert(charger, since, until=recovered)])
            return
        if charger.id not in self.down:
            limit = timedelta(hours=self.sla.for_operator(charger.operator).max_repair_hours)
            self.ctx.timers.schedule(key, start + limit, lambda: self._raise_down(charger))

    def _raise_down(self, charger: Charger) -> None:
        start = self._incident_start(charger)
        if start is None or charger.id in self.down:
            return
        self.down[charger.id] = start
        self.ctx.write([self._down_alert(charger, start)])

    def _down_alert(self, charger: Charger, since: datetime, until: datetime | None = None) -> dict[str, Any]:
        sla = self.sla.for_operator(charger.operator)
        minutes = sla.max_repair_hours * 60
        return findings.alert(
            "chargerDown", charger.id, since, now=self.ctx.clock.now(), until=until, source=charger.id,
            steps=(minutes, minutes * 2, minutes * 4, minutes * 8),
            description=f"Charger {charger.id.rsplit(':', 1)[-1]} of {charger.operator} out of service since "
                        f"{since:%Y-%m-%d %H:%M} UTC, beyond the {sla.max_repair_hours:g} h to repair",
            data={"evse": charger.id, "operator": charger.operator, "station": charger.station,
                  "chargerStatus": charger.timeline[-1][1] if charger.timeline else None,
                  "maxRepairHours": sla.max_repair_hours})

    def _bay(self, bay: str, status: str, moment: datetime) -> None:
        if status == "unknown" and bay not in self.silent:
            self.silent[bay] = moment
            self.ctx.write([self._silent_alert(bay, moment)])
        elif status != "unknown" and bay in self.silent:
            since = self.silent.pop(bay)
            self.ctx.write([self._silent_alert(bay, since, until=moment)])

    def _silent_alert(self, bay: str, since: datetime, until: datetime | None = None) -> dict[str, Any]:
        return findings.alert("sensorSilent", bay, since, now=self.ctx.clock.now(), until=until, source=bay,
                              description=f"Bay sensor of {bay.rsplit(':', 2)[-2]}/{bay.rsplit(':', 1)[-1]} "
                                          f"silent beyond its heartbeat since {since:%Y-%m-%d %H:%M} UTC",
                              data={"bay": bay})

    # -- KPIs --------------------------------------------------------------------------------
    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % RECOMPUTE_EVERY == 0:
            self._dirty |= set(self.chargers)
        if not self._dirty:
            return
        now = self.ctx.clock.calendar_now()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        month = _month_start(now)
        entities: list[dict[str, Any]] = []
        for charger_id in sorted(self._dirty):
            charger = self.chargers[charger_id]
            refs = {"refEVSE": charger.id}
            entities.append(self._kpi("reliability", charger.id, day, now, summarise(charger.timeline, day, now),
                                      "daily", charger.operator, refs))
            monthly = summarise(charger.timeline, month, now)
            entities.append(self._kpi("reliability", charger.id, month, now, monthly, "monthly", charger.operator,
                                      refs))
            entities.append(self._kpi("incidentLog", charger.id, month, now, monthly, "monthly", charger.operator,
                                      refs))
        dirty = [self.chargers[i] for i in self._dirty]
        for station in sorted({c.station for c in dirty if c.station}):
            mine = [c for c in self.chargers.values() if c.station == station]
            for start, frequency in ((day, "daily"), (month, "monthly")):
                summary = combined([summarise(c.timeline, start, now) for c in mine])
                entities.append(self._kpi("reliability", station, start, now, summary, frequency, mine[0].operator,
                                          {"refEVChargingStation": station}))
        entities += self._operator_kpis({c.operator for c in dirty}, day, month, now)
        self._dirty.clear()
        self.ctx.write(entities)

    def _operator_kpis(self, operators: set[str | None], day: datetime, month: datetime,
                       now: datetime) -> list[dict[str, Any]]:
        entities = []
        for operator in sorted(o for o in operators if o):
            mine = [c for c in self.chargers.values() if c.operator == operator]
            rapid = [c for c in mine if (c.power_kw or 0) >= RAPID_KW]
            year = month.replace(month=1)
            for start, frequency in ((day, "daily"), (month, "monthly"), (year, "yearly")):
                everything = combined([summarise(c.timeline, start, now) for c in mine])
                scope = f"Organization:{operator}"
                entities.append(self._kpi("reliability", scope, start, now, everything, frequency, operator))
                entities.append(self._kpi("mttrHours", scope, start, now, everything, frequency, operator))
                entities.append(self._kpi("mtbfHours", scope, start, now, everything, frequency, operator))
                entities.append(self._kpi("incidents", scope, start, now, everything, frequency, operator))
                if rapid:
                    network = combined([summarise(c.timeline, start, now) for c in rapid])
                    entities.append(self._kpi("rapidReliability", scope, start, now, network, frequency, operator))
            entities += self._sla(operator, mine, month, now)
        return entities

    def _sla(self, operator: str, mine: list[Charger], month: datetime, now: datetime) -> list[dict[str, Any]]:
        sla = self.sla.for_operator(operator)
        reliability = combined([summarise(c.timeline, month, now) for c in mine]).reliability
        subject = f"urn:ngsi-ld:Organization:{operator}"
        breached = reliability is not None and reliability < sla.availability
        if breached and operator not in self.breaches:
            self.breaches[operator] = month
        elif not breached and operator in self.breaches:
            since = self.breaches.pop(operator)
            return [self._breach_alert(operator, subject, since, reliability, sla, until=now)]
        if operator in self.breaches:
            return [self._breach_alert(operator, subject, self.breaches[operator], reliability, sla)]
        return []

    def _breach_alert(self, operator: str, subject: str, since: datetime, reliability: float | None, sla: Sla,
                      until: datetime | None = None) -> dict[str, Any]:
        return findings.alert("slaBreach", subject, since, now=self.ctx.clock.now(), until=until, source=subject,
                              description=f"{operator}: reliability {reliability}% this month is below the "
                                          f"{sla.availability:g}% agreed",
                              data={"operator": operator, "reliability": reliability, "target": sla.availability,
                                    "month": since.strftime("%Y-%m")})

    def _kpi(self, name: str, scope: str, start: datetime, now: datetime, summary: Summary, frequency: str,
             operator: str | None, refs: dict[str, str] | None = None) -> dict[str, Any]:
        log_ = [{"start": iso(i.start), "end": iso(i.end) if i.end else None, "hours": round(i.hours(now), 3),
                 "status": i.status} for i in summary.incidents]
        values: dict[str, tuple[Any, str | None]] = {
            "reliability": (summary.reliability, "P1"), "rapidReliability": (summary.reliability, "P1"),
            "mttrHours": (summary.mttr_hours, "HUR"), "mtbfHours": (summary.mtbf_hours, "HUR"),
            "incidents": (len(summary.incidents), None), "incidentLog": (log_, None)}
        value, unit = values[name]
        period = start.strftime({"daily": "%Y-%m-%d", "monthly": "%Y-%m", "yearly": "%Y"}[frequency])
        end = {"daily": start + timedelta(days=1), "monthly": _next_month(start),
               "yearly": start.replace(year=start.year + 1)}[frequency]
        entity = findings.kpi(name, scope.removeprefix("urn:ngsi-ld:"), period, value, start=start, end=end,
                              frequency=frequency, organization=operator, unit=unit, refs=refs,
                              description=f"{name} of {scope} ({frequency}, UK PCPR 2023 counting)",
                              aggregated=[{"entityType": "EVSE", "attrs": ["status"]}])
        if name in ("reliability", "rapidReliability") and value is not None:
            target = UK_TARGET if name == "rapidReliability" else self.sla.for_operator(operator).availability
            entity["currentStanding"] = {"type": "Property", "value": "good" if value >= target else "bad"}
            entity["businessTarget"] = {"type": "Property", "value": f">= {target:g} %"}
        return entity

    def status(self) -> dict[str, Any]:
        return {"chargers": len(self.chargers), "chargersDown": len(self.down), "silentBays": len(self.silent),
                "slaBreaches": sorted(self.breaches)}
