"""The notification receiver: authenticates the broker, answers at once, hands entities on.

Each worker has its endpoint (``/notify/<worker>``). The broker proves itself with the shared
secret the registrar put in ``receiverInfo`` (compared in constant time). Entities go to the
worker's queue; the same observation delivered twice (retries, periodic re-sends, two brokers)
is dropped here by (entity, attribute, observedAt). Query strings some brokers append to the URL
(``?subscriptionId=...``) and either tenant header are accepted.
"""

from __future__ import annotations

import hmac
import logging
import queue
import threading
from collections import OrderedDict
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter

from .registrar import SECRET_HEADER

log = logging.getLogger(__name__)
_STRUCTURAL = {"id", "type", "@context"}


class Deduplicator:
    """Remembers recently seen (entity, attribute, observedAt) keys, bounded."""

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def fresh(self, entity: dict[str, Any]) -> bool:
        """True when the entity carries at least one observation not seen before."""
        keys = [(entity["id"], name, value["observedAt"]) for name, value in entity.items()
                if name not in _STRUCTURAL and isinstance(value, dict) and "observedAt" in value]
        if not keys:
            return True  # nothing to de-duplicate by (e.g. CDRs without observedAt)
        with self._lock:
            new = [k for k in keys if k not in self._seen]
            for key in new:
                self._seen[key] = None
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
        return bool(new)


class Receiver:
    def __init__(self, secret: str, registry: CollectorRegistry) -> None:
        self.secret = secret.encode()
        self.queues: dict[str, queue.Queue[dict[str, Any]]] = {}
        self.dedup = Deduplicator()
        self.received = Counter("cic_notifications_received_total", "notified entities by worker and outcome",
                                ["worker", "outcome"], registry=registry)

    def queue_for(self, worker: str) -> queue.Queue[dict[str, Any]]:
        return self.queues.setdefault(worker, queue.Queue())

    def app(self) -> FastAPI:
        app = FastAPI(title="CitiesInCharge notification receiver")

        @app.post("/notify/{worker}")
        async def notify(worker: str, request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not hmac.compare_digest(given, self.secret):
                return JSONResponse({"detail": "unknown sender"}, status_code=401)
            target = self.queues.get(worker)
            if target is None:
                return JSONResponse({"detail": f"no worker {worker}"}, status_code=404)
            try:
                notification = orjson.loads(await request.body())
                entities = notification["data"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                return JSONResponse({"detail": "not an NGSI-LD notification"}, status_code=400)
            for entity in entities:
                if isinstance(entity, dict) and "id" in entity and self.dedup.fresh(entity):
                    target.put(entity)
                    self.received.labels(worker, "queued").inc()
                else:
                    self.received.labels(worker, "duplicate").inc()
            return Response(status_code=204)

        return app
