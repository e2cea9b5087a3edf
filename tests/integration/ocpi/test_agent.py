"""The OCPI agent against the simulated CPOs and a real broker, over real HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
import requests

from citiesincharge.client import NgsiLdClient
from citiesincharge.sdm import schema_errors
from tests.integration.ocpi.conftest import AgentFactory, Simulator, changed_entities
from tests.support import BrokerProcess, Process, free_port, http_ok, wait_until

CPOS = ("cpoA", "cpoB", "cpoC")


def evse_statuses(ngsi: NgsiLdClient) -> dict[str, str]:
    return {e["id"]: e["status"] for e in ngsi.query_entities(type="EVSE", options="keyValues", attrs=["status"])}


def expected_evses(simulator: Simulator) -> dict[str, str]:
    return {f"urn:ngsi-ld:EVSE:{cpo}:{uid}": status for cpo in CPOS
            for uid, status in simulator.summary(cpo)["evses"].items()}


def test_first_full_sync_mirrors_every_operator(make_agent: AgentFactory, simulator: Simulator,
                                                 ngsi: NgsiLdClient) -> None:
    agent = make_agent()
    assert agent.run_once()
    assert evse_statuses(ngsi) == expected_evses(simulator)
    stations = list(ngsi.query_entities(type="EVChargingStation", options="keyValues"))
    assert len(stations) == sum(len(simulator.summary(cpo)["locations"]) for cpo in CPOS)
    assert all(schema_errors(s) == [] for s in stations)
    versions = {op["name"]: op["version"] for op in agent.status()["operators"]}
    assert versions == {"cpoA": "2.2.1", "cpoB": "2.1.1", "cpoC": "2.2.1"}
    assert ngsi.count_entities(type="ChargingTariff") == 6


# Night, morning peak and evening, on a weekday and at the weekend (the demand curve knows both):
# at some of these hours EVs arrive in the simulated minute between the two syncs, at others none.
STARTS = ("2026-03-02T03:00:00Z", "2026-03-02T08:00:00Z", "2026-03-02T18:00:00Z",  # a Monday
          "2026-03-07T08:00:00Z", "2026-03-07T18:00:00Z")  # a Saturday


@pytest.mark.parametrize("simulator_start", STARTS)
def test_incremental_sync_moves_only_what_changed(make_agent: AgentFactory, simulator: Simulator,
                                                  ngsi: NgsiLdClient) -> None:
    agent = make_agent()
    simulator.admin("advance", minutes=1)  # the simulated clock is frozen: let the sync time pass the data's
    assert agent.run_once()
    synced = {cpo: simulator.summary(cpo) for cpo in CPOS}
    uid = next(iter(synced["cpoB"]["evses"]))
    station_id = f"urn:ngsi-ld:EVChargingStation:cpoB:{uid.rsplit('-', 1)[0]}"
    simulator.admin("advance", minutes=1)  # the town lives on in that minute too
    changed = simulator.admin(f"cpoB/evses/{uid}/status", {"status": "OUTOFORDER"})
    moved = {cpo: changed_entities(cpo, synced[cpo], simulator.summary(cpo)) for cpo in CPOS}
    assert {f"urn:ngsi-ld:EVSE:cpoB:{uid}", station_id} <= moved["cpoB"]
    for cpo in CPOS:
        sync = agent.syncs[cpo]
        written, fetched = sync.status.entities_written, sync.status.records["locations"]
        assert sync.sync("locations")
        locations = sum(":EVChargingStation:" in entity for entity in moved[cpo])
        assert sync.status.records["locations"] - fetched == locations  # date_from: only the changed locations
        # each changed EVSE and its station, and nothing at all where nothing changed
        assert sync.status.entities_written - written == len(moved[cpo]), (cpo, sorted(moved[cpo]))
    assert agent.outbox.flush().sent == sum(len(entities) for entities in moved.values())
    evse = ngsi.get_entity(f"urn:ngsi-ld:EVSE:cpoB:{uid}", attrs=["status"])
    assert evse["status"]["value"] == "OUTOFORDER"
    assert evse["status"]["observedAt"].startswith(changed["last_updated"][:19])
    assert ngsi.get_entity(station_id, options="keyValues")["status"] in ("withIncidence", "outOfService")
    assert evse_statuses(ngsi) == expected_evses(simulator)


def test_restart_keeps_cursors_and_fingerprints(make_agent: AgentFactory, simulator: Simulator) -> None:
    first = make_agent()
    assert first.run_once()
    first.stop()
    again = make_agent()  # same database file: a restarted agent
    assert again.run_once(full=False)
    assert sum(s.status.entities_written for s in again.syncs.values()) == 0


def test_broker_down_then_back_applies_everything_in_order(make_agent: AgentFactory, simulator: Simulator,
                                                           tmp_path: Path) -> None:
    port = free_port()
    broker = BrokerProcess(port=port)
    agent = make_agent(broker=broker.url)
    assert agent.run_once()
    broker.stop()  # the broker goes away for a while
    before = simulator.summary("cpoA")
    uid = next(iter(before["evses"]))
    forced = {f"urn:ngsi-ld:EVSE:cpoA:{uid}", f"urn:ngsi-ld:EVChargingStation:cpoA:{uid.rsplit('-', 1)[0]}"}
    for status in ("CHARGING", "AVAILABLE", "BLOCKED"):
        simulator.admin(f"cpoA/evses/{uid}/status", {"status": status})
        simulator.admin("advance", minutes=1)
        after = simulator.summary("cpoA")
        assert changed_entities("cpoA", before, after) == forced  # the town sleeps at the pinned start
        before = after
        assert agent.syncs["cpoA"].sync("locations")  # polling goes on; writes wait in the outbox
        assert agent.outbox.flush().broker_down
    assert agent.outbox.depth() == 6  # three versions of the EVSE and of its station
    broker = BrokerProcess(tmp_path / "second", port=port)  # back (empty: a fresh instance)
    try:
        result = agent.outbox.flush()
        assert not result.broker_down and result.sent == 6 and agent.outbox.depth() == 0
        ngsi = NgsiLdClient(agent.settings, broker_url=broker.url)
        history = ngsi.temporal_entity(f"urn:ngsi-ld:EVSE:cpoA:{uid}", attrs=["status"], options="temporalValues")
        assert [v for v, _t in history["status"]["values"]] == ["CHARGING", "AVAILABLE", "BLOCKED"]
        assert ngsi.count_entities(type="EVSE") == 1  # nothing duplicated
    finally:
        broker.stop()


def test_bad_record_is_quarantined_and_the_rest_lands(make_agent: AgentFactory, simulator: Simulator,
                                                      ngsi: NgsiLdClient) -> None:
    bad = simulator.summary("cpoC")["locations"][3]
    simulator.admin(f"cpoC/locations/{bad}/malformed")
    agent = make_agent()
    assert agent.run_once()
    recent = agent.quarantine.recent()
    assert len(recent) == 1
    assert recent[0]["source"] == "cpoC/locations" and recent[0]["record"] == bad
    assert recent[0]["field"] == "location" and "latitude" in recent[0]["reason"]
    stations = {e["id"] for e in ngsi.query_entities(type="EVChargingStation", attrs=["status"])}
    assert len(stations) == sum(len(simulator.summary(cpo)["locations"]) for cpo in CPOS) - 1
    assert f"urn:ngsi-ld:EVChargingStation:cpoC:{bad}" not in stations
    assert agent.status()["operators"][2]["quarantined"] == 1


def test_bad_token_is_a_clear_operator_level_error(make_agent: AgentFactory, simulator: Simulator,
                                                   ngsi: NgsiLdClient, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.token"
    wrong.write_text("not-the-token\n")
    agent = make_agent(cpoA={"token_file": str(wrong)})
    assert not agent.run_once()
    status = {op["name"]: op for op in agent.status()["operators"]}
    assert "auth" in status["cpoA"]["last_error"] and "refused our token" in status["cpoA"]["last_error"]
    assert "not-the-token" not in str(status)
    assert status["cpoB"]["last_error"] is None and status["cpoC"]["last_error"] is None
    ids = set(evse_statuses(ngsi))
    assert ids and not any(":cpoA:" in i for i in ids)  # the others landed


def test_failing_and_slow_operators_do_not_stop_the_others(make_agent: AgentFactory, simulator: Simulator,
                                                           ngsi: NgsiLdClient) -> None:
    simulator.admin("cpoC/flaky", {"error_rate": 1.0})
    simulator.admin("cpoB/flaky", {"slow_rate": 1.0, "slow_seconds": 5})
    agent = make_agent(settings={"ocpi_timeout": 0.5, "ocpi_retries": 0})
    assert not agent.run_once()
    status = {op["name"]: op for op in agent.status()["operators"]}
    assert "server" in status["cpoC"]["last_error"] and "503" in status["cpoC"]["last_error"]
    assert "timeout" in status["cpoB"]["last_error"]
    assert status["cpoA"]["last_error"] is None
    assert {i.split(":")[3] for i in evse_statuses(ngsi)} == {"cpoA"}


def test_removed_evses_are_reconciled_on_full_sync(make_agent: AgentFactory, simulator: Simulator,
                                                   ngsi: NgsiLdClient) -> None:
    agent = make_agent()
    assert agent.run_once()
    location = simulator.summary("cpoA")["locations"][0]
    uid = next(u for u in simulator.summary("cpoA")["evses"] if u.startswith(location + "-"))
    station_id = f"urn:ngsi-ld:EVChargingStation:cpoA:{location}"
    capacity = ngsi.get_entity(station_id, options="keyValues")["capacity"]
    simulator.admin(f"cpoA/evses/{uid}/remove")
    assert agent.syncs["cpoA"].sync("locations", full=True)
    agent.outbox.flush()
    assert ngsi.get_entity(f"urn:ngsi-ld:EVSE:cpoA:{uid}", options="keyValues")["status"] == "REMOVED"
    assert ngsi.get_entity(station_id, options="keyValues")["capacity"] == capacity - 1
    written = agent.syncs["cpoA"].status.entities_written
    assert agent.syncs["cpoA"].sync("locations", full=True)  # REMOVED is written once, not every full sync
    assert agent.syncs["cpoA"].status.entities_written == written


def test_sessions_and_cdrs_carry_no_personal_data(make_agent: AgentFactory, simulator: Simulator,
                                                  ngsi: NgsiLdClient) -> None:
    simulator.admin("advance", minutes=8 * 60)
    agent = make_agent(settings={"pseudonym_salt": "council-secret-salt"})
    assert agent.run_once()
    sessions = list(ngsi.query_entities(type="ChargingSession", options="keyValues"))
    cdrs = list(ngsi.query_entities(type="ChargeDetailRecord", options="keyValues"))
    assert sessions and cdrs
    raw = orjson.dumps(sessions + cdrs).decode()
    assert not re.search(r"TOK\d{5}", raw)  # the simulated token uids never reach the context
    assert all(re.fullmatch(r"[0-9a-f]{32}", s["authHash"]) for s in sessions + cdrs)
    cdr = cdrs[0]
    assert cdr["totalCostExclVat"] >= 0 and cdr["energyDelivered"] >= 0 and cdr["currency"] == "GBP"
    assert cdr["refEVChargingStation"].startswith("urn:ngsi-ld:EVChargingStation:")
    with_vat = [c for c in cdrs if ":cpoB:" not in c["id"]]  # OCPI 2.1.1 has no incl. VAT total
    assert all(c["totalCostInclVat"] >= c["totalCostExclVat"] for c in with_vat)


def test_without_a_salt_token_ids_are_dropped(make_agent: AgentFactory, simulator: Simulator,
                                              ngsi: NgsiLdClient) -> None:
    simulator.admin("advance", minutes=6 * 60)
    assert make_agent().run_once()
    sessions = list(ngsi.query_entities(type="ChargingSession", options="keyValues"))
    assert sessions and not any("authHash" in s for s in sessions)


def test_cli_agent_serves_status_and_metrics(simulator: Simulator, broker_url: str, tenant: str,
                                             tmp_path: Path) -> None:
    from tests.integration.ocpi.conftest import write_operators

    port = free_port()
    agent = Process(["agent", "ocpi", "--operators", str(write_operators(tmp_path, simulator.url))],
                    lambda: http_ok(f"http://127.0.0.1:{port}/health"),
                    env={"CIC_BROKER_URL": broker_url, "CIC_TENANT": tenant, "CIC_DATA_DIR": str(tmp_path),
                         "CIC_OCPI_AGENT_PORT": str(port)})
    try:
        def synced() -> bool:
            status = requests.get(f"http://127.0.0.1:{port}/status", timeout=2).json()
            return all(op["last_success"] for op in status["operators"]) and status["outbox"]["depth"] == 0

        wait_until(synced, timeout=30, interval=0.2)
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        assert 'cic_ocpi_records_total{module="locations",operator="cpoB"}' in metrics
        assert "cic_outbox_depth 0.0" in metrics
    finally:
        agent.stop()
