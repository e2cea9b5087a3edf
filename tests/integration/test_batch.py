"""/entityOperations: create, upsert (replace/update), update (noOverwrite), delete, query."""

from __future__ import annotations

from tests.support import Api


def entity(n: int, **attrs: object) -> dict[str, object]:
    return {"id": f"urn:ngsi-ld:EVSE:b:{n}", "type": "EVSE", **attrs}


def test_batch_create_201_then_207_for_duplicates_and_bad_entities(api: Api) -> None:
    response = api.post("/entityOperations/create", [entity(1, status="AVAILABLE"), entity(2, status="CHARGING")])
    assert response.status_code == 201
    assert sorted(response.json()) == ["urn:ngsi-ld:EVSE:b:1", "urn:ngsi-ld:EVSE:b:2"]
    response = api.post("/entityOperations/create", [entity(2), entity(3), {"id": "not a uri", "type": "EVSE"},
                                                      {"id": "urn:ngsi-ld:EVSE:b:4"}])
    assert response.status_code == 207
    body = response.json()
    assert body["success"] == ["urn:ngsi-ld:EVSE:b:3"]
    errors = {e["entityId"]: e["error"] for e in body["errors"]}
    assert errors["urn:ngsi-ld:EVSE:b:2"]["type"].endswith("AlreadyExists")
    assert errors["not a uri"]["type"].endswith("BadRequestData") and "URI" in errors["not a uri"]["detail"]
    assert "type" in errors["urn:ngsi-ld:EVSE:b:4"]["detail"]
    assert api.get("/entities/urn:ngsi-ld:EVSE:b:3").status_code == 200


def test_upsert_creates_201_then_updates_204(api: Api) -> None:
    first = api.post("/entityOperations/upsert", [entity(1, status="AVAILABLE", maxPower=22)])
    assert first.status_code == 201 and first.json() == ["urn:ngsi-ld:EVSE:b:1"]
    again = api.post("/entityOperations/upsert", [entity(1, status="CHARGING")], params={"options": "update"})
    assert again.status_code == 204
    got = api.get("/entities/urn:ngsi-ld:EVSE:b:1", {"options": "keyValues"}).json()
    assert got["status"] == "CHARGING" and got["maxPower"] == 22  # update keeps other attributes
    replaced = api.post("/entityOperations/upsert", [entity(1, status="BLOCKED")], params={"options": "replace"})
    assert replaced.status_code == 204
    got = api.get("/entities/urn:ngsi-ld:EVSE:b:1", {"options": "keyValues"}).json()
    assert got == {"id": "urn:ngsi-ld:EVSE:b:1", "type": "EVSE", "status": "BLOCKED"}


def test_upsert_mixed_with_errors_is_207(api: Api) -> None:
    api.create(entity(1, status="AVAILABLE"))
    response = api.post("/entityOperations/upsert",
                        [entity(1, status="CHARGING"), entity(2, status="AVAILABLE"),
                         entity(3, location={"type": "GeoProperty", "value": {"type": "Point"}})])
    assert response.status_code == 207
    body = response.json()
    assert sorted(body["success"]) == ["urn:ngsi-ld:EVSE:b:1", "urn:ngsi-ld:EVSE:b:2"]
    assert body["errors"][0]["entityId"] == "urn:ngsi-ld:EVSE:b:3"
    assert "location" in body["errors"][0]["error"]["detail"]


def test_upsert_is_idempotent(api: Api) -> None:
    batch = [entity(n, status="AVAILABLE", maxPower={"value": 22, "unitCode": "KWT"}) for n in range(5)]
    api.post("/entityOperations/upsert", batch)
    before = api.get("/entities", {"type": "EVSE", "options": "sysAttrs", "limit": 10}).json()
    assert api.post("/entityOperations/upsert", batch, params={"options": "update"}).status_code == 204
    after = api.get("/entities", {"type": "EVSE", "options": "sysAttrs", "limit": 10}).json()
    assert before == after  # not even modifiedAt moves when nothing changed


