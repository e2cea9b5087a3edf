"""The broker's @context store as the JSON-LD Context API shows it (ETSI GS CIM 009 §5.13).

Every @context the broker holds is one entry of one *kind*:

* ``Hosted``: a client added it (``POST /jsonldContexts``); the broker serves it at its own URL.
* ``ImplicitlyCreated``: the broker made it from an inline or array @context it was given.
* ``Cached``: a copy of the document at some URL: downloaded, shipped with the product (the core
  and Smart Data Models contexts) or mirrored offline from ``CIC_CONTEXT_DIR``. What is cached is
  a copy, so deleting it only makes the broker take a fresh one on next use.

Hosted and implicitly created contexts are data a client gave the broker, so they are written
through to the broker's database (``rows``) and come back after a restart; cached ones are a
bounded LRU of copies and are not persisted. The core context is pinned: never evicted, and only
ever replaced (``reload``), never removed, because every expansion depends on it. Use counters
(``numberOfHits``, ``lastUsage``) are run-time statistics and start again at a restart.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .errors import BadRequestData, OperationNotSupported

Kind = Literal["Hosted", "Cached", "ImplicitlyCreated"]
KINDS: tuple[Kind, ...] = ("Hosted", "Cached", "ImplicitlyCreated")
#: Where a cached copy came from; told in ``extraInfo`` and used to take a fresh copy on reload.
Origin = Literal["built-in", "directory", "downloaded", "client"]


@dataclass
class StoredContext:
    """One entry; ``url`` is the original URL of a cached copy, ``None`` for what the broker hosts."""

    local_id: str
    kind: Kind
    value: Any  # the value of the document's @context member
    created_at: str
    origin: Origin = "client"
    url: str | None = None
    pinned: bool = False
    last_usage: str | None = None
    hits: int = 0
    aliases: tuple[str, ...] = field(default=())


class ContextRows(Protocol):
    """Where hosted and implicitly created contexts are kept (the broker's database)."""

    def save_context(self, local_id: str, kind: str, value: Any, created_at: str) -> None: ...

    def delete_context(self, local_id: str) -> None: ...

    def load_contexts(self) -> list[tuple[str, str, Any, str]]: ...


class ContextRegistry:
    """All entries, thread-safe; ``clock`` gives ISO timestamps (injectable for tests).

    ``max_stored`` bounds hosted plus implicitly created entries (a client cannot fill the
    database with them); ``cache_size`` bounds cached copies, least recently used dropped first.
    """

    def __init__(self, *, clock: Callable[[], str], max_stored: int, cache_size: int,
                 rows: ContextRows | None = None) -> None:
        self.max_stored = max_stored
        self.cache_size = cache_size
        self._clock = clock
        self._rows = rows
        self._lock = threading.Lock()
        self._stored: dict[str, StoredContext] = {}
        self._cached: OrderedDict[str, StoredContext] = OrderedDict()  # by original URL
        if rows is not None:
            for local_id, kind, value, created_at in rows.load_contexts():
                if kind in ("Hosted", "ImplicitlyCreated"):
                    self._stored[local_id] = StoredContext(local_id, kind, value, created_at)  # type: ignore[arg-type]

    # -- hosted and implicitly created --------------------------------------------------------
    def add(self, kind: Kind, value: Any) -> StoredContext:
        """Store a client's @context under a new local id (written through to ``rows``)."""
        with self._lock:
            if len(self._stored) >= self.max_stored:
                raise OperationNotSupported(
                    f"the broker already holds its maximum of {self.max_stored} hosted and implicitly created "
                    "@contexts (CIC_CONTEXT_MAX_STORED); delete one first")
            entry = StoredContext(secrets.token_hex(8), kind, value, self._clock())
            if self._rows is not None:
                self._rows.save_context(entry.local_id, kind, value, entry.created_at)
            self._stored[entry.local_id] = entry
            return entry

    def stored(self, local_id: str) -> StoredContext | None:
        with self._lock:
            return self._stored.get(local_id)

    # -- cached copies -------------------------------------------------------------------------
    def cache(self, url: str, value: Any, origin: Origin, *, pinned: bool = False,
              aliases: tuple[str, ...] = ()) -> StoredContext:
        """Keep (or replace) the copy of ``url``; a replaced copy starts its statistics afresh."""
        with self._lock:
            previous = self._cached.get(url)
            entry = StoredContext(previous.local_id if previous else secrets.token_hex(8), "Cached", value,
                                  self._clock(), origin, url, pinned or (previous is not None and previous.pinned),
                                  aliases=aliases or (previous.aliases if previous else ()))
            self._cached[url] = entry
            self._cached.move_to_end(url)
            self._evict()
            return entry

    def cached(self, url: str) -> StoredContext | None:
        with self._lock:
            entry = self._cached.get(url)
            if entry is not None:
                self._cached.move_to_end(url)
            return entry

    def _evict(self) -> None:
        unpinned = [url for url, entry in self._cached.items() if not entry.pinned]
        for url in unpinned[:max(0, len(unpinned) - self.cache_size)]:
            del self._cached[url]

    # -- any kind ------------------------------------------------------------------------------
    def find(self, identifier: str) -> StoredContext | None:
        """The entry whose local id, original URL or URL alias is ``identifier``."""
        with self._lock:
            hit = self._stored.get(identifier) or self._cached.get(identifier)
            if hit is not None:
                return hit
            return next((e for e in self._cached.values()
                         if e.local_id == identifier or identifier in e.aliases), None)

    def remove(self, entry: StoredContext) -> None:
        if entry.pinned:
            raise BadRequestData(f"@context {entry.url} is the core @context; it can only be reloaded "
                                 "(reload=true), never deleted")
        with self._lock:
            if entry.kind == "Cached":
                self._cached.pop(entry.url or "", None)
                return
            if self._rows is not None:
                self._rows.delete_context(entry.local_id)
            self._stored.pop(entry.local_id, None)

    def entries(self, kind: Kind | None = None) -> list[StoredContext]:
        with self._lock:
            every = [*self._cached.values(), *self._stored.values()]
        return [e for e in every if kind is None or e.kind == kind]

    def record_use(self, entries: Iterable[StoredContext]) -> None:
        """Count one use of each entry (a request's @context named it, or a client fetched it)."""
        stamp = self._clock()
        with self._lock:
            for entry in entries:
                entry.hits += 1
                entry.last_usage = stamp
