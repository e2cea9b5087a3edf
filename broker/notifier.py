"""Asynchronous notification delivery: a write never waits on a receiver.

Each subscription has a queue of pending changes and at most one delivery in flight, so a
receiver sees every change, in order (a notification never carries the same entity twice; the
next one does). With ``throttling`` (at most one notification per period) the changes of an
entity waiting together are coalesced to the latest. A receiver that is down is retried with
exponential backoff, its queue kept. Periodic (``timeInterval``) subscriptions are driven from
the same scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests

from citiesincharge import ldcontext

from .subscriptions import CompiledSubscription
from .timeutil import now_iso

log = logging.getLogger(__name__)
MAX_ENTITIES_PER_NOTIFICATION = 1000
_BACKOFF_START, _BACKOFF_MAX = 0.5, 30.0


@dataclass
class _Lane:
    """Delivery state of one subscription."""

    sub: CompiledSubscription
    pending: deque[dict[str, Any]] = field(default_factory=deque)
    in_flight: bool = False
    not_before: float = 0.0
    failures: int = 0
    next_periodic: float = 0.0


Outcome = Callable[[str, str, bool, str], None]  # (tenant, sub id, success, timestamp)


class Notifier:
    """Owns delivery threads; the broker hands it (subscription, rendered entities) pairs."""

    def __init__(self, *, workers: int = 4, timeout: float = 5.0,
                 periodic_source: Callable[[CompiledSubscription], list[dict[str, Any]]] | None = None,
                 on_outcome: Outcome | None = None) -> None:
        self.timeout = timeout
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._cond = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify")
        self._local = threading.local()
        self._periodic_source = periodic_source
        self._on_outcome = on_outcome
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
        self._thread.start()

    # -- registration ------------------------------------------------------------------------
    def register(self, sub: CompiledSubscription) -> None:
        with self._cond:
            lane = self._lanes.get((sub.tenant, sub.id))
            if lane is None:
                lane = _Lane(sub)
                self._lanes[(sub.tenant, sub.id)] = lane
            lane.sub = sub
            if sub.time_interval is not None:
                lane.next_periodic = time.monotonic() + (0 if lane.next_periodic == 0 else sub.time_interval)
            self._cond.notify()

    def unregister(self, tenant: str, sub_id: str) -> None:
        with self._cond:
            self._lanes.pop((tenant, sub_id), None)

    def enqueue(self, sub: CompiledSubscription, entities: list[dict[str, Any]]) -> None:
        with self._cond:
            lane = self._lanes.get((sub.tenant, sub.id))
            if lane is None:
                return
            if sub.throttling:
                replaced = {entity["id"] for entity in entities}
                lane.pending = deque(e for e in lane.pending if e["id"] not in replaced)
            lane.pending.extend(entities)
            self._cond.notify()

    def backlog(self) -> int:
        with self._cond:
            return sum(len(lane.pending) for lane in self._lanes.values())

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=2)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- scheduling --------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                wait = self._dispatch_due()
                self._cond.wait(timeout=wait)

    def _dispatch_due(self) -> float:
        """Start every delivery that is due; return seconds until the next one may be."""
        now = time.monotonic()
        wake = 1.0
        for lane in list(self._lanes.values()):
            sub = lane.sub
            if sub.time_interval is not None and now >= lane.next_periodic and self._periodic_source:
                lane.next_periodic = now + sub.time_interval
                if sub.active(now_iso()):
                    self._pool.submit(self._periodic, lane)
            if sub.time_interval is not None:
                wake = min(wake, max(lane.next_periodic - now, 0.0))
            if not lane.pending or lane.in_flight:
                continue
            if now < lane.not_before:
                wake = min(wake, lane.not_before - now)
                continue
            batch: list[dict[str, Any]] = []
            ids: set[str] = set()
            while lane.pending and len(batch) < MAX_ENTITIES_PER_NOTIFICATION and lane.pending[0]["id"] not in ids:
                entity = lane.pending.popleft()
                ids.add(entity["id"])
                batch.append(entity)
            lane.in_flight = True
            self._pool.submit(self._deliver, lane, batch)
        return max(wake, 0.001)

    def _periodic(self, lane: _Lane) -> None:
        assert self._periodic_source is not None
        try:
            entities = self._periodic_source(lane.sub)
        except Exception:  # a failing query must not kill the scheduler
            log.exception("periodic subscription %s: query failed", lane.sub.id)
            return
        if entities:
            self.enqueue(lane.sub, entities)

    # -- delivery ----------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def _deliver(self, lane: _Lane, batch: list[dict[str, Any]]) -> None:
        sub = lane.sub
        ok = False
        try:
            body, headers = self._message(sub, batch)
            response = self._session().post(sub.endpoint.uri, data=body, headers=headers, timeout=self.timeout)
            ok = 200 <= response.status_code < 300
            if not ok:
                log.warning("subscription %s: receiver answered HTTP %s", sub.id, response.status_code)
        except requests.RequestException as error:
            log.warning("subscription %s: delivery failed (%s)", sub.id, type(error).__name__)
        except Exception:
            log.exception("subscription %s: delivery failed", sub.id)
        stamp = now_iso()
        with self._cond:
            lane.in_flight = False
            now = time.monotonic()
            if ok:
                lane.failures = 0
                lane.not_before = now + sub.throttling
            else:
                lane.failures += 1
                lane.not_before = now + min(_BACKOFF_START * 2 ** (lane.failures - 1), _BACKOFF_MAX)
                lane.pending.extendleft(reversed(batch))  # back in front, in their order
            self._cond.notify()
        if self._on_outcome:
            self._on_outcome(sub.tenant, sub.id, ok, stamp)

    @staticmethod
    def _message(sub: CompiledSubscription, batch: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
        data = sub.render(batch)
        headers: dict[str, str] = {"Content-Type": sub.endpoint.accept}
        context = sub.context if sub.context is not None else ldcontext.CORE_CONTEXT_URL
        if sub.endpoint.accept == "application/ld+json":
            for item in data:
                item["@context"] = context
        else:
            headers["Link"] = (f'<{link_url(context)}>; rel="http://www.w3.org/ns/json-ld#context"; '
                               'type="application/ld+json"')
        if sub.tenant:
            headers["NGSILD-Tenant"] = sub.tenant
        for pair in sub.endpoint.receiverInfo or []:
            headers[pair.key] = pair.value
        notification = {"id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}", "type": "Notification",
                        "subscriptionId": sub.id, "notifiedAt": now_iso(), "data": data}
        return orjson.dumps(notification), headers


def link_url(context: Any) -> str:
    """The URL a JSON notification's Link header names (§6.3.5 allows one): the subscription's
    @context when it is one URL, or a list of exactly one URL (as clients often write it), else
    the core context, the only one every receiver can resolve."""
    if isinstance(context, list) and len(context) == 1:
        context = context[0]
    return context if isinstance(context, str) else ldcontext.CORE_CONTEXT_URL