def test_update_needs_existing_entities_and_honours_no_overwrite(api: Api) -> None:
    api.create(entity(1, status="AVAILABLE"))
    response = api.post("/entityOperations/update", [entity(1, status="CHARGING", floorLevel=0), entity(9, x=1)])
    assert response.status_code == 207
    assert response.json()["errors"][0]["entityId"] == "urn:ngsi-ld:EVSE:b:9"
    keep = api.post("/entityOperations/update", [entity(1, status="REMOVED", physicalReference="A")],
                    params={"options": "noOverwrite"})
    assert keep.status_code == 207  # as a single append with noOverwrite: what was left alone is reported
    assert [e["entityId"] for e in keep.json()["errors"]] == ["urn:ngsi-ld:EVSE:b:1"]
    assert "status" in keep.json()["errors"][0]["error"]["detail"] and keep.json()["success"] == []
    got = api.get("/entities/urn:ngsi-ld:EVSE:b:1", {"options": "keyValues"}).json()
    assert got["status"] == "CHARGING" and got["physicalReference"] == "A" and got["floorLevel"] == 0


def test_batch_delete(api: Api) -> None:
    api.post("/entityOperations/create", [entity(1), entity(2)])
    assert api.post("/entityOperations/delete", ["urn:ngsi-ld:EVSE:b:1"]).status_code == 204
    response = api.post("/entityOperations/delete", ["urn:ngsi-ld:EVSE:b:2", "urn:ngsi-ld:EVSE:b:1", "x y"])
    assert response.status_code == 207
    body = response.json()
    assert body["success"] == ["urn:ngsi-ld:EVSE:b:2"] and len(body["errors"]) == 2


def test_batch_body_must_be_an_array(api: Api) -> None:
    response = api.post("/entityOperations/upsert", entity(1))
    assert response.status_code == 400 and "array" in response.json()["detail"]


def test_query_by_post(api: Api) -> None:
    api.post("/entityOperations/create", [entity(n, power=n * 10) for n in range(6)])
    response = api.post("/entityOperations/query", {"type": "Query", "entities": [{"type": "EVSE"}],
                                                    "q": "power>=30"}, params={"count": "true"})
    assert response.status_code == 200
    assert sorted(e["id"][-1] for e in response.json()) == ["3", "4", "5"]
    assert response.headers["NGSILD-Results-Count"] == "3"


def test_batch_merge_patches_existing_entities(api: Api) -> None:
    api.create(entity(1, status={"type": "Property", "value": "AVAILABLE", "note": {"type": "Property", "value": 1}},
                      maxPower=22))
    response = api.post("/entityOperations/merge", [
        entity(1, status={"type": "Property", "value": "CHARGING"}, maxPower="urn:ngsi-ld:null"), entity(9, x=1)])
    assert response.status_code == 207
    assert response.json()["success"] == ["urn:ngsi-ld:EVSE:b:1"]
    assert response.json()["errors"][0]["entityId"] == "urn:ngsi-ld:EVSE:b:9"
    assert response.json()["errors"][0]["error"]["type"].endswith("ResourceNotFound")
    got = api.get("/entities/urn:ngsi-ld:EVSE:b:1").json()
    assert got["status"] == {"type": "Property", "value": "CHARGING", "note": {"type": "Property", "value": 1}}
    assert "maxPower" not in got  # NGSI-LD Null deletes
    assert api.post("/entityOperations/merge", [entity(1, status="BLOCKED")]).status_code == 204
    assert api.post("/entityOperations/merge", "{not json").status_code == 400


def test_batch_entities_each_follow_the_content_type_rule(api: Api) -> None:
    ld = {"Content-Type": "application/ld+json"}
    context = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    response = api.post("/entityOperations/create", [dict(entity(1), **{"@context": context}), entity(2)], headers=ld)
    assert response.status_code == 207  # the entity without @context is its own error, not the batch's
    assert response.json()["success"] == ["urn:ngsi-ld:EVSE:b:1"]
    assert response.json()["errors"][0]["entityId"] == "urn:ngsi-ld:EVSE:b:2"
    plain = api.post("/entityOperations/create", [dict(entity(3), **{"@context": context}), entity(4)])
    assert plain.status_code == 207 and plain.json()["success"] == ["urn:ngsi-ld:EVSE:b:4"]
    assert api.post("/entityOperations/create", []).status_code == 400
    ids = api.post("/entityOperations/delete", ["urn:ngsi-ld:EVSE:b:1", "urn:ngsi-ld:EVSE:b:4"], headers=ld)
    assert ids.status_code == 204  # a list of ids has no @context to carry
    assert api.post("/entityOperations/delete", []).status_code == 400
