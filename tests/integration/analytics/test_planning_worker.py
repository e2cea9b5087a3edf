"""The analytics service's planning worker: plans at its first tick, and again when the council imports
new area figures (a notification), without anyone running ``cic plan``."""

from __future__ import annotations

import time
from pathlib import Path

from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.integration.planning.town import COUNCIL, NOW, ZONE, build_town
from tests.support import wait_until

from .conftest import ServiceFactory


def test_worker_plans_then_replans_on_new_registrations(broker_url: str, tenant: str, tmp_path: Path,
                                                        start_analytics: ServiceFactory) -> None:
    settings = Settings(broker_url=broker_url, tenant=tenant, council_id=COUNCIL, timezone=ZONE)
    client = NgsiLdClient(settings)
    build_town(settings, client, tmp_path)
    area = f"urn:ngsi-ld:PlanningArea:{COUNCIL}:BARE"
    # the run's clock pinned at NOW (a simulated clock that barely moves), a plan a simulated day
    running = start_analytics(["planning"], council_id=COUNCIL, timezone=ZONE, clock_start=NOW,
                              clock_scale=1e-6, clock_wall=time.time())
    worker = running.service.workers[0]
    wait_until(lambda: "planRank" in client.get_entity(area), timeout=30)
    assert client.get_entity(area)["planPeriod"]["value"]["label"] == "November 2026"
    plans = worker.status()["plans"]
    client.batch_update([{"id": area, "type": "PlanningArea",
                          "population": {"type": "Property", "value": 9000}}])
    wait_until(lambda: worker.status()["plans"] > plans, timeout=30)
    wait_until(lambda: client.get_entity(area)["planIndicators"]["value"]["population"] == 9000, timeout=30)
