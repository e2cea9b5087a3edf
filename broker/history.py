"""Attribute history on disk, in compact rows: what makes a year of a town's history fit.

Why: a history row used to repeat its tenant, entity id and attribute IRI and two ISO timestamps
(about 200 bytes, and as much again in its index) beside a ~250-byte JSON instance, and every
entity was stored as ~4 kB of expanded JSON: the demo town's database grew 80 MB per simulated
day. Here a history row is an entity number and an attribute number (each name stored once, in
``history_entities`` and ``history_attrs``), two integer milliseconds and the instance's JSON
compressed by zstandard with a dictionary trained on NGSI-LD attributes: about 45 bytes for a
typical instance, at ~1.5 µs to compress and under 1 µs to expand. Entity documents go through
the same :class:`Codec` (rows of the former layout, plain JSON, still read).

Each history row has an ``id`` (an ``INTEGER PRIMARY KEY``, so it survives ``VACUUM``, unlike a
bare rowid): the temporal API names an instance by it (:func:`instance_uri`), so a client can patch
or delete exactly that instance. ``history_entities.types`` keeps the entity's type IRIs, so a
temporal entity is typed even when it never existed (temporal provision) or no longer exists.

Dictionaries are data the rows depend on for ever: each is vendored under ``dictionaries/`` named
by its zstd dictionary id, which every compressed row carries in its frame header, so a new
dictionary can be added (and named in ``CURRENT`` for new rows) without rewriting old rows; never
delete one. ``bench/history.py`` trains one and prints the ratios.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import orjson
import zstandard

from citiesincharge.timeutil import parse_utc

log = logging.getLogger(__name__)

DICTIONARIES = Path(__file__).resolve().parent / "dictionaries"
CURRENT = 1779808415  # the dictionary new rows are compressed with (0: none)
LEVEL = 3  # zstd's default: higher levels gain a few bytes on ~250-byte inputs at several times the cost

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # the first bytes of every zstd frame; JSON never starts so

_HISTORY_TABLE = """
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, entity INTEGER NOT NULL, attr INTEGER NOT NULL, ts INTEGER NOT NULL,
    modified_at INTEGER NOT NULL, doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_entity ON history (entity, attr, ts);
"""
SCHEMA = """
CREATE TABLE IF NOT EXISTS history_entities (
    id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, entity_id TEXT NOT NULL, types TEXT, UNIQUE (tenant, entity_id)
);
CREATE TABLE IF NOT EXISTS history_attrs (id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE);
""" + _HISTORY_TABLE
INSERT = "INSERT INTO history (entity, attr, ts, modified_at, doc) VALUES (?, ?, ?, ?, ?)"
INSTANCE_PREFIX = "urn:ngsi-ld:instance:"


def instance_uri(row_id: int) -> str:
    """The instanceId of a history row: a URI, stable for the row's life."""
    return f"{INSTANCE_PREFIX}{row_id}"


def instance_number(uri: str) -> int | None:
    """The row id an instanceId names, or None if it is no instanceId of this broker."""
    digits = uri[len(INSTANCE_PREFIX):] if uri.startswith(INSTANCE_PREFIX) else ""
    return int(digits) if digits.isdigit() and len(digits) < 19 else None


class Window(Protocol):
    """A time window on a history column (what :class:`broker.temporal.TimeFilter` is)."""

    @property
    def start(self) -> str | None: ...
    @property
    def end(self) -> str | None: ...
    @property
    def strict_start(self) -> bool: ...
    @property
    def column(self) -> str: ...


def window_sql(column: str, start: str | None, end: str | None, exclusive_start: bool) -> tuple[str, list[int]]:
    """The SQL condition (on history alias ``h``) and parameters of a time window on ``column``:
    "ts" (observedAt, else modifiedAt) or "modified_at"."""
    if column not in ("ts", "modified_at"):
        raise ValueError(column)
    sql, params = "", []
    if start is not None:
        sql += f" AND h.{column} {'>' if exclusive_start else '>='} ?"
        params.append(ms(start))
    if end is not None:
        sql += f" AND h.{column} < ?"
        params.append(ms(end))
    return sql, params


def types_text(types: list[str] | None) -> str | None:
    return None if types is None else orjson.dumps(types).decode()


def ms(text: str) -> int:
    """An instant (ISO 8601, as the broker stores it) as integer milliseconds since the epoch."""
    moment = parse_utc(text)
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


