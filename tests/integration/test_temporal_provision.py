"""Temporal provision (ETSI GS CIM 009 §5.6.11-5.6.17) over real HTTP: create and extend temporal
entities, delete them, their attributes and single instances, patch an instance by its instanceId;
then the temporal queries over what was written, and the bad input each route must refuse."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, problem_type

CAR = "urn:ngsi-ld:Vehicle:tp:1"
FUEL = "urn:ngsi-ld:Vehicle:tp:fuel"


def _speed(value: int, minute: int, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, "observedAt": f"2020-09-01T12:{minute:02d}:00Z", **extra}


def _car(entity_id: str = CAR, **attrs: Any) -> dict[str, Any]:
    return {"id": entity_id, "type": "Vehicle", **(attrs or {
        "speed": [_speed(120, 3), _speed(80, 5)],
        "fuelLevel": [_speed(67, 3), _speed(40, 7, datasetId=FUEL)]})}


@pytest.fixture
def car(api: Api) -> Api:
    response = api.post("/temporal/entities", _car())
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/ngsi-ld/v1/temporal/entities/{CAR}"
    return api


def _values(api: Api, attr: str, entity_id: str = CAR) -> list[Any]:
    got = api.get(f"/temporal/entities/{entity_id}")
    assert got.status_code == 200, got.text
    return sorted(i["value"] for i in got.json().get(attr, []))


def _instance_ids(api: Api, attr: str) -> dict[int, str]:
    return {i["value"]: i["instanceId"] for i in api.get(f"/temporal/entities/{CAR}").json()[attr]}


def test_created_temporal_entity_reads_back_as_sent_with_instance_ids(car: Api) -> None:
    got = car.get(f"/temporal/entities/{CAR}").json()
    assert got["type"] == "Vehicle"
    assert [(i["value"], i["observedAt"]) for i in got["speed"]] == [(120, "2020-09-01T12:03:00Z"),
                                                                      (80, "2020-09-01T12:05:00Z")]
    ids = [i["instanceId"] for i in got["speed"] + got["fuelLevel"]]
    assert len(set(ids)) == 4 and all(i.startswith("urn:") for i in ids)
    assert car.get(f"/entities/{CAR}").status_code == 404  # a temporal entity is not a current one


def test_posting_again_appends_and_replaces_the_instance_of_the_same_time(car: Api) -> None:
    before = _instance_ids(car, "speed")
    response = car.post("/temporal/entities", _car(speed=[_speed(121, 3), _speed(80, 5), _speed(100, 7)]))
    assert response.status_code == 204, response.text
    assert _values(car, "speed") == [80, 100, 121]
    assert _instance_ids(car, "speed")[121] == before[120]  # the same instance, updated in place
    assert car.post("/temporal/entities", _car(speed=[_speed(100, 7)])).status_code == 204
    assert _values(car, "speed") == [80, 100, 121]  # idempotent: nothing doubled


def test_append_attributes(car: Api) -> None:
    response = car.post(f"/temporal/entities/{CAR}/attrs", {"power": [_speed(7, 3), _speed(11, 9)]})
    assert response.status_code == 204, response.text
    assert _values(car, "power") == [7, 11]
    missing = car.post("/temporal/entities/urn:ngsi-ld:Vehicle:none/attrs", {"power": [_speed(7, 3)]})
    assert missing.status_code == 404 and problem_type(missing) == "ResourceNotFound"


@pytest.mark.parametrize(("params", "left"), [
    ({}, [40]),  # the default instances go, the datasetId's stay
    ({"datasetId": FUEL}, [67]),
    ({"deleteAll": "true"}, []),
])
def test_delete_attribute_instances(car: Api, params: dict[str, str], left: list[int]) -> None:
    assert car.delete(f"/temporal/entities/{CAR}/attrs/fuelLevel", params).status_code == 204
    assert _values(car, "fuelLevel") == left
    assert _values(car, "speed") == [80, 120]


def test_deleting_what_is_not_there_is_not_found(car: Api) -> None:
    for path, params in [(f"/temporal/entities/{CAR}/attrs/noSuchAttr", {}),
                         (f"/temporal/entities/{CAR}/attrs/speed", {"datasetId": "urn:ngsi-ld:none"}),
                         ("/temporal/entities/urn:ngsi-ld:Vehicle:none/attrs/speed", {}),
                         ("/temporal/entities/urn:ngsi-ld:Vehicle:none", {})]:
        response = car.delete(path, params)
        assert response.status_code == 404 and problem_type(response) == "ResourceNotFound", path


def test_patch_one_instance_keeps_its_instance_id(car: Api) -> None:
    ids = _instance_ids(car, "speed")
    response = car.patch(f"/temporal/entities/{CAR}/attrs/speed/{ids[120]}", _speed(129, 3))
    assert response.status_code == 204, response.text
    assert _instance_ids(car, "speed") == {129: ids[120], 80: ids[80]}


def test_delete_one_instance(car: Api) -> None:
    ids = _instance_ids(car, "speed")
    assert car.delete(f"/temporal/entities/{CAR}/attrs/speed/{ids[80]}").status_code == 204
    assert _values(car, "speed") == [120]
    again = car.delete(f"/temporal/entities/{CAR}/attrs/speed/{ids[80]}")
    assert again.status_code == 404 and problem_type(again) == "ResourceNotFound"


def test_an_instance_id_of_another_attribute_names_nothing(car: Api) -> None:
    fuel = next(iter(_instance_ids(car, "fuelLevel").values()))
    for response in (car.patch(f"/temporal/entities/{CAR}/attrs/speed/{fuel}", _speed(1, 3)),
                     car.delete(f"/temporal/entities/{CAR}/attrs/speed/{fuel}"),
                     car.delete(f"/temporal/entities/{CAR}/attrs/speed/urn:ngsi-ld:instance:999999999")):
        assert response.status_code == 404 and problem_type(response) == "ResourceNotFound"
    assert len(_values(car, "fuelLevel")) == 2


def test_delete_temporal_entity(car: Api) -> None:
    assert car.delete(f"/temporal/entities/{CAR}").status_code == 204
    gone = car.get(f"/temporal/entities/{CAR}")
    assert gone.status_code == 404 and problem_type(gone) == "ResourceNotFound"
    assert car.post("/temporal/entities", _car()).status_code == 201  # a new one, not an append


@pytest.mark.parametrize(("method", "path", "body", "expected"), [
    ("POST", "/temporal/entities", '{"id": "urn:x",, "type": "V"}', "InvalidRequest"),
    ("POST", "/temporal/entities", {}, "InvalidRequest"),
    ("POST", "/temporal/entities", [_car()], "InvalidRequest"),
    ("POST", "/temporal/entities", {"type": "Vehicle"}, "BadRequestData"),
    ("POST", "/temporal/entities", _car("not a uri"), "BadRequestData"),
    ("POST", "/temporal/entities", {"id": CAR, "speed": [_speed(1, 1)]}, "BadRequestData"),
    ("POST", "/temporal/entities", {**_car(), "bad(name": [_speed(1, 1)]}, "BadRequestData"),
    ("POST", "/temporal/entities", _car(speed=[{"type": "Property", "observedAt": "2020-01-01T00:00:00Z"}]),
     "BadRequestData"),
    ("POST", "/temporal/entities", _car(speed=[_speed(1, 1) | {"observedAt": "yesterday"}]), "BadRequestData"),
    ("POST", f"/temporal/entities/{CAR}/attrs", "", "InvalidRequest"),
    ("POST", "/temporal/entities/invalidId/attrs", {"speed": [_speed(1, 1)]}, "BadRequestData"),
    ("POST", "/temporal/entities//attrs", {"speed": [_speed(1, 1)]}, "BadRequestData"),
    ("DELETE", f"/temporal/entities/{CAR}/attrs/invalid(Name", None, "BadRequestData"),
    ("DELETE", "/temporal/entities/invalidId", None, "BadRequestData"),
    ("DELETE", f"/temporal/entities/{CAR}/attrs/speed/notAUri", None, "BadRequestData"),
    ("PATCH", f"/temporal/entities/{CAR}/attrs/speed/notAUri", _speed(1, 1), "BadRequestData"),
    ("PATCH", f"/temporal/entities/{CAR}/attrs/speed/urn:ngsi-ld:instance:1", [1, 2], "InvalidRequest"),
])
def test_bad_input_is_refused_with_its_error_type(car: Api, method: str, path: str, body: Any,
                                                  expected: str) -> None:
    response = car.delete(path) if method == "DELETE" else car.send(method, path, body)
    assert response.status_code == 400, response.text
    assert problem_type(response) == expected
    assert _values(car, "speed") == [80, 120]  # nothing changed


def test_temporal_query_over_provisioned_entities(car: Api) -> None:
    car.post("/temporal/entities", _car("urn:ngsi-ld:Vehicle:tp:2", speed=[_speed(30, 4)]))
    car.post("/temporal/entities", {"id": "urn:ngsi-ld:Bus:tp:3", "type": "Bus", "speed": [_speed(95, 4)]})
    got = car.get("/temporal/entities", {"type": "Vehicle", "timerel": "after", "timeAt": "2020-09-01T12:00:00Z",
                                         "count": "true"})
    assert got.headers["NGSILD-Results-Count"] == "2"
    assert {e["id"] for e in got.json()} == {CAR, "urn:ngsi-ld:Vehicle:tp:2"}
    fast = car.get("/temporal/entities", {"type": "Vehicle,Bus", "q": "speed>90"}).json()
    assert {e["id"] for e in fast} == {CAR, "urn:ngsi-ld:Bus:tp:3"}  # any instance may satisfy q
    assert len(next(e for e in fast if e["id"] == CAR)["speed"]) == 2  # and every instance is returned
    early = car.get("/temporal/entities", {"type": "Vehicle", "timerel": "before", "timeAt": "2020-09-01T12:04:00Z",
                                           "attrs": "speed"}).json()
    assert [(e["id"], [i["value"] for i in e["speed"]]) for e in early] == [(CAR, [120])]
    posted = car.post("/temporal/entityOperations/query", {
        "type": "Query", "entities": [{"type": "Bus"}],
        "temporalQ": {"timerel": "after", "timeAt": "2020-09-01T12:00:00Z"}})
    assert posted.status_code == 200, posted.text
    assert [e["id"] for e in posted.json()] == ["urn:ngsi-ld:Bus:tp:3"]


def test_pick_and_omit(car: Api) -> None:
    picked = car.get(f"/temporal/entities/{CAR}", {"pick": "id,speed"}).json()
    assert set(picked) == {"id", "speed"}
    omitted = car.get(f"/temporal/entities/{CAR}", {"omit": "speed"}).json()
    assert set(omitted) == {"id", "type", "fuelLevel"}
    both = car.get(f"/temporal/entities/{CAR}", {"pick": "speed", "attrs": "speed"})
    assert both.status_code == 400 and problem_type(both) == "BadRequestData"


def test_history_of_current_entities_has_instance_ids_and_keeps_its_type(api: Api) -> None:
    api.create({"id": "urn:ngsi-ld:EVSE:tp:1", "type": "EVSE",
                "status": {"type": "Property", "value": "AVAILABLE", "observedAt": "2026-03-01T08:00:00Z"}})
    assert api.delete("/entities/urn:ngsi-ld:EVSE:tp:1").status_code == 204
    got = api.get("/temporal/entities/urn:ngsi-ld:EVSE:tp:1").json()
    assert got["type"] == "EVSE" and got["status"][0]["instanceId"].startswith("urn:")
