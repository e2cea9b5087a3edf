"""Energy & revenue from charge detail records: what was delivered, billed, and how the bays were used.

Per station and per operator, per day and per month (by the CDR's end time, UTC): kWh delivered,
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

from . import findings
from .base import Context, Worker, attribute_value
from .clock import parse

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


class EnergyWorker(Worker):
    name = "energy"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.cdrs: dict[str, Cdr] = {}
        self._dirty: set[tuple[str, str, str]] = set()  # (scope kind, scope, period)

    def backfill(self) -> None:
        for entity in self.ctx.client.query_entities(type="ChargeDetailRecord"):
            self.handle(entity)
        log.info("energy: back-filled %d charge detail records", len(self.cdrs))

    def handle(self, entity: dict[str, Any]) -> None:
        cdr = parse_cdr(entity)
        if cdr is None or self.cdrs.get(cdr.id) == cdr:
            return
        self.cdrs[cdr.id] = cdr
        self.ctx.clock.observe(cdr.end)
        for kind, scope in (("station", cdr.station), ("operator", cdr.operator)):
            self._dirty.add((kind, scope, cdr.end.strftime("%Y-%m-%d")))
            self._dirty.add((kind, scope, cdr.end.strftime("%Y-%m")))

    def tick(self) -> None:
        if not self._dirty:
            return
        groups: dict[tuple[str, str, str], list[Cdr]] = defaultdict(list)
        for cdr in self.cdrs.values():
            for kind, scope in (("station", cdr.station), ("operator", cdr.operator)):
                for period in (cdr.end.strftime("%Y-%m-%d"), cdr.end.strftime("%Y-%m")):
                    if (kind, scope, period) in self._dirty:
                        groups[(kind, scope, period)].append(cdr)
        entities = []
        for (kind, scope, period), cdrs in sorted(groups.items()):
            entities += self._kpis(kind, scope, period, cdrs)
        self._dirty.clear()
        self.ctx.write(entities)

    def _kpis(self, kind: str, scope: str, period: str, cdrs: list[Cdr]) -> list[dict[str, Any]]:
        daily = len(period) == 10
        start = parse(f"{period}T00:00:00+00:00" if daily else f"{period}-01T00:00:00+00:00")
        end = start + timedelta(days=1) if daily else (start + timedelta(days=32)).replace(day=1)
        frequency = "daily" if daily else "monthly"
        operator = cdrs[0].operator
        scope_id = scope.removeprefix("urn:ngsi-ld:") if kind == "station" else f"Organization:{scope}"
        refs = {"refEVChargingStation": scope} if kind == "station" else None
        kwh = round(sum(c.kwh for c in cdrs), 3)
        sessions = len(cdrs)

        def kpi(name: str, value: Any, unit: str | None, what: str, suffix: str = "") -> dict[str, Any]:
            return findings.kpi(name, scope_id + suffix, period, value, start=start, end=end, frequency=frequency,
                                organization=operator, unit=unit, refs=refs, description=f"{what} ({frequency})",
                                aggregated=[{"entityType": "ChargeDetailRecord", "attrs": ["energyDelivered"]}])

        out = [kpi("energyDelivered", kwh, "KWH", "kWh delivered"),
               kpi("sessions", sessions, None, "charging sessions (CDRs)"),
               kpi("avgDurationHours", round(sum(c.hours for c in cdrs) / sessions, 3), "HUR",
                   "average session duration"),
               kpi("avgIdleHours", round(sum(c.idle_hours for c in cdrs) / sessions, 3), "HUR",
                   "average time parked without charging"),
               kpi("peakPowerKW", peak_kw(cdrs), "KWT", "peak concurrent charging power")]
        for currency in sorted({c.currency for c in cdrs}):
            billed = [c for c in cdrs if c.currency == currency]
            excl = round(sum(c.excl for c in billed), 2)
            out.append(kpi("revenueExclVat", excl, currency, f"revenue excl. VAT in {currency}", f":{currency}"))
            with_vat = [c.incl for c in billed if c.incl is not None]
            if len(with_vat) == len(billed):
                out.append(kpi("revenueInclVat", round(sum(with_vat), 2), currency,
                               f"revenue incl. VAT in {currency}", f":{currency}"))
            energy = sum(c.kwh for c in billed)
            if energy > 0:
                out.append(kpi("avgPricePerKWh", round(excl / energy, 4), currency,
                               f"average price per kWh excl. VAT in {currency}", f":{currency}"))
        return out

    def status(self) -> dict[str, Any]:
        return {"cdrs": len(self.cdrs)}