def iso(milliseconds: int) -> str:
    moment = datetime.fromtimestamp(milliseconds // 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{milliseconds % 1000:03d}Z"


class _PerThread(threading.local):
    """One thread's (de)compressors, made on first use in that thread."""

    def __init__(self) -> None:
        self.compressor: zstandard.ZstdCompressor | None = None
        self.decompressors: dict[int, zstandard.ZstdDecompressor] = {}


class Codec:
    """Compresses instances with the newest vendored dictionary; expands rows made with any of them.

    zstandard's (de)compressor objects are not safe to share between threads (the broker writes
    on its loop and reads temporal queries in a pool), so each thread gets its own.
    """

    def __init__(self, folder: Path = DICTIONARIES, current: int = CURRENT) -> None:
        self._dictionaries: dict[int, zstandard.ZstdCompressionDict | None] = {0: None}
        for path in folder.glob("*.zdict"):
            dictionary = zstandard.ZstdCompressionDict(path.read_bytes())
            self._dictionaries[dictionary.dict_id()] = dictionary
        if current not in self._dictionaries:
            raise RuntimeError(f"the history dictionary {current} is missing from {folder}")
        self.current = self._dictionaries[current]
        self._local = _PerThread()

    def compress(self, document: bytes) -> bytes:
        local = self._local
        if local.compressor is None:
            local.compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=self.current, write_checksum=False,
                                                        write_content_size=True)
        return local.compressor.compress(document)

    def expand(self, blob: bytes) -> bytes:
        """The JSON of a compressed row (a row of the former layout, plain JSON, as it is)."""
        if not blob.startswith(ZSTD_MAGIC):
            return blob
        dict_id = zstandard.get_frame_parameters(blob).dict_id
        decompressors = self._local.decompressors
        decompressor = decompressors.get(dict_id)
        if decompressor is None:
            if dict_id not in self._dictionaries:
                raise ValueError(f"history row compressed with zstd dictionary {dict_id}, which this broker "
                                 f"does not have (in {DICTIONARIES})")
            decompressor = decompressors[dict_id] = zstandard.ZstdDecompressor(dict_data=self._dictionaries[dict_id])
        return decompressor.decompress(blob)


class Keys:
    """Numbers of entities (tenant, id) and attribute IRIs in the history, remembered once read or made.

    An entity's number comes with its type IRIs (as JSON text), kept current by the writers that
    know them, so that the temporal API can type an entity the current store does not hold.
    """

    def __init__(self) -> None:
        self._entities: dict[tuple[str, str], int] = {}
        self._types: dict[int, str | None] = {}
        self._attrs: dict[str, int] = {}

    def entity(self, db: sqlite3.Connection, tenant: str, entity_id: str, types: list[str] | None = None) -> int:
        """The entity's number, made if new, inside the caller's transaction (rolled back with it);
        ``types`` (when given) replace the recorded ones if they differ."""
        key = (tenant, entity_id)
        found = self._entities.get(key)
        text = types_text(types)
        if found is None:
            row = self._read(db, tenant, entity_id)
            if row is None:
                made = db.execute("INSERT INTO history_entities (tenant, entity_id, types) VALUES (?, ?, ?)",
                                  (tenant, entity_id, text)).lastrowid
                assert made is not None
                row = (made, text)
            found, self._types[found] = row
            self._entities[key] = found
        if text is not None and self._types.get(found) != text:
            db.execute("UPDATE history_entities SET types = ? WHERE id = ?", (text, found))
            self._types[found] = text
        return found

    def find(self, db: sqlite3.Connection, tenant: str, entity_id: str) -> tuple[int, list[str] | None] | None:
        """The entity's number and recorded types, or None if the history never knew it."""
        key = (tenant, entity_id)
        found = self._entities.get(key)
        if found is None:
            row = self._read(db, tenant, entity_id)
            if row is None:
                return None
            found, self._types[found] = row
            self._entities[key] = found
        text = self._types.get(found)
        return found, None if text is None else list(orjson.loads(text))

    @staticmethod
    def _read(db: sqlite3.Connection, tenant: str, entity_id: str) -> tuple[int, str | None] | None:
        row = db.execute("SELECT id, types FROM history_entities WHERE tenant = ? AND entity_id = ?",
                         (tenant, entity_id)).fetchone()
        return None if row is None else (int(row[0]), row[1])

    def drop(self, tenant: str, entity_id: str) -> None:
        """After the entity's history_entities row went (committed)."""
        number = self._entities.pop((tenant, entity_id), None)
        if number is not None:
            self._types.pop(number, None)

    def attr(self, db: sqlite3.Connection, iri: str) -> int:
        found = self._attrs.get(iri)
        if found is None:
            found = self._attrs[iri] = _number(db, "history_attrs", "iri = ?", (iri,))
        return found

    def known_attr(self, db: sqlite3.Connection, iri: str) -> int | None:
        """The attribute's number if the history has ever held it (never made by a read)."""
        found = self._attrs.get(iri)
        if found is None:
            row = db.execute("SELECT id FROM history_attrs WHERE iri = ?", (iri,)).fetchone()
            if row is None:
                return None
            found = self._attrs[iri] = int(row[0])
        return found

    def forget(self) -> None:
        """After a rollback: numbers made in it are gone."""
        self._entities.clear()
        self._types.clear()
        self._attrs.clear()


