"""The open-data feed against a real town: the OCPI agent syncs the simulated CPOs (shipped terms,
with cpoC overridden to share nothing publicly) and an impolite peer serving one published Location
and the official "destination charger not published" example, into a fresh tenant of the session's
broker; then ``cic opendata``'s app is served by uvicorn on a free port. Module-scoped: the town is
built once and only read."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.ocpi.config import load_operators
from agents.ocpi.service import OcpiAgent
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from dashboard.opendata.app import create_app
from tests.integration.ocpi.conftest import QUIET_START, Simulator, write_operators
from tests.integration.ocpi.peer import ImpolitePeer
from tests.integration.ocpi.records import location
from tests.support import ServedApp, free_port

DATA = Path(__file__).parents[2] / "data"
UNPUBLISHED = json.loads((DATA / "ocpi" / "locations" /
                          "location_example_uc3_destination_charger_not_published.json").read_text())
COUNCIL_ONLY = {"sharing": {"locations": "council", "tariffs": "council", "sessions": "operator",
                            "cdrs": "operator", "kpis": "council"}}
PEER_TERMS = {"licence": {"id": "OGL-UK-3.0", "attribution": "Contains public sector information licensed under "
                                                             "the Open Government Licence v3.0"},
              "sharing": {"locations": "public", "tariffs": "public"}}


class FakeClock:
    """Monotonic seconds that move only when a test moves them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Town:
    broker: NgsiLdClient
    tenant: str


@pytest.fixture(scope="module")
def town(broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    folder = tmp_path_factory.mktemp("opendata")
    tenant = "t" + uuid.uuid4().hex[:12]
    simulator = Simulator(free_port(), QUIET_START)
    peer = ImpolitePeer()
    try:
        peer.data["locations"] = [UNPUBLISHED, location("PUB")]
        token = folder / "peer.token"
        token.write_text(peer.token + "\n")
        doc = yaml.safe_load(write_operators(folder, simulator.url, cpoC=COUNCIL_ONLY).read_text())
        doc["operators"].append({"name": "impolite", "party_id": "IMP", "country_code": "NL",
                                 "versions_url": peer.versions_url, "token_file": str(token),
                                 "modules": ["locations"], **PEER_TERMS})
        (folder / "operators.yaml").write_text(yaml.safe_dump(doc))
        settings = Settings(broker_url=broker_url, tenant=tenant, data_dir=folder, ocpi_timeout=2, ocpi_retries=1)
        agent = OcpiAgent(settings, load_operators(folder / "operators.yaml"), db_path=folder / "agent.sqlite")
        assert agent.run_once()
        agent.db.close()
    finally:
        simulator.process.stop()
        peer.stop()
    client = NgsiLdClient(Settings(broker_url=broker_url, tenant=tenant))
    yield Town(client, tenant)
    client.close()


FeedFactory = Callable[..., ServedApp]


@pytest.fixture(scope="module")
def serve_feed(town: Town) -> Iterator[FeedFactory]:
    """Feeds of the town's tenant: ``serve_feed(clock, **settings)``."""
    served: list[ServedApp] = []

    def serve(clock: Callable[[], float] | None = None, **values: Any) -> ServedApp:
        settings = Settings(broker_url=town.broker.base, tenant=town.tenant, **values)
        served.append(ServedApp(create_app(settings, clock=clock)))
        return served[-1]

    yield serve
    for item in served:
        item.stop()


@pytest.fixture(scope="module")
def feed(serve_feed: FeedFactory) -> str:
    """The town's feed: a frozen clock (one broker read serves every test) and no practical rate limit."""
    return serve_feed(FakeClock(), opendata_rate_burst=100_000).url
