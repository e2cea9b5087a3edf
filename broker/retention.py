"""Attribute history is kept for a set time, then pruned (``CIC_HISTORY_RETENTION_DAYS``).

Without it the embedded broker's history only grows. The default, 400 days, keeps the 13 months
a council reports on (a month compared with the same month last year). Instances are judged by
their own time (observedAt, else modifiedAt), so a back-filled reading of long ago goes when its
time is past the window, not when it arrived. In production the temporal store does this
(TimescaleDB's retention policy under Orion-LD's TRoE / Mintaka), with the same window.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from .store import Store
from .timeutil import format_iso

log = logging.getLogger(__name__)


class HistoryPruner:
    """Prunes at start and then every ``interval`` seconds, on its own thread."""

    def __init__(self, store: Store, days: float, interval: float) -> None:
        self.store = store
        self.window = timedelta(days=days)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="history-pruner", daemon=True)
        self._thread.start()

    def prune(self) -> int:
        cutoff = format_iso(datetime.now(UTC) - self.window)
        removed = self.store.prune_history(cutoff)
        if removed:
            log.info("history: %d attribute instances older than %s pruned", removed, cutoff)
        return removed

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.prune()
            except Exception:  # a failed sweep is retried at the next one, the broker goes on
                log.exception("history pruning failed")
            self._stop.wait(self.interval)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
