"""What alerts and KPIs refer to exists: the operators' and the council's Organization entities."""

from __future__ import annotations

from citiesincharge.client import NgsiLdClient
from tests.integration.ocpi.conftest import AgentFactory


def test_one_organization_per_operator_and_the_council(make_agent: AgentFactory, ngsi: NgsiLdClient) -> None:
    agent = make_agent(settings={"council_id": "perth", "council_name": "Perth & Kinross Council"})
    assert agent.run_once()
    found = {o["id"]: o for o in ngsi.query_entities(type="Organization", options="keyValues")}
    assert found["urn:ngsi-ld:Organization:cpoB"]["name"] == "cpoB Charging Ltd"
    assert found["urn:ngsi-ld:Organization:cpoB"]["partyId"] == "CPB"
    assert found["urn:ngsi-ld:Organization:perth"]["name"] == "Perth & Kinross Council"
    assert len(found) == 4  # cpoA, cpoB, cpoC and the council; a second run writes the same four
    assert agent.run_once() and len(list(ngsi.query_entities(type="Organization"))) == 4
