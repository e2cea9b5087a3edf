"""Issue 11 §6: the spec's tariffs through the real agent path — a real HTTP OCPI peer, the OCPI agent,
the mapping, the outbox — into the real embedded broker: valid ChargingTariff entities with their
reference prices, and what lets a view price a station (its EVSEs' connectors name the tariffs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from citiesincharge import ids
from citiesincharge.client import NgsiLdClient
from tests.integration.ocpi.conftest import PEER_OPERATOR, AgentFactory
from tests.integration.ocpi.peer import ImpolitePeer
from tests.integration.ocpi.records import connector, evse, location

ROOT = Path(__file__).parents[3]
DATA = ROOT / "tests" / "data" / "ocpi" / "2.2.1"
SCHEMA = Draft7Validator(json.loads((ROOT / "docs" / "schemas" / "ChargingTariff.schema.json").read_text()))


def example(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return record


def test_tariffs_arrive_priced_and_stations_lead_to_them(peer: ImpolitePeer, make_peer_agent: AgentFactory,
                                                        ngsi: NgsiLdClient) -> None:
    # tariff_4 (FLAT, TIME by current and weekday, PARKING_TIME by time of day) and tariff_9
    # (id 17: start fee + energy at two VAT rates), served by the peer as its tariffs module
    # (id 17: start fee + energy at two VAT rates), served by the peer as its tariffs module; the first
    # under an id with letters, which the Location writes in another case (OCPI ids are CiStrings)
    peer.data["tariffs"] = [example("tariff_4_complex") | {"id": "Complex-14"}, example("tariff_9_025kwh_start")]
    peer.data["locations"] = [location("L1", evse("L1-1", connectors=[connector(tariff_ids=["complex-14"])]),
                                       evse("L1-2", connectors=[connector(tariff_ids=["17"])]))]
    assert make_peer_agent(modules=["locations", "tariffs"]).run_once()

    tariffs = {t["id"]: t for t in ngsi.query_entities(type="ChargingTariff", options="keyValues")}
    complex_id, start_fee_id = (ids.entity_id("ChargingTariff", PEER_OPERATOR, i) for i in ("COMPLEX-14", "17"))
    assert set(tariffs) == {complex_id, start_fee_id}
    for tariff in tariffs.values():
        assert [e.message for e in SCHEMA.iter_errors(tariff)] == []
    prices = {p["session"]: (p["priceExclVat"], p.get("priceInclVat")) for p in tariffs[complex_id]["referencePrices"]}
    assert prices == {
        "ac7-evening": (3.5, 4.075),  # 2.50 (2.875) + 30 A < 32 A: 1 h x 1.00 (1.20)
        "dc50-morning": (3.8333, 4.475),  # 2.50 + 125 A weekday: 2.00/h, 36 -> 40 min = 4/3 (1.60)
        "ac11-2h": (9.5, 10.775),  # 2.50 + 2.00 x 1 h + parked 13-14 at 5.00 (2.875 + 2.40 + 5.50)
        "ac7-overnight": (5.5, 6.475)}  # 2.50 + 3 h x 1.00; parked 01-07: free (2.875 + 3.60)
    assert "vatRate" not in tariffs[start_fee_id] and tariffs[start_fee_id]["pricePerKWh"] == 0.25

    # what the energy view does per station: its EVSEs' connectors name the tariffs, of the same operator
    station = ids.entity_id("EVChargingStation", PEER_OPERATOR, "L1")
    named = {ids.entity_id("ChargingTariff", e["dataProvider"], t)
             for e in ngsi.query_entities(type="EVSE", q=f'refEVChargingStation=="{station}"',
                                          attrs=["connectors", "dataProvider"], options="keyValues")
             for c in e["connectors"] for t in c["tariffIds"]}
    assert named == {complex_id, start_fee_id}


def test_a_tariff_the_model_refuses_is_quarantined_and_the_rest_arrive(
        peer: ImpolitePeer, make_peer_agent: AgentFactory, ngsi: NgsiLdClient) -> None:
    broken = example("tariff_8_simple_025kwh") | {"id": "BAD", "elements": [
        {"price_components": [{"type": "ENERGY", "price": "a quarter", "step_size": 1}]}]}
    peer.data["tariffs"] = [broken, example("tariff_1_simple_2hour")]
    agent = make_peer_agent(modules=["tariffs"])
    assert agent.run_once()
    tariffs = list(ngsi.query_entities(type="ChargingTariff", options="keyValues"))
    assert [t["id"] for t in tariffs] == [ids.entity_id("ChargingTariff", PEER_OPERATOR, "12")]
    assert tariffs[0]["pricePerHour"] == 2 and tariffs[0]["referencePrices"][1]["priceExclVat"] == 1.2
    assert [(r["record"], r["field"]) for r in agent.quarantine.recent()] == [("BAD", "tariffElements")]
