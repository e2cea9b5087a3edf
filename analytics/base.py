"""What every analytics worker has: the broker client, the data clock, timers, and a writer.

Workers run in one thread each (the service feeds them notifications in order); they only read
the broker at start-up (back-fill) and write findings through :meth:`Context.write`, which
retries later when the broker is unreachable (findings are re-derivable, so memory is enough).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError
from citiesincharge.settings import Settings

from .clock import DataClock, Timers

log = logging.getLogger(__name__)


@dataclass
class Context:
    settings: Settings
    client: NgsiLdClient
    clock: DataClock
    timers: Timers
    _pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, entities: list[dict[str, Any]]) -> None:
        """Upsert findings; a later version of the same entity replaces one still waiting.

        A KPI without a value (no incident yet, so no MTTR) is not written: no figure beats a made-up one.
        """
        with self._lock:
            for entity in entities:
                if entity.get("type") == "KeyPerformanceIndicator" and entity["kpiValue"].get("value") is None:
                    continue
                self._pending[entity["id"]] = entity
            batch = list(self._pending.values())
            self._pending.clear()
        if not batch:
            return
        try:
            result = self.client.batch_upsert(batch, mode="update")
        except NgsiLdClientError as error:
            log.warning("findings not written yet (%s); will retry", error)
            with self._lock:
                for entity in batch:
                    self._pending.setdefault(entity["id"], entity)
            return
        for failed in result.errors:
            log.error("finding %s rejected by the broker: %s", failed.entity_id, failed.error.detail)

    def flush(self) -> None:
        self.write([])


def attribute_value(entity: dict[str, Any], name: str) -> Any:
    """An attribute's value (Property) or object (Relationship) in a notified entity, else None."""
    attribute = entity.get(name)
    return attribute.get("value", attribute.get("object")) if isinstance(attribute, dict) else attribute


class Worker(ABC):
    name: str

    def __init__(self, context: Context) -> None:
        self.ctx = context

    @abstractmethod
    def backfill(self) -> None:
        """Rebuild the state this worker needs from the broker (start-up, after downtime)."""

    @abstractmethod
    def handle(self, entity: dict[str, Any]) -> None:
        """One notified entity (normalized, project context)."""

    def tick(self) -> None:  # noqa: B027 - optional hook: most workers recompute on tick, some need not
        """Called every few seconds; for periodic recomputation."""

    def status(self) -> dict[str, Any]:
        """What the status endpoint shows about this worker."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook for workers that hold resources
        """Release what the worker started (schedulers)."""
