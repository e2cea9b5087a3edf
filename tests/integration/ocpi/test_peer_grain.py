"""Issue 11 §4: quarantine at the right grain. One EVSE with an invalid status, or one connector
without voltage and amperage (as the official ``location_put_example_add_evse.json``), must not
take its station and the good EVSEs with it."""

from __future__ import annotations

import json
from pathlib import Path

from citiesincharge.client import NgsiLdClient
from citiesincharge.sdm import schema_errors
from tests.integration.ocpi.conftest import PEER_OPERATOR, AgentFactory
from tests.integration.ocpi.peer import ImpolitePeer
from tests.integration.ocpi.records import connector, evse, location

OFFICIAL = Path(__file__).parents[2] / "data" / "ocpi" / "locations"
STATION = f"urn:ngsi-ld:EVChargingStation:{PEER_OPERATOR}:"
EVSE = f"urn:ngsi-ld:EVSE:{PEER_OPERATOR}:"


def test_a_bad_evse_or_connector_is_quarantined_alone(peer: ImpolitePeer, make_peer_agent: AgentFactory,
                                                      ngsi: NgsiLdClient) -> None:
    added = json.loads((OFFICIAL / "location_put_example_add_evse.json").read_text())  # connector: no power
    peer.data["locations"] = [
        location("A", evse("A-1"), evse("A-2"), evse("A-3", connectors=[added["connectors"][0], connector("2")])),
        location("B", evse("B-1"), added)]
    first = make_peer_agent(modules=["locations"])
    assert first.run_once()
    peer.data["locations"][0]["evses"][1]["status"] = "SLEEPING"  # A-2 now breaks the enum
    again = make_peer_agent(modules=["locations"])  # restart, full sync
    assert again.run_once()

    stations = {e["id"]: e for e in ngsi.query_entities(type="EVChargingStation", options="keyValues")}
    assert set(stations) == {STATION + "A", STATION + "B"}
    assert all(schema_errors(s) == [] for s in stations.values())
    assert (stations[STATION + "A"]["capacity"], stations[STATION + "A"]["socketNumber"]) == (2, 2)  # A-1, A-3 ("2")
    assert (stations[STATION + "B"]["capacity"], stations[STATION + "B"]["socketNumber"]) == (1, 1)  # B-1
    evses = {e["id"]: e for e in ngsi.query_entities(type="EVSE", options="keyValues")}
    assert set(evses) == {EVSE + "A-1", EVSE + "A-2", EVSE + "A-3", EVSE + "B-1"}
    assert evses[EVSE + "A-2"]["status"] == "AVAILABLE"  # its last good state: not REMOVED, not SLEEPING
    assert [c["id"] for c in evses[EVSE + "A-3"]["connectors"]] == ["2"]

    rows = {(r["record"], r["field"], r["reason"]) for r in again.quarantine.recent()}
    assert rows == {("A/A-2", "status", "value 'SLEEPING' is not one of AVAILABLE, BLOCKED, CHARGING, INOPERATIVE, "
                                        "OUTOFORDER, PLANNED, REMOVED, RESERVED, UNKNOWN"),
                    ("A/A-3/1", "connector.maxPower", "connector '1' has no voltage/amperage"),
                    ("B/3256", "maxPower", "connector '1' has no voltage/amperage")}
    outcome = again.status()["operators"][0]["modules"]["locations"]
    assert (outcome["fetched"], outcome["delivered"], outcome["quarantined"]) == (2, 2, 3)


def test_a_location_that_is_wrong_itself_is_quarantined_once_and_its_evses_are_not_removed(
        peer: ImpolitePeer, make_peer_agent: AgentFactory, ngsi: NgsiLdClient) -> None:
    peer.data["locations"] = [location("A", evse("A-1"), evse("A-2")), location("B")]
    assert make_peer_agent(modules=["locations"]).run_once()
    peer.data["locations"][0]["coordinates"] = {"latitude": "north", "longitude": "5.1"}
    again = make_peer_agent(modules=["locations"])
    assert again.run_once()
    assert [(r["record"], r["field"]) for r in again.quarantine.recent()] == [("A", "location")]
    statuses = {e["id"]: e["status"] for e in ngsi.query_entities(type="EVSE", options="keyValues")}
    assert statuses == {EVSE + "A-1": "AVAILABLE", EVSE + "A-2": "AVAILABLE", EVSE + "B-1": "AVAILABLE"}
