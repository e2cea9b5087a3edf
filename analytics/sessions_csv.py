"""Charging-session history from a CSV export (any operator's): recognised, checked, normalised.

Councils hold history outside the broker. Column names vary between exports, so common names are
recognised (case, spaces and punctuation ignored); a file that cannot be read is refused with a
message that says exactly what is wrong (which column is missing and what was looked for, which
row has an unreadable time or a negative energy), never a stack trace.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

COLUMNS: dict[str, tuple[str, ...]] = {
    "start": ("start", "starttime", "startdatetime", "startdate", "sessionstart", "startedat", "begin",
              "plugintime", "connectiontime", "chargestart"),
    "end": ("end", "endtime", "enddatetime", "enddate", "sessionend", "endedat", "stop", "stoptime",
            "stopdatetime", "unplugtime", "disconnectiontime", "chargeend"),
    "kwh": ("kwh", "energy", "energykwh", "totalenergy", "totalkwh", "energydelivered", "consumptionkwh",
            "kwhdelivered", "meterkwh"),
    "station": ("station", "stationid", "stationname", "site", "siteid", "locationid", "location", "chargepoint",
                "chargepointid", "cpid", "charger", "chargerid", "evse", "evseid", "evseuid"),
    "area": ("area", "areaname", "district", "ward", "zone", "region", "operator", "cpo", "network", "partyid"),
}
REQUIRED = ("start", "station")


class SessionsFileError(ValueError):
    """A sessions file that cannot be used; the message names the problem precisely."""


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def load_sessions(path: Path) -> pd.DataFrame:
    """Columns start, station and, when the file has them, end, kwh, area; times in UTC; by start."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise SessionsFileError(f"{path}: no such file") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise SessionsFileError(f"{path}: not a readable CSV file ({error})") from None
    if raw.empty:
        raise SessionsFileError(f"{path}: the file has a header but no sessions")
    found = {_key(column): column for column in raw.columns}
    chosen: dict[str, str] = {}
    for field, names in COLUMNS.items():
        match = next((found[n] for n in names if n in found), None)
        if match is not None:
            chosen[field] = match
        elif field in REQUIRED:
            raise SessionsFileError(f"{path}: no {field} column; looked for {', '.join(names)} "
                                    f"(case and punctuation ignored) among {', '.join(raw.columns)}")
    out = pd.DataFrame({"station": raw[chosen["station"]].str.strip()})
    if "area" in chosen:
        out["area"] = raw[chosen["area"]].str.strip()
    for field in ("start", "end"):
        if field not in chosen:
            continue
        values = raw[chosen[field]]
        parsed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
        bad = parsed.isna() & (values.str.strip() != "")
        if field == "start":
            bad |= values.str.strip() == ""
        if bad.any():
            row = int(bad.idxmax())
            raise SessionsFileError(f"{path}: row {row + 2}: {chosen[field]} {values[row]!r} is not a date-time")
        out[field] = parsed
    if "kwh" in chosen:
        energy = pd.to_numeric(raw[chosen["kwh"]].str.replace(",", ".", regex=False), errors="coerce")
        bad = energy.isna() | (energy < 0)
        if bad.any():
            row = int(bad.idxmax())
            raise SessionsFileError(f"{path}: row {row + 2}: {chosen['kwh']} {raw[chosen['kwh']][row]!r} "
                                    f"is not a non-negative number of kWh")
        out["kwh"] = energy
    if (out["station"] == "").any():
        row = int((out["station"] == "").idxmax())
        raise SessionsFileError(f"{path}: row {row + 2}: {chosen['station']} is empty")
    if "end" in out and (out["end"] < out["start"]).any():
        row = int((out["end"] < out["start"]).idxmax())
        raise SessionsFileError(f"{path}: row {row + 2}: the session ends before it starts")
    return out.sort_values("start").reset_index(drop=True)


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
