"""The broker's core, independent of HTTP: storage, contexts, subscriptions and notification.

Routes translate HTTP into calls here; everything that must happen after a write (notifying
subscribers, counting) happens in :meth:`Broker.publish`, so no endpoint can forget it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool

from citiesincharge import ldcontext
from citiesincharge.settings import Settings

from .changes import notified_entity
from .context_policy import ContextPolicy
from .context_registry import ContextRegistry
from .entity_query import EntityQuery
from .errors import NgsiLdError
from .jsonld import ContextResolver, TermMap
from .metrics import BrokerMetrics
from .notifier import Notifier
from .retention import HistoryPruner
from .store import Change, Store
from .subscriptions import CompiledSubscription, compile_subscription
from .timeutil import now_iso

log = logging.getLogger(__name__)
T = TypeVar("T")


class Broker:
    """One embedded broker: a store, a context resolver, compiled subscriptions, a notifier."""

    def __init__(self, settings: Settings, public_urls: list[str]) -> None:
        self.settings = settings
        path = None if settings.broker_memory else Path(settings.data_dir) / "broker.sqlite"
        self.store = Store(path)
        self._heavy = ThreadPoolExecutor(max_workers=settings.query_workers, thread_name_prefix="cic-query")
        registry = ContextRegistry(clock=now_iso, max_stored=settings.context_max_stored,
                                   cache_size=settings.context_cache_size, rows=self.store)
        self.contexts = ContextResolver(policy=ContextPolicy.from_settings(settings),
                                        cache_size=settings.context_cache_size, registry=registry,
                                        own_origins=frozenset(
                                            "{0.scheme}://{0.netloc}".format(urlsplit(url)) for url in public_urls))
        for base in public_urls:
            self.contexts.preload(ldcontext.project_context_url(base), ldcontext.project_context_document())
        if settings.context_dir is not None:
            loaded = self.contexts.preload_directory(Path(settings.context_dir))
            log.info("preloaded %d @context(s) from %s", loaded, settings.context_dir)
        self.subscriptions: dict[str, dict[str, CompiledSubscription]] = {}
        self.metrics = BrokerMetrics(self._entity_count, lambda: float(self.notifier.backlog()))
        self.notifier = Notifier(workers=settings.notify_workers, timeout=settings.notify_timeout,
                                 periodic_source=self._periodic_entities, on_outcome=self._record_outcome)
        self._restore_subscriptions()
        self.pruner = (HistoryPruner(self.store, settings.history_retention_days, settings.history_prune_seconds)
                       if settings.history_retention_days > 0 else None)

    def close(self) -> None:
        if self.pruner is not None:
            self.pruner.close()
        self.notifier.close()
        self._heavy.shutdown(wait=True)
        self.contexts.close()
        self.store.close()

    async def offload(self, work: Callable[..., T], *args: Any) -> T:
        """Run CPU-heavy work (queries, temporal rendering, batches) in the small query pool.

        The event loop only parses requests and answers; while a scan of many entities runs in
        a worker, /health, GET-by-id and every other client keep being served. The pool is
        small on purpose: queued work waits without holding the GIL, running work shares it.
        """
        return await asyncio.get_running_loop().run_in_executor(self._heavy, functools.partial(work, *args))

    # -- contexts ----------------------------------------------------------------------------
    async def term_map(self, context: Any) -> TermMap:
        """Term map for a request's context; a remote fetch runs off the event loop."""
        if self.contexts.is_local(context):
            return self.contexts.term_map(context)
        return await run_in_threadpool(self.contexts.term_map, context)

    # -- writes ------------------------------------------------------------------------------
    def publish(self, tenant: str, changes: list[Change]) -> None:
        """After every write: count it and hand matching changes to the notifier."""
        real = [c for c in changes if not c.is_noop]
        if not real:
            return
        self.metrics.entities_written.inc(len(real))
        stamp = now_iso()
        for sub in self.subscriptions.get(tenant, {}).values():
            if not sub.active(stamp):
                continue
            matched = [notified_entity(c, show_changes=sub.show_changes, now=stamp) for c in real if sub.matches(c)]
            if matched:
                self.notifier.enqueue(sub, matched)

    # -- queries -----------------------------------------------------------------------------
    def select(self, tenant: str, query: EntityQuery) -> Iterator[dict[str, Any]]:
        return iter(self.store.query(tenant, query)[0])

    # -- subscriptions -----------------------------------------------------------------------
    def install_subscription(self, tenant: str, doc: dict[str, Any], context: Any, tm: TermMap) -> None:
        own = doc.get("jsonldContext")
        notify = (own, self.contexts.term_map(own)) if isinstance(own, str) else None
        compiled = compile_subscription(tenant, doc, context, tm, notify)
        compiled.lookup = functools.partial(self._linked_entity, tenant)
        previous = self.subscriptions.get(tenant, {}).get(compiled.id)
        if previous is not None:
            compiled.status_fields = previous.status_fields
        self.subscriptions.setdefault(tenant, {})[compiled.id] = compiled
        self.notifier.register(compiled)

    def _linked_entity(self, tenant: str, entity_id: str) -> dict[str, Any] | None:
        try:
            return self.store.get(tenant, entity_id)
        except NgsiLdError:
            return None

    def remove_subscription(self, tenant: str, sub_id: str) -> None:
        self.subscriptions.get(tenant, {}).pop(sub_id, None)
        self.notifier.unregister(tenant, sub_id)
        self.store.delete_subscription(tenant, sub_id)

    def _restore_subscriptions(self) -> None:
        for tenant, stored in self.store.load_subscriptions():
            try:
                context = stored.get("_context")
                doc = {k: v for k, v in stored.items() if k != "_context"}
                self.install_subscription(tenant, doc, context, self.contexts.term_map(context))
            except NgsiLdError as error:
                log.error("subscription %s not restored: %s", stored.get("id"), error.detail)

    def _periodic_entities(self, sub: CompiledSubscription) -> list[dict[str, Any]]:
        query = EntityQuery(q=sub.q, geo=sub.geo)
        return [e for e in self.select(sub.tenant, query) if sub.selects(e)]

    def _record_outcome(self, tenant: str, sub_id: str, ok: bool, stamp: str) -> None:
        self.metrics.notifications.labels("success" if ok else "failure").inc()
        sub = self.subscriptions.get(tenant, {}).get(sub_id)
        if sub is None:
            return
        fields = sub.status_fields
        fields["lastNotification"] = stamp
        fields["timesSent"] = fields.get("timesSent", 0) + 1
        if ok:
            fields["lastSuccess"] = stamp
            fields["status"] = "ok"
        else:
            fields["timesFailed"] = fields.get("timesFailed", 0) + 1
            fields["lastFailure"] = stamp
            fields["status"] = "failed"

    def _entity_count(self) -> float:
        return float(sum(self.store.count(t) for t in self.store.tenant_names()))
