"""Fixtures for the OCPI agent: the simulated CPOs as a real server, an operators file pointing at
it, and an agent (in this process) writing to the session's broker in a fresh tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from agents.ocpi.config import default_operators_file, load_operators
from agents.ocpi.service import OcpiAgent
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.integration.ocpi.peer import ImpolitePeer
from tests.support import Process, ServedApp, free_port, http_ok

# A Monday at 03:00 UTC: the town sleeps, so a simulated minute brings no arrival unless a test makes one.
QUIET_START = "2026-03-02T03:00:00Z"


class Simulator:
    """The simulated CPOs, frozen (speed 0) at a pinned start instant: what happens in a simulated
    minute depends on the hour and the weekday, so a test never starts them at the wall clock's now."""

    def __init__(self, port: int, start: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = Process(["simulate", "cpo", "--port", str(port), "--speed", "0", "--seed", "7",
                                "--start", start], lambda: http_ok(f"{self.url}/admin/cpoA/summary"))

    def admin(self, path: str, body: Any = None, **params: Any) -> Any:
        response = requests.post(f"{self.url}/admin/{path}", json=body, params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def summary(self, cpo: str) -> dict[str, Any]:
        return dict(requests.get(f"{self.url}/admin/{cpo}/summary", timeout=10).json())


def changed_entities(cpo: str, before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """The entities a sync after ``before`` has to write, by the simulator's ground truth: every EVSE
    whose status or ``last_updated`` moved between two summaries (a forced change can keep the
    instant), and the station of every location that changed itself or in one of its EVSEs."""
    def evse(summary: dict[str, Any], uid: str) -> tuple[str | None, str | None]:
        return summary["evses"].get(uid), summary["updated"]["evses"].get(uid)

    evses = {uid for uid in after["evses"] if evse(after, uid) != evse(before, uid)}
    was, now = before["updated"]["locations"], after["updated"]["locations"]
    locations = {loc for loc, stamp in now.items() if was.get(loc) != stamp} | {uid.rsplit("-", 1)[0] for uid in evses}
    return ({f"urn:ngsi-ld:EVSE:{cpo}:{uid}" for uid in evses}
            | {f"urn:ngsi-ld:EVChargingStation:{cpo}:{location}" for location in locations})


@pytest.fixture
def simulator_start() -> str:
    """The simulated instant the simulator starts at; a test parametrizes it to run at other hours."""
    return QUIET_START


@pytest.fixture
def simulator(simulator_start: str) -> Iterator[Simulator]:
    sim = Simulator(free_port(), simulator_start)
    yield sim
    sim.process.stop()


def write_operators(tmp_path: Path, simulator_url: str, **overrides: dict[str, Any]) -> Path:
    """The shipped demo operators file, pointed at this simulator; per-operator overrides."""
    doc = yaml.safe_load(default_operators_file().read_text())
    tokens = default_operators_file().parent
    for operator in doc["operators"]:
        operator["versions_url"] = f"{simulator_url}/ocpi/{operator['name']}/versions"
        operator["token_file"] = str(tokens / operator["token_file"])
        operator.update(overrides.get(operator["name"], {}))
    path = tmp_path / "operators.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


AgentFactory = Callable[..., OcpiAgent]


@pytest.fixture
def make_agent(tmp_path: Path, simulator: Simulator, broker_url: str, tenant: str) -> Iterator[AgentFactory]:
    agents: list[OcpiAgent] = []

    def make(*, broker: str | None = None, db: str = "agent.sqlite", settings: dict[str, Any] | None = None,
             **overrides: dict[str, Any]) -> OcpiAgent:
        operators = load_operators(write_operators(tmp_path, simulator.url, **overrides))
        values: dict[str, Any] = {"ocpi_timeout": 2, "ocpi_retries": 1, **(settings or {})}
        config = Settings(broker_url=broker or broker_url, tenant=tenant, data_dir=tmp_path, **values)
        agent = OcpiAgent(config, operators, db_path=tmp_path / db)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.db.close()  # closing twice (after agent.stop()) is harmless


@pytest.fixture
def ngsi(broker_url: str, tenant: str) -> NgsiLdClient:
    return NgsiLdClient(Settings(broker_url=broker_url, tenant=tenant))


# -- an impolite peer instead of the simulated town ---------------------------------------------
PEER_OPERATOR = "impolite"


@pytest.fixture
def peer() -> Iterator[ImpolitePeer]:
    server = ImpolitePeer()
    yield server
    server.stop()


@pytest.fixture
def make_peer_agent(tmp_path: Path, peer: ImpolitePeer, broker_url: str, tenant: str) -> Iterator[AgentFactory]:
    """Agents polling only the impolite peer (operator ``impolite``), writing to a fresh tenant."""
    agents: list[OcpiAgent] = []
    token = tmp_path / "peer.token"
    token.write_text(peer.token + "\n")

    def make(*, db: str = "agent.sqlite", settings: dict[str, Any] | None = None, **operator: Any) -> OcpiAgent:
        doc = {"operators": [{"name": PEER_OPERATOR, "party_id": "IMP", "country_code": "NL",
                              "versions_url": peer.versions_url, "token_file": str(token), **operator}]}
        path = tmp_path / "peer-operators.yaml"
        path.write_text(yaml.safe_dump(doc))
        values: dict[str, Any] = {"ocpi_timeout": 2, "ocpi_retries": 0, **(settings or {})}
        config = Settings(broker_url=broker_url, tenant=tenant, data_dir=tmp_path, **values)
        agent = OcpiAgent(config, load_operators(path), db_path=tmp_path / db)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.db.close()


# -- the agent's OCPI Receiver on a free port --------------------------------------------------
class Served(ServedApp):
    """An agent's app (status, metrics, OCPI Receiver) served by uvicorn in a thread, on a free port."""

    def __init__(self, agent: OcpiAgent) -> None:
        super().__init__(agent.app())


@pytest.fixture
def serve_agent() -> Iterator[Callable[[OcpiAgent], Served]]:
    served: list[Served] = []

    def serve(agent: OcpiAgent) -> Served:
        served.append(Served(agent))
        return served[-1]

    yield serve
    for item in served:
        item.stop()
