"""The periods a page can be asked for (``?period=``), as the council's calendar defines them.

Why its own module: every page filters by period, and KPIs are stored per local day, month and
year (docs/KPIS.md), so a period must map onto those calendar periods exactly — a local month
starts at local midnight on the 1st, whatever UTC says. Keys a person can type and bookmark:
``today``, ``7d``, ``30d`` (days ending today), ``month``, ``last-month``, ``YYYY-MM``, ``year``,
``last-year``, ``YYYY``. Anything else is refused with the list of what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["days", "month", "year"]
KEYS_HELP = "today, 7d, 30d, month, last-month, YYYY-MM, year, last-year or YYYY"


class BadPeriod(ValueError):
    """A ``period`` nobody could mean; the message says what is accepted."""


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Span:
    """One local calendar period [start, end) in UTC, as a KPI's ``kpiValue`` instance is stamped
    (``observedAt`` = its end)."""

    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True)
class Window:
    key: str
    kind: Kind
    label: str
    first: date  # first local day
    last: date  # last local day (included)
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return _midnight(self.last + timedelta(days=1), self.zone)

    def days(self) -> list[Span]:
        """The local days of the window (a daily KPI instance each)."""
        count = (self.last - self.first).days + 1
        return [Span(_midnight(d, self.zone), _midnight(d + timedelta(days=1), self.zone), d.isoformat())
                for d in (self.first + timedelta(days=n) for n in range(count))]

    def months(self) -> list[Span]:
        """The local months the window covers (a monthly KPI instance each)."""
        out, month = [], self.first.replace(day=1)
        while month <= self.last:
            after = _next_month(month)
            out.append(Span(_midnight(month, self.zone), _midnight(after, self.zone), f"{month:%Y-%m}"))
            month = after
        return out

    def spans(self) -> list[Span]:
        """The calendar periods KPIs hold for this window: days, or months (a year is its months)."""
        return self.days() if self.kind == "days" else self.months()

    def whole(self) -> Span:
        return Span(self.start, self.end, self.label)


def parse(key: str, now: datetime, zone: ZoneInfo) -> Window:
    """The window ``key`` names, seen at ``now`` (the run's clock) in the council's ``zone``."""
    today = now.astimezone(zone).date()
    key = key.strip()
    if key == "today":
        return Window(key, "days", f"today, {today:%-d %b %Y}", today, today, zone)
    if match := re.fullmatch(r"(\d{1,3})d", key):
        days = int(match.group(1))
        if not 1 <= days <= 366:
            raise BadPeriod(f"period {key!r}: between 1d and 366d")
        first = today - timedelta(days=days - 1)
        return Window(key, "days", f"last {days} days ({first:%-d %b} to {today:%-d %b %Y})", first, today, zone)
    if key in ("month", "last-month") or re.fullmatch(r"\d{4}-\d{2}", key):
        if key == "month":
            first = today.replace(day=1)
        elif key == "last-month":
            first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        else:
            year, month = int(key[:4]), int(key[5:])
            if not 1 <= month <= 12:
                raise BadPeriod(f"period {key!r}: month {month} does not exist")
            first = date(year, month, 1)
        return Window(key, "month", f"{first:%B %Y}", first, _next_month(first) - timedelta(days=1), zone)
    if key in ("year", "last-year") or re.fullmatch(r"\d{4}", key):
        year = today.year if key == "year" else today.year - 1 if key == "last-year" else int(key)
        if not 1970 <= year <= 9998:
            raise BadPeriod(f"period {key!r}: year out of range")
        return Window(key, "year", str(year), date(year, 1, 1), date(year, 12, 31), zone)
    raise BadPeriod(f"period {key[:40]!r} is not one of {KEYS_HELP}")
