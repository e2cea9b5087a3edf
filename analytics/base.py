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
from typing import TYPE_CHECKING, Any

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError
from citiesincharge.settings import Settings

from .clock import DataClock, Timers

if TYPE_CHECKING:
    from .provenance import Provenance

log = logging.getLogger(__name__)
REMEMBERED = 200_000  # findings whose last written version is kept to drop repeats (a town has thousands)


@dataclass
class Context:
    settings: Settings
    client: NgsiLdClient
    clock: DataClock
    timers: Timers
    _pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # id -> versions, oldest first
    _written: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> what the broker has from us
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _provenance: Provenance | None = None

    @property
    def provenance(self) -> Provenance:
        """The operators' data policies (read from the broker on first use)."""
        if self._provenance is None:
            from .provenance import Provenance  # here, not at the top: provenance imports this module

            self._provenance = Provenance(self.client, self.settings.council_id)
        return self._provenance

    def write(self, entities: list[dict[str, Any]]) -> None:
        """Upsert findings, skipping any identical to what was last written for its id, and sending
        of a finding the broker has from us only the attributes that changed.

        Why: the broker appends a history row for every attribute of every upsert (Orion-LD / TRoE
        do, whether or not the value changed), so re-sending an unchanged finding every tick is
        what made the demo's history grow without bound, and re-sending a KPI's 14 attributes for a
        new ``kpiValue`` cost 14 rows instead of one. Versions of one id are written in the
        order given (a KPI correcting an ended period, then its newest period again); a waiting
        version is replaced by a later one for the same period (for KPIs, the ``observedAt`` of
        ``kpiValue``), so a broker outage costs memory per finding, not per tick.
        """
        entities = [self.provenance.stamp(e) for e in entities]  # a KPI's licence and sharing level
        with self._lock:
            for entity in entities:
                self._queue(entity)
            pending, self._pending = self._pending, {}
        rounds: list[list[tuple[dict[str, Any], dict[str, Any]]]] = []  # round n: (version, what is sent) of
        for entity_id, versions in pending.items():  # the n-th version of each id (one upsert per round)
            last, index = self._written.get(entity_id), 0
            for entity in versions:
                if entity == last:
                    continue
                sent = entity if last is None else _changes(last, entity)
                last = entity
                if index == len(rounds):
                    rounds.append([])
                rounds[index].append((entity, sent))
                index += 1
        for number, versions_sent in enumerate(rounds):
            try:
                result = self.client.batch_upsert([sent for _, sent in versions_sent], mode="update")
            except NgsiLdClientError as error:
                log.warning("findings not written yet (%s); will retry", error)
                with self._lock:  # the unwritten versions go back in order, before any written since
                    newer, self._pending = self._pending, {}
                    for entity in (e for later in rounds[number:] for e, _ in later):
                        self._pending.setdefault(entity["id"], []).append(entity)
                    for entity in (e for versions in newer.values() for e in versions):
                        self._queue(entity)
                return
            failed = {f.entity_id for f in result.errors}
            for entity, _ in versions_sent:
                if entity["id"] not in failed:
                    self._written.pop(entity["id"], None)  # oldest first: the bound forgets the longest unchanged
                    self._written[entity["id"]] = entity
                    if len(self._written) > REMEMBERED:
                        del self._written[next(iter(self._written))]
            for rejected in result.errors:
                log.error("finding %s rejected by the broker: %s", rejected.entity_id, rejected.error.detail)

    def _queue(self, entity: dict[str, Any]) -> None:
        versions = self._pending.setdefault(entity["id"], [])
        versions[:] = [v for v in versions if _version_key(v) != _version_key(entity)]
        versions.append(entity)

    def flush(self) -> None:
        self.write([])


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``after`` less the attributes it shares unchanged with ``before`` (an update, not a replace:
    an attribute ``after`` lacks stays as it is, as it would with the whole entity sent)."""
    return {k: v for k, v in after.items() if k in ("id", "type") or before.get(k) != v}


def _version_key(entity: dict[str, Any]) -> Any:
    """Which version of a finding an entity is: a KPI's period, else the entity as a whole."""
    value = entity.get("kpiValue")
    return value.get("observedAt") if isinstance(value, dict) else None


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
