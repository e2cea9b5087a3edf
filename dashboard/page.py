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
    commands: list[str] = field(default_factory=list)  # shell commands the note asks for, shown as code


@dataclass
class Shape:
    """An area drawn on an :class:`AreaMap`: its polygon(s), fill and label."""

    id: str
    name: str
    geometry: dict[str, Any]  # GeoJSON Polygon or MultiPolygon, lon/lat
    fill: str  # a colour, or scale.UNSCORED (hatched)
    label: str  # written on the area (its rank); "" for none
    at: tuple[float, float] | None  # (lat, lon) of the label


@dataclass
class Detail:
    """What the panel beside an :class:`AreaMap` says about one area once it is selected."""

    id: str
    title: str
    headline: str
    paragraphs: list[str]
    lists: list[tuple[str, list[str]]]  # (heading, items)
    figures: list[tuple[str, str]]  # (label, value) pairs


@dataclass
class LegendEntry:
    key: str
    label: str
    fill: str  # a colour, or scale.UNSCORED
    count: int


@dataclass
class AreaMap:
    """Areas shaded by a figure with a legend, stations as small dots for context, and a panel that
    explains the selected area (clicked on the map, or chosen with a button in a table)."""

    id: str
    title: str
    shapes: list[Shape]
    legend: list[LegendEntry]
    points: list[tuple[str, float, float]]  # stations: (name, lat, lon)
    details: list[Detail]
    summary: str  # what the map shows, for people who do not see it


Section = Table | Chart | MapView | AreaMap | Timeline | Note


@dataclass
class Page:
    slug: str
    title: str
    filters: Filters
    tiles: list[Tile] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stations_in_filter: list[tuple[str, str]] = field(default_factory=list)  # (id, name), for a station choice
    subtitle: str | None = None  # beside the title instead of the period (a page whose data has its own)

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
    filtered: bool = True  # False: the page covers the whole council (no filter form; its CSV names no period)
