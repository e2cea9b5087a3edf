"""Attribute history on disk, in compact rows: what makes a year of a town's history fit.

Why: a history row used to repeat its tenant, entity id and attribute IRI and two ISO timestamps
(about 200 bytes, and as much again in its index) beside a ~250-byte JSON instance, and every
entity was stored as ~4 kB of expanded JSON: the demo town's database grew 80 MB per simulated
day. Here a history row is an entity number and an attribute number (each name stored once, in
``history_entities`` and ``history_attrs``), two integer milliseconds and the instance's JSON
compressed by zstandard with a dictionary trained on NGSI-LD attributes: about 45 bytes for a
typical instance, at ~1.5 µs to compress and under 1 µs to expand. Entity documents go through
the same :class:`Codec` (rows of the former layout, plain JSON, still read).

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

import zstandard

from citiesincharge.timeutil import parse_utc

log = logging.getLogger(__name__)

DICTIONARIES = Path(__file__).resolve().parent / "dictionaries"
CURRENT = 1779808415  # the dictionary new rows are compressed with (0: none)
LEVEL = 3  # zstd's default: higher levels gain a few bytes on ~250-byte inputs at several times the cost

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # the first bytes of every zstd frame; JSON never starts so

SCHEMA = """
CREATE TABLE IF NOT EXISTS history_entities (
    id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, entity_id TEXT NOT NULL, UNIQUE (tenant, entity_id)
);
CREATE TABLE IF NOT EXISTS history_attrs (id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS history (
    entity INTEGER NOT NULL, attr INTEGER NOT NULL, ts INTEGER NOT NULL, modified_at INTEGER NOT NULL,
    doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_entity ON history (entity, attr, ts);
"""


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
    """Numbers of entities (tenant, id) and attribute IRIs in the history, remembered once read or made."""

    def __init__(self) -> None:
        self._entities: dict[tuple[str, str], int] = {}
        self._attrs: dict[str, int] = {}

    def entity(self, db: sqlite3.Connection, tenant: str, entity_id: str) -> int:
        """The entity's number, made if new, inside the caller's transaction (rolled back with it)."""
        key = (tenant, entity_id)
        found = self._entities.get(key)
        if found is None:
            found = self._entities[key] = _number(db, "history_entities", "tenant = ? AND entity_id = ?", key)
        return found

    def attr(self, db: sqlite3.Connection, iri: str) -> int:
        found = self._attrs.get(iri)
        if found is None:
            found = self._attrs[iri] = _number(db, "history_attrs", "iri = ?", (iri,))
        return found

    def forget(self) -> None:
        """After a rollback: numbers made in it are gone."""
        self._entities.clear()
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
    """Move a database of the former layout (``attr_history``: one wide row per instance; entities as
    plain JSON) into the compact one, in chunks of one transaction each, then compress the entities
    and drop the old table. Re-entrant: a broker killed half-way goes on at its next start."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attr_history'").fetchone():
        return
    total = db.execute("SELECT COUNT(*) FROM attr_history").fetchone()[0]
    log.warning("history: moving %d attribute instances to the compact layout (once)", total)
    while True:
        db.execute("BEGIN")
        rows = db.execute("SELECT rowid, tenant, entity_id, attr, ts, modified_at, doc FROM attr_history "
                          "ORDER BY rowid LIMIT ?", (chunk,)).fetchall()
        db.executemany("INSERT INTO history VALUES (?, ?, ?, ?, ?)", [
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
