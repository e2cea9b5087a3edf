"""The data clock: "now" in event time.

Analytics reason in event time (``observedAt``), not arrival time. The clock is anchored on the
newest observation seen and advances with the wall clock times ``scale`` (1 in production; the
demo's simulators run 60x, so its workers run their clocks 60x too). Timers (grace periods,
repair deadlines) fire when the data clock reaches them.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)


def parse(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class DataClock:
    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self._anchor: tuple[datetime, float] | None = None
        self._lock = threading.Lock()

    def observe(self, moment: datetime) -> None:
        with self._lock:
            if self._anchor is None or moment > self._current():
                self._anchor = (moment, time.monotonic())

    def _current(self) -> datetime:
        if self._anchor is None:
            return datetime.now(UTC)
        moment, wall = self._anchor
        return moment + timedelta(seconds=(time.monotonic() - wall) * self.scale)

    def now(self) -> datetime:
        """Event time: what timers (grace periods, debounces) are measured against, so that a burst of
        queued events is judged by when they happened, not by when they were processed."""
        with self._lock:
            return self._current()

    def calendar_now(self) -> datetime:
        """The moment that decides "today" and where forecasts start. In real time (scale 1) the wall
        clock, as events may be sparse or back-filled from long ago; in an accelerated simulation
        only the events tell what time it is."""
        current = self.now()
        return max(current, datetime.now(UTC)) if self.scale == 1 else current

    def wall_seconds_until(self, moment: datetime) -> float:
        return max(0.0, (moment - self.now()).total_seconds() / self.scale)


class Timers:
    """Callbacks at data-clock moments, one per key (re-scheduling a key replaces it).

    A due callback is handed to ``dispatch`` (the worker's own queue), so that the worker's state
    is only ever touched from the worker's thread.
    """

    def __init__(self, clock: DataClock, dispatch: Callable[[Callable[[], None]], None]) -> None:
        self.clock = clock
        self.dispatch = dispatch
        self._heap: list[tuple[datetime, int, str]] = []
        self._due: dict[str, tuple[int, Callable[[], None]]] = {}
        self._seq = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="timers", daemon=True)
        self._thread.start()

    def schedule(self, key: str, moment: datetime, callback: Callable[[], None]) -> None:
        with self._cond:
            self._seq += 1
            self._due[key] = (self._seq, callback)
            heapq.heappush(self._heap, (moment, self._seq, key))
            self._cond.notify()

    def cancel(self, key: str) -> None:
        with self._cond:
            self._due.pop(key, None)

    def pending(self, key: str) -> bool:
        with self._cond:
            return key in self._due

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                callback = None
                while self._heap:
                    moment, seq, key = self._heap[0]
                    current = self._due.get(key)
                    if current is None or current[0] != seq:
                        heapq.heappop(self._heap)  # cancelled or replaced
                        continue
                    wait = self.clock.wall_seconds_until(moment)
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        callback = self._due.pop(key)[1]
                    break
                if callback is None:
                    self._cond.wait(timeout=min(wait, 1.0) if self._heap else 1.0)
                    continue
            self.dispatch(callback)
