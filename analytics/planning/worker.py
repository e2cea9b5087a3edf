"""The analytics service's planning worker: a fresh plan every ``CIC_PLAN_EVERY_HOURS`` of data time.

Why a worker and not only ``cic plan``: the dashboard's "Where next" page must show a plan on a
running system without anyone at a terminal, and stay current as use and registrations change. The
plan reads what the other workers write (monthly energy KPIs) and the broker's status history, so
it only needs to know the time: the run's world clock (the demo's simulated one), checked each tick.
A council importing new area figures (the ``areas`` subscription: registrations, population,
geometry) makes the next tick plan again at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from analytics.base import Context, Worker
from analytics.clock import iso

from .plan import plan_client, run

log = logging.getLogger(__name__)


class PlanningWorker(Worker):
    name = "planning"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.every = timedelta(hours=context.settings.plan_every_hours)
        self.next_due: datetime | None = None  # None: plan at the first tick
        self.plans = 0
        self.areas = 0
        self.last: datetime | None = None
        self.client = plan_client(context.settings)  # long reads: not the worker's ordinary client

    def backfill(self) -> None:
        """Nothing to load: a plan reads what it needs from the broker each time (the first tick plans)."""

    def handle(self, entity: dict[str, Any]) -> None:
        self.next_due = None

    def tick(self) -> None:
        now = self.ctx.settings.world_clock().now()
        self.ctx.clock.observe(now)  # the status page shows the time the plans are made in
        if self.next_due is not None and now < self.next_due:
            return
        # a plan that fails (a busy broker timing out) is tried again after an eighth of the interval,
        # not at the next tick: its reads are the heaviest of the service's
        self.next_due = now + self.every / 8
        plan = run(self.client, self.ctx.settings, now, write=self.ctx.write)
        self.next_due = now + self.every
        self.plans, self.areas, self.last = self.plans + 1, len(plan.ranking), now
        for failure in plan.failed:
            log.warning("planning: %s", failure)
        if plan.ranking:
            top = plan.ranking[0]
            log.info("planning: %d areas ranked for %s; first %s (%.1f)", len(plan.ranking), plan.period.label,
                     plan.names[top.area], top.score)

    def close(self) -> None:
        self.client.close()

    def status(self) -> dict[str, Any]:
        return {"plans": self.plans, "areasRanked": self.areas, "lastPlan": iso(self.last) if self.last else None}
