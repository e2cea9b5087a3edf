"""The durable outbox: entity writes wait here (SQLite) until the broker has taken them, in order.

Producers ``put`` entities in one transaction (optionally with their own bookkeeping, e.g. an OCPI
cursor, in the same transaction); a flusher sends the oldest rows as batch upserts. When the
broker is down or slow nothing is lost and nothing blocks the producers: rows wait and go out in
order once it is back (re-sending a batch that half-landed is harmless, upserts are idempotent).
An entity the broker rejects as bad data goes to quarantine with the broker's reason.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import BrokerUnavailable, NgsiLdClientError

from .db import AgentDb
from .quarantine import Quarantine

log = logging.getLogger(__name__)
#: longest wait between two tries while the broker is away. Short on purpose: a try is one request the
#: broker refuses at once while it is down, and a 16-30 s backoff grown during a long outage kept
#: writes waiting ~11 s after the broker was back (issue 16). Two seconds cost nothing and resume fast.
MAX_PROBE_S = 2.0
_RETRYABLE_ENTITY_ERRORS = {"LdContextNotAvailable", "InternalError", "NonexistentTenant"}


@dataclass
class FlushResult:
    sent: int = 0
    rejected: int = 0
    broker_down: bool = False


def _distinct_prefix(rows: list[Any]) -> list[Any]:
    """The rows up to (not including) the first that names an entity already among them: one batch never
    writes an entity twice, so each of its changes reaches the history in order on any broker (the
    NGSI-LD spec leaves a batch that names an entity twice to the broker)."""
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if row[1] in seen:
            return rows[:index]
        seen.add(row[1])
    return rows


class Outbox:
    def __init__(self, db: AgentDb, client: NgsiLdClient, quarantine: Quarantine, registry: CollectorRegistry,
                 *, source: str, batch_size: int = 500) -> None:
        self.db = db
        self.client = client
        self.quarantine = quarantine
        self.source = source
        self.batch_size = batch_size
        db.execute("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                   "entity_id TEXT NOT NULL, body BLOB NOT NULL, queued REAL NOT NULL)")
        self.sent = Counter("cic_outbox_sent_total", "entities written to the broker", registry=registry)
        Gauge("cic_outbox_depth", "entities waiting for the broker", registry=registry).set_function(self.depth)
        self.flushed_seq = self._initial_flushed_seq()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def _initial_flushed_seq(self) -> int:
        oldest = self.db.execute("SELECT MIN(seq) FROM outbox")[0][0]
        if oldest is not None:
            return int(oldest) - 1
        rows = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
        return int(rows[0][0]) if rows else 0

    # -- producers ---------------------------------------------------------------------------
    def put(self, entities: list[dict[str, Any]], also: Callable[[sqlite3.Connection], None] | None = None) -> int:
        """Queue entities durably; ``also`` runs in the same transaction (e.g. saving a cursor).

        Returns the sequence number of the last row queued: once ``flushed_seq`` reaches it, the
        broker has these entities.
        """
        if not entities and also is None:
            return self.flushed_seq
        now = time.time()
        with self.db.transaction() as conn:
            conn.executemany("INSERT INTO outbox (entity_id, body, queued) VALUES (?, ?, ?)",
                             [(e["id"], orjson.dumps(e), now) for e in entities])
            if also is not None:
                also(conn)
            last = conn.execute("SELECT MAX(seq) FROM outbox").fetchone()[0]
        self._wake.set()
        return int(last) if last is not None else self.flushed_seq

    def depth(self) -> int:
        return self.db.count("SELECT COUNT(*) FROM outbox")

    def oldest_age(self) -> float:
        rows = self.db.execute("SELECT MIN(queued) FROM outbox")
        oldest = rows[0][0]
        return 0.0 if oldest is None else time.time() - float(oldest)

    # -- delivery ----------------------------------------------------------------------------
    def flush(self, *, max_batches: int | None = None) -> FlushResult:
        """Send queued entities oldest first until empty, the broker is down, or max_batches."""
        result = FlushResult()
        batches = 0
        while max_batches is None or batches < max_batches:
            rows = _distinct_prefix(self.db.execute("SELECT seq, entity_id, body FROM outbox ORDER BY seq LIMIT ?",
                                                    (self.batch_size,)))
            if not rows:
                break
            batches += 1
            entities = [orjson.loads(body) for _seq, _id, body in rows]
            last_seq = rows[-1][0]
            try:
                outcome = self.client.batch_upsert(entities, mode="update")
            except BrokerUnavailable as error:
                self._down(result, str(error))
                break
            except NgsiLdClientError as error:
                if error.status in (401, 403, 429) or error.status >= 500:
                    self._down(result, str(error))
                    break
                for entity in entities:  # the whole batch was refused as bad data
                    self.quarantine.add(self.source, entity["id"], "broker", str(error), entity)
                result.rejected += len(entities)
                self._drop_through(last_seq)
                continue
            transient = [e for e in outcome.errors if e.error.short_type in _RETRYABLE_ENTITY_ERRORS]
            if transient:
                self._down(result, f"broker could not take {len(transient)} entities: {transient[0].error.detail}")
                break
            by_id = {e["id"]: e for e in entities}
            for rejected in outcome.errors:
                self.quarantine.add(self.source, str(rejected.entity_id), "broker",
                                    rejected.error.detail or rejected.error.title, by_id.get(str(rejected.entity_id)))
            self._drop_through(last_seq)
            result.sent += len(entities) - len(outcome.errors)
            result.rejected += len(outcome.errors)
            self.sent.inc(len(entities) - len(outcome.errors))
            self.last_error = None
        return result

    def _drop_through(self, seq: Any) -> None:
        self.db.execute("DELETE FROM outbox WHERE seq <= ?", (seq,))
        self.flushed_seq = max(self.flushed_seq, int(seq))

    def _down(self, result: FlushResult, why: str) -> None:
        result.broker_down = True
        if why != self.last_error:
            log.warning("outbox %s: broker not taking writes (%s); %d entities wait", self.source, why, self.depth())
        self.last_error = why

    # -- background flusher ------------------------------------------------------------------
    def start(self) -> None:
        """Run the background flusher (no-op if it already runs)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"outbox-{self.source}", daemon=True)
        self._thread.start()
        self._wake.set()

    def stop(self, *, drain_seconds: float = 5.0) -> None:
        """Stop the flusher after trying to drain for a moment (rows left stay for next time)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        deadline = time.monotonic() + drain_seconds
        while self.depth() and time.monotonic() < deadline and not self.flush(max_batches=1).broker_down:
            pass

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                result = self.flush()
            except Exception:  # never let the flusher die; the rows stay queued
                log.exception("outbox %s: flush failed", self.source)
                result = FlushResult(broker_down=True)
            if result.broker_down:
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_PROBE_S)
                self._wake.set()
            else:
                backoff = 0.5
