"""The one clock of event time that every process of a run shares.

In production it is the wall clock. In the demo the whole town runs accelerated: the simulators,
the agents (which stamp payloads that carry no time of their own with it) and the analytics all
read the same simulated instant, defined by one anchor (a simulated instant, the wall-clock epoch
second it corresponds to) and a scale, handed to every child process through ``CIC_CLOCK_*``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class WorldClock:
    start: datetime | None = None  # the simulated instant at wall epoch second ``wall``; None: real time
    wall: float = 0.0
    scale: float = 1.0

    @classmethod
    def anchored(cls, start: datetime, scale: float, wall: float | None = None) -> WorldClock:
        """A clock that reads ``start`` now (or at wall epoch second ``wall``) and runs ``scale`` x."""
        if start.tzinfo is None:
            raise ValueError("a clock's start instant needs a UTC offset")
        return cls(start, time.time() if wall is None else wall, scale)

    def at(self, wall: float) -> datetime:
        """The event-time instant at wall epoch second ``wall``."""
        if self.start is None:
            return datetime.fromtimestamp(wall, UTC)
        return self.start + timedelta(seconds=(wall - self.wall) * self.scale)

    def now(self) -> datetime:
        return self.at(time.time())

    def environment(self) -> dict[str, str]:
        """The ``CIC_CLOCK_*`` variables that give a child process this clock."""
        if self.start is None:
            return {}
        return {"CIC_CLOCK_START": self.start.isoformat(), "CIC_CLOCK_WALL": repr(self.wall),
                "CIC_CLOCK_SCALE": repr(self.scale)}
