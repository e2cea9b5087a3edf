"""Hour-by-hour occupancy of every charger of the council, in arrays, from their status timelines.

Why arrays: saturation needs to know, for each hour, whether *every* charger of an area was busy at
once, and a council has thousands of chargers and a year has 8,760 hours (issue 13 §4: 5,000
chargers over a year in well under a minute). Intervals are cut into hours with a difference array
(whole hours in between cost one cumulative sum, not a loop), so the cost is linear in the number
of status changes plus chargers x hours, all in numpy.

The states, as the OCPI agent writes EVSE ``status`` (docs/ENTITIES.md):
  * occupied: ``CHARGING`` (a vehicle plugged in), ``BLOCKED`` (the bay taken), ``RESERVED``;
  * down: ``OUTOFORDER``, ``INOPERATIVE`` — demand that came found no charger either;
  * unknown: ``UNKNOWN``, ``REMOVED``, ``PLANNED`` and the time before a charger's first status:
    not counted at all (neither busy nor free).
A charger counts as *busy* in an hour when it was occupied or down for at least half of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

OCCUPIED = frozenset({"CHARGING", "BLOCKED", "RESERVED"})
DOWN = frozenset({"OUTOFORDER", "INOPERATIVE"})
UNKNOWN = frozenset({"UNKNOWN", "REMOVED", "PLANNED"})
HOUR = 3600
BUSY_SHARE = 0.5  # of an hour occupied or down, for the hour to count as busy

#: state codes of the interval arrays
FREE, OCCUPIED_CODE, DOWN_CODE = 0, 1, 2


def state_code(status: str) -> int | None:
    """The code of an EVSE status; ``None`` for states that are not counted."""
    if status in OCCUPIED:
        return OCCUPIED_CODE
    if status in DOWN:
        return DOWN_CODE
    return None if status in UNKNOWN else FREE


@dataclass(frozen=True)
class StatusChanges:
    """Status changes of many chargers as arrays: row index, epoch second, state code (-1: not counted)."""

    charger: np.ndarray
    moment: np.ndarray
    code: np.ndarray

    @classmethod
    def from_timelines(cls, timelines: Sequence[Sequence[tuple[datetime, str]]]) -> StatusChanges:
        rows = [row for row, timeline in enumerate(timelines) for _ in timeline]
        moments = [since.timestamp() for timeline in timelines for since, _ in timeline]
        codes = [-1 if (code := state_code(status)) is None else code for timeline in timelines
                 for _, status in timeline]
        return cls(np.asarray(rows, dtype=np.int64), np.asarray(moments, dtype=float),
                   np.asarray(codes, dtype=np.int8))


@dataclass(frozen=True)
class Intervals:
    """Known-state intervals of many chargers: row index, [start, end) in epoch seconds, state code."""

    charger: np.ndarray
    start: np.ndarray
    end: np.ndarray
    state: np.ndarray

    @classmethod
    def from_changes(cls, changes: StatusChanges, start: datetime, end: datetime) -> Intervals:
        """Each status holds until the charger's next change, the last one until ``end``; clipped to
        [start, end); states not counted are dropped. Vectorised: a year of a council's changes (millions)
        takes a second or two, not a Python loop's minute."""
        low, high = start.timestamp(), end.timestamp()
        order = np.lexsort((changes.moment, changes.charger))
        charger, moment, code = changes.charger[order], changes.moment[order], changes.code[order]
        following = np.full(len(moment), high)
        same = charger[1:] == charger[:-1]
        following[:-1][same] = moment[1:][same]
        a, b = np.maximum(moment, low), np.minimum(following, high)
        keep = (b > a) & (code >= 0)
        return cls(charger[keep], a[keep], b[keep], code[keep].astype(np.int8))



@dataclass(frozen=True)
class Occupancy:
    """Per charger: busy hours (occupied or down ≥ half the hour) and seconds in each state."""

    busy: np.ndarray  # bool, chargers x hours
    known: np.ndarray  # bool, chargers x hours: some state was known in the hour
    occupied_seconds: np.ndarray  # per charger
    down_seconds: np.ndarray
    known_seconds: np.ndarray


