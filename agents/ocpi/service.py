"""``cic agent ocpi``: every operator polled on its own schedule, plus status and metrics.

APScheduler runs one job per (operator, module) and one full Locations sync per operator; jobs
of one operator never overlap, and one operator failing never delays the others. The outbox
flusher writes to the broker in the background. ``run_once`` is the scriptable variant: one full
sync of everything, the outbox drained, and an exit status that says whether it all worked.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from citiesincharge.client import NgsiLdClient
from citiesincharge.operations import status_app
from citiesincharge.settings import Settings

from ..db import AgentDb
from ..outbox import Outbox
from ..quarantine import Quarantine
from .config import OperatorConfig
from .credentials import CredentialStore
from .objects import ObjectStore
from .organizations import organizations
from .receiver.app import Receiver, mount
from .state import SyncState
from .sync import OperatorSync, SyncMetrics

log = logging.getLogger(__name__)


class OcpiAgent:
    def __init__(self, settings: Settings, operators: list[OperatorConfig], *, db_path: Path | None = None) -> None:
        self.settings = settings
        self.operators = operators
        self.db = AgentDb(db_path or Path(settings.data_dir) / "agent-ocpi.sqlite")
        self.registry = CollectorRegistry()
        self.quarantine = Quarantine(self.db, self.registry)
        self.client = NgsiLdClient(settings)
        self.outbox = Outbox(self.db, self.client, self.quarantine, self.registry, source="ocpi")
        state = SyncState(self.db)
        objects = ObjectStore(self.db)
        metrics = SyncMetrics(self.registry)
        secrets = settings.mapping_secrets()
        self.credentials = CredentialStore(Path(settings.data_dir))
        self.credentials.attach(operators)  # a registered token C wins over a configured one
        self.syncs = {op.name: OperatorSync(op, state, self.outbox, self.quarantine, metrics, secrets=secrets,
                                            timeout=settings.ocpi_timeout, retries=settings.ocpi_retries,
                                            objects=objects)
                      for op in operators}
        self.scheduler: BackgroundScheduler | None = None

    # -- one-shot ----------------------------------------------------------------------------
    def run_once(self, *, full: bool = True, drain_seconds: float = 30.0) -> bool:
        """Sync every module of every operator once and drain the outbox. True if all worked: no
        module failed, and none fetched records of which not one could be used (all quarantined).

        The outbox flusher runs while the operators are fetched and mapped, so the broker's
        work overlaps the agent's (the two run on separate cores).
        """
        self.outbox.put(organizations(self.operators, self.settings))  # what alerts and KPIs refer to
        self.outbox.start()
        try:
            ok = True
            for operator in self.operators:
                sync = self.syncs[operator.name]
                for module in operator.modules:
                    ok = sync.sync(module, full=full) and ok
                    outcome = sync.status.modules.get(module)
                    ok = ok and not (outcome is not None and outcome.empty_handed)
            deadline = time.monotonic() + drain_seconds
            while self.outbox.depth() and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            self.outbox.stop(drain_seconds=0)
        return ok and self.outbox.depth() == 0

    # -- scheduled ---------------------------------------------------------------------------
    def start(self) -> None:
        workers = max(2, len(self.operators) * 2)
        scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(workers)},
                                        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
        for operator in self.operators:
            sync = self.syncs[operator.name]
            scheduler.add_job(sync.sync, "date", args=["locations"], kwargs={"full": True},
                              id=f"{operator.name}:first-full")
            for module in operator.modules:
                scheduler.add_job(sync.sync, "interval", seconds=operator.interval(module), args=[module],
                                  id=f"{operator.name}:{module}")
            scheduler.add_job(sync.sync, "interval", seconds=operator.full_sync_every, args=["locations"],
                              kwargs={"full": True}, id=f"{operator.name}:full")
        self.outbox.put(organizations(self.operators, self.settings))  # what alerts and KPIs refer to
        self.outbox.start()
        scheduler.start()
        self.scheduler = scheduler
        log.info("OCPI agent polling %d operators: %s", len(self.operators), ", ".join(self.syncs))

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        self.outbox.stop()
        self.db.close()

    def app(self) -> FastAPI:
        """/status, /health, /metrics and the OCPI Receiver (``/ocpi``), on one port."""
        base = status_app("CitiesInCharge OCPI agent", self.status, self.registry)
        return mount(base, Receiver(self.syncs, self.credentials, self.settings))

    # -- status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        operators = []
        for name, sync in self.syncs.items():
            item = sync.status.as_dict()
            item["quarantined"] = self.quarantine.count_prefix(f"{name}/")
            operators.append(item)
        return {"operators": operators, "outbox": {"depth": self.outbox.depth(), "oldestAgeSeconds":
                                                   round(self.outbox.oldest_age(), 3),
                                                   "lastError": self.outbox.last_error},
                "quarantine": {"total": self.quarantine.count(), "recent": self.quarantine.recent(20)}}
