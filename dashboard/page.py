"""What a page is made of, independent of HTML: tiles (headline figures), tables, charts, a map,
timelines and notes. Pages build these; one template renders them all (templates/page.html), and
the live refresh swaps them by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .filters import Filters
from .periods import Kind
from .tables import Table

STATUS_LABELS = {"available": "available", "charging": "charging", "down": "down", "unknown": "unknown"}


@dataclass
class Tile:
    label: str
    value: str
    note: str = ""
    status: str | None = None  # a status class (down, available, meets, misses …) shown with the value


@dataclass
class Chart:
    """An Apache ECharts chart; ``option`` is the ECharts option object (JSON). ``summary`` is the
    text alternative for people who do not see it (the same figures are in a table too)."""

    id: str
    title: str
    option: dict[str, Any]
    summary: str
    height: int = 320


@dataclass
class Marker:
    id: str
    name: str
    lat: float
    lon: float
    status: str
    popup: str  # plain text lines, joined with newlines


@dataclass
class MapView:
    id: str
    title: str
    markers: list[Marker]
    legend: dict[str, int]  # status -> stations


@dataclass
class Segment:
    left: float  # % of the timeline
    width: float
    title: str  # what a hover or a screen reader says
    status: str


@dataclass
class TimelineRow:
    label: str
    segments: list[Segment]


@dataclass
class Timeline:
    id: str
    title: str
    start_label: str
    end_label: str
    rows: list[TimelineRow]
    empty: str = "No downtime in this period."


@dataclass
class Note:
    id: str
    title: str
    lines: list[str]


Section = Table | Chart | MapView | Timeline | Note


@dataclass
class Page:
    slug: str
    title: str
    filters: Filters
    tiles: list[Tile] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stations_in_filter: list[tuple[str, str]] = field(default_factory=list)  # (id, name), for a station choice

    def table(self, table_id: str) -> Table | None:
        return next((s for s in self.sections if isinstance(s, Table) and s.id == table_id), None)


@dataclass(frozen=True)
class PageSpec:
    """How a page is reached and filtered."""

    slug: str
    path: str
    title: str
    default_period: str
    kinds: tuple[Kind, ...]
    station_filter: bool = False
