"""``cic analytics``: the receiver, the registrar and the workers in one process.

Per worker: its subscriptions are made to match the specs *before* the back-fill (so nothing that
happens during the back-fill is missed: those notifications wait in the queue and older ones are
ignored by event time), then one thread handles, in order, notified entities and due timers; every
few seconds the worker's ``tick`` runs and the registrar checks that the broker still has the
worker's subscriptions.
"""

from __future__ import annotations

import importlib
import logging
import queue
import secrets
import threading
import time
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError
from citiesincharge.operations import status_app
from citiesincharge.secrets import resolve_secret
from citiesincharge.settings import Settings
from subscriptions.receiver import Receiver
from subscriptions.registrar import Registrar
from subscriptions.specs import load_specs

from . import retention
from .base import Context, Worker
from .clock import DataClock, Timers, iso

log = logging.getLogger(__name__)
TICK_SECONDS = 2.0
CHECK_SECONDS = 60.0


WORKERS = {"health": "analytics.health:HealthWorker", "violations": "analytics.violations:ViolationsWorker",
           "energy": "analytics.energy:EnergyWorker", "demand": "analytics.demand:DemandWorker",
           "planning": "analytics.planning.worker:PlanningWorker"}


def worker_class(name: str) -> type[Worker]:
    module, _, attribute = WORKERS[name].partition(":")
    found: type[Worker] = getattr(importlib.import_module(module), attribute)
    return found


class AnalyticsService:
    def __init__(self, settings: Settings, workers: list[str]) -> None:
        self.settings = settings
        secret = resolve_secret(settings.analytics_secret, settings.analytics_secret_file)
        self.secret = secret.get_secret_value() if secret else secrets.token_urlsafe(24)
        self.registry = CollectorRegistry()
        self.receiver = Receiver(self.secret, self.registry)
        self.handled = Counter("cic_analytics_handled_total", "entities and timers handled", ["worker"],
                               registry=self.registry)
        public = settings.analytics_public_url or f"http://127.0.0.1:{settings.analytics_port}"
        self.workers: list[Worker] = []
        self.registrars: dict[str, Registrar] = {}
        self._stop = threading.Event()
        self.backfilled: set[str] = set()  # workers that have read the broker's current state
        for name in workers:
            inbox = self.receiver.queue_for(name)
            clock = DataClock(settings.analytics_time_scale)
            client = NgsiLdClient(settings)  # one HTTP session per worker thread
            context = Context(settings, client, clock, Timers(clock, dispatch=inbox.put))  # type: ignore[arg-type]
            self.workers.append(worker_class(name)(context))
            self.registrars[name] = Registrar(client, load_specs(name), f"{public}/notify/{name}", self.secret)

    def start(self) -> None:
        for worker in self.workers:
            threading.Thread(target=self._run, args=(worker,), name=f"worker-{worker.name}", daemon=True).start()
        if self.settings.records_retention_days > 0:
            threading.Thread(target=self._retain, name="retention", daemon=True).start()

    def _retain(self) -> None:
        """Delete ended records past the retention window, now and then (see analytics/retention.py)."""
        client = NgsiLdClient(self.settings)
        while not self._stop.wait(self.settings.records_prune_seconds):
            now = max((w.ctx.clock.calendar_now() for w in self.workers), default=None)
            if now is None:
                continue
            try:
                retention.sweep(client, now, self.settings.records_retention_days)
            except NgsiLdClientError as error:
                log.warning("retention: %s; trying again later", error)

    def _run(self, worker: Worker) -> None:
        registrar = self.registrars[worker.name]
        while not self._stop.is_set():  # subscribe first, then back-fill; retry while the broker is away
            try:
                registrar.ensure()
                worker.backfill()
                self.backfilled.add(worker.name)
                break
            except NgsiLdClientError as error:
                log.warning("%s: broker not ready (%s); retrying", worker.name, error)
                self._stop.wait(2)
        inbox = self.receiver.queue_for(worker.name)
        next_tick, next_check = time.monotonic() + TICK_SECONDS, time.monotonic() + CHECK_SECONDS
        while not self._stop.is_set():
            try:
                item: Any = inbox.get(timeout=0.2)
            except queue.Empty:
                item = None
            try:
                if callable(item):
                    item()
                elif item is not None:
                    worker.handle(item)
                if item is not None:
                    self.handled.labels(worker.name).inc()
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + TICK_SECONDS
                    worker.tick()
                    worker.ctx.flush()
                if now >= next_check:
                    next_check = now + CHECK_SECONDS
                    registrar.check()
            except NgsiLdClientError as error:
                log.warning("%s: %s", worker.name, error)
            except Exception:  # one bad notification must not stop the worker
                log.exception("%s: failed on %s", worker.name, "a timer" if callable(item) else "an entity")

    def stop(self) -> None:
        self._stop.set()
        for worker in self.workers:
            worker.close()
            worker.ctx.timers.stop()

    def status(self) -> dict[str, Any]:
        return {"workers": [{"name": w.name, "dataClock": iso(w.ctx.clock.now()),
                             "queue": self.receiver.queue_for(w.name).qsize(), "backfilled": w.name in self.backfilled,
                             **w.status()} for w in self.workers]}

    def app(self) -> FastAPI:
        return status_app("CitiesInCharge analytics", self.status, self.registry, app=self.receiver.app())


