"""Charging-session history from a CSV export (any operator's or council's): recognised, cleaned, said.

Councils hold history outside the broker, in exports that are dirty: empty or negative kWh,
placeholder ends in 1970, repeated rows, dates day-first, date and time in two columns. Column
names vary, so common names are recognised (case, spaces and punctuation ignored). A bad row is
skipped, not the file: the report counts skipped rows per reason with the first examples, so the
user sees what was left out. A file is refused, with a message that says exactly why, only when a
column it needs is missing or wholly unreadable, or when no usable session is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from . import site_names
from .session_times import DateOrder, DateOrderError, combine, date_order, kind_of, parse_local

COLUMNS: dict[str, tuple[str, ...]] = {
    "start": ("start", "startdatetime", "starttime", "startdate", "sessionstart", "sessionstartdate",
              "sessionstarttime", "startedat", "begin", "plugintime", "connectiontime", "chargestart",
              "chargingstart", "date", "sessiondate", "chargedate", "transactiondate", "time"),
    "end": ("end", "enddatetime", "endtime", "enddate", "sessionend", "sessionenddate", "sessionendtime",
            "endedat", "stop", "stoptime", "stopdatetime", "stopdate", "unplugtime", "disconnectiontime",
            "chargeend", "chargingend"),
    "kwh": ("kwh", "energy", "energykwh", "totalenergy", "totalkwh", "energydelivered", "consumptionkwh",
            "kwhdelivered", "meterkwh", "totalenergykwh", "energyconsumedkwh", "kwhtotal"),
    "station": ("station", "stationid", "stationname", "chargepoint", "chargepointid", "chargepointname", "cpid",
                "charger", "chargerid", "chargingpoint", "chargingpointid", "chargingstation", "evse", "evseid",
                "evseuid", "locationid", "location", "site", "siteid", "sitename"),
    "site": ("site", "sitename", "siteid", "address", "siteaddress", "carpark"),
    "area": ("area", "areaname", "district", "ward", "zone", "region", "operator", "cpo", "network", "partyid"),
    "start_zone": ("starttimezone", "timezone", "tz"),
    "end_zone": ("endtimezone",),
}
PLACEHOLDER_BEFORE = pd.Timestamp("1990-01-01", tz="UTC")  # ends "in 1970": an unset time, not a session
EXAMPLES = 3


class SessionsFileError(ValueError):
    """A sessions file that cannot be used; the message names the problem precisely."""


@dataclass
class LoadReport:
    """What was read, what was left out and why, and how dates were understood."""

    path: Path
    rows: int
    columns: dict[str, str]
    order: DateOrder
    zone: str
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> examples ("row 7: ''"), all rows
    variants: list[list[str]] = field(default_factory=list)
    test_sites: list[str] = field(default_factory=list)
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    dates_only: bool = False  # starts have no time of day: no hourly series can be made

    @property
    def kept(self) -> int:
        return self.rows - sum(len(rows) for rows in self.skipped.values())

    def lines(self) -> list[str]:
        """The summary a person reads before the forecasts."""
        order = {"day-first": "day-first (dd/mm/yyyy)", "month-first": "month-first (mm/dd/yyyy)",
                 "year-first": "year-first (yyyy-mm-dd)"}[self.order]
        span = f"{self.first:%Y-%m-%d} .. {self.last:%Y-%m-%d}" if self.first is not None else "no dates"
        out = [f"{self.path}: {self.rows:,} rows, {self.kept:,} sessions kept; dates {order}, {span} "
               f"({self.zone}); columns " + ", ".join(f"{k}={v!r}" for k, v in self.columns.items())]
        for reason, rows in sorted(self.skipped.items(), key=lambda item: -len(item[1])):
            shown = "; ".join(rows[:EXAMPLES]) + ("; ..." if len(rows) > EXAMPLES else "")
            out.append(f"skipped {len(rows):,} row{'s' if len(rows) > 1 else ''}: {reason} ({shown})")
        for group in self.variants:
            out.append("names that look like one site (not merged): " + " / ".join(repr(n) for n in group))
        if self.test_sites:
            out.append("test sites (flagged, left out of network totals): " + ", ".join(map(repr, self.test_sites)))
        return out


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _columns(raw: pd.DataFrame) -> dict[str, list[str]]:
    """Candidate columns per field, best first (a start may be one column or a date and a time)."""
    found = {_key(column): column for column in raw.columns}
    return {name: [found[n] for n in names if n in found] for name, names in COLUMNS.items()}


def _instant_text(raw: pd.DataFrame, candidates: list[str], what: str, path: Path) -> tuple[pd.Series, str] | None:
    """The text of one instant: a date-time column, else a date column joined with a time column."""
    kinds = {column: kind_of(raw[column]) for column in candidates}
    for column in candidates:
        if kinds[column] == "datetime":
            return raw[column], column
    dates = [c for c in candidates if kinds[c] == "date"]
    times = [c for c in candidates if kinds[c] == "time"]
    if dates and times:
        return combine(raw[dates[0]], raw[times[0]]), f"{dates[0]} + {times[0]}"
    if dates:
        return raw[dates[0]], dates[0]
    if times:
        raise SessionsFileError(f"{path}: {times[0]} holds times of day only, and no {what} date column was found "
                                f"(looked for {', '.join(n for n in COLUMNS[what] if 'date' in n)})")
    return None


class _Rows:
    """The first problem of each row, in the order the checks run; rows with none are kept."""

    def __init__(self, index: pd.Index) -> None:
        self.problem = pd.Series("", index=index)
        self.examples: dict[str, list[str]] = {}

    def flag(self, mask: pd.Series, reason: str, shown: pd.Series) -> None:
        new = mask & (self.problem == "")
        self.problem[new] = reason
        if new.any():
            self.examples.setdefault(reason, []).extend(f"row {int(i) + 2}: {shown[i]!r}" for i in new[new].index)

    @property
    def ok(self) -> pd.Series:
        return self.problem == ""


def load_sessions(path: Path, *, zone: str = "Europe/London",
                  dayfirst: bool | None = None) -> tuple[pd.DataFrame, LoadReport]:
    """Sessions (start, station and, when the file has them, end, kwh, site, area; test flag) and the report.

    Times are instants in ``zone``; rows are sorted by start.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise SessionsFileError(f"{path}: no such file") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise SessionsFileError(f"{path}: not a readable CSV file ({error})") from None
    if raw.empty:
        raise SessionsFileError(f"{path}: the file has a header but no sessions")
    candidates = _columns(raw)
    if not candidates["station"]:
        raise SessionsFileError(f"{path}: no station column; looked for {', '.join(COLUMNS['station'])} "
                                f"(case and punctuation ignored) among {', '.join(raw.columns)}")
    start = _instant_text(raw, candidates["start"], "start", path)
    if start is None:
        raise SessionsFileError(f"{path}: no start column; looked for {', '.join(COLUMNS['start'])} "
                                f"(case and punctuation ignored) among {', '.join(raw.columns)}")
    end = _instant_text(raw, candidates["end"], "end", path)
    station_column = candidates["station"][0]
    used = {"start": start[1], "station": station_column}
    instants = [("start", start[0], start[1])] + ([("end", end[0], end[1])] if end else [])
    try:
        order = date_order([(name, text) for _, text, name in instants], dayfirst)
    except DateOrderError as error:
        raise SessionsFileError(f"{path}: {error}") from None
    report = LoadReport(path, len(raw), used, order, zone, dates_only=kind_of(start[0]) == "date")
    rows = _Rows(raw.index)
    out = pd.DataFrame({"station": raw[station_column].str.strip()})
    rows.flag(out["station"] == "", "no station", out["station"])
    for field_name, text, column in instants:
        abbreviations = raw[candidates[f"{field_name}_zone"][0]] if candidates[f"{field_name}_zone"] else None
        parsed = parse_local(text, order, ZoneInfo(zone), abbreviations)
        present = text.str.strip() != ""
        if present.any() and parsed[present].isna().all():
            raise SessionsFileError(f"{path}: column {column}: no value reads as a date-time "
                                    f"(e.g. {text[present].iloc[0]!r})")
        if field_name == "start":
            rows.flag(~present, "no start time", text)
        rows.flag(present & parsed.isna(), f"unreadable {field_name} time", text)
        out[field_name] = parsed
        used[field_name] = column
    if candidates["kwh"]:
        column = candidates["kwh"][0]
        text = raw[column].str.strip()
        energy = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
        if (text != "").any() and energy[text != ""].isna().all():
            raise SessionsFileError(f"{path}: column {column}: no value reads as a number of kWh "
                                    f"(e.g. {text[text != ''].iloc[0]!r})")
        rows.flag(text == "", "empty kWh", text)
        rows.flag(energy.isna(), "unreadable kWh", text)
        rows.flag(energy < 0, "negative kWh", text)
        out["kwh"] = energy
        used["kwh"] = column
    if "end" in out:
        shown = instants[-1][1].str.strip()
        rows.flag(out["end"] < PLACEHOLDER_BEFORE, "placeholder end (before 1990)", shown)
        rows.flag(out["end"] < out["start"], "ends before it starts", shown)
    for name in ("site", "area"):
        other = next((c for c in candidates[name] if c != station_column), None)
        if other is not None:
            out[name] = raw[other].str.strip()
            used[name] = other
    identity = [c for c in ("station", "start", "end", "kwh") if c in out]
    repeated = out[identity].duplicated() & rows.ok
    rows.flag(repeated, "duplicate of an earlier row", out["station"] + " " + out["start"].astype(str))
    report.skipped = rows.examples
    kept = out[rows.ok].copy()
    if kept.empty:
        raise SessionsFileError(f"{path}: no usable session left; " + "; ".join(report.lines()[1:]))
    names = kept["site"] if "site" in kept else kept["station"]
    kept["test"] = kept["station"].map(site_names.is_test) | names.map(site_names.is_test)
    report.variants = site_names.variants(names.unique())
    report.test_sites = sorted(set(names[kept["test"]]) | set(kept["station"][kept["test"]]))
    report.first, report.last = kept["start"].min(), kept["start"].max()
    return kept.sort_values("start", kind="stable").reset_index(drop=True), report


def load_driver(path: Path) -> pd.Series:
    """A user-supplied driver series (e.g. new EV registrations per month): a date column and a value."""
    try:
        raw = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise SessionsFileError(f"{path}: not a readable CSV file ({error})") from None
    if len(raw.columns) < 2 or raw.empty:
        raise SessionsFileError(f"{path}: expected two columns, a date and a value")
    dates = pd.to_datetime(raw.iloc[:, 0], utc=True, errors="coerce", format="mixed")
    values = pd.to_numeric(raw.iloc[:, 1], errors="coerce")
    if dates.isna().any() or values.isna().any():
        row = int((dates.isna() | values.isna()).idxmax())
        raise SessionsFileError(f"{path}: row {row + 2}: not a date and a number")
    return pd.Series(values.to_numpy(), index=pd.DatetimeIndex(dates)).sort_index()
