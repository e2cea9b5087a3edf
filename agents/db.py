"""The agent's own SQLite file (WAL): outbox, quarantine, cursors and fingerprints live here.

One file per agent process; one connection guarded by a lock, shared by the components that
need it, so that "enqueue + advance the cursor" can be one transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class AgentDb:
    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(":memory:" if path is None else str(path), check_same_thread=False,
                                    isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """The integer a ``SELECT COUNT(...)`` query returns."""
        return int(self.execute(sql, params)[0][0])

    def close(self) -> None:
        with self.lock:
            self.conn.close()
