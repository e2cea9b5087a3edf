"""The @context registry (broker.context_registry) and its use by the resolver: kinds, the
pinned core, bounded caches, counters on an injected clock, delete and reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from broker.context_registry import ContextRegistry
from broker.errors import BadRequestData, LdContextNotAvailable, OperationNotSupported
from broker.jsonld import CORE, ContextResolver, check_context


def ticking() -> Callable[[], str]:
    """An ISO clock that advances one second per reading."""
    seconds = iter(range(3600))

    def now() -> str:
        second = next(seconds)
        return f"2030-01-01T00:{second // 60:02d}:{second % 60:02d}.000Z"

    return now


class Rows:
    """An in-memory stand-in for the broker's database."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str, Any, str]] = {}

    def save_context(self, local_id: str, kind: str, value: Any, created_at: str) -> None:
        self.rows[local_id] = (local_id, kind, value, created_at)

    def delete_context(self, local_id: str) -> None:
        del self.rows[local_id]

    def load_contexts(self) -> list[tuple[str, str, Any, str]]:
        return list(self.rows.values())


def test_hosted_entries_are_written_through_and_come_back() -> None:
    rows = Rows()
    registry = ContextRegistry(clock=ticking(), max_stored=5, cache_size=4, rows=rows)
    entry = registry.add("Hosted", {"A": "urn:a"})
    again = ContextRegistry(clock=ticking(), max_stored=5, cache_size=4, rows=rows)
    found = again.find(entry.local_id)
    assert found is not None and found.value == {"A": "urn:a"} and found.created_at == entry.created_at
    again.remove(found)
    assert rows.rows == {}


def test_the_count_of_stored_contexts_is_bounded() -> None:
    registry = ContextRegistry(clock=ticking(), max_stored=2, cache_size=4)
    registry.add("Hosted", {})
    registry.add("ImplicitlyCreated", {})
    with pytest.raises(OperationNotSupported):
        registry.add("Hosted", {})


def test_cached_copies_are_an_lru_that_never_drops_the_pinned_core() -> None:
    registry = ContextRegistry(clock=ticking(), max_stored=2, cache_size=2)
    registry.cache("https://core", {}, "built-in", pinned=True, aliases=("https://core-old",))
    for n in range(4):
        registry.cache(f"https://c/{n}", {}, "downloaded")
    assert [e.url for e in registry.entries("Cached")] == ["https://core", "https://c/2", "https://c/3"]
    core = registry.find("https://core-old")
    assert core is not None and core.url == "https://core"
    with pytest.raises(BadRequestData):
        registry.remove(core)


def test_uses_are_counted_on_the_injected_clock() -> None:
    registry = ContextRegistry(clock=ticking(), max_stored=2, cache_size=2)
    entry = registry.add("Hosted", {})
    registry.record_use([entry])
    registry.record_use([entry])
    assert entry.hits == 2 and entry.last_usage is not None and entry.last_usage > entry.created_at


def test_resolver_lists_what_it_uses_and_forgets_term_maps_on_delete() -> None:
    resolver = ContextResolver(own_origins=frozenset({"http://broker:1026"}))
    hosted = resolver.registry.add("Hosted", {"Bin": "https://city.example/Bin"})
    url = f"http://broker:1026/ngsi-ld/v1/jsonldContexts/{hosted.local_id}"
    assert resolver.term_map(url).expand("Bin") == "https://city.example/Bin"
    assert resolver.term_map(f"/ngsi-ld/v1/jsonldContexts/{hosted.local_id}").expand("Bin") == \
        "https://city.example/Bin"
    assert hosted.hits == 2
    assert resolver.hosted_id(f"http://elsewhere/ngsi-ld/v1/jsonldContexts/{hosted.local_id}") is None
    resolver.delete(hosted)
    with pytest.raises(LdContextNotAvailable):
        resolver.term_map(url)
    core = resolver.entry(CORE)
    assert core is not None and core.kind == "Cached" and core.pinned


def test_reload_takes_a_fresh_copy_of_a_cached_context() -> None:
    resolver = ContextResolver()
    resolver.preload("https://mirror/c.jsonld", {"@context": {"Bin": "https://v1/Bin"}}, origin="directory")
    assert resolver.term_map("https://mirror/c.jsonld").expand("Bin") == "https://v1/Bin"
    resolver.preload("https://mirror/c.jsonld", {"@context": {"Bin": "https://v2/Bin"}}, origin="directory")
    cached = resolver.entry("https://mirror/c.jsonld")
    assert cached is not None and cached.origin == "directory"
    resolver.reload(cached)
    assert resolver.term_map("https://mirror/c.jsonld").expand("Bin") == "https://v2/Bin"


@pytest.mark.parametrize("value", [[], 42, ["ftp://x/c.jsonld"], [[{}]], {"A": 1}])
def test_check_context_refuses_what_could_never_expand(value: Any) -> None:
    with pytest.raises(BadRequestData):
        check_context(value)
