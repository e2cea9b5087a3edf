"""KeyPerformanceIndicator entities: one per KPI, subject and frequency; each period's value is history.

Why this shape (issue 9 §1, §3): an entity per *period* made the broker hold ever more entities
(38 k for a small town within a day). Here the entity ``urn:ngsi-ld:KeyPerformanceIndicator:
reliability:EVChargingStation:cpoA:L1:monthly`` stays, and every period's figure is an instance
of its ``kpiValue`` with ``observedAt`` = the end of the period, so the temporal API (TRoE/Mintaka
in production) is where the months are read. A period still running is written ``provisional``
(its ``observedAt`` lies in the future), at most every few data-minutes; once it ends it is
written once more, final. Late data re-writes the instance of its period (same ``observedAt``),
then the newest period again, so the entity's current value is always the newest period's.

Each KPI says what it is about in attributes a ``q`` selects (``kpiScope``, ``organization``, a
Relationship to the subject), and has a ``name`` a person reads ("Reliability, Broxden Park &
Ride, November 2026"). Periods are the council's calendar (``CIC_TIMEZONE``). The catalogue of
every KPI is docs/KPIS.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from citiesincharge import ids
from citiesincharge.errors import NgsiLdClientError
from citiesincharge.settings import Settings

from .clock import iso
from .places import Places

log = logging.getLogger(__name__)

Frequency = Literal["daily", "monthly", "yearly"]
Scope = Literal["evse", "station", "site", "operator", "council", "area"]

COUNCIL = ids.organization("council")  # the default CIC_COUNCIL_ID's entity
RELATIONSHIP: dict[str, str] = {"evse": "refEVSE", "station": "refEVChargingStation", "site": "refParkingSite",
                                "operator": "refOrganization", "council": "refOrganization",
                                "area": "refPlanningArea"}
TITLES = {
    "reliability": "Reliability", "rapidReliability": "Rapid-charger reliability", "mttrHours": "Mean time to repair",
    "mtbfHours": "Mean time between failures", "incidents": "Incidents", "incidentLog": "Incident log",
    "energyDelivered": "Energy delivered", "sessions": "Charging sessions", "avgDurationHours": "Average session "
    "duration", "avgIdleHours": "Average idle time", "peakPowerKW": "Peak charging power", "revenueExclVat":
    "Revenue excl. VAT", "revenueInclVat": "Revenue incl. VAT", "avgPricePerKWh": "Average price per kWh",
    "hourlyUtilisation": "Utilisation by hour", "hourlySessions": "Sessions started by hour",
}


# -- periods ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """One calendar period of the council's time zone: [start, end), both in UTC.

    In UTC because Python subtracts two datetimes of the same zone by their wall clocks (a
    25-hour day would count 24); ``zone`` is for how the period is named and shown.
    """

    frequency: Frequency
    start: datetime
    end: datetime
    zone: ZoneInfo

    @property
    def label(self) -> str:
        """How a person names it: "2 November 2026", "November 2026", "2026"."""
        local = self.start.astimezone(self.zone)
        if self.frequency == "daily":
            return f"{local.day} {local:%B %Y}"
        return f"{local:%B %Y}" if self.frequency == "monthly" else f"{local:%Y}"

    def previous(self) -> Period:
        return period(self.frequency, self.start - timedelta(seconds=1), self.zone)

    def dates(self) -> dict[str, str]:
        """SDM ``calculationPeriod``: the first and the last local day of the period (both included)."""
        last = (self.end - timedelta(seconds=1)).astimezone(self.zone)
        return {"from": self.start.astimezone(self.zone).date().isoformat(), "to": last.date().isoformat()}

    def instants(self) -> dict[str, str]:
        """The exact period, local time with its offset, end excluded (the ``period`` sub-property)."""
        return {"from": self.start.astimezone(self.zone).isoformat(), "to": self.end.astimezone(self.zone).isoformat()}

    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600  # 23 or 25 on the days the clocks change


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def period(frequency: Frequency, moment: datetime, zone: ZoneInfo) -> Period:
    """The period of ``frequency`` that holds ``moment``, by the council's local calendar.

    Built from local dates (not by adding 24 h), so days around a clock change are 23 or 25 h long
    and months start at local midnight, as a council reports them.
    """
    local = moment.astimezone(zone).date()
    if frequency == "daily":
        first, after = local, local + timedelta(days=1)
    elif frequency == "monthly":
        first = local.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    else:
        first, after = local.replace(month=1, day=1), local.replace(year=local.year + 1, month=1, day=1)
    return Period(frequency, _local_midnight(first, zone).astimezone(UTC), _local_midnight(after, zone).astimezone(UTC),
                  zone)


# -- entities --------------------------------------------------------------------------------
def kpi_id(name: str, subject: str, frequency: str, *suffix: str) -> str:
    """``urn:ngsi-ld:KeyPerformanceIndicator:<name>:<subject without urn:ngsi-ld:>:<frequency>[:<suffix>]``."""
    return ids.derived("KeyPerformanceIndicator", name, subject, frequency, *suffix)


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def kpi(name: str, subject: str, scope: Scope, when: Period, value: Any, *, now: datetime, subject_name: str,
        description: str, formula: str, aggregated: list[dict[str, Any]], organization: str | None = None,
        unit: str | None = None, coverage: float | None = None, currency: str | None = None,
        refs: dict[str, str] | None = None) -> dict[str, Any]:
    """An SDM KeyPerformanceIndicator: ``name`` (the machine name, also ``process``) of ``subject``
    (an entity id) for the period ``when`` as known at data time ``now`` (provisional before its end).

    Nothing in it changes unless the figure, the period or a name does (no ``updatedAt``: the
    broker's ``modifiedAt`` says when), so writing it again unchanged costs no history.
    """
    provisional = now < when.end
    value_attr: dict[str, Any] = {
        "type": "Property", "value": value, "observedAt": iso(when.end), **({"unitCode": unit} if unit else {}),
        "period": _prop(when.instants()), "provisional": _prop(provisional)}
    if coverage is not None:
        value_attr["coverage"] = _prop(round(coverage, 4))
    title = TITLES.get(name, name) + (f" ({currency})" if currency else "")
    entity: dict[str, Any] = {
        "id": kpi_id(name, subject, when.frequency, *((currency,) if currency else ())),
        "type": "KeyPerformanceIndicator",
        "name": _prop(f"{title}, {subject_name}, {when.label}"),
        "description": _prop(description),
        "category": _prop(["quantitative"]),
        "process": _prop(name),
        "kpiScope": _prop(scope),
        "kpiValue": value_attr,
        "calculationPeriod": _prop(when.dates()),
        "calculationFrequency": _prop(when.frequency),
        "calculationMethod": _prop("automatic"),
        "calculationFormula": _prop(formula),
        "aggregatedData": _prop(aggregated),
        RELATIONSHIP[scope]: {"type": "Relationship", "object": subject},
    }
    if organization:
        entity["organization"] = _prop(organization)
    for attribute, target in (refs or {}).items():
        entity[attribute] = {"type": "Relationship", "object": target}
    return entity


def council_id(settings: Settings) -> str:
    """The council's Organization entity (CIC_COUNCIL_ID): the subject of the whole network's KPIs."""
    return ids.organization(settings.council_id)


# -- what is written, when -------------------------------------------------------------------
def _end(entity: dict[str, Any]) -> str:
    return str(entity["kpiValue"]["observedAt"])


def _provisional(entity: dict[str, Any]) -> bool:
    return bool(entity["kpiValue"]["provisional"]["value"])


@dataclass
class _Sent:
    entity: dict[str, Any]
    at: datetime  # data time of the write


class Publisher:
    """Decides which KPI entities go to the broker, so the history stays O(periods), not O(ticks).

    * A figure without a value (no incident yet, so no MTTR) is never written: no figure beats a
      made-up one.
    * The first figure of a period, a final one, and a correction of an ended period go out at
      once; a provisional figure of the running period at most once per interval of data time for
      its frequency (the newest one waits in :meth:`release`): a day's figure hourly by default, a
      month's every 6 h, a year's daily. Coverage changes with every recompute, so without
      this a KPI would be re-written every tick; a provisional figure is only a preview.
    * A correction of an ended period is followed by the newest period again, so the entity's
      current value stays the newest (the broker keeps the last write as current).
    Unchanged figures are not sent again (``Context.write`` also drops exact repeats).
    """

    PACE: dict[str, int] = {"daily": 1, "monthly": 6, "yearly": 24}  # multiples of the daily interval

    def __init__(self, every: timedelta) -> None:
        """``every``: the interval between two provisional figures of a *daily* KPI; monthly and
        yearly KPIs are re-written :attr:`PACE` times less often."""
        self.every = every
        self._latest: dict[str, _Sent] = {}  # id -> newest period written
        self._ended: dict[str, dict[str, Any]] = {}  # id -> the last final written for an older period
        self._held: dict[str, dict[str, Any]] = {}  # id -> provisional figure waiting for its slot

    def wrote(self, kpi: str, end: datetime) -> bool:
        """Whether this run wrote a figure of the period ending at ``end`` (so it has that period's data,
        and re-computing it after the period ends can only finalise or correct it)."""
        stamp = iso(end)
        sent, ended = self._latest.get(kpi), self._ended.get(kpi)
        return (sent is not None and _end(sent.entity) == stamp) or (ended is not None and _end(ended) == stamp)

    def expired(self, now: datetime) -> list[str]:
        """KPIs whose newest written figure is provisional although its period has ended."""
        stamp = iso(now)
        return [k for k, s in self._latest.items() if _provisional(s.entity) and _end(s.entity) <= stamp]

    def offer(self, entities: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for entity in entities:
            if entity["kpiValue"].get("value") is None:
                continue
            out += self._offer(entity, now)
        return out

    def _offer(self, entity: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
        key, end = entity["id"], _end(entity)
        sent = self._latest.get(key)
        if sent is None or end > _end(sent.entity):  # the first figure of a (new) period
            if sent is not None and not _provisional(sent.entity):
                self._ended[key] = sent.entity
            self._held.pop(key, None)
            self._latest[key] = _Sent(entity, now)
            return [entity]
        if end < _end(sent.entity):  # late data for an ended period: correct it, then the newest again
            if self._ended.get(key) == entity:
                return []
            self._ended[key] = entity
            return [entity, sent.entity]
        if entity == sent.entity:
            self._held.pop(key, None)
            return []
        if _provisional(entity) and now - sent.at < self._interval(entity):
            self._held[key] = entity
            return []
        self._held.pop(key, None)
        self._latest[key] = _Sent(entity, now)
        return [entity]

    @classmethod
    def from_settings(cls, settings: Settings) -> Publisher:
        return cls(timedelta(minutes=settings.kpi_provisional_minutes))

    def _interval(self, entity: dict[str, Any]) -> timedelta:
        frequency = entity.get("calculationFrequency", {}).get("value", "daily")
        return self.every * self.PACE.get(frequency, 1)

    def release(self, now: datetime) -> list[dict[str, Any]]:
        """Provisional figures whose slot has come (called every tick)."""
        due = [k for k, held in self._held.items() if now - self._latest[k].at >= self._interval(held)]
        out = []
        for key in due:
            entity = self._held.pop(key)
            self._latest[key] = _Sent(entity, now)
            out.append(entity)
        return out


class Names:
    """How KPIs name their subjects: the station's or organization's ``name`` from the broker (read
    through :class:`Places`, in bulk at first use), else the id's last part, which is what a person
    would recognise from the operator's own systems."""

    def __init__(self, places: Places, council: str = COUNCIL) -> None:
        self.places = places
        self.council = council
        self._prefetched = False

    def of(self, subject: str) -> str:
        if not self._prefetched:
            self._prefetched = True
            try:
                self.places.prefetch("EVChargingStation", "Organization")
            except NgsiLdClientError as error:
                log.warning("KPI names not read (%s); ids stand in", error)
        name = self.places.name(subject)
        if name:
            return name
        if subject == self.council:
            return "whole network"
        return ids.parse(subject).parts[-1]

    def evse(self, evse: str, station: str | None) -> str:
        """"charger CPB0001-1 at Broxden Park & Ride"."""
        uid = ids.parse(evse).parts[-1]
        return f"charger {uid} at {self.of(station)}" if station else f"charger {uid}"
