"""Quarantine: records that cannot be turned into entities, kept with their reason.

A bad record never stops the rest of its batch. It is stored (dead-letter table, with the raw
payload for a human to inspect), counted by source and reason, and logged in one line that names
the record and the reason but never the payload (it may hold tokens or personal data).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from .db import AgentDb

log = logging.getLogger(__name__)


class Quarantine:
    def __init__(self, db: AgentDb, registry: CollectorRegistry) -> None:
        self.db = db
        self.counter = Counter("cic_agent_quarantined_total", "records quarantined, by source and reason",
                               ["source", "reason"], registry=registry)
        db.execute("""CREATE TABLE IF NOT EXISTS quarantine (
            id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, source TEXT NOT NULL,
            record TEXT NOT NULL, field TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT)""")

    def add(self, source: str, record: str, field: str, reason: str, payload: Any = None) -> None:
        """Keep a bad record. ``source`` is e.g. 'cpoA/locations'; ``field`` what was wrong."""
        body = json.dumps(payload, default=str)[:100_000] if payload is not None else None
        self.db.execute("INSERT INTO quarantine (at, source, record, field, reason, payload) VALUES (?,?,?,?,?,?)",
                        (time.time(), source, record, field, reason, body))
        self.counter.labels(source, field).inc()
        log.warning("quarantined %s record %s: %s: %s", source, record, field, reason)

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
