"""The filters every page takes (``operator``, ``area``, ``period``, and ``station`` where it applies),
checked against what exists, so a mistyped link gives a clear 4xx page, never an empty or wrong one.

"All operators" is the consolidated view across providers: the same figures, summed or weighted
over every operator's stations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from . import periods
from .directory import Directory, Station
from .periods import Kind, Window


class FilterError(Exception):
    """A request a person can correct: the page says what was wrong and what is accepted."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail


@dataclass(frozen=True)
class Filters:
    operator: str | None
    area: str | None
    window: Window
    station: str | None = None

    def keeps(self, station: Station | None) -> bool:
        """Whether a station (None: something not tied to a known station) is in the selection."""
        if station is None:
            return self.operator is None and self.area is None and self.station is None
        return ((self.operator is None or station.operator == self.operator)
                and (self.area is None or station.area == self.area)
                and (self.station is None or station.id == self.station))

    def stations(self, directory: Directory) -> list[Station]:
        return [s for s in directory.stations.values() if self.keeps(s)]

    def query(self, **changes: str | None) -> str:
        """This selection as a query string, with ``changes`` applied (None removes a filter)."""
        from urllib.parse import urlencode

        current = {"operator": self.operator, "area": self.area, "period": self.window.key, "station": self.station}
        current.update(changes)
        return urlencode({k: v for k, v in current.items() if v})


def parse(params: Mapping[str, str], directory: Directory, now: datetime, zone: ZoneInfo, *, default_period: str,
          kinds: Iterable[Kind], station_filter: bool = False) -> Filters:
    operator = params.get("operator") or None
    if operator is not None and operator not in directory.operators:
        known = ", ".join(sorted(directory.operators)) or "none yet"
        raise FilterError(404, "Unknown operator", f"no operator {operator[:60]!r}; known operators: {known}")
    area = params.get("area") or None
    if area is not None and area not in directory.areas:
        raise FilterError(404, "Unknown area", f"no area {area[:60]!r}; areas (postcode districts): "
                                               f"{', '.join(directory.areas) or 'none yet'}")
    station = params.get("station") or None if station_filter else None
    if station is not None and station not in directory.stations:
        raise FilterError(404, "Unknown station", f"no station {station[:120]!r}")
    try:
        window = periods.parse(params.get("period") or default_period, now, zone)
    except periods.BadPeriod as error:
        raise FilterError(400, "Bad period", str(error)) from None
    allowed = tuple(kinds)
    if window.kind not in allowed:
        words = {"days": "days (today, 7d, 30d)", "month": "a month (month, last-month, YYYY-MM)",
                 "year": "a year (year, last-year, YYYY)"}
        offered = " or ".join(words[k] for k in allowed)
        raise FilterError(400, "Period not offered here", f"this page reports by {offered}")
    return Filters(operator, area, window, station)
