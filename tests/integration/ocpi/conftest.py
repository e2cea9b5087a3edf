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
from tests.support import Process, free_port, http_ok


class Simulator:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = Process(["simulate", "cpo", "--port", str(port), "--speed", "0", "--seed", "7"],
                               lambda: http_ok(f"{self.url}/admin/cpoA/summary"))

    def admin(self, path: str, body: Any = None, **params: Any) -> Any:
        response = requests.post(f"{self.url}/admin/{path}", json=body, params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def summary(self, cpo: str) -> dict[str, Any]:
        return dict(requests.get(f"{self.url}/admin/{cpo}/summary", timeout=10).json())


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    sim = Simulator(free_port())
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
