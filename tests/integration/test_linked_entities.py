"""Linked entities (join=inline|flat, joinLevel, §4.5.23) and pick/omit projections (§4.21)."""

from __future__ import annotations

import pytest

from tests.support import Api, problem_type

STATION = "urn:ngsi-ld:EVChargingStation:l:1"
EVSE = "urn:ngsi-ld:EVSE:l:1"
SPOT = "urn:ngsi-ld:ParkingSpot:l:1"


@pytest.fixture
def linked(api: Api) -> Api:
    api.create({"id": SPOT, "type": "ParkingSpot", "status": "free"})
    api.create({"id": STATION, "type": "EVChargingStation", "name": "Depot",
                "refParkingSpot": {"type": "Relationship", "object": SPOT}})
    api.create({"id": EVSE, "type": "EVSE", "status": "AVAILABLE",
                "refEVChargingStation": {"type": "Relationship", "object": STATION},
                "refMissing": {"type": "Relationship", "object": "urn:ngsi-ld:Nothing:here"}})
    return api


def test_inline_embeds_the_linked_entity_under_its_relationship(linked: Api) -> None:
    got = linked.get(f"/entities/{EVSE}", {"join": "inline"}).json()
    assert got["refEVChargingStation"]["entity"]["id"] == STATION
    assert got["refEVChargingStation"]["entity"]["name"] == {"type": "Property", "value": "Depot"}
    assert "entity" not in got["refEVChargingStation"]["entity"]["refParkingSpot"]  # joinLevel 1
    assert "entity" not in got["refMissing"]  # a target that does not exist is not invented
    deep = linked.get(f"/entities/{EVSE}", {"join": "inline", "joinLevel": "2"}).json()
    assert deep["refEVChargingStation"]["entity"]["refParkingSpot"]["entity"]["id"] == SPOT
    simple = linked.get(f"/entities/{EVSE}", {"join": "inline", "options": "keyValues"}).json()
    assert simple["refEVChargingStation"] == {"id": STATION, "type": "EVChargingStation", "name": "Depot",
                                              "refParkingSpot": SPOT}


def test_flat_lists_linked_entities_after_the_result(linked: Api) -> None:
    got = linked.get(f"/entities/{EVSE}", {"join": "flat", "joinLevel": "2"}).json()
    assert [e["id"] for e in got] == [EVSE, STATION, SPOT]
    assert "entity" not in got[0]["refEVChargingStation"]
    queried = linked.get("/entities", {"type": "EVSE,EVChargingStation", "join": "flat"}).json()
    assert sorted(e["id"] for e in queried) == sorted([EVSE, STATION, SPOT])  # each entity once
    alone = linked.get(f"/entities/{SPOT}", {"join": "flat"}).json()
    assert alone["id"] == SPOT  # nothing linked: the entity itself, not a list


def test_pick_and_omit_reach_into_linked_entities(linked: Api) -> None:
    picked = linked.get(f"/entities/{EVSE}", {"join": "inline", "pick": "id,refEVChargingStation{id,name}"}).json()
    assert picked == {"id": EVSE, "refEVChargingStation": {
        "type": "Relationship", "object": STATION, "entity": {"id": STATION, "name": {"type": "Property",
                                                                                   "value": "Depot"}}}}
    omitted = linked.get(f"/entities/{EVSE}", {"join": "inline", "omit": "type,refEVChargingStation{name}"}).json()
    assert "type" not in omitted and "refEVChargingStation" in omitted  # rel{...} omits inside the linked one
    assert set(omitted["refEVChargingStation"]["entity"]) == {"id", "type", "refParkingSpot"}


def test_pick_drops_entities_with_nothing_to_show(linked: Api) -> None:
    got = linked.get("/entities", {"type": "EVSE,EVChargingStation,ParkingSpot", "pick": "name"}).json()
    assert got == [{"name": {"type": "Property", "value": "Depot"}}]
    missing = linked.get(f"/entities/{EVSE}", {"pick": "unknown"})
    assert missing.status_code == 404 and problem_type(missing) == "ResourceNotFound"


@pytest.mark.parametrize("params", [
    {"pick": "name", "omit": "name"}, {"pick": "name", "attrs": "status"}, {"omit": "name", "attrs": "status"},
    {"pick": "id;name"}, {"pick": "id,refX{name"}, {"pick": "id,refX{{name}"}, {"pick": "id,,name"},
    {"pick": "id,refX{,name}"}, {"pick": "id,refX{}"}, {"join": "sideways"}, {"join": "flat", "joinLevel": "0"},
])
def test_bad_projections_and_joins_are_400(linked: Api, params: dict[str, str]) -> None:
    response = linked.get(f"/entities/{EVSE}", params)
    assert response.status_code == 400 and problem_type(response) == "BadRequestData", params


@pytest.mark.parametrize("params", [{"format": "fancy"}, {"options": "keyValues,nonsense"}])
def test_values_outside_a_parameter_vocabulary_are_invalid_requests(linked: Api, params: dict[str, str]) -> None:
    response = linked.get(f"/entities/{EVSE}", params)
    assert response.status_code == 400 and problem_type(response) == "InvalidRequest"
