"""Entity endpoints (ETSI GS CIM 009 §5.6-5.7) over real HTTP."""

from __future__ import annotations

from tests.support import Api, problem_type

EVSE = "urn:ngsi-ld:EVSE:cpoA:E1"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"  # the core context's @vocab


def evse(entity_id: str = EVSE, status: str = "AVAILABLE", **extra: object) -> dict[str, object]:
    return {
        "id": entity_id, "type": "EVSE",
        "status": {"type": "Property", "value": status, "observedAt": "2026-03-01T10:00:00Z"},
        "maxPower": {"type": "Property", "value": 22.0, "unitCode": "KWT"},
        "refEVChargingStation": {"type": "Relationship", "object": "urn:ngsi-ld:EVChargingStation:cpoA:L1"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-1.51, 52.41]}},
        **extra,
    }


def test_create_returns_201_with_location_and_get_returns_it(api: Api) -> None:
    response = api.post("/entities", evse())
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/ngsi-ld/v1/entities/{EVSE}")
    got = api.get(f"/entities/{EVSE}").json()
    assert got["type"] == "EVSE"
    assert got["status"] == {"type": "Property", "value": "AVAILABLE", "observedAt": "2026-03-01T10:00:00.000Z"}
    assert got["maxPower"]["unitCode"] == "KWT"
    assert got["refEVChargingStation"]["object"] == "urn:ngsi-ld:EVChargingStation:cpoA:L1"
    assert got["location"]["value"]["coordinates"] == [-1.51, 52.41]


def test_create_twice_is_409_already_exists(api: Api) -> None:
    api.create(evse())
    response = api.post("/entities", evse())
    assert response.status_code == 409
    assert problem_type(response) == "AlreadyExists"


def test_missing_entity_is_404(api: Api) -> None:
    api.create(evse())
    response = api.get("/entities/urn:ngsi-ld:EVSE:nope")
    assert response.status_code == 404
    assert problem_type(response) == "ResourceNotFound"


def test_sys_attrs_and_formats(api: Api) -> None:
    api.create(evse())
    full = api.get(f"/entities/{EVSE}", {"options": "sysAttrs"}).json()
    assert full["createdAt"].endswith("Z") and full["modifiedAt"] >= full["createdAt"]
    assert "createdAt" in full["status"]
    kv = api.get(f"/entities/{EVSE}", {"options": "keyValues"}).json()
    assert kv["status"] == "AVAILABLE" and kv["maxPower"] == 22.0
    assert kv["refEVChargingStation"] == "urn:ngsi-ld:EVChargingStation:cpoA:L1"
    concise = api.get(f"/entities/{EVSE}", {"format": "concise"}).json()
    assert concise["maxPower"] == {"value": 22.0, "unitCode": "KWT"}
    assert concise["refEVChargingStation"] == {"object": "urn:ngsi-ld:EVChargingStation:cpoA:L1"}
    plain = api.get(f"/entities/{EVSE}", {"attrs": "maxPower", "options": "concise"}).json()
    assert set(plain) == {"id", "type", "maxPower"}


def test_pick_and_omit(api: Api) -> None:
    api.create(evse())
    picked = api.get(f"/entities/{EVSE}", {"pick": "id,status"}).json()
    assert set(picked) == {"id", "status"}
    omitted = api.get(f"/entities/{EVSE}", {"omit": "location,maxPower"}).json()
    assert "location" not in omitted and "maxPower" not in omitted and "status" in omitted


def test_concise_input_is_understood(api: Api) -> None:
    api.create({"id": "urn:ngsi-ld:EVSE:c", "type": "EVSE", "status": "AVAILABLE",
                "maxPower": {"value": 50, "unitCode": "KWT"},
                "refEVChargingStation": {"object": "urn:ngsi-ld:EVChargingStation:x"},
                "location": {"type": "Point", "coordinates": [1, 2]}})
    got = api.get("/entities/urn:ngsi-ld:EVSE:c").json()
    assert got["status"] == {"type": "Property", "value": "AVAILABLE"}
    assert got["maxPower"]["type"] == "Property"
    assert got["refEVChargingStation"]["type"] == "Relationship"
    assert got["location"]["type"] == "GeoProperty"


def test_replace_put_drops_attributes_not_sent(api: Api) -> None:
    api.create(evse())
    response = api.put(f"/entities/{EVSE}", {"type": "EVSE", "status": {"type": "Property", "value": "BLOCKED"}})
    assert response.status_code == 204
    got = api.get(f"/entities/{EVSE}").json()
    assert got["status"]["value"] == "BLOCKED" and "maxPower" not in got


def test_merge_patch_keeps_sub_attributes_and_null_deletes(api: Api) -> None:
    api.create(evse())
    response = api.patch(f"/entities/{EVSE}", {"status": {"value": "CHARGING"},
                                                "maxPower": "urn:ngsi-ld:null",
                                                "floorLevel": {"type": "Property", "value": 1}})
    assert response.status_code == 204, response.text
    got = api.get(f"/entities/{EVSE}").json()
    assert got["status"]["value"] == "CHARGING"
    assert got["status"]["observedAt"] == "2026-03-01T10:00:00.000Z"  # kept by merge
    assert "maxPower" not in got and got["floorLevel"]["value"] == 1


