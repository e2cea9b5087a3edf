"""Issue 11 §2: OCPI ids are case-insensitive (CiString). A peer that switches the case of its ids
between two runs must not split an entity in two, nor make the agent mark the first ones REMOVED."""

from __future__ import annotations

from typing import Any

from citiesincharge.client import NgsiLdClient
from tests.integration.ocpi.conftest import AgentFactory
from tests.integration.ocpi.peer import ImpolitePeer
from tests.integration.ocpi.records import cdr_221, evse, location

IDS = ("id", "uid", "evse_uid", "location_id", "session_id", "country_code", "party_id", "evse_id", "tariff_ids")


def other_case(value: Any) -> Any:
    """The peer's records after it switched the case of every id."""
    if isinstance(value, dict):
        return {k: (v.swapcase() if k in IDS and isinstance(v, str) else
                    [t.swapcase() for t in v] if k in IDS and isinstance(v, list) else other_case(v))
                for k, v in value.items()}
    return [other_case(v) for v in value] if isinstance(value, list) else value


def test_a_switch_of_case_changes_nothing(peer: ImpolitePeer, make_peer_agent: AgentFactory,
                                          ngsi: NgsiLdClient) -> None:
    peer.data["locations"] = [location(name, evse(f"{name}-1"), evse(f"{name}-2"))
                              for name in ("Loc-a", "loc-B", "LOC-c")]
    peer.data["cdrs"] = [cdr_221("Cdr-1", "Loc-a", "Loc-a-2"), cdr_221("cdr-2", "loc-B", "loc-B-1")]
    first = make_peer_agent(modules=["locations", "cdrs"])
    assert first.run_once()
    first.stop()
    assert first.syncs["impolite"].status.entities_written == 3 + 6 + 2
    peer.data = {module: other_case(records) for module, records in peer.data.items()}
    again = make_peer_agent(modules=["locations", "cdrs"])  # a restart, on the same database
    assert again.run_once()
    assert again.syncs["impolite"].status.entities_written == 0  # same ids, same fingerprints: nothing to write
    stations = {e["id"] for e in ngsi.query_entities(type="EVChargingStation", attrs=["capacity"])}
    assert stations == {f"urn:ngsi-ld:EVChargingStation:impolite:{name}" for name in ("LOC-A", "LOC-B", "LOC-C")}
    evses = {e["id"]: e["status"] for e in ngsi.query_entities(type="EVSE", options="keyValues", attrs=["status"])}
    assert evses == {f"urn:ngsi-ld:EVSE:impolite:{name}-{n}": "AVAILABLE" for name in ("LOC-A", "LOC-B", "LOC-C")
                     for n in (1, 2)}  # none REMOVED
    cdrs = {e["id"]: e["refEVSE"] for e in ngsi.query_entities(type="ChargeDetailRecord", options="keyValues")}
    assert cdrs == {"urn:ngsi-ld:ChargeDetailRecord:impolite:CDR-1": "urn:ngsi-ld:EVSE:impolite:LOC-A-2",
                    "urn:ngsi-ld:ChargeDetailRecord:impolite:CDR-2": "urn:ngsi-ld:EVSE:impolite:LOC-B-1"}
