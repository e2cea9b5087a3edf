"""Charger reliability arithmetic on status timelines (pure functions).

Counted as the UK Public Charge Point Regulations 2023 count it: time AVAILABLE, CHARGING or
RESERVED is *reliable*; INOPERATIVE or OUTOFORDER is *unreliable*; UNKNOWN and BLOCKED (and a
charger not yet built or removed: PLANNED, REMOVED) are left out of both. Reliability is
reliable / (reliable + unreliable). An incident is a continuous unreliable stretch (OUTOFORDER
then INOPERATIVE is one incident); MTTR is the mean length of the incidents that ended, MTBF the
reliable time per incident.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

RELIABLE = frozenset({"AVAILABLE", "CHARGING", "RESERVED"})
UNRELIABLE = frozenset({"INOPERATIVE", "OUTOFORDER"})
Timeline = Sequence[tuple[datetime, str]]  # (since, status), sorted by time


@dataclass(frozen=True)
class Incident:
    start: datetime
    end: datetime | None  # None: still going on at the end of the window
    status: str

    def hours(self, now: datetime) -> float:
        return ((self.end or now) - self.start).total_seconds() / 3600


@dataclass(frozen=True)
class Summary:
    reliable_hours: float
    unreliable_hours: float
    incidents: tuple[Incident, ...]

    @property
    def reliability(self) -> float | None:
        counted = self.reliable_hours + self.unreliable_hours
        return None if counted == 0 else round(100 * self.reliable_hours / counted, 3)

    @property
    def mttr_hours(self) -> float | None:
        ended = [i for i in self.incidents if i.end is not None]
        return None if not ended else round(sum(i.hours(i.start) for i in ended) / len(ended), 3)

    @property
    def mtbf_hours(self) -> float | None:
        return None if not self.incidents else round(self.reliable_hours / len(self.incidents), 3)


def insert(timeline: list[tuple[datetime, str]], moment: datetime, status: str) -> bool:
    """Put an observation in its event-time place (late ones too); False if it changes nothing."""
    index = bisect.bisect_right(timeline, (moment, "\uffff"))
    before = timeline[index - 1] if index else None
    if before is not None and (before[1] == status or before[0] == moment):
        return False
    timeline.insert(index, (moment, status))
    return True


def segments(timeline: Timeline, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    """The timeline cut to [start, end): the status in force at ``start`` comes from before it."""
    out: list[tuple[datetime, datetime, str]] = []
    for index, (since, status) in enumerate(timeline):
        until = timeline[index + 1][0] if index + 1 < len(timeline) else end
        low, high = max(since, start), min(until, end)
        if low < high:
            out.append((low, high, status))
    return out


def summarise(timeline: Timeline, start: datetime, end: datetime) -> Summary:
    reliable = unreliable = 0.0
    incidents: list[Incident] = []
    current: tuple[datetime, str] | None = None
    for low, high, status in segments(timeline, start, end):
        hours = (high - low).total_seconds() / 3600
        if status in UNRELIABLE:
            unreliable += hours
            if current is None:
                current = (low, status)
        else:
            if status in RELIABLE:
                reliable += hours
            if current is not None and status in RELIABLE:  # back in service ends the incident
                incidents.append(Incident(current[0], low, current[1]))
                current = None
    if current is not None:
        incidents.append(Incident(current[0], None, current[1]))
    return Summary(round(reliable, 6), round(unreliable, 6), tuple(incidents))


def combined(summaries: Sequence[Summary]) -> Summary:
    """A network's figures: time summed over chargers (so each charger weighs by its counted time)."""
    return Summary(sum(s.reliable_hours for s in summaries), sum(s.unreliable_hours for s in summaries),
                   tuple(i for s in summaries for i in s.incidents))
