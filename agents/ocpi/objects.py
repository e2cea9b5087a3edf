"""The last full OCPI object the agent knows per operator, module and id (its own SQLite).

A CPO that pushes sends a PATCH with only what changed (an EVSE's ``status`` and
``last_updated``, a Session's ``kwh``); the mappings need the whole object, so a PATCH is merged
into the last full one (``merge``). Polls keep this table up to date too, so a CPO may be polled
first and push afterwards. An object is never replaced by an older one (by ``last_updated``, as
fingerprints and ``observedAt`` guard the broker). Ids are OCPI CiStrings: one form, upper case.
"""

from __future__ import annotations

from typing import Any

import orjson

from citiesincharge.ids import case_insensitive
from mappings.transforms import TransformError, datetime_utc

from ..db import AgentDb


def stamp(record: dict[str, Any]) -> str | None:
    """A record's ``last_updated`` in one comparable form, or None when it has none or a bad one."""
    try:
        return datetime_utc(record.get("last_updated"), {})
    except TransformError:
        return None


def object_id(record: Any) -> str | None:
    """The id of a record (``id``; ``uid`` for an EVSE), in its one form."""
    if not isinstance(record, dict):
        return None
    found = record.get("id", record.get("uid"))
    return case_insensitive(found) if isinstance(found, str) and found else None


class ObjectStore:
    def __init__(self, db: AgentDb) -> None:
        self.db = db
        db.execute("CREATE TABLE IF NOT EXISTS ocpi_object (operator TEXT, module TEXT, object_id TEXT, "
                   "last_updated TEXT, body BLOB, PRIMARY KEY (operator, module, object_id))")

    def get(self, operator: str, module: str, identifier: str) -> dict[str, Any] | None:
        rows = self.db.execute("SELECT body FROM ocpi_object WHERE operator = ? AND module = ? AND object_id = ?",
                               (operator, module, case_insensitive(identifier)))
        return dict(orjson.loads(rows[0][0])) if rows else None

    def keep(self, operator: str, module: str, records: list[Any]) -> None:
        """Remember full objects, each unless the one kept is newer."""
        rows = [(operator, module, key, stamp(r), orjson.dumps(r)) for r in records
                if (key := object_id(r)) is not None]
        if not rows:
            return
        with self.db.transaction() as conn:
            conn.executemany("INSERT INTO ocpi_object VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                             "last_updated = excluded.last_updated, body = excluded.body WHERE "
                             "ocpi_object.last_updated IS NULL OR excluded.last_updated IS NULL OR "
                             "excluded.last_updated >= ocpi_object.last_updated", rows)

    def forget(self, operator: str, module: str, identifier: str) -> bool:
        with self.db.transaction() as conn:
            done = conn.execute("DELETE FROM ocpi_object WHERE operator = ? AND module = ? AND object_id = ?",
                                (operator, module, case_insensitive(identifier)))
            return done.rowcount > 0