def test_append_attrs_and_no_overwrite(api: Api) -> None:
    api.create(evse())
    assert api.post(f"/entities/{EVSE}/attrs", {"floorLevel": {"type": "Property", "value": 2}}).status_code == 204
    response = api.post(f"/entities/{EVSE}/attrs", {"floorLevel": {"type": "Property", "value": 9},
                                                    "parkingRestrictions": {"type": "Property", "value": ["EV_ONLY"]}},
                        params={"options": "noOverwrite"})
    assert response.status_code == 207
    assert response.json()["notUpdated"][0]["attributeName"] == DEFAULT + "floorLevel"  # fully qualified (§5.2.18)
    got = api.get(f"/entities/{EVSE}", {"options": "keyValues"}).json()
    assert got["floorLevel"] == 2 and got["parkingRestrictions"] == ["EV_ONLY"]


def test_update_attrs_only_touches_existing(api: Api) -> None:
    api.create(evse())
    response = api.patch(f"/entities/{EVSE}/attrs", {"status": {"type": "Property", "value": "OUTOFORDER"},
                                                     "unknownAttr": {"type": "Property", "value": 1}})
    assert response.status_code == 207
    body = response.json()
    assert body["updated"] == ["https://uri.etsi.org/ngsi-ld/status"]  # fully qualified (§5.2.18)
    assert body["notUpdated"][0]["attributeName"] == DEFAULT + "unknownAttr"
    got = api.get(f"/entities/{EVSE}", {"options": "keyValues"}).json()
    assert got["status"] == "OUTOFORDER" and "unknownAttr" not in got


def test_partial_attribute_update_and_404_for_missing_attribute(api: Api) -> None:
    api.create(evse())
    response = api.patch(f"/entities/{EVSE}/attrs/status", {"value": "INOPERATIVE",
                                                            "observedAt": "2026-03-01T12:00:00Z"})
    assert response.status_code == 204, response.text
    got = api.get(f"/entities/{EVSE}").json()["status"]
    assert got == {"type": "Property", "value": "INOPERATIVE", "observedAt": "2026-03-01T12:00:00.000Z"}
    missing = api.patch(f"/entities/{EVSE}/attrs/nothing", {"value": 1})
    assert missing.status_code == 404 and problem_type(missing) == "ResourceNotFound"


def test_dataset_ids_are_separate_instances(api: Api) -> None:
    api.create({"id": "urn:ngsi-ld:EVSE:m", "type": "EVSE", "power": [
        {"type": "Property", "value": 7.4},
        {"type": "Property", "value": 11.0, "datasetId": "urn:ngsi-ld:Dataset:meter"}]})
    got = api.get("/entities/urn:ngsi-ld:EVSE:m").json()["power"]
    assert sorted(i["value"] for i in got) == [7.4, 11.0]
    response = api.delete("/entities/urn:ngsi-ld:EVSE:m/attrs/power", {"datasetId": "urn:ngsi-ld:Dataset:meter"})
    assert response.status_code == 204
    assert api.get("/entities/urn:ngsi-ld:EVSE:m").json()["power"] == {"type": "Property", "value": 7.4}


def test_delete_attribute_and_entity(api: Api) -> None:
    api.create(evse())
    assert api.delete(f"/entities/{EVSE}/attrs/maxPower").status_code == 204
    assert "maxPower" not in api.get(f"/entities/{EVSE}").json()
    assert api.delete(f"/entities/{EVSE}/attrs/maxPower").status_code == 404
    assert api.delete(f"/entities/{EVSE}").status_code == 204
    assert api.get(f"/entities/{EVSE}").status_code == 404
    assert api.delete(f"/entities/{EVSE}").status_code == 404


def test_sub_properties_and_relationships_of_properties(api: Api) -> None:
    api.create(evse(availableCapacity={"type": "Property", "value": 3,
                                       "reliability": {"type": "Property", "value": 0.9},
                                       "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Device:s1"}}))
    got = api.get(f"/entities/{EVSE}").json()["availableCapacity"]
    assert got["reliability"] == {"type": "Property", "value": 0.9}
    assert got["providedBy"] == {"type": "Relationship", "object": "urn:ngsi-ld:Device:s1"}


def test_multi_typed_entity(api: Api) -> None:
    api.create({"id": "urn:ngsi-ld:X:1", "type": ["EVSE", "Device"], "name": "x"})
    got = api.get("/entities/urn:ngsi-ld:X:1").json()
    assert sorted(got["type"]) == ["Device", "EVSE"]
    assert [e["id"] for e in api.get("/entities", {"type": "Device"}).json()] == ["urn:ngsi-ld:X:1"]
