"""What the OCPI agent remembers between polls and restarts: ``date_from`` cursors per operator
and module, and a fingerprint + observedAt per entity so that only changed entities are written
and a stale record never overwrites a newer one."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from typing import Any

import orjson

from ..db import AgentDb


def fingerprint(entity: dict[str, Any]) -> str:
    return hashlib.sha1(orjson.dumps(entity, option=orjson.OPT_SORT_KEYS), usedforsecurity=False).hexdigest()


def observed(entity: dict[str, Any]) -> str | None:
    """The newest observedAt of an entity's attributes (its data time), if any."""
    times = [a["observedAt"] for a in entity.values() if isinstance(a, dict) and "observedAt" in a]
    return max(times) if times else None


@dataclass
class Changes:
    entities: list[dict[str, Any]]
    rows: list[tuple[str, str, str, str, str | None, int]]  # id, operator, type, fingerprint, observed, removed
    stale: int


class SyncState:
    def __init__(self, db: AgentDb) -> None:
        self.db = db
        db.execute("CREATE TABLE IF NOT EXISTS ocpi_cursor (operator TEXT, module TEXT, date_from TEXT, "
                   "PRIMARY KEY (operator, module))")
        db.execute("CREATE TABLE IF NOT EXISTS ocpi_entity (entity_id TEXT PRIMARY KEY, operator TEXT, "
                   "type TEXT, fingerprint TEXT, observed TEXT, removed INTEGER NOT NULL DEFAULT 0)")
        db.execute("CREATE INDEX IF NOT EXISTS ocpi_entity_by_operator ON ocpi_entity (operator, type)")

    def cursor(self, operator: str, module: str) -> str | None:
        rows = self.db.execute("SELECT date_from FROM ocpi_cursor WHERE operator = ? AND module = ?",
                               (operator, module))
        return str(rows[0][0]) if rows and rows[0][0] else None

    @staticmethod
    def save_cursor(conn: sqlite3.Connection, operator: str, module: str, date_from: str) -> None:
        conn.execute("INSERT OR REPLACE INTO ocpi_cursor VALUES (?, ?, ?)", (operator, module, date_from))

    def changed(self, operator: str, entities: list[dict[str, Any]]) -> Changes:
        """Entities that differ from what was last written and are not older than it."""
        known: dict[str, tuple[str, str | None]] = {}
        ids = [e["id"] for e in entities]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = self.db.execute(f"SELECT entity_id, fingerprint, observed FROM ocpi_entity WHERE entity_id IN "
                                   f"({','.join('?' * len(chunk))})", tuple(chunk))
            known.update({str(i): (str(f), o if o is None else str(o)) for i, f, o in rows})
        out = Changes([], [], 0)
        for entity in entities:
            mark, when = fingerprint(entity), observed(entity)
            previous = known.get(entity["id"])
            if previous is not None:
                if previous[0] == mark:
                    continue
                if previous[1] is not None and when is not None and when < previous[1]:
                    out.stale += 1
                    continue
            out.entities.append(entity)
            removed = int(entity.get("status", {}).get("value") == "REMOVED")
            out.rows.append((entity["id"], operator, entity["type"], mark, when, removed))
            known[entity["id"]] = (mark, when)
        return out

    @staticmethod
    def remember(conn: sqlite3.Connection, rows: list[tuple[str, str, str, str, str | None, int]]) -> None:
        conn.executemany("INSERT OR REPLACE INTO ocpi_entity VALUES (?, ?, ?, ?, ?, ?)", rows)

    def known(self, entity_id: str) -> bool:
        """Whether the entity was written before (by any sync of this agent)."""
        return bool(self.db.execute("SELECT 1 FROM ocpi_entity WHERE entity_id = ?", (entity_id,)))

    def active_ids(self, operator: str, entity_type: str) -> set[str]:
        """Entities of an operator last written as present (not REMOVED)."""
        rows = self.db.execute("SELECT entity_id FROM ocpi_entity WHERE operator = ? AND type = ? AND removed = 0",
                               (operator, entity_type))
        return {str(r[0]) for r in rows}
