"""Date-times of a session export as people write them: day or month first, date and time in
separate columns, local wall-clock time.

Exports are written for spreadsheets: ``01/09/2016`` may be the first of September or the ninth
of January, ``Start Date`` and ``Start Time`` are often two columns, and times carry no offset
because they are the council's local time, an hour off UTC half of the year in the UK. Reading any
of these the machine's way shifts every profile without a word, so each is decided here from the
whole column, and said: day or month first is settled by a value above 12 (refused when no value
decides), local times are placed in the council's time zone with its clock changes.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

Kind = Literal["date", "time", "datetime"]
DateOrder = Literal["day-first", "month-first", "year-first"]

_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(?!\d)")
_TIME_ONLY = re.compile(r"^\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([aApP]\.?[mM]\.?)?\s*$")
_DATE_ONLY = re.compile(r"^\s*(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\d{4}-\d{2}-\d{2})\s*$")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})\s*$", re.IGNORECASE)
_SUMMER_ABBREVIATIONS = {"BST", "IST", "CEST", "EEST", "WEST", "MESZ"}  # and every "...DT" (MDT, EDT, ...)


class DateOrderError(ValueError):
    """Day-first or month-first cannot be told from the data; the message says why and what to do."""


def kind_of(values: pd.Series) -> Kind:
    """What a column holds, judged on its non-empty values: dates only, times of day only, or both."""
    present = values[values.str.strip() != ""]
    if present.empty:
        return "datetime"
    if present.str.match(_TIME_ONLY).mean() > 0.5:
        return "time"
    if present.str.match(_DATE_ONLY).mean() > 0.5:
        return "date"
    return "datetime"


def combine(dates: pd.Series, times: pd.Series) -> pd.Series:
    """``Start Date`` + ``Start Time`` as one text; empty where either is missing (not a midnight)."""
    both = (dates.str.strip() != "") & (times.str.strip() != "")
    return (dates.str.strip() + " " + times.str.strip()).where(both, "")


def date_order(columns: list[tuple[str, pd.Series]], dayfirst: bool | None) -> DateOrder:
    """Day-first or month-first for ``dd/mm/yyyy``-like values, decided once for the whole file.

    A value whose first number is above 12 can only be day-first, one whose second is above 12
    only month-first. Both kinds in one file, or none of either without ``dayfirst`` given, is
    refused: guessing would silently swap days and months in every ambiguous row.
    """
    firsts, seconds = [], []
    for _, values in columns:
        parts = values.str.extract(_DAY_MONTH)
        firsts.append(pd.to_numeric(parts[0], errors="coerce"))
        seconds.append(pd.to_numeric(parts[1], errors="coerce"))
    first, second = pd.concat(firsts), pd.concat(seconds)
    if first.isna().all():
        return "year-first"
    if dayfirst is not None:
        return "day-first" if dayfirst else "month-first"
    by_day, by_month = first > 12, second > 12
    texts = pd.concat([values for _, values in columns])
    names = ", ".join(name for name, _ in columns)
    if by_day.any() and by_month.any():
        raise DateOrderError(f"{names}: dates such as {texts[by_day.to_numpy()].iloc[0]!r} (day first) and "
                             f"{texts[by_month.to_numpy()].iloc[0]!r} (month first) in one file; "
                             f"say which with --dayfirst or --monthfirst")
    if by_day.any():
        return "day-first"
    if by_month.any():
        return "month-first"
    raise DateOrderError(f"{names}: no date has a day above 12 ({texts[first.notna().to_numpy()].iloc[0]!r} ...), "
                         f"so day-first and month-first both fit; say which with --dayfirst or --monthfirst")


def parse_local(values: pd.Series, order: DateOrder, zone: ZoneInfo,
                abbreviations: pd.Series | None = None) -> pd.Series:
    """Instants in ``zone`` (NaT where unreadable or empty).

    A value with an offset (``Z``, ``+01:00``) is that instant. One without is the council's wall
    clock: placed in ``zone``; a time the spring clock change skips is moved forward, and one the
    autumn change repeats is read as summer time unless a zone-abbreviation column (``MDT``/``MST``,
    ``BST``/``GMT``) says which.
    """
    text = values.str.strip()
    with_offset = text.str.contains(_OFFSET) & (text != "")
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[us, {zone.key}]")
    # dateutil reads a year-first value day-first if told so: only dd/mm-like values get the flag
    dayfirst = order == "day-first"
    if with_offset.any():
        aware = pd.to_datetime(text[with_offset], utc=True, errors="coerce", format="mixed", dayfirst=dayfirst)
        out[with_offset] = aware.dt.tz_convert(zone)
    naive_rows = ~with_offset & (text != "")
    if naive_rows.any():
        naive = pd.to_datetime(text[naive_rows], errors="coerce", format="mixed", dayfirst=dayfirst)
        summer = np.ones(int(naive_rows.sum()), dtype=bool)
        if abbreviations is not None:
            codes = abbreviations[naive_rows].str.strip().str.upper()
            summer = (codes.isin(_SUMMER_ABBREVIATIONS) | codes.str.endswith("DT") | (codes == "")).to_numpy()
        out[naive_rows] = naive.dt.tz_localize(zone, ambiguous=summer, nonexistent="shift_forward")
    return out
