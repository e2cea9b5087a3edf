"""What alerts and KPIs refer to exists: the operators' and the council's Organization entities."""

from __future__ import annotations

from citiesincharge.client import NgsiLdClient
from tests.integration.ocpi.conftest import AgentFactory, Simulator


def test_one_organization_per_operator_and_the_council(make_agent: AgentFactory, ngsi: NgsiLdClient) -> None:
    agent = make_agent(settings={"council_id": "perth", "council_name": "Perth & Kinross Council"})
    assert agent.run_once()
    found = {o["id"]: o for o in ngsi.query_entities(type="Organization", options="keyValues")}
    assert found["urn:ngsi-ld:Organization:cpoB"]["name"] == "cpoB Charging Ltd"
    assert found["urn:ngsi-ld:Organization:cpoB"]["partyId"] == "CPB"
    assert found["urn:ngsi-ld:Organization:perth"]["name"] == "Perth & Kinross Council"
    assert len(found) == 4  # cpoA, cpoB, cpoC and the council; a second run writes the same four
    assert agent.run_once() and len(list(ngsi.query_entities(type="Organization"))) == 4


def _terms(ngsi: NgsiLdClient, entity_type: str, operator: str) -> set[tuple[str, str]]:
    return {(e["license"], e["dataAccess"]) for e in ngsi.query_entities(
        type=entity_type, q=f'dataProvider=="{operator}"', attrs=["license", "dataAccess"], options="keyValues")}


def test_every_entity_carries_its_operators_licence_and_sharing_level(make_agent: AgentFactory, ngsi: NgsiLdClient,
                                                                      simulator: Simulator) -> None:
    """Issue 15 §1, with the shipped operators file's terms: locations open for all three, cpoA's CDRs its
    own, cpoC's sessions its own and its tariffs the council's; an operator without terms: council only."""
    agent = make_agent(cpoB={"licence": {"id": "LicenseRef-unspecified"}, "sharing": {}})
    simulator.admin("advance", minutes=12 * 60)  # 03:00 to 15:00: sessions, CDRs
    assert agent.run_once()
    cpo_a = ngsi.get_entity("urn:ngsi-ld:Organization:cpoA", options="keyValues")
    assert cpo_a["license"] == "CC-BY-4.0" and cpo_a["dataSharing"]["cdrs"] == "operator"
    assert cpo_a["licenceDetails"]["attribution"] == "Contains data from cpoA Charging Ltd"
    assert _terms(ngsi, "EVChargingStation", "cpoA") == _terms(ngsi, "EVSE", "cpoA") == {("CC-BY-4.0", "public")}
    assert _terms(ngsi, "ChargeDetailRecord", "cpoA") == {("CC-BY-4.0", "operator")}
    assert _terms(ngsi, "ChargingSession", "cpoA") == {("CC-BY-4.0", "council")}
    agreement = "LicenseRef-cpoC-council-agreement"
    assert _terms(ngsi, "ChargingSession", "cpoC") == {(agreement, "operator")}
    assert _terms(ngsi, "ChargingTariff", "cpoC") == {(agreement, "council")}
    assert _terms(ngsi, "EVSE", "cpoB") == {("LicenseRef-unspecified", "council")}
    public = list(ngsi.query_entities(type="EVSE", q='dataAccess=="public"', attrs=["dataProvider"],
                                      options="keyValues"))
    assert public and {e["dataProvider"] for e in public} == {"cpoA", "cpoC"}
