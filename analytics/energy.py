"""Energy & revenue from charge detail records: what was delivered, billed, and how the bays were used.

Per station, per operator and for the whole network, per day and per month of the council's
calendar (by the CDR's end time, in CIC_TIMEZONE): kWh delivered,
revenue excluding and including VAT per currency, average price per kWh, sessions, average
duration and idle (parking) time, and the peak concurrent charging power, found by sweeping the
sessions' charging intervals (each at its average power: energy over the time it drew power).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from citiesincharge import ids

from . import kpis
from .base import Context, Worker, attribute_value
from .clock import parse
from .places import Places

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cdr:
    id: str
    operator: str
    station: str
    start: datetime
    end: datetime
    kwh: float
    excl: float
    incl: float | None
    currency: str
    hours: float
    idle_hours: float

    @property
    def charging_interval(self) -> tuple[datetime, datetime, float]:
        """(start, end, kW) of the part of the session that drew power."""
        charging = max(self.hours - self.idle_hours, 1 / 60)
        return self.start, self.start + timedelta(hours=charging), self.kwh / charging



def parse_cdr(entity: dict[str, Any]) -> Cdr | None:
    def get(name: str) -> Any:
        return attribute_value(entity, name)

    try:
        incl = get("totalCostInclVat")
        return Cdr(entity["id"], str(get("dataProvider")), str(get("refEVChargingStation")),
                   parse(str(get("startDateTime"))), parse(str(get("endDateTime"))), float(get("energyDelivered")),
                   float(get("totalCostExclVat")), float(incl) if incl is not None else None, str(get("currency")),
                   float(get("totalTime")), float(get("totalParkingTime") or 0.0))
    except (TypeError, ValueError) as error:
        log.warning("CDR %s skipped: %s", entity.get("id"), error)
        return None


def peak_kw(cdrs: list[Cdr]) -> float:
    """Largest sum of charging power at any moment (sweep over interval starts and ends)."""
    events = []
    for cdr in cdrs:
        start, end, kw = cdr.charging_interval
        events += [(start, kw), (end, -kw)]
    level = peak = 0.0
    for _moment, delta in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts at equal times
        level += delta
        peak = max(peak, level)
    return round(peak, 2)


Group = tuple[kpis.Scope, str, str, datetime]  # (scope, subject id, frequency, period start)
FORMULAS = {  # calculationFormula, as docs/KPIS.md states them
    "energyDelivered": "sum of energyDelivered (kWh) of the CDRs that ended in the period",
    "sessions": "number of CDRs that ended in the period",
    "avgDurationHours": "mean totalTime (h) of those CDRs",
    "avgIdleHours": "mean totalParkingTime (h: plugged in, not charging) of those CDRs",
    "peakPowerKW": "largest sum, at any moment, of the charging power of the sessions (each at kWh / charging "
                   "hours over its charging interval)",
    "revenueExclVat": "sum of totalCostExclVat of those CDRs in the currency",
    "revenueInclVat": "sum of totalCostInclVat of those CDRs in the currency (only when every CDR has one)",
    "avgPricePerKWh": "revenue excl. VAT / kWh of those CDRs in the currency",
}


class EnergyWorker(Worker):
    """Energy KPIs per station, operator and the whole network, per day and month of the council's
    calendar (by the CDR's end): a CDR that arrives late corrects its period."""

    name = "energy"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.cdrs: dict[str, Cdr] = {}
        self._periods: dict[str, tuple[kpis.Period, kpis.Period]] = {}  # CDR -> (its day, its month)
        self._dirty: dict[Group, kpis.Period] = {}
        self._group_of: dict[str, tuple[Group, kpis.Period]] = {}  # KPI id -> its newest group
        self.kpis = kpis.Publisher.from_settings(context.settings)
        self.council = kpis.council_id(context.settings)
        self.names = kpis.Names(Places(context.client), self.council)

    def backfill(self) -> None:
        for entity in self.ctx.client.query_entities(type="ChargeDetailRecord"):
            self.handle(entity)
        log.info("energy: back-filled %d charge detail records", len(self.cdrs))

    def _groups(self, cdr: Cdr) -> list[tuple[Group, kpis.Period]]:
        day, month = self._periods[cdr.id]
        return [((scope, subject, when.frequency, when.start), when) for scope, subject in _subjects(cdr, self.council)
                for when in (day, month)]

    def handle(self, entity: dict[str, Any]) -> None:
        cdr = parse_cdr(entity)
        if cdr is None or self.cdrs.get(cdr.id) == cdr:
            return
        if cdr.id in self.cdrs:  # a CDR re-sent with other figures: its old periods are recomputed too
            self._dirty.update(self._groups(self.cdrs[cdr.id]))
        self.cdrs[cdr.id] = cdr
        zone = self.ctx.settings.zone()
        self._periods[cdr.id] = (kpis.period("daily", cdr.end, zone), kpis.period("monthly", cdr.end, zone))
        self.ctx.clock.observe(cdr.end)
        self._dirty.update(self._groups(cdr))

    def tick(self) -> None:
        now = self.ctx.clock.calendar_now()
        for kpi in self.kpis.expired(now):  # a period has ended: its figures are final now
            group, when = self._group_of[kpi]
            self._dirty[group] = when
        if not self._dirty:
            self.ctx.write(self.kpis.release(now))
            return
        groups: dict[Group, list[Cdr]] = defaultdict(list)
        for cdr in self.cdrs.values():
            for group, _when in self._groups(cdr):
                if group in self._dirty:
                    groups[group].append(cdr)
        entities = []
        for group, cdrs in sorted(groups.items()):
            entities += self._kpis(group, self._dirty[group], cdrs, now)
        self._dirty.clear()
        self.ctx.write(self.kpis.offer(entities, now) + self.kpis.release(now))

    def _kpis(self, group: Group, when: kpis.Period, cdrs: list[Cdr], now: datetime) -> list[dict[str, Any]]:
        scope, subject = group[0], group[1]
        operator = cdrs[0].operator if scope != "council" else None
        label = self.names.of(subject)
        kwh = round(sum(c.kwh for c in cdrs), 3)
        sessions = len(cdrs)

        def kpi(name: str, value: Any, unit: str | None, currency: str | None = None) -> dict[str, Any]:
            entity = kpis.kpi(name, subject, scope, when, value, now=now, subject_name=label, unit=unit,
                              organization=operator, currency=currency, formula=FORMULAS[name],
                              description=f"{kpis.TITLES[name]} of {label}, {when.frequency}, by the CDRs' end",
                              aggregated=[{"entityType": "ChargeDetailRecord", "attrs": ["energyDelivered"]}])
            self._group_of[entity["id"]] = (group, when)
            return entity

        out = [kpi("energyDelivered", kwh, "KWH"),
               kpi("sessions", sessions, None),
               kpi("avgDurationHours", round(sum(c.hours for c in cdrs) / sessions, 3), "HUR"),
               kpi("avgIdleHours", round(sum(c.idle_hours for c in cdrs) / sessions, 3), "HUR"),
               kpi("peakPowerKW", peak_kw(cdrs), "KWT")]
        for currency in sorted({c.currency for c in cdrs}):
            billed = [c for c in cdrs if c.currency == currency]
            excl = round(sum(c.excl for c in billed), 2)
            out.append(kpi("revenueExclVat", excl, currency, currency))
            with_vat = [c.incl for c in billed if c.incl is not None]
            if len(with_vat) == len(billed):
                out.append(kpi("revenueInclVat", round(sum(with_vat), 2), currency, currency))
            energy = sum(c.kwh for c in billed)
            if energy > 0:
                out.append(kpi("avgPricePerKWh", round(excl / energy, 4), currency, currency))
        return out

    def status(self) -> dict[str, Any]:
        return {"cdrs": len(self.cdrs)}


def _subjects(cdr: Cdr, council: str) -> list[tuple[kpis.Scope, str]]:
    """What a CDR counts towards: its station, its operator, the whole network."""
    out: list[tuple[kpis.Scope, str]] = [("operator", ids.organization(cdr.operator)), ("council", council)]
    station: list[tuple[kpis.Scope, str]] = [("station", cdr.station)] if cdr.station.startswith("urn:") else []
    return station + out
