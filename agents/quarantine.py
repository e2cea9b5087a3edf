"""Quarantine: records that cannot be turned into entities, kept with their reason.

A bad record never stops the rest of its batch. It is stored (dead-letter table, with the raw
payload for a human to inspect), logged in one line that names the record and the reason but never
the payload (it may hold tokens or personal data), and counted: the gauge says how many records the
table holds, by source and field, so it survives restarts and agrees with what a person finds in
the table. A producer may store its rejections in its own transaction (``insert``, then
``announce`` once committed), so that a record is quarantined exactly when its batch is stored.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from .db import AgentDb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rejection:
    """One bad record: ``source`` is e.g. 'cpoA/locations'; ``field`` what was wrong."""

    source: str
    record: str
    field: str
    reason: str
    payload: Any = None


class Quarantine:
    def __init__(self, db: AgentDb, registry: CollectorRegistry) -> None:
        self.db = db
        db.execute("""CREATE TABLE IF NOT EXISTS quarantine (
            id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, source TEXT NOT NULL,
            record TEXT NOT NULL, field TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT)""")
        self.held = Gauge("cic_agent_quarantined_records", "records held in the quarantine table, by source and "
                          "field", ["source", "field"], registry=registry)
        for source, field, count in db.execute("SELECT source, field, COUNT(*) FROM quarantine GROUP BY 1, 2"):
            self.held.labels(source, field).set(count)

    def add(self, source: str, record: str, field: str, reason: str, payload: Any = None) -> None:
        """Keep a bad record."""
        self.add_all([Rejection(source, record, field, reason, payload)])

    def add_all(self, rejections: Sequence[Rejection]) -> None:
        """Keep bad records at once (or as part of the caller's transaction, if one is open)."""
        with self.db.lock:
            self.insert(self.db.conn, rejections)
        self.announce(rejections)

    @staticmethod
    def insert(conn: sqlite3.Connection, rejections: Sequence[Rejection]) -> None:
        """Store rejections in the caller's transaction; call ``announce`` once it has committed."""
        now = time.time()
        conn.executemany("INSERT INTO quarantine (at, source, record, field, reason, payload) VALUES (?,?,?,?,?,?)",
                         [(now, r.source, r.record, r.field, r.reason, _body(r.payload)) for r in rejections])

    def announce(self, rejections: Sequence[Rejection]) -> None:
        """Log and count rejections that are now in the table."""
        for r in rejections:
            self.held.labels(r.source, r.field).inc()
            log.warning("quarantined %s record %s: %s: %s", r.source, r.record, r.field, r.reason)

    def count(self, source: str | None = None) -> int:
        if source is None:
            return self.db.count("SELECT COUNT(*) FROM quarantine")
        return self.db.count("SELECT COUNT(*) FROM quarantine WHERE source = ?", (source,))

    def count_prefix(self, prefix: str) -> int:
        return self.db.count("SELECT COUNT(*) FROM quarantine WHERE source LIKE ? || '%'", (prefix,))

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT at, source, record, field, reason FROM quarantine ORDER BY id DESC LIMIT ?",
                               (limit,))
        return [{"at": at, "source": source, "record": record, "field": field, "reason": reason}
                for at, source, record, field, reason in rows]


def _body(payload: Any) -> str | None:
    return json.dumps(payload, default=str)[:100_000] if payload is not None else None
