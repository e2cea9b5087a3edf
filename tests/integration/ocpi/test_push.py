"""Issue 11 §7: the simulated CPOs push (PUT/PATCH/POST to the agent's Receiver) or are polled, and
the broker ends in the same state; and the credentials handshake (token A -> B -> C) with the
simulator as the CPO: register, poll with C, rotate, unregister."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from agents.ocpi.config import ALL_MODULES, load_operators
from agents.ocpi.credentials import CredentialStore, register, rotate, unregister
from agents.ocpi.service import OcpiAgent
from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NotFound
from citiesincharge.settings import Settings
from tests.integration.ocpi.conftest import QUIET_START, AgentFactory, Served, Simulator, write_operators
from tests.support import Process, free_port, http_ok, wait_until

CPOS = ("cpoA", "cpoB", "cpoC")
TYPES = ("EVChargingStation", "EVSE", "ChargingSession", "ChargeDetailRecord", "ChargingTariff")
SYSTEM = {"createdAt", "modifiedAt", "@context"}


def world(ngsi: NgsiLdClient) -> dict[str, dict[str, Any]]:
    return {e["id"]: {k: v for k, v in e.items() if k not in SYSTEM}
            for kind in TYPES for e in ngsi.query_entities(type=kind, options="keyValues")}


def test_push_and_poll_leave_the_same_broker_state(tmp_path: Path, simulator: Simulator, make_agent: AgentFactory,
                                                   serve_agent: Callable[[OcpiAgent], Served], broker_url: str,
                                                   tenant: str, ngsi: NgsiLdClient) -> None:
    simulator.admin("advance", minutes=1)
    polled = make_agent()
    # the pushing side: its own tenant and database; each CPO pushes with its own (demo) token
    tokens = {op.name: {"receiver_token_file": str(op.token_file)} for op in polled.operators}
    pushed_tenant = f"{tenant}push"
    folder = tmp_path / "push"
    folder.mkdir()
    config = Settings(broker_url=broker_url, tenant=pushed_tenant, data_dir=folder, ocpi_timeout=2)
    pushing = OcpiAgent(config, load_operators(write_operators(folder, simulator.url, **tokens)),
                        db_path=folder / "agent.sqlite")
    receiver = serve_agent(pushing)
    assert polled.run_once()
    for cpo in CPOS:
        assert simulator.admin(f"{cpo}/push", {"url": f"{receiver.url}/ocpi/versions"})["requests"] > 0
    # the town moves on: a status change, sessions charging on; polled incrementally, pushed as PATCHes
    uid = next(iter(simulator.summary("cpoA")["evses"]))
    simulator.admin("advance", minutes=1)
    simulator.admin(f"cpoA/evses/{uid}/status", {"status": "OUTOFORDER"})
    for cpo in CPOS:
        for module in ALL_MODULES:
            assert polled.syncs[cpo].sync(module)
        simulator.admin(f"{cpo}/push", {"url": f"{receiver.url}/ocpi/versions"})
    polled.outbox.flush()
    pushing.outbox.flush()
    assert pushing.quarantine.count() == polled.quarantine.count()
    other = NgsiLdClient(Settings(broker_url=broker_url, tenant=pushed_tenant))
    mirrored, received = world(ngsi), world(other)
    assert f"urn:ngsi-ld:EVSE:cpoA:{uid}" in received
    assert received[f"urn:ngsi-ld:EVSE:cpoA:{uid}"]["status"] == "OUTOFORDER"
    assert sorted(received) == sorted(mirrored)
    assert received == mirrored
    pushing.db.close()


def test_register_poll_with_c_rotate_unregister(tmp_path: Path, simulator: Simulator,
                                                serve_agent: Callable[[OcpiAgent], Served], broker_url: str,
                                                tenant: str) -> None:
    # an operators file with no token at all: the council only has the token A the CPO handed over
    path = write_operators(tmp_path, simulator.url, cpoA={"token_file": None})
    operators = [o for o in load_operators(path) if o.name == "cpoA"]
    port_holder = Settings(broker_url=broker_url, tenant=tenant, data_dir=tmp_path, ocpi_timeout=2)
    agent = OcpiAgent(port_holder, operators, db_path=tmp_path / "agent.sqlite")
    served = serve_agent(agent)
    settings = port_holder.model_copy(update={"ocpi_receiver_url": served.url})
    store = CredentialStore(tmp_path)
    simulator.admin("cpoA/token-a", {"token": "token-a-from-the-cpo"})
    registration = register(operators[0], store, settings, "token-a-from-the-cpo")
    assert registration.token_c and registration.version == "2.2.1"
    file = tmp_path / "ocpi-credentials" / "cpoA.json"
    assert file.stat().st_mode & 0o777 == 0o600
    assert registration.token_c not in repr(registration)
    assert agent.syncs["cpoA"].sync("locations")  # polls with token C
    assert agent.syncs["cpoA"].status.records["locations"] > 0
    # the CPO pushes with token B, which our Receiver accepts
    assert simulator.admin("cpoA/push", {})["requests"] > 0
    old_c = registration.token_c
    rotated = rotate(operators[0], store, settings)
    assert rotated.token_c != old_c and rotated.token_b != registration.token_b
    agent.syncs["cpoA"].client.version = None
    assert agent.syncs["cpoA"].sync("tariffs")  # with the new C
    refused = requests.get(f"{simulator.url}/ocpi/cpoA/versions", timeout=10,
                           headers={"Authorization": f"Token {base64.b64encode(old_c.encode()).decode()}"})
    assert refused.status_code == 401  # the old C is gone
    unregister(operators[0], store, settings)
    assert not file.exists()
    assert not agent.syncs["cpoA"].sync("tariffs")  # no token left
    agent.db.close()


def test_cic_simulate_cpo_push_sends_the_town_to_a_receiver_by_itself(
        tmp_path: Path, serve_agent: Callable[[OcpiAgent], Served], broker_url: str, tenant: str,
        ngsi: NgsiLdClient) -> None:
    """``cic simulate cpo --push URL``: no poll and no admin call; every round each operator sends what
    changed, with its own token, and a status change reaches the broker by the next round."""
    port = free_port()
    sim_url = f"http://127.0.0.1:{port}"
    operators = load_operators(write_operators(tmp_path, sim_url))
    tokens = {op.name: {"receiver_token_file": str(op.token_file)} for op in operators}
    config = Settings(broker_url=broker_url, tenant=tenant, data_dir=tmp_path, ocpi_timeout=2)
    receiving = OcpiAgent(config, load_operators(write_operators(tmp_path, sim_url, **tokens)),
                          db_path=tmp_path / "agent.sqlite")
    receiver = serve_agent(receiving)
    pushing = Process(["simulate", "cpo", "--port", str(port), "--speed", "0", "--seed", "7", "--start", QUIET_START,
                       "--push", f"{receiver.url}/ocpi/versions", "--push-every", "0.2"],
                      lambda: http_ok(f"{sim_url}/admin/cpoA/summary"))
    try:
        town = {cpo: requests.get(f"{sim_url}/admin/{cpo}/summary", timeout=10).json() for cpo in CPOS}
        evses = sum(len(summary["evses"]) for summary in town.values())

        def arrived() -> bool:
            receiving.outbox.flush()
            try:
                return ngsi.count_entities(type="EVSE") == evses
            except NotFound:  # the tenant exists from the first write on
                return False

        wait_until(arrived, timeout=60, interval=0.2)
        uid = next(iter(town["cpoA"]["evses"]))
        requests.post(f"{sim_url}/admin/advance", params={"minutes": 1}, timeout=10).raise_for_status()  # a new instant
        requests.post(f"{sim_url}/admin/cpoA/evses/{uid}/status", json={"status": "OUTOFORDER"},
                      timeout=10).raise_for_status()

        def out_of_order() -> bool:
            receiving.outbox.flush()
            found = ngsi.find_entity(f"urn:ngsi-ld:EVSE:cpoA:{uid}", options="keyValues")
            return found is not None and found["status"] == "OUTOFORDER"

        wait_until(out_of_order, timeout=30, interval=0.2)
    finally:
        pushing.stop()
        receiving.db.close()
