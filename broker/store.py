"""Entity, history and subscription storage: SQLite (WAL) for durability, memory for reads.

The embedded broker is the only writer of its database, so every tenant's current entities are
also kept in memory (loaded lazily) and queries never parse JSON from disk; indexes of that mirror
(``index.py``: types, the ``q`` paths and GeoProperties queries use) are kept current with it, and
:meth:`Store.query` answers through them (``planner.py``). Each write is one
SQLite transaction however many entities it touches; attribute changes are appended to the
history table that the temporal API reads. Scale beyond one process is Orion-LD's job.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from . import history as compact
from . import planner
from .attributes import SCOPE, is_deletion, same_content, scope_list, without_deletions
from .entity_query import EntityQuery
from .errors import AlreadyExists, BadRequestData, ResourceNotFound, TenantNotFound
from .index import TenantIndex
from .temporal_store import TemporalStore

DEFAULT_TENANT = ""
MergeMode = Literal["overwrite", "noOverwrite", "onlyExisting", "merge"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS entities (
    tenant TEXT NOT NULL, id TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions (
    tenant TEXT NOT NULL, id TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jsonld_contexts (
    local_id TEXT PRIMARY KEY, kind TEXT NOT NULL, doc BLOB NOT NULL, created_at TEXT NOT NULL
) WITHOUT ROWID;
"""


@dataclass
class Change:
    """What one write did to one entity; subscriptions and metrics are driven from this."""

    entity_id: str
    entity: dict[str, Any]  # after the change (before it, for a deletion)
    created: bool = False
    deleted: bool = False
    attrs_created: set[str] = field(default_factory=set)
    attrs_updated: set[str] = field(default_factory=set)
    attrs_deleted: set[str] = field(default_factory=set)
    types_changed: bool = False
    scope_changed: bool = False
    before: dict[str, Any] | None = None  # the entity before an update (what showChanges reports)

    @property
    def touched(self) -> set[str]:
        return self.attrs_created | self.attrs_updated | self.attrs_deleted

    @property
    def is_noop(self) -> bool:
        return not (self.created or self.deleted or self.touched or self.types_changed or self.scope_changed)


class AttributesKept(BadRequestData):
    """A batch entity that landed except for existing attributes noOverwrite left alone."""


@dataclass
class _Prepared:
    """A change with its rows already serialised: what `_commit` writes, then mirrors."""

    change: Change
    doc: bytes | None = None  # the entity row (None: deleted or nothing to write)
    history: list[tuple[str, str, str, int, int, bytes]] = field(default_factory=list)  # compressed instances


def _instance_time(instance: dict[str, Any]) -> str:
    return str(instance.get("observedAt") or instance["modifiedAt"])


