"""One table mechanism for every page: a column spec renders the HTML table and its CSV alike.

Why: "every table downloads as CSV" and the download must equal the table. Both come from the
same rows and the same per-column formatter, so they cannot drift apart; pages only declare
columns (heading with its unit, how to read a cell from a row, how to show it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

Row = dict[str, Any]


def number(digits: int = 1) -> Callable[[Any], str]:
    def show(value: Any) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{value:,.{digits}f}"
        return str(value)
    return show


def integer(value: Any) -> str:
    return "—" if value is None else f"{int(value):,d}"


def text(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def local_time(zone: ZoneInfo) -> Callable[[Any], str]:
    """A moment as the council reads it: ``2026-12-05 02:44`` in CIC_TIMEZONE (the zone is in the heading)."""
    def show(value: Any) -> str:
        if not isinstance(value, datetime):
            return text(value)
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return show


def percent(value: Any) -> str:
    """A share 0-1 as a whole percentage (``0.413`` -> ``41``; the % is in the heading)."""
    return "—" if not isinstance(value, int | float) or isinstance(value, bool) else f"{value * 100:,.0f}"


def hours(value: Any) -> str:
    """A duration in hours, readable: ``3.2`` (hours, the unit is in the heading)."""
    return number(1)(value)


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    show: Callable[[Any], str] = text
    numeric: bool = False
    status: bool = False  # the cell is a status: shown with its label and a colour class
    # the cell is a button selecting the row's ``row[selects]`` on the page (an area on its map): the
    # way to reach what a map shows with the keyboard; the CSV keeps the plain text
    selects: str | None = None


@dataclass
class Table:
    id: str  # unique on the page: the CSV link and the live update find it by this
    title: str
    columns: list[Column]
    rows: list[Row]
    caption: str = ""
    empty: str = "Nothing to show for this selection."
    limit: int | None = None  # rows shown on the page (the CSV has them all)
    notes: list[str] = field(default_factory=list)

    def cells(self, row: Row) -> list[str]:
        return [column.show(row.get(column.key)) for column in self.columns]

    def shown(self) -> list[Row]:
        return self.rows if self.limit is None else self.rows[: self.limit]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([c.heading for c in self.columns])
        for row in self.rows:
            writer.writerow(self.cells(row))
        return out.getvalue()
