"""@context resolution and the term expansion / compaction NGSI-LD needs.

NGSI-LD only expands *names* (entity types, attribute and sub-attribute names) and compacts them
again on output; it never needs full JSON-LD graph algorithms. Like Orion-LD, the broker turns a
context into a flat term map once, caches it, and then expands or compacts a name with two dict
look-ups — full JSON-LD processing per request would cost milliseconds per entity.

Contexts shipped with the product (the NGSI-LD core context under the URL of every published
version, the SDM subjects, the project context) and contexts preloaded from a local directory
resolve without any network at all and are never subject to the fetch policy. Any other URL is
fetched only as :mod:`broker.context_policy` allows, and both what was fetched and what failed
are kept in bounded LRU caches, so that no stream of distinct URLs grows the broker's memory.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from citiesincharge import ldcontext

from .context_policy import ContextFetcher, ContextPolicy
from .context_registry import ContextRegistry, Origin, StoredContext
from .errors import BadRequestData, InvalidRequest, LdContextNotAvailable
from .timeutil import now_iso

log = logging.getLogger(__name__)

CORE = ldcontext.CORE_CONTEXT_URL
#: Members of entities and attributes that are NGSI-LD structure, never user terms.
STRUCTURAL = frozenset({
    "id", "type", "value", "object", "objectType", "observedAt", "unitCode", "datasetId",
    "createdAt", "modifiedAt", "deletedAt", "instanceId", "languageMap", "valueList", "objectList",
    "vocab", "json", "lang", "scope", "@context", "previousValue", "previousObject", "previousLanguageMap",
    "previousValueList", "previousObjectList", "previousVocab", "previousJson",
})
_MAX_NESTING = 8
#: Where this broker serves the contexts it hosts (clause 6.30/6.31).
_HOSTED_PATH = re.compile(r"/ngsi-ld/v1/jsonldContexts/([^/]+)$")


class TermMap:
    """A resolved context: short name <-> IRI, with ``@vocab`` as the fallback."""

    def __init__(self, terms: dict[str, str], vocab: str | None) -> None:
        self.terms = terms
        self.vocab = vocab
        reverse: dict[str, str] = {}
        for term, iri in sorted(terms.items(), key=lambda kv: (len(kv[0]), kv[0]), reverse=True):
            reverse[iri] = term  # shortest (then alphabetically first) term wins
        self.reverse = reverse
        #: terms usable as prefixes of compact IRIs (their IRI ends in a gen-delim), longest IRI first
        self.prefixes = sorted(((iri, term) for iri, term in reverse.items() if iri[-1:] in ("/", "#", ":")),
                               key=lambda pair: -len(pair[0]))
        self._expanded: dict[str, str] = {}
        self._compacted: dict[str, str] = {}

    def expand(self, name: str) -> str:
        hit = self._expanded.get(name)
        if hit is not None:
            return hit
        iri = self._expand(name)
        if len(self._expanded) < 100_000:
            self._expanded[name] = iri
        return iri

    def _expand(self, name: str) -> str:
        if name in self.terms:
            return self.terms[name]
        if ":" in name:
            prefix, _, suffix = name.partition(":")
            if prefix in self.terms and not suffix.startswith("//"):
                return self.terms[prefix] + suffix
            return name  # already an absolute IRI
        if self.vocab is None:
            raise BadRequestData(f"term '{name}' cannot be expanded: not in the @context and no @vocab")
        return self.vocab + name

    def compact(self, iri: str) -> str:
        term = self.reverse.get(iri)
        if term is not None:
            return term
        if self.vocab and iri.startswith(self.vocab):
            short = iri[len(self.vocab):]
            if short not in self.terms and ":" not in short:
                return short
        hit = self._compacted.get(iri)
        if hit is None:
            hit = self._compact_iri(iri)
            if len(self._compacted) < 100_000:
                self._compacted[iri] = hit
        return hit

    def _compact_iri(self, iri: str) -> str:
        """``prefix:suffix`` with the longest matching prefix term, as JSON-LD compaction does
        (``ngsi-ld:default-context/x`` for a default-vocabulary name the client's context redefines)."""
        for prefix_iri, term in self.prefixes:
            if iri.startswith(prefix_iri) and len(iri) > len(prefix_iri):
                suffix = iri[len(prefix_iri):]
                if not suffix.startswith("//"):
                    return f"{term}:{suffix}"
        return iri


def _flatten(definitions: dict[str, Any]) -> tuple[dict[str, str | None], str | None, bool]:
    """Raw term -> @id (unresolved) of one context object, its @vocab, whether @vocab was set."""
    raw: dict[str, str | None] = {}
    vocab_set = "@vocab" in definitions
    vocab = definitions.get("@vocab")
    for term, definition in definitions.items():
        if term.startswith("@"):
            continue
        if definition is None:
            raw[term] = None
        elif isinstance(definition, str):
            raw[term] = definition
        elif isinstance(definition, dict):
            iri = definition.get("@id")
            raw[term] = iri if isinstance(iri, str) else "@vocab:" + term
        else:
            raise BadRequestData(f"@context term '{term}' has an invalid definition")
    return raw, vocab, vocab_set


def check_context(value: Any) -> None:
    """Refuse an @context value the broker could never expand with (before it is stored): a URL
    that is neither http(s) nor one of this broker's paths, a bad term definition, nested arrays."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise BadRequestData("@context is an empty list")
    for item in items:
        if isinstance(item, str):
            if not (item.startswith(("http://", "https://")) or item.startswith("/")):
                raise BadRequestData(f"@context entry '{item[:200]}' is not an http(s) URL")
        elif isinstance(item, dict):
            _flatten(item)
        else:
            raise BadRequestData("@context must be a URL, an object or a list of them")

def _resolve_iri(value: str, raw: dict[str, str | None], vocab: str | None, depth: int = 0) -> str:
    if value.startswith("@vocab:"):
        return (vocab or "") + value[len("@vocab:"):]
    if depth > _MAX_NESTING or value.startswith("@"):
        return value
    if ":" in value:
        prefix, _, suffix = value.partition(":")
        target = raw.get(prefix)
        if target and not suffix.startswith("//"):
            return _resolve_iri(target, raw, vocab, depth + 1) + suffix
        return value
    target = raw.get(value)
    if target and target != value:
        return _resolve_iri(target, raw, vocab, depth + 1)
    return (vocab or "") + value


class ContextResolver:
    """Turns a request's @context (URL, list or inline object) into a cached :class:`TermMap`.

    ``preloaded`` maps context URLs to documents that never need the network (the vendored core
    and SDM contexts, the project context, and whatever a site drops into its context directory).
    Other URLs go through ``policy``; a failure is remembered for ``failure_ttl`` seconds (by
    ``clock``, injectable for tests) so that a client repeating a dead URL does not cost a fetch
    each time, and at most ``failure_cache_size`` failures are remembered, least recent dropped.

    Every document in use is an entry of ``registry`` (what ``/jsonldContexts`` lists): a copy of
    a URL's document is taken there on first use, and a URL of this broker's own
    ``/ngsi-ld/v1/jsonldContexts/{id}`` (at one of ``own_origins``, or path-absolute: a request's
    base is this broker) is the hosted entry itself, never fetched over HTTP.
    """

    def __init__(self, *, policy: ContextPolicy | None = None, cache_size: int = 256,
                 failure_cache_size: int = 1024, failure_ttl: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, registry: ContextRegistry | None = None,
                 own_origins: frozenset[str] = frozenset()) -> None:
        self.policy = policy or ContextPolicy()
        self.failure_ttl = failure_ttl
        self.cache_size = cache_size
        self.failure_cache_size = failure_cache_size
        self.own_origins = own_origins
        self.preloaded: dict[str, Any] = {}
        self._origins: dict[str, Origin] = {}
        self._clock = clock
        self.registry = registry or ContextRegistry(clock=now_iso, max_stored=1000, cache_size=cache_size)
        #: url -> (when, status, detail); the error is rebuilt on each hit, never re-raised itself
        #: (a re-raised exception keeps growing its traceback, and with it the frames it holds).
        self._failures: OrderedDict[str, tuple[float, int, str]] = OrderedDict()
        self._maps: OrderedDict[str, TermMap] = OrderedDict()
        self._lock = threading.Lock()
        self._fetcher = ContextFetcher(self.policy)
        for url, file_name in ldcontext.VENDORED_CONTEXTS.items():
            self._source_from(url, ldcontext.load_vendored(file_name)["@context"], "built-in")
        for alias in ldcontext.CORE_CONTEXT_ALIASES:
            self._source_from(alias, self.preloaded[CORE], "built-in")
        self.registry.cache(CORE, self.preloaded[CORE], "built-in", pinned=True,
                            aliases=ldcontext.CORE_CONTEXT_ALIASES)

    def close(self) -> None:
        self._fetcher.close()

    @property
    def cached_failures(self) -> int:
        return len(self._failures)

    @property
    def cached_documents(self) -> int:
        """Copies held of documents other than the (pinned) core context."""
        return sum(1 for e in self.registry.entries("Cached") if not e.pinned)

    def _source_from(self, url: str, value: Any, origin: Origin) -> None:
        self.preloaded[url] = value
        self._origins[url] = origin

    def preload(self, url: str, document: dict[str, Any], *, origin: Origin = "built-in") -> None:
        if "@context" not in document:
            raise ValueError(f"context document for {url} has no @context member")
        self._source_from(url, document["@context"], origin)

    def preload_directory(self, directory: Path) -> int:
        """Load ``contexts.json`` ({url: file}) from a directory; returns how many were loaded."""
        index_file = directory / "contexts.json"
        if not index_file.is_file():
            return 0
        index = json.loads(index_file.read_text("utf-8"))
        for url, file_name in index.items():
            self.preload(url, json.loads((directory / file_name).read_text("utf-8")), origin="directory")
        return len(index)

    def hosted_id(self, url: str) -> str | None:
        """The local id when ``url`` names a context this broker hosts, else ``None``."""
        if "/jsonldContexts/" not in url:
            return None
        parts = urlsplit(url)
        if not url.startswith("/") and f"{parts.scheme}://{parts.netloc}" not in self.own_origins:
            return None
        match = _HOSTED_PATH.search(parts.path)
        return unquote(match.group(1)) if match else None

    def is_local(self, context: Any) -> bool:
        """Whether resolving ``context`` can never need the network (so needs no worker thread)."""
        return context is None or (isinstance(context, str) and (
            context in self.preloaded or self.hosted_id(context) is not None))

    # -- term maps ---------------------------------------------------------------------------
    def term_map(self, context: Any) -> TermMap:
        """The term map for a request's context value (``None`` = core context only)."""
        key = json.dumps(context, sort_keys=True) if not isinstance(context, str) else context
        with self._lock:
            hit = self._maps.get(key)
            if hit is not None:
                self._maps.move_to_end(key)
        if hit is None:
            hit = self._build(context)
            with self._lock:
                self._maps[key] = hit
                while len(self._maps) > self.cache_size:
                    self._maps.popitem(last=False)
        self.registry.record_use(self._named(context))
        return hit

    def _named(self, context: Any) -> list[StoredContext]:
        """The entries a request's @context names at its top level (what counts as their use)."""
        urls = [context] if isinstance(context, str) else (
            [c for c in context if isinstance(c, str)] if isinstance(context, list) else [])
        found = (self.entry(url) for url in urls)
        return [e for e in found if e is not None]

    def entry(self, url: str) -> StoredContext | None:
        local_id = self.hosted_id(url)
        return self.registry.stored(local_id) if local_id is not None else self.registry.find(url)

    def forget_term_maps(self) -> None:
        """Drop every term map: after a context is deleted or reloaded, none may outlive it."""
        with self._lock:
            self._maps.clear()

    def _build(self, context: Any) -> TermMap:
        layers: list[dict[str, Any]] = []
        self._collect(context, layers, depth=0)
        self._collect(CORE, layers, depth=0)  # core is applied last and is protected
        raw: dict[str, str | None] = {}
        vocab: str | None = None
        for layer in layers:
            layer_raw, layer_vocab, vocab_set = _flatten(layer)
            raw.update(layer_raw)
            if vocab_set:
                vocab = layer_vocab
        terms = {t: _resolve_iri(v, raw, vocab) for t, v in raw.items() if v is not None}
        return TermMap(terms, vocab)

    def _collect(self, context: Any, layers: list[dict[str, Any]], depth: int) -> None:
        if depth > _MAX_NESTING:
            raise InvalidRequest("@context nests more than 8 levels of remote contexts")
        if context is None:
            return
        if isinstance(context, str):
            self._collect(self.document(context), layers, depth + 1)
        elif isinstance(context, list):
            for item in context:
                self._collect(item, layers, depth)
        elif isinstance(context, dict):
            layers.append(context)
        else:
            raise BadRequestData("@context must be a URL, an object or a list of them")

    # -- documents ---------------------------------------------------------------------------
    def document(self, url: str) -> Any:
        """The ``@context`` value of the document at ``url`` (hosted, cached, preloaded or fetched)."""
        local_id = self.hosted_id(url)
        if local_id is not None:
            hosted = self.registry.stored(local_id)
            if hosted is None:
                raise LdContextNotAvailable(f"@context {url}: this broker hosts no @context {local_id}")
            return hosted.value
        cached = self.registry.find(url)  # also finds the core context under any of its URLs
        if cached is not None and cached.kind == "Cached":
            return cached.value
        value, origin = self._source(url, fresh=False)
        self.registry.cache(url, value, origin)
        return value

    def reload(self, entry: StoredContext) -> None:
        """Replace a cached copy by a fresh one; on failure the old copy stays (and the error goes up)."""
        url = entry.url or ""
        value, origin = self._source(url, fresh=True)
        self.registry.cache(url, value, origin)
        self.forget_term_maps()

    def delete(self, entry: StoredContext) -> None:
        self.registry.remove(entry)
        self.forget_term_maps()

    def _source(self, url: str, *, fresh: bool) -> tuple[Any, Origin]:
        """The document from where it lives: shipped or mirrored with the broker, else the network."""
        if url in self.preloaded:
            return self.preloaded[url], self._origins.get(url, "built-in")
        if not fresh:
            with self._lock:
                failed = self._failures.get(url)
                if failed is not None:
                    when, status, detail = failed
                    if self._clock() - when < self.failure_ttl:
                        self._failures.move_to_end(url)
                        raise LdContextNotAvailable(detail, status=status)
                    del self._failures[url]
        try:
            return self._fetch(url), "downloaded"
        except LdContextNotAvailable as error:
            self._remember_failure(url, error)
            raise

    def _remember_failure(self, url: str, error: LdContextNotAvailable) -> None:
        with self._lock:
            self._failures[url] = (self._clock(), error.status, error.detail)
            self._failures.move_to_end(url)
            while len(self._failures) > self.failure_cache_size:
                self._failures.popitem(last=False)

    def _fetch(self, url: str) -> Any:
        raw = self._fetcher.fetch(url)
        try:
            document = json.loads(raw)
        except ValueError:
            raise LdContextNotAvailable(f"@context {url} is not valid JSON") from None
        if not isinstance(document, dict) or "@context" not in document:
            raise LdContextNotAvailable(f"@context {url} has no @context member")
        log.info("fetched @context %s", url)
        return document["@context"]