@contextmanager
def _bulk_allocation() -> Iterator[None]:
    """Load many long-lived objects without the cyclic GC and then exempt them from it.

    Why: parsing 100k entity documents creates millions of containers; with the collector on,
    each allocation burst triggers collections that walk everything loaded so far (quadratic:
    a tenant of 100k entities took 7 s to load, 90 % of it in the collector), and every later
    full collection walks them again, stalling requests. They are freed by reference counting
    when replaced, so the cyclic collector has nothing to find in them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


class Store:
    """All tenants of one broker. Thread-safe: one lock around memory and the connection."""

    def __init__(self, path: Path | None) -> None:
        target = ":memory:" if path is None else str(path)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA + compact.SCHEMA)
        self._codec = compact.Codec()
        self._keys = compact.Keys()
        compact.migrate(self._db, self._codec, self._keys)
        self.lock = threading.RLock()
        self.temporal = TemporalStore(self._db, self.lock, self._codec, self._keys)
        self._tenants: dict[str, dict[str, dict[str, Any]]] = {}
        self._indexes: dict[str, TenantIndex] = {}
        self._known = {row[0] for row in self._db.execute("SELECT name FROM tenants")}
        self._known.add(DEFAULT_TENANT)
        self._unsaved_tenants: set[str] = set()

    # -- tenants -----------------------------------------------------------------------------
    def tenant_names(self) -> list[str]:
        return sorted(self._known)

    def _entities(self, tenant: str, *, create: bool = False) -> dict[str, dict[str, Any]]:
        loaded = self._tenants.get(tenant)
        if loaded is not None:
            return loaded
        if tenant not in self._known:
            if not create:
                raise TenantNotFound(f"tenant '{tenant}' does not exist")
            self._known.add(tenant)
            self._unsaved_tenants.add(tenant)  # recorded on disk with the first write that commits
        rows = self._db.execute("SELECT id, doc FROM entities WHERE tenant = ?", (tenant,))
        with _bulk_allocation():
            loaded = {entity_id: orjson.loads(self._codec.expand(doc)) for entity_id, doc in rows}
            index = TenantIndex.of(loaded)
        self._tenants[tenant] = loaded
        self._indexes[tenant] = index
        return loaded

    def require_tenant(self, tenant: str) -> None:
        if tenant not in self._known:
            raise TenantNotFound(f"tenant '{tenant}' does not exist")

    def ensure_tenant(self, tenant: str) -> None:
        with self.lock:
            self._entities(tenant, create=True)
            if tenant in self._unsaved_tenants:
                self._db.execute("INSERT OR IGNORE INTO tenants VALUES (?)", (tenant,))
                self._unsaved_tenants.discard(tenant)

    def _forget_unsaved_tenant(self, tenant: str) -> None:
        """A tenant whose first write failed does not exist, as a fresh load from disk would say."""
        if tenant in self._unsaved_tenants and tenant != DEFAULT_TENANT:
            self._unsaved_tenants.discard(tenant)
            self._known.discard(tenant)
            self._tenants.pop(tenant, None)
            self._indexes.pop(tenant, None)

    # -- reads -------------------------------------------------------------------------------
    def get(self, tenant: str, entity_id: str) -> dict[str, Any]:
        with self.lock:
            entity = self._entities(tenant).get(entity_id)
        if entity is None:
            raise ResourceNotFound(f"entity {entity_id} not found")
        return entity

    def scan(self, tenant: str, ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """Entities of a tenant (optionally only these ids), in creation order; a snapshot."""
        with self.lock:
            entities = self._entities(tenant)
            snapshot = list(entities.values()) if ids is None else [entities[i] for i in ids if i in entities]
        return iter(snapshot)

    def query(self, tenant: str, query: EntityQuery, start: int = 0, size: int | None = None, *,
              total: bool = False) -> tuple[list[dict[str, Any]], int | None]:
        """The page ``[start, start + size)`` of the entities matching a query, in tenant order,
        and the number of all matches (when ``total``, or when the indexes know it for free).

        The indexes are read under the lock; what they do not answer exactly is tested on a
        snapshot after it is released, so a write waits for the planning only."""
        with self.lock:
            chosen = planner.choose(self._entities(tenant), self._indexes[tenant], query, start, size)
        return chosen.finish(start, size, total)

    def count(self, tenant: str) -> int:
        with self.lock:
            return len(self._entities(tenant)) if tenant in self._known else 0

    # -- writes ------------------------------------------------------------------------------
    # Every write computes its new entity documents on copies, serialises them, commits them to
    # SQLite in one transaction and only then applies them to the memory mirror (`_commit`), so
    # a write that fails anywhere (bad value, constraint, full disk) leaves memory equal to disk.
    def create(self, tenant: str, entity: dict[str, Any]) -> Change:
        with self._writing(tenant, create=True) as entities:
            if entity["id"] in entities:
                raise AlreadyExists(f"entity {entity['id']} already exists")
            change = self._put_new(entity)
            self._commit(tenant, [self._prepared(tenant, change)])
            return change

    def write_many(self, tenant: str, entities_in: list[dict[str, Any]], *,
                   mode: Literal["create", "replace", "update", "noOverwrite", "merge"],
                   must_exist: bool = False) -> tuple[list[Change], list[tuple[str, Exception]]]:
        """Batch create / upsert / update / merge in one transaction; per-entity errors are collected.

        With noOverwrite, an entity whose existing attributes were left alone is also reported as
        an error (its other attributes land): the client learns which writes did not happen.
        """
        prepared: list[_Prepared] = []
        errors: list[tuple[str, Exception]] = []
        with self._writing(tenant, create=True) as entities:
            staged: dict[str, dict[str, Any]] = {}  # this batch's results, seen by its later items
            for incoming in entities_in:
                current = staged.get(incoming["id"]) or entities.get(incoming["id"])
                try:
                    if current is None:
                        if must_exist:
                            raise ResourceNotFound(f"entity {incoming['id']} not found")
                        change = self._put_new(incoming)
                    elif mode == "create":
                        raise AlreadyExists(f"entity {incoming['id']} already exists")
                    elif mode == "replace":
                        change = self._replace(current, incoming)
                    else:
                        merge: MergeMode = "overwrite" if mode == "update" else mode
                        change, kept = self._merge(current, incoming["attrs"], merge, incoming["modifiedAt"],
                                                   types=incoming["type"], scope=incoming.get("scope"))
                        if kept and mode == "noOverwrite":
                            errors.append((incoming["id"], AttributesKept(
                                f"attributes {sorted(set(kept))} exist and were not overwritten (noOverwrite)")))
                    prepared.append(self._prepared(tenant, change))
                except (AlreadyExists, ResourceNotFound, BadRequestData) as error:
                    errors.append((incoming["id"], error))
                    continue
                staged[incoming["id"]] = change.entity
            self._commit(tenant, prepared)
        return [p.change for p in prepared], errors

    def replace(self, tenant: str, entity: dict[str, Any]) -> Change:
        with self.lock:
            current = self._current(tenant, entity["id"])
            change = self._replace(current, entity)
            self._commit(tenant, [self._prepared(tenant, change)])
            return change

    def update_attrs(self, tenant: str, entity_id: str, attrs: dict[str, list[dict[str, Any]]],
                     mode: MergeMode, now: str, *, types: list[str] | None = None,
                     scope: list[str] | None = None) -> tuple[Change, list[str]]:
        """Append / update / merge attributes (and types, scope) of one entity; returns the change
        and the IRIs (or ``scope``) left alone."""
        with self.lock:
            change, not_updated = self._merge(self._current(tenant, entity_id), attrs, mode, now,
                                              types=types, scope=scope)
            self._commit(tenant, [self._prepared(tenant, change)])
            return change, not_updated

    def delete_attr(self, tenant: str, entity_id: str, attr: str, dataset_id: str | None,
                    delete_all: bool, now: str) -> Change:
        with self.lock:
            current = self._current(tenant, entity_id)
            if attr == SCOPE:
                return self._delete_scope(tenant, current, now)
            instances = current["attrs"].get(attr)
            keep = [] if delete_all else [i for i in instances or [] if i.get("datasetId") != dataset_id]
            if instances is None or len(keep) == len(instances):
                raise ResourceNotFound(f"entity {entity_id} has no attribute {attr}"
                                       + (f" with datasetId {dataset_id}" if dataset_id else ""))
            entity = dict(current)
            entity["attrs"] = dict(current["attrs"])
            if keep:
                entity["attrs"][attr] = keep
            else:
                del entity["attrs"][attr]
            entity["modifiedAt"] = now
            change = Change(entity_id, entity, attrs_deleted={attr}, before=current)
            self._commit(tenant, [self._prepared(tenant, change)])
            return change

    def _delete_scope(self, tenant: str, current: dict[str, Any], now: str) -> Change:
        if "scope" not in current:
            raise ResourceNotFound(f"entity {current['id']} has no scope")
        entity = {k: v for k, v in current.items() if k != "scope"}
        entity["modifiedAt"] = now
        change = Change(current["id"], entity, scope_changed=True, before=current)
        self._commit(tenant, [self._prepared(tenant, change)])
        return change

    def delete_many(self, tenant: str, ids: list[str]) -> tuple[list[Change], list[tuple[str, Exception]]]:
        prepared: list[_Prepared] = []
        errors: list[tuple[str, Exception]] = []
        with self.lock:
            entities = self._entities(tenant)
            gone: set[str] = set()
            for entity_id in ids:
                current = None if entity_id in gone else entities.get(entity_id)
                if current is None:
                    errors.append((entity_id, ResourceNotFound(f"entity {entity_id} not found")))
                    continue
                gone.add(entity_id)
                change = Change(entity_id, current, deleted=True, attrs_deleted=set(current["attrs"]))
                prepared.append(self._prepared(tenant, change))
            self._commit(tenant, prepared)
        return [p.change for p in prepared], errors

    def drop_attrs(self, tenant: str, drops: dict[str, set[str]], now: str) -> list[Change]:
        """Remove attributes (every instance) from many entities in one transaction (purge's keep/drop)."""
        prepared: list[_Prepared] = []
        with self.lock:
            entities = self._entities(tenant)
            for entity_id, attrs in drops.items():
                current = entities.get(entity_id)
                gone = attrs & set(current["attrs"]) if current is not None else set()
                if current is None or not gone:
                    continue
                entity = {**current, "attrs": {k: v for k, v in current["attrs"].items() if k not in gone},
                          "modifiedAt": now}
                prepared.append(self._prepared(tenant, Change(entity_id, entity, attrs_deleted=gone)))
            self._commit(tenant, prepared)
        return [p.change for p in prepared]

    @contextmanager
    def _writing(self, tenant: str, *, create: bool) -> Iterator[dict[str, dict[str, Any]]]:
        """The lock and the tenant's mirror for one write; a failed first write leaves no tenant."""
        with self.lock:
            try:
                yield self._entities(tenant, create=create)
            except BaseException:
                self._forget_unsaved_tenant(tenant)
                raise

    def _current(self, tenant: str, entity_id: str) -> dict[str, Any]:
        current = self._entities(tenant).get(entity_id)
        if current is None:
            raise ResourceNotFound(f"entity {entity_id} not found")
        return current

    # -- merge rules -------------------------------------------------------------------------
    @staticmethod
    def _put_new(entity: dict[str, Any]) -> Change:
        entity = dict(entity, attrs=without_deletions(entity["attrs"]))
        return Change(entity["id"], entity, created=True, attrs_created=set(entity["attrs"]))

    @staticmethod
    def _entity_members(change: Change, types: list[str] | None, scope: list[str] | None, mode: MergeMode,
                        not_updated: list[str]) -> None:
        """Types a write adds and the scope it sets (§4.16, §4.18): types are only ever added;
        a scope replaces the entity's, except with noOverwrite (added to it) and in an update of
        existing members only, which cannot give a scope to an entity that has none."""
        current = change.entity
        missing = [t for t in types or () if t not in current["type"]]
        if missing:
            change.entity = current = {**current, "type": current["type"] + missing}
            change.types_changed = True
        if scope is None:
            return
        before = scope_list(current.get("scope"))
        if mode == "onlyExisting" and not before:
            not_updated.append(SCOPE)
            return
        after = list(dict.fromkeys(before + scope)) if mode == "noOverwrite" else scope
        if after != before:
            change.entity = {**current, "scope": after}
            change.scope_changed = True

    def _replace(self, current: dict[str, Any], incoming: dict[str, Any]) -> Change:
        entity = dict(incoming, attrs=without_deletions(incoming["attrs"]), createdAt=current["createdAt"])
        change = Change(entity["id"], entity, before=current, types_changed=current["type"] != entity["type"],
                        scope_changed=current.get("scope") != entity.get("scope"))
        for iri, instances in entity["attrs"].items():
            before = current["attrs"].get(iri)
            if before is None:
                change.attrs_created.add(iri)
            elif not self._same_instances(before, instances):
                change.attrs_updated.add(iri)
        change.attrs_deleted = set(current["attrs"]) - set(entity["attrs"])
        return change if not change.is_noop else Change(current["id"], current)  # idempotent re-write

    @staticmethod
    def _same_instances(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
        return len(a) == len(b) and all(same_content(x, y) for x, y in zip(a, b, strict=True))

    def _merge(self, current: dict[str, Any], attrs: dict[str, list[dict[str, Any]]], mode: MergeMode,
               now: str, *, types: list[str] | None = None,
               scope: list[str] | None = None) -> tuple[Change, list[str]]:
        new_attrs = dict(current["attrs"])
        change = Change(current["id"], current, before=current)
        not_updated: list[str] = []
        self._entity_members(change, types, scope, mode, not_updated)
        for iri, instances in attrs.items():
            existing = list(new_attrs.get(iri, []))
            for instance in instances:
                if is_deletion(instance):  # NGSI-LD Null: delete the instance of that datasetId
                    kept = [i for i in existing if i.get("datasetId") != instance.get("datasetId")]
                    if len(kept) < len(existing) and mode != "noOverwrite":
                        existing = kept
                        change.attrs_deleted.add(iri)
                    else:
                        not_updated.append(iri)
                    continue
                position = next((n for n, i in enumerate(existing)
                                 if i.get("datasetId") == instance.get("datasetId")), None)
                if position is None:
                    if mode == "onlyExisting":
                        not_updated.append(iri)
                        continue
                    existing.append(instance)
                    change.attrs_created.add(iri)
                    continue
                if mode == "noOverwrite":
                    not_updated.append(iri)
                    continue
                old = existing[position]
                merged = self._merged_instance(old, instance) if mode == "merge" else dict(instance)
                merged["createdAt"] = old["createdAt"]
                if not same_content(old, merged):
                    existing[position] = merged
                    change.attrs_updated.add(iri)
            if existing:
                new_attrs[iri] = existing
            else:
                new_attrs.pop(iri, None)
        if change.touched or change.types_changed or change.scope_changed:
            entity = dict(change.entity)
            entity["attrs"] = new_attrs
            entity["modifiedAt"] = now
            change.entity = entity
        return change, not_updated

    @staticmethod
    def _merged_instance(old: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch of one instance: new members win, absent sub-attributes are kept."""
        merged = dict(old)
        if old.get("type") != patch.get("type") and "type" in patch:
            merged = {k: v for k, v in old.items() if k in ("createdAt", "datasetId")}
        for key, item in patch.items():
            if isinstance(item, dict) and "type" in item and is_deletion(item):
                merged.pop(key, None)
            else:
                merged[key] = item
        return merged

    # -- persistence -------------------------------------------------------------------------
    def _prepared(self, tenant: str, change: Change) -> _Prepared:
        """Serialise a change's rows now, so a value that cannot be stored fails before anything moves."""
        prepared = _Prepared(change)
        if change.deleted or change.is_noop:
            return prepared
        try:
            prepared.doc = self._codec.compress(orjson.dumps(change.entity))
            for iri in change.attrs_created | change.attrs_updated:
                for instance in change.entity["attrs"].get(iri, []):
                    if instance["modifiedAt"] == change.entity["modifiedAt"]:
                        prepared.history.append((
                            tenant, change.entity_id, iri, compact.ms(_instance_time(instance)),
                            compact.ms(instance["modifiedAt"]), self._codec.compress(orjson.dumps(instance))))
        except orjson.JSONEncodeError as error:
            raise BadRequestData(f"entity {change.entity_id} cannot be stored: {error} "
                                 "(a value nested too deep, or text that is not valid Unicode)") from None
        return prepared

    def _commit(self, tenant: str, prepared: list[_Prepared]) -> None:
        """One transaction for the rows of every change, then (only on success) the memory mirror."""
        upserts = [(tenant, p.change.entity_id, p.doc) for p in prepared if p.doc is not None]
        deletes = [(tenant, p.change.entity_id) for p in prepared if p.change.deleted]
        history = [(p.change.entity["type"], row) for p in prepared for row in p.history]
        if not (upserts or deletes):
            self._forget_unsaved_tenant(tenant)
            return
        db = self._db
        db.execute("BEGIN")
        try:
            if tenant in self._unsaved_tenants:
                db.execute("INSERT OR IGNORE INTO tenants VALUES (?)", (tenant,))
            if upserts:
                db.executemany("INSERT OR REPLACE INTO entities VALUES (?, ?, ?)", upserts)
            if deletes:
                db.executemany("DELETE FROM entities WHERE tenant = ? AND id = ?", deletes)
            if history:
                db.executemany(compact.INSERT, [
                    (self._keys.entity(db, t, entity_id, types), self._keys.attr(db, attr), ts, modified, doc)
                    for types, (t, entity_id, attr, ts, modified, doc) in history])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite has already rolled back after e.g. SQLITE_FULL
                db.execute("ROLLBACK")
            self._keys.forget()  # numbers made in the transaction went with it
            self._forget_unsaved_tenant(tenant)
            raise
        self._unsaved_tenants.discard(tenant)
        entities = self._tenants[tenant]
        index = self._indexes[tenant]
        for p in prepared:
            entity_id = p.change.entity_id
            if p.change.deleted:
                gone = entities.pop(entity_id, None)
                if gone is not None:
                    index.remove(entity_id, gone)
            elif p.doc is not None:
                before = entities.get(entity_id)
                entities[entity_id] = p.change.entity
                index.put(entity_id, before, p.change.entity)

    # -- history -----------------------------------------------------------------------------
    def history(self, tenant: str, entity_id: str, attrs: list[str] | None, start: str | None,
                end: str | None, last_n: int | None, *, column: str = "ts",
                exclusive_start: bool = False, instance_ids: bool = False) -> dict[str, list[dict[str, Any]]]:
        """Attribute instances of one entity in time order (``start`` <= time < ``end``).

        ``column`` is "ts" (observedAt, else modifiedAt) or "modified_at"; ``instance_ids`` adds
        each instance's ``instanceId`` (the temporal API's name for it).
        """
        sql = ("SELECT a.iri, h.doc, h.id FROM history_entities e JOIN history h ON h.entity = e.id "
               "JOIN history_attrs a ON a.id = h.attr WHERE e.tenant = ? AND e.entity_id = ?")
        params: list[Any] = [tenant, entity_id]
        if attrs is not None:
            sql += f" AND a.iri IN ({','.join('?' * len(attrs))})"
            params += attrs
        window, window_params = compact.window_sql(column, start, end, exclusive_start)
        sql += window
        params += window_params
        if last_n is not None:  # newest N per attribute, without reading the older rows' documents
            sql = sql.replace("SELECT a.iri, h.doc, h.id FROM", f"SELECT a.iri AS i, h.doc AS d, h.{column} AS t, "
                              f"h.id AS r, ROW_NUMBER() OVER (PARTITION BY a.iri ORDER BY h.{column} DESC, h.id DESC) "
                              "AS rn FROM", 1)
            sql = f"SELECT i, d, r FROM ({sql}) WHERE rn <= ? ORDER BY i, t, r"
            params.append(last_n)
        else:
            sql += f" ORDER BY a.iri, h.{column}, h.id"
        out: dict[str, list[dict[str, Any]]] = {}
        with self.lock:
            rows = self._db.execute(sql, params).fetchall()
        for attr, doc, row_id in rows:
            instance = orjson.loads(self._codec.expand(doc))
            if instance_ids:
                instance["instanceId"] = compact.instance_uri(row_id)
            out.setdefault(attr, []).append(instance)
        return out

    def prune_history(self, before: str, *, chunk: int = 5000) -> int:
        """Delete attribute instances whose time (observedAt, else modifiedAt) is before ``before``.

        In chunks, each its own short transaction, so that writers wait for one chunk at most,
        never for the whole sweep. Returns how many instances went.
        """
        removed, cutoff = 0, compact.ms(before)
        while True:
            with self.lock:
                cursor = self._db.execute("DELETE FROM history WHERE rowid IN (SELECT rowid FROM history "
                                          "WHERE ts < ? LIMIT ?)", (cutoff, chunk))
                count = cursor.rowcount
            removed += count
            if count < chunk:
                return removed

    def has_history(self, tenant: str, entity_id: str) -> bool:
        with self.lock:
            return self._db.execute("SELECT 1 FROM history_entities e JOIN history h ON h.entity = e.id "
                                    "WHERE e.tenant = ? AND e.entity_id = ? LIMIT 1",
                                    (tenant, entity_id)).fetchone() is not None

    # -- subscriptions -----------------------------------------------------------------------
    def save_subscription(self, tenant: str, sub_id: str, doc: dict[str, Any]) -> None:
        with self.lock:
            self.ensure_tenant(tenant)
            self._db.execute("INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?)",
                             (tenant, sub_id, orjson.dumps(doc)))

    def delete_subscription(self, tenant: str, sub_id: str) -> None:
        with self.lock:
            self._db.execute("DELETE FROM subscriptions WHERE tenant = ? AND id = ?", (tenant, sub_id))

    def load_subscriptions(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            rows = self._db.execute("SELECT tenant, doc FROM subscriptions").fetchall()
        return [(tenant, orjson.loads(doc)) for tenant, doc in rows]

    # -- @contexts the broker hosts (see broker.context_registry) ----------------------------
    def save_context(self, local_id: str, kind: str, value: Any, created_at: str) -> None:
        with self.lock:
            self._db.execute("INSERT OR REPLACE INTO jsonld_contexts VALUES (?, ?, ?, ?)",
                             (local_id, kind, orjson.dumps(value), created_at))

    def delete_context(self, local_id: str) -> None:
        with self.lock:
            self._db.execute("DELETE FROM jsonld_contexts WHERE local_id = ?", (local_id,))

    def load_contexts(self) -> list[tuple[str, str, Any, str]]:
        with self.lock:
            rows = self._db.execute("SELECT local_id, kind, doc, created_at FROM jsonld_contexts").fetchall()
        return [(local_id, kind, orjson.loads(doc), created_at) for local_id, kind, doc, created_at in rows]

    def close(self) -> None:
        with self.lock:
            self._db.close()
