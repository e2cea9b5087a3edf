"""A token bucket per client address: ``rate`` requests a second on average, ``burst`` at once.

Why per address and in process: the feed is public and anonymous, so the address is the only
handle; one replica's buckets are enough to keep a scraper from starving the broker (the snapshot
cache does the rest). The clock is injected so tests step it instead of sleeping. Buckets that have
filled up again are forgotten when there are many, so a scan from many addresses cannot grow
memory without bound.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

MAX_CLIENTS = 10_000


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, float(burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go ahead (a token taken), else the seconds until one is free."""
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                self._forget_full(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        if len(self._buckets) <= MAX_CLIENTS:
            return
        self._buckets = {k: (t, at) for k, (t, at) in self._buckets.items()
                         if t + (now - at) * self.rate < self.burst}


def retry_after(wait: float) -> str:
    """The ``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
