"""Issue 11 §5: what must not be published, and what must not go missing. A Location its operator
does not publish (the official 'destination charger not published' example), exceptional closings,
a CDR without its EVSE uid, and a station whose only EVSE was removed."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from citiesincharge.client import NgsiLdClient
from citiesincharge.sdm import schema_errors
from tests.integration.ocpi.conftest import PEER_OPERATOR, AgentFactory
from tests.integration.ocpi.peer import ImpolitePeer
from tests.integration.ocpi.records import cdr_221, evse, location

OFFICIAL = Path(__file__).parents[2] / "data" / "ocpi" / "locations"
STATION = f"urn:ngsi-ld:EVChargingStation:{PEER_OPERATOR}:"
EVSE = f"urn:ngsi-ld:EVSE:{PEER_OPERATOR}:"


def test_an_unpublished_location_is_written_as_an_area_not_a_place(peer: ImpolitePeer, make_peer_agent: AgentFactory,
                                                                    ngsi: NgsiLdClient) -> None:
    private = json.loads((OFFICIAL / "location_example_uc3_destination_charger_not_published.json").read_text())
    private["publish_allowed_to"] = [{"uid": "DE8ACC12E46L89", "visual_number": "DF000-2001-8999-1",
                                      "issuer": "TheNewMotion", "type": "RFID"}]
    peer.data["locations"] = [private, location("PUB")]
    assert make_peer_agent(modules=["locations"]).run_once()
    station = ngsi.get_entity(STATION + "3E7B39C2-10D0-4138-A8B3-8509A25F9920", options="keyValues")
    charger = ngsi.get_entity(EVSE + "FD855359-BC81-47BB-BB89-849AE3DAC89E", options="keyValues")
    text = orjson.dumps([station, charger]).decode()
    for secret in ("ihomer", "Tamboerijn", "4876", "51.562787", "4.638975", "DE8ACC12E46L89", "DF000-2001"):
        assert secret not in text
    assert station["publish"] is False
    assert station["publishAllowedTo"] == [{"type": "RFID", "issuer": "TheNewMotion"}]
    assert station["address"] == {"addressLocality": "Etten-Leur", "addressCountry": "NLD"}
    assert station["location"] == charger["location"] == {"type": "Point", "coordinates": [4.64, 51.56]}
    assert station["capacity"] == 1 and charger["status"] == "AVAILABLE"
    assert schema_errors(station) == []
    public = ngsi.get_entity(STATION + "PUB", options="keyValues")  # a published one keeps everything
    assert public["publish"] is True and public["name"] == "Station PUB"
    assert public["address"]["streetAddress"] == "Stationsplein 1"


def test_exceptional_openings_and_closings_are_kept(peer: ImpolitePeer, make_peer_agent: AgentFactory,
                                                    ngsi: NgsiLdClient) -> None:
    closing = {"period_begin": "2018-12-25T03:00:00Z", "period_end": "2018-12-25T05:00:00Z"}
    opening = {"period_begin": "2018-12-25T05:00:00Z", "period_end": "2018-12-25T07:00:00Z"}
    peer.data["locations"] = [
        location("X", opening_times={"twentyfourseven": True, "exceptional_closings": [closing]}),
        location("Y", opening_times={"twentyfourseven": False, "exceptional_openings": [opening], "regular_hours": [
            {"weekday": 1, "period_begin": "00:00", "period_end": "04:00"}]})]
    assert make_peer_agent(modules=["locations"]).run_once()
    x = ngsi.get_entity(STATION + "X", options="keyValues")
    y = ngsi.get_entity(STATION + "Y", options="keyValues")
    assert x["openingHours"] == "Mo-Su 00:00-24:00"
    assert x["exceptionalClosings"] == [{"periodBegin": "2018-12-25T03:00:00Z", "periodEnd": "2018-12-25T05:00:00Z"}]
    assert y["openingHours"] == "Mo 00:00-04:00" and "exceptionalClosings" not in y
    assert y["exceptionalOpenings"] == [{"periodBegin": "2018-12-25T05:00:00Z", "periodEnd": "2018-12-25T07:00:00Z"}]
    assert schema_errors(x) == [] and schema_errors(y) == []


def test_a_cdr_without_its_evse_is_attributed_to_the_station_and_says_so(
        peer: ImpolitePeer, make_peer_agent: AgentFactory, ngsi: NgsiLdClient) -> None:
    peer.data["locations"] = [location("L1")]
    peer.data["cdrs"] = [cdr_221("C1", "L1", None), cdr_221("C2", "L1", "L1-1")]
    agent = make_peer_agent(modules=["locations", "cdrs"])
    assert agent.run_once()
    cdrs = {e["id"]: e for e in ngsi.query_entities(type="ChargeDetailRecord", options="keyValues")}
    first, second = cdrs[f"urn:ngsi-ld:ChargeDetailRecord:{PEER_OPERATOR}:C1"], \
        cdrs[f"urn:ngsi-ld:ChargeDetailRecord:{PEER_OPERATOR}:C2"]
    assert first["refEVChargingStation"] == second["refEVChargingStation"] == STATION + "L1"
    assert "refEVSE" not in first and second["refEVSE"] == EVSE + "L1-1"
    outcome = agent.status()["operators"][0]["modules"]["cdrs"]
    assert (outcome["delivered"], outcome["quarantined"]) == (2, 0)
    assert outcome["notes"] == {"no EVSE uid: attributed to its station only (refEVChargingStation, no refEVSE)": 1}


def test_a_station_whose_evses_are_all_removed_is_out_of_service_and_stays_valid(
        peer: ImpolitePeer, make_peer_agent: AgentFactory, ngsi: NgsiLdClient) -> None:
    peer.data["locations"] = [location("S"), location("T", evse("T-1"), evse("T-2"))]
    assert make_peer_agent(modules=["locations"]).run_once()
    peer.data["locations"] = [location("S", evse("S-1", status="REMOVED")),
                              location("T", evse("T-1"), evse("T-2", status="REMOVED")),
                              location("U", evse("U-1", status="REMOVED"))]  # never seen, already expired
    again = make_peer_agent(modules=["locations"])
    assert again.run_once()
    stations = {e["id"]: e for e in ngsi.query_entities(type="EVChargingStation", options="keyValues")}
    assert set(stations) == {STATION + "S", STATION + "T"}  # U is not written
    s, t = stations[STATION + "S"], stations[STATION + "T"]
    assert (s["status"], s["availableCapacity"], s["capacity"], s["socketNumber"]) == ("outOfService", 0, 1, 1)
    assert (t["status"], t["availableCapacity"], t["capacity"], t["socketNumber"]) == ("empty", 1, 1, 1)
    assert schema_errors(s) == [] and schema_errors(t) == []
    statuses = {e["id"]: e["status"] for e in ngsi.query_entities(type="EVSE", options="keyValues")}
    assert statuses == {EVSE + "S-1": "REMOVED", EVSE + "T-1": "AVAILABLE", EVSE + "T-2": "REMOVED"}
    assert again.status()["operators"][0]["modules"]["locations"]["notes"] == {
        "expired (no EVSE but REMOVED ones): written as outOfService, capacity kept": 1,
        "expired (no EVSE but REMOVED ones) and never written: not written": 1}
