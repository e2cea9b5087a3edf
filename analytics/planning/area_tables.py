"""Per-area figures from CSV files: plug-in vehicle registrations over time, population and households.

Why separate files: the open statistics come as tables by area code (e.g. the UK's quarterly
licensed plug-in vehicles by LSOA), downloaded by the council, not as GeoJSON properties. A bad
row is skipped and counted with its line number and reason (like ``cic forecast --sessions``);
the file is refused only when a column it needs is missing or no row is usable.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .numbers import NotANumber, count

AREA_COLUMNS = ("area", "code", "areacode", "id", "areaid", "ward", "wardcode", "lsoa", "lsoacode", "datazone")
DATE_COLUMNS = ("date", "quarter", "period", "asat", "observed", "observedat")
COUNT_COLUMNS = ("count", "pluginvehicles", "vehicles", "registrations", "licensed", "value", "evs")
POPULATION_COLUMNS = ("population", "residents", "usualresidents", "totalpopulation")
HOUSEHOLDS_COLUMNS = ("householdswithoutoffstreetparking", "householdsnooffstreetparking", "nooffstreetparking",
                      "withoutoffstreetparking")
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*q([1-4])$", re.IGNORECASE)
EXAMPLES = 3


class TableFileError(ValueError):
    """A CSV file that cannot be used; the message says exactly why."""


@dataclass
class TableReport:
    """Rows read and the rows skipped, per reason with examples."""

    path: Path
    rows: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return self.rows - sum(len(v) for v in self.skipped.values())

    def skip(self, line: int, reason: str, shown: str) -> None:
        self.skipped.setdefault(reason, []).append(f"line {line}: {shown}")

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.rows} rows, {self.kept} kept"]
        for reason, rows in sorted(self.skipped.items(), key=lambda item: -len(item[1])):
            shown = "; ".join(rows[:EXAMPLES]) + ("; ..." if len(rows) > EXAMPLES else "")
            out.append(f"skipped {len(rows)} row{'s' if len(rows) > 1 else ''}: {reason} ({shown})")
        return out


@dataclass
class Registrations:
    """Plug-in vehicles per area code and date, and how the file was read."""

    report: TableReport
    series: dict[str, dict[date, int]] = field(default_factory=dict)


@dataclass
class Households:
    """Population and households without off-street parking per area code."""

    report: TableReport
    population: dict[str, int] = field(default_factory=dict)
    without_parking: dict[str, int] = field(default_factory=dict)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _rows(path: Path, needed: Mapping[str, tuple[str, ...]],
          optional: Mapping[str, tuple[str, ...]] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {field: text}) per data row, the columns found by their usual names."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise TableFileError(f"{path}: no such file") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise TableFileError(f"{path}: empty file") from None
        except (UnicodeDecodeError, csv.Error) as error:
            raise TableFileError(f"{path}: not a readable CSV ({error})") from None
        keyed = {_key(name): n for n, name in enumerate(header)}
        columns: dict[str, int] = {}
        for what, names in {**needed, **(optional or {})}.items():
            found = next((keyed[n] for n in names if n in keyed), None)
            if found is not None:
                columns[what] = found
            elif what in needed:
                raise TableFileError(f"{path}: no {what} column (looked for {', '.join(names)}; "
                                     f"the header is {', '.join(header)})")
        try:
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                yield reader.line_num, {what: row[n].strip() if n < len(row) else "" for what, n in columns.items()}
        except (UnicodeDecodeError, csv.Error) as error:
            raise TableFileError(f"{path}: not a readable CSV after line {reader.line_num} ({error})") from None


def parse_date(text: str) -> date:
    """An ISO date (2025-03-31), or a quarter (2025 Q1, 2025Q1) read as its last day (figures are "at end
    of quarter" in the UK's vehicle licensing statistics)."""
    quarter = _QUARTER.match(text)
    if quarter:
        year, q = int(quarter[1]), int(quarter[2])
        return date(year, 3 * q, 30 if q in (2, 3) else 31)
    return date.fromisoformat(text)


def load_registrations(path: Path, codes: set[str]) -> Registrations:
    """Plug-in vehicle counts by area and date (rows of areas not in ``codes`` are skipped, said)."""
    result = Registrations(TableReport(path))
    first_line: dict[tuple[str, date], int] = {}
    for line, row in _rows(path, {"area": AREA_COLUMNS, "date": DATE_COLUMNS, "count": COUNT_COLUMNS}):
        result.report.rows += 1
        code = row["area"]
        if code not in codes:
            result.report.skip(line, "area not among the imported areas", repr(code))
            continue
        try:
            when = parse_date(row["date"])
        except ValueError:
            result.report.skip(line, "date is not YYYY-MM-DD or YYYY Qn", repr(row["date"]))
            continue
        try:
            value = count(row["count"], "count")
        except NotANumber as error:
            result.report.skip(line, "count is not a whole number >= 0", str(error).removeprefix("count "))
            continue
        if value is None:
            result.report.skip(line, "count is empty", repr(code))
            continue
        series = result.series.setdefault(code, {})
        if (code, when) in first_line:
            if series[when] != value:
                result.report.skip(line, "a second, different count for the same area and date",
                                   f"{code} {when}: {value} (line {first_line[code, when]} says {series[when]})")
            else:
                result.report.skip(line, "repeated row", f"{code} {when}")
            continue
        first_line[code, when] = line
        series[when] = value
    if not result.series:
        raise TableFileError("\n".join([f"{path}: no usable registration row", *result.report.lines()[1:]]))
    return result


def load_households(path: Path, codes: set[str]) -> Households:
    """Population and households without off-street parking by area (either column may be absent)."""
    result = Households(TableReport(path))
    optional = {"population": POPULATION_COLUMNS, "households": HOUSEHOLDS_COLUMNS}
    for line, row in _rows(path, {"area": AREA_COLUMNS}, optional):
        result.report.rows += 1
        if "population" not in row and "households" not in row:
            raise TableFileError(f"{path}: neither a population nor a households-without-off-street-parking column "
                                 f"(looked for {', '.join(POPULATION_COLUMNS + HOUSEHOLDS_COLUMNS)})")
        code = row["area"]
        if code not in codes:
            result.report.skip(line, "area not among the imported areas", repr(code))
            continue
        try:
            population = count(row.get("population"), "population")
            households = count(row.get("households"), "households without off-street parking")
        except NotANumber as error:
            result.report.skip(line, "not a whole number >= 0", str(error))
            continue
        if population is not None:
            result.population[code] = population
        if households is not None:
            result.without_parking[code] = households
    if not (result.population or result.without_parking):
        raise TableFileError("\n".join([f"{path}: no usable row", *result.report.lines()[1:]]))
    return result
