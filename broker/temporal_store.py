"""Temporal provision on the history rows (ETSI GS CIM 009 §5.6.11-5.6.17) and temporal selection.

The current-state store appends history as entities change; the temporal API may also write it
directly: create or extend a temporal entity, delete it, delete an attribute's instances, patch
or delete one instance by its ``instanceId``. These writes touch only the history (an entity's
temporal representation is its history; the current entity, if any, is another resource), each
in one transaction under the store's lock, on the compact rows of :mod:`broker.history`.

An instance that carries ``observedAt`` is identified by (attribute, datasetId, observedAt): sent
again, it replaces the stored one instead of doubling it, so a client re-sending a temporal
entity (or replaying a batch) leaves the same history — the broker's rule "idempotent".
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from . import history as compact
from .errors import ResourceNotFound

_CHUNK = 500  # entity numbers per IN (...) list, well under SQLite's variable limit


@dataclass(frozen=True)
class TemporalEntity:
    """An entity the history knows: its number, id and type IRIs (None: recorded before types were)."""

    number: int
    entity_id: str
    types: list[str] | None


class TemporalStore:
    """Writes and selections of temporal entities; shares the store's connection, lock and keys."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock, codec: compact.Codec,
                 keys: compact.Keys) -> None:
        self._db = db
        self._lock = lock
        self._codec = codec
        self._keys = keys

    # -- writes ------------------------------------------------------------------------------
    def append(self, tenant: str, entity_id: str, types: list[str] | None,
               attrs: dict[str, list[dict[str, Any]]], *, create: bool) -> bool:
        """Add instances (and types) to a temporal entity, made if ``create``; True if it was new."""
        with self._transaction() as db:
            found = self._keys.find(db, tenant, entity_id)
            if found is None and not create:
                raise ResourceNotFound(f"temporal entity {entity_id} not found")
            known = (found[1] or []) if found else []
            merged = known + [t for t in types or [] if t not in known]
            number = self._keys.entity(db, tenant, entity_id, merged or None)
            for iri, instances in attrs.items():
                attr = self._keys.attr(db, iri)
                for instance in instances:
                    self._put(db, number, attr, instance)
        return found is None

    def delete_entity(self, tenant: str, entity_id: str) -> None:
        with self._transaction() as db:
            number = self._entity(db, tenant, entity_id)
            db.execute("DELETE FROM history WHERE entity = ?", (number,))
            db.execute("DELETE FROM history_entities WHERE id = ?", (number,))
        self._keys.drop(tenant, entity_id)

    def delete_attr(self, tenant: str, entity_id: str, iri: str, dataset_id: str | None,
                    delete_all: bool) -> None:
        """Delete the attribute's instances: of the default (or given) datasetId, or all of them."""
        with self._transaction() as db:
            number, attr = self._entity(db, tenant, entity_id), self._attr(db, entity_id, iri)
            rows = db.execute("SELECT id, doc FROM history WHERE entity = ? AND attr = ?", (number, attr))
            doomed = [(row_id,) for row_id, doc in rows
                      if delete_all or orjson.loads(self._codec.expand(doc)).get("datasetId") == dataset_id]
            if not doomed:
                raise ResourceNotFound(f"temporal entity {entity_id} has no attribute {iri}"
                                       + (f" with datasetId {dataset_id}" if dataset_id else " without datasetId"))
            db.executemany("DELETE FROM history WHERE id = ?", doomed)

    def patch_instance(self, tenant: str, entity_id: str, iri: str, instance_id: str,
                       patch: dict[str, Any]) -> None:
        """Update one instance in place: it keeps its instanceId, createdAt and (unless given) datasetId."""
        with self._transaction() as db:
            row_id, old = self._instance(db, tenant, entity_id, iri, instance_id)
            merged = dict(old) if old.get("type") == patch.get("type", old.get("type")) else {}
            merged.update(patch)
            merged["createdAt"] = old["createdAt"]
            ts, modified, doc = self._row(merged)
            db.execute("UPDATE history SET ts = ?, modified_at = ?, doc = ? WHERE id = ?", (ts, modified, doc, row_id))

    def delete_instance(self, tenant: str, entity_id: str, iri: str, instance_id: str) -> None:
        with self._transaction() as db:
            row_id, _old = self._instance(db, tenant, entity_id, iri, instance_id)
            db.execute("DELETE FROM history WHERE id = ?", (row_id,))

    # -- reads -------------------------------------------------------------------------------
    def entity(self, tenant: str, entity_id: str) -> TemporalEntity | None:
        with self._lock:
            found = self._keys.find(self._db, tenant, entity_id)
        return None if found is None else TemporalEntity(found[0], entity_id, found[1])

    def entities(self, tenant: str, ids: list[str] | None) -> list[TemporalEntity]:
        """The tenant's temporal entities (only ``ids``, if given), in the order history first knew them."""
        sql = "SELECT id, entity_id, types FROM history_entities WHERE tenant = ?"
        params: list[Any] = [tenant]
        if ids is not None:
            sql += f" AND entity_id IN ({','.join('?' * len(ids))})"
            params += ids
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", params).fetchall()
        return [TemporalEntity(number, entity_id, None if types is None else list(orjson.loads(types)))
                for number, entity_id, types in rows]

    def instances(self, tenant: str, entity_id: str, attrs: list[str] | None, window: compact.Window,
                  count: int | None, *, newest: bool) -> dict[str, list[dict[str, Any]]]:
        """An entity's instances in the window, per attribute IRI in time order, each with its
        ``instanceId``: all of them, or only the oldest (the newest if ``newest``) ``count`` per
        attribute, chosen by SQL on the integer columns so that older pages cost no expansion."""
        column = window.column
        order = f"h.{column} {'DESC' if newest else 'ASC'}, h.id {'DESC' if newest else 'ASC'}"
        where, params = compact.window_sql(column, window.start, window.end, window.strict_start)
        with self._lock:
            found = self._keys.find(self._db, tenant, entity_id)
            if found is None:
                return {}
            attr_sql = "" if attrs is None else f" AND a.iri IN ({','.join('?' * len(attrs))})"
            inner = (f"SELECT a.iri AS iri, h.doc AS doc, h.id AS id, h.{column} AS t, ROW_NUMBER() OVER "
                     f"(PARTITION BY h.attr ORDER BY {order}) AS n FROM history h JOIN history_attrs a "
                     f"ON a.id = h.attr WHERE h.entity = ?{attr_sql}{where}")
            rows = self._db.execute(f"SELECT iri, doc, id FROM ({inner}) WHERE ? IS NULL OR n <= ? ORDER BY iri, t, id",
                                    [found[0], *(attrs or []), *params, count, count]).fetchall()
        out: dict[str, list[dict[str, Any]]] = {}
        for iri, doc, row_id in rows:
            instance = orjson.loads(self._codec.expand(doc))
            instance["instanceId"] = compact.instance_uri(row_id)
            out.setdefault(iri, []).append(instance)
        return out

    def with_instances(self, numbers: list[int], attrs: list[str] | None, column: str, start: str | None,
                       end: str | None, exclusive_start: bool) -> set[int]:
        """Which of these entities hold an instance in the window (of one of ``attrs``, if given),
        found on the integer columns without expanding a single document."""
        window, window_params = compact.window_sql(column, start, end, exclusive_start)
        found: set[int] = set()
        with self._lock:
            attr_numbers = None if attrs is None else [
                n for n in (self._keys.known_attr(self._db, iri) for iri in attrs) if n is not None]
            if attr_numbers == []:
                return found
            attr_sql = "" if attr_numbers is None else f" AND h.attr IN ({','.join('?' * len(attr_numbers))})"
            for at in range(0, len(numbers), _CHUNK):
                chunk = numbers[at:at + _CHUNK]
                sql = (f"SELECT DISTINCT h.entity FROM history h WHERE h.entity IN ({','.join('?' * len(chunk))})"
                       + attr_sql + window)
                rows = self._db.execute(sql, [*chunk, *(attr_numbers or []), *window_params])
                found.update(row[0] for row in rows)
        return found

    # -- helpers -----------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                self._keys.forget()  # numbers made in the transaction went with it
                raise

    def _entity(self, db: sqlite3.Connection, tenant: str, entity_id: str) -> int:
        found = self._keys.find(db, tenant, entity_id)
        if found is None:
            raise ResourceNotFound(f"temporal entity {entity_id} not found")
        return found[0]

    def _attr(self, db: sqlite3.Connection, entity_id: str, iri: str) -> int:
        attr = self._keys.known_attr(db, iri)
        if attr is None:
            raise ResourceNotFound(f"temporal entity {entity_id} has no attribute {iri}")
        return attr

    def _instance(self, db: sqlite3.Connection, tenant: str, entity_id: str, iri: str,
                  instance_id: str) -> tuple[int, dict[str, Any]]:
        """The row id and document of an instance of this entity's attribute, or ResourceNotFound."""
        number, attr = self._entity(db, tenant, entity_id), self._attr(db, entity_id, iri)
        row_id = compact.instance_number(instance_id)
        row = None if row_id is None else db.execute(
            "SELECT doc FROM history WHERE id = ? AND entity = ? AND attr = ?", (row_id, number, attr)).fetchone()
        if row_id is None or row is None:
            raise ResourceNotFound(f"attribute {iri} of temporal entity {entity_id} has no instance {instance_id}")
        return row_id, orjson.loads(self._codec.expand(row[0]))

    def _row(self, instance: dict[str, Any]) -> tuple[int, int, bytes]:
        """The time columns and compressed document of an instance."""
        return (compact.ms(str(instance.get("observedAt") or instance["modifiedAt"])),
                compact.ms(instance["modifiedAt"]), self._codec.compress(orjson.dumps(instance)))

    def _put(self, db: sqlite3.Connection, number: int, attr: int, instance: dict[str, Any]) -> None:
        """Insert an instance, or replace the stored one of the same datasetId and observedAt."""
        ts, modified, doc = self._row(instance)
        if "observedAt" in instance:
            for row_id, blob in db.execute("SELECT id, doc FROM history WHERE entity = ? AND attr = ? AND ts = ?",
                                           (number, attr, ts)).fetchall():
                old = orjson.loads(self._codec.expand(blob))
                if old.get("observedAt") == instance["observedAt"] and old.get("datasetId") == instance.get(
                        "datasetId"):
                    kept = {**instance, "createdAt": old.get("createdAt", instance["createdAt"])}
                    db.execute("UPDATE history SET modified_at = ?, doc = ? WHERE id = ?",
                               (modified, self._codec.compress(orjson.dumps(kept)), row_id))
                    return
        db.execute(compact.INSERT, (number, attr, ts, modified, doc))
