"""Fixtures for the analytics workers: the service in this process (receiver on a real port, the
broker delivering real notifications to it), and a writer standing in for the agents."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn

from analytics.service import AnalyticsService
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.support import free_port, http_ok, wait_until


class RunningService:
    def __init__(self, settings: Settings, workers: list[str]) -> None:
        self.service = AnalyticsService(settings, workers)
        self.service.start()
        self.server = uvicorn.Server(uvicorn.Config(self.service.app(), host="127.0.0.1",
                                                    port=settings.analytics_port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: http_ok(f"http://127.0.0.1:{settings.analytics_port}/status"))
        # a worker subscribes, then reads the current state; a write racing that read can be seen
        # newer by the read than by its notification (which is then out of order): start writing after
        wait_until(lambda: len(self.service.backfilled) == len(workers), timeout=30)

    def stop(self) -> None:
        self.service.stop()
        self.server.should_exit = True
        self.thread.join(timeout=10)


ServiceFactory = Callable[..., RunningService]


@pytest.fixture
def start_analytics(broker_url: str, tenant: str) -> Iterator[ServiceFactory]:
    running: list[RunningService] = []

    def start(workers: list[str], **overrides: Any) -> RunningService:
        port = free_port()
        settings = Settings(broker_url=broker_url, tenant=tenant, analytics_port=port,
                            analytics_secret="test-secret", **overrides)
        service = RunningService(settings, workers)
        running.append(service)
        return service

    yield start
    for service in running:
        service.stop()


@pytest.fixture
def ngsi(broker_url: str, tenant: str) -> NgsiLdClient:
    return NgsiLdClient(Settings(broker_url=broker_url, tenant=tenant))


def at(seconds_ago: float) -> str:
    moment = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def evse(ngsi: NgsiLdClient, uid: str, status: str, when: str, operator: str = "cpoT", power: float = 22) -> None:
    ngsi.batch_upsert([{"id": f"urn:ngsi-ld:EVSE:cpoT:{uid}", "type": "EVSE",
                        "status": {"type": "Property", "value": status, "observedAt": when},
                        "dataProvider": {"type": "Property", "value": operator},
                        "maxPower": {"type": "Property", "value": power, "unitCode": "KWT"}}])


def bay(ngsi: NgsiLdClient, name: str, status: str, when: str, evse_uid: str | None = None) -> None:
    entity: dict[str, Any] = {"id": f"urn:ngsi-ld:ParkingSpot:S1:{name}", "type": "ParkingSpot",
                              "status": {"type": "Property", "value": status, "observedAt": when},
                              "refParkingSite": {"type": "Relationship", "object": "urn:ngsi-ld:OnStreetParking:S1"}}
    if evse_uid:
        entity["refEVSE"] = {"type": "Relationship", "object": f"urn:ngsi-ld:EVSE:cpoT:{evse_uid}"}
    ngsi.batch_upsert([entity])


def alerts(ngsi: NgsiLdClient, kind: str) -> list[dict[str, Any]]:
    return list(ngsi.query_entities(type="Alert", q=f'data[kind]=="{kind}"', options="keyValues"))