def _number(db: sqlite3.Connection, table: str, where: str, values: tuple[str, ...]) -> int:
    row = db.execute(f"SELECT id FROM {table} WHERE {where}", values).fetchone()
    if row:
        return int(row[0])
    columns = ", ".join(part.split(" = ")[0] for part in where.split(" AND "))
    made = db.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(values))})", values).lastrowid
    assert made is not None
    return made


def migrate(db: sqlite3.Connection, codec: Codec, keys: Keys, *, chunk: int = 20_000) -> None:
    """Bring a database of any former layout to the current one, once, at start."""
    typed = _add_instance_ids_and_types(db)
    moved = _move_wide_rows(db, codec, keys, chunk=chunk)
    if typed or moved:
        _record_types(db, codec)


def _add_instance_ids_and_types(db: sqlite3.Connection) -> bool:
    """History rows of the layout before instanceIds get an ``id`` column (their rowid, so nothing
    is renumbered), and history_entities a ``types`` column; in one transaction. Returns whether
    the types column was added (and so needs filling)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(history)")}
    entity_columns = {row[1] for row in db.execute("PRAGMA table_info(history_entities)")}
    if "id" in columns and "types" in entity_columns:
        return False
    log.warning("history: giving every attribute instance a stable instanceId (once)")
    db.execute("BEGIN")
    if "id" not in columns:
        db.execute("DROP INDEX IF EXISTS history_by_entity")
        db.execute("ALTER TABLE history RENAME TO history_before_ids")
        for statement in _HISTORY_TABLE.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT INTO history (id, entity, attr, ts, modified_at, doc) "
                   "SELECT rowid, entity, attr, ts, modified_at, doc FROM history_before_ids")
        db.execute("DROP TABLE history_before_ids")
    added = "types" not in entity_columns
    if added:
        db.execute("ALTER TABLE history_entities ADD COLUMN types TEXT")
    db.execute("COMMIT")
    return added


def _record_types(db: sqlite3.Connection, codec: Codec) -> None:
    """Fill the types of history entities that still exist from their entity rows."""
    db.execute("BEGIN")
    rows = db.execute("SELECT e.tenant, e.id, e.doc FROM entities e JOIN history_entities h "
                      "ON h.tenant = e.tenant AND h.entity_id = e.id WHERE h.types IS NULL").fetchall()
    db.executemany("UPDATE history_entities SET types = ? WHERE tenant = ? AND entity_id = ?",
                   [(types_text(orjson.loads(codec.expand(doc))["type"]), tenant, entity_id)
                    for tenant, entity_id, doc in rows])
    db.execute("COMMIT")


def _move_wide_rows(db: sqlite3.Connection, codec: Codec, keys: Keys, *, chunk: int) -> bool:
    """Move a database of the former layout (``attr_history``: one wide row per instance; entities as
    plain JSON) into the compact one, in chunks of one transaction each, then compress the entities
    and drop the old table. Re-entrant: a broker killed half-way goes on at its next start."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attr_history'").fetchone():
        return False
    total = db.execute("SELECT COUNT(*) FROM attr_history").fetchone()[0]
    log.warning("history: moving %d attribute instances to the compact layout (once)", total)
    while True:
        db.execute("BEGIN")
        rows = db.execute("SELECT rowid, tenant, entity_id, attr, ts, modified_at, doc FROM attr_history "
                          "ORDER BY rowid LIMIT ?", (chunk,)).fetchall()
        db.executemany(INSERT, [
            (keys.entity(db, tenant, entity_id), keys.attr(db, attr), ms(ts), ms(modified), codec.compress(doc))
            for _, tenant, entity_id, attr, ts, modified, doc in rows])
        if rows:
            db.execute("DELETE FROM attr_history WHERE rowid <= ?", (rows[-1][0],))
        db.execute("COMMIT")
        if len(rows) < chunk:
            break
    db.execute("BEGIN")
    entities = db.execute("SELECT tenant, id, doc FROM entities").fetchall()
    db.executemany("UPDATE entities SET doc = ? WHERE tenant = ? AND id = ?",
                   [(codec.compress(doc), tenant, entity_id) for tenant, entity_id, doc in entities
                    if not doc.startswith(ZSTD_MAGIC)])
    db.execute("DROP TABLE attr_history")
    db.execute("COMMIT")
    log.warning("history: %d attribute instances and %d entities moved", total, len(entities))
    return True