def _seconds_per_hour(rows: int, hours: int, origin: float, intervals: Intervals) -> np.ndarray:
    """Seconds the given intervals cover in each charger-hour (rows x hours).

    Partial first and last hours are added directly; the whole hours in between as +1/-1 marks of a
    difference array, summed along each row (``np.bincount`` does the adding: far faster than
    ``np.add.at``).
    """
    width = hours + 1
    size = rows * width
    a = intervals.start - origin
    b = intervals.end - origin
    first, last = (a // HOUR).astype(np.int64), ((b - 1e-6) // HOUR).astype(np.int64)
    base = intervals.charger * width
    same = first == last
    cut = ~same
    seconds = np.zeros(size)
    seconds += np.bincount(base[same] + first[same], weights=b[same] - a[same], minlength=size)
    seconds += np.bincount(base[cut] + first[cut], weights=(first[cut] + 1) * HOUR - a[cut], minlength=size)
    seconds += np.bincount(base[cut] + last[cut], weights=b[cut] - last[cut] * HOUR, minlength=size)
    marks = np.bincount(base[cut] + first[cut] + 1, minlength=size) - np.bincount(base[cut] + last[cut],
                                                                                   minlength=size)
    whole = np.cumsum(marks.reshape(rows, width), axis=1) * HOUR
    result: np.ndarray = (seconds.reshape(rows, width) + whole)[:, :hours]
    return result


def _select(intervals: Intervals, mask: np.ndarray, offset: int = 0) -> Intervals:
    return Intervals(intervals.charger[mask] - offset, intervals.start[mask], intervals.end[mask],
                     intervals.state[mask])


def occupancy(intervals: Intervals, chargers: int, start: datetime, hours: int, *, block: int = 512) -> Occupancy:
    """Hourly occupancy of ``chargers`` rows over ``hours`` hours from ``start`` (an hour boundary).

    Chargers are taken ``block`` rows at a time, so the float work arrays stay a few tens of MB
    whatever the council's size; only the boolean results are kept whole.
    """
    origin = start.timestamp()
    busy = np.zeros((chargers, hours), dtype=bool)
    known = np.zeros((chargers, hours), dtype=bool)
    order = np.argsort(intervals.charger, kind="stable")
    ordered = _select(intervals, order)
    bounds = np.searchsorted(ordered.charger, np.arange(0, chargers + block, block))
    for n, low in enumerate(range(0, chargers, block)):
        rows = min(block, chargers - low)
        part = _select(ordered, slice(bounds[n], bounds[n + 1]), low)  # type: ignore[arg-type]
        known[low:low + rows] = _seconds_per_hour(rows, hours, origin, part) > 0
        taken = _select(part, part.state != FREE)
        busy[low:low + rows] = _seconds_per_hour(rows, hours, origin, taken) >= BUSY_SHARE * HOUR
    length = intervals.end - intervals.start

    def total(mask: np.ndarray) -> np.ndarray:
        return np.bincount(intervals.charger[mask], weights=length[mask], minlength=chargers)[:chargers]

    return Occupancy(busy=busy, known=known, occupied_seconds=total(intervals.state == OCCUPIED_CODE),
                     down_seconds=total(intervals.state == DOWN_CODE),
                     known_seconds=total(np.ones(len(length), dtype=bool)))


def saturated_hours(occupied: Occupancy, groups: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    """Per group of charger rows (an area's chargers): (hours in which every charger was busy, hours in
    which every charger's state was known).

    An hour in which any charger's state is unknown is not judged at all: leaving that charger out
    would call an hour saturated because the one charger known in it was busy (a feed that has only
    just started, or that lost most chargers, would look saturated).
    """
    out: list[tuple[int, int]] = []
    for rows in groups:
        if not rows:
            out.append((0, 0))
            continue
        index = np.asarray(rows, dtype=np.int64)
        all_known = occupied.known[index].all(axis=0)
        all_busy = occupied.busy[index].all(axis=0) & all_known
        out.append((int(all_busy.sum()), int(all_known.sum())))
    return out
