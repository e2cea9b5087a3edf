"""Attribute writes as ETSI GS CIM 009 §5.6 says: NGSI-LD Null deletes, partial updates, scope and
types in fragments, single-attribute JSON-LD bodies, ids missing from the path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, Receiver, problem_type

B = "urn:ngsi-ld:Building:w1"
NULL = "urn:ngsi-ld:null"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
LD = {"Content-Type": "application/ld+json"}


def building(**extra: Any) -> dict[str, Any]:
    return {"id": B, "type": "Building",
            "name": [{"type": "Property", "value": "Eiffel Tower"},
                     {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}],
            "locatedAt": {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.29, 48.85]}},
            "street": {"type": "LanguageProperty", "languageMap": {"fr": "Champ de Mars", "en": "Mars Field"}},
            **extra}


def stored(api: Api) -> dict[str, Any]:
    response = api.get(f"/entities/{B}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("name", "null"), [
    ("locatedAt", {"type": "Relationship", "object": NULL}),
    ("location", {"type": "GeoProperty", "value": NULL}),
    ("street", {"type": "LanguageProperty", "languageMap": {"@none": NULL}}),
    ("location", NULL),  # concise
])
@pytest.mark.parametrize("how", ["update", "merge", "partial"])
def test_ngsi_ld_null_deletes_every_attribute_type(api: Api, how: str, name: str, null: Any) -> None:
    api.create(building())
    if how == "update":
        response = api.patch(f"/entities/{B}/attrs", {name: null})
    elif how == "merge":
        response = api.patch(f"/entities/{B}", {name: null})
    else:
        if not isinstance(null, dict):
            pytest.skip("a partial update body is an attribute object")
        response = api.patch(f"/entities/{B}/attrs/{name}", null)
    assert response.status_code == 204, response.text
    assert name not in stored(api)


def test_ngsi_ld_null_deletes_one_dataset_instance(api: Api) -> None:
    api.create(building())
    response = api.patch(f"/entities/{B}/attrs", {"name": {"type": "Property", "value": NULL,
                                                           "datasetId": "urn:ngsi-ld:Dataset:fr"}})
    assert response.status_code == 204
    assert stored(api)["name"] == {"type": "Property", "value": "Eiffel Tower"}


def test_ngsi_ld_null_for_a_missing_attribute_is_not_updated(api: Api) -> None:
    api.create(building())
    response = api.patch(f"/entities/{B}/attrs", {"height": {"type": "Property", "value": NULL}})
    assert response.status_code == 207
    assert response.json()["notUpdated"][0]["attributeName"].endswith("/height")


def test_null_deletion_fires_attribute_deleted(api: Api, receiver: Receiver) -> None:
    api.create(building())
    created = api.post("/subscriptions", {"type": "Subscription", "entities": [{"type": "Building"}],
                                          "notificationTrigger": ["attributeDeleted"],
                                          "notification": {"endpoint": {"uri": receiver.url}}})
    assert created.status_code == 201, created.text
    assert api.patch(f"/entities/{B}/attrs", {"locatedAt": {"type": "Relationship", "object": NULL}}).status_code == 204
    deleted = {"type": "Relationship", "object": NULL}  # shown as NGSI-LD Null in the notification
    receiver.wait_for(lambda got: any(e["id"] == B and e.get("locatedAt") == deleted for n in got for e in n["data"]))


def test_new_or_replacing_entity_drops_null_attributes(api: Api) -> None:
    api.create({"id": B, "type": "Building", "height": NULL, "floors": 3})
    assert set(stored(api)) == {"id", "type", "floors"}
    assert api.put(f"/entities/{B}", {"type": "Building", "floors": NULL, "roof": "flat"}).status_code == 204
    assert set(stored(api)) == {"id", "type", "roof"}


def test_single_attribute_json_ld_body_carries_its_context(api: Api) -> None:
    api.create(building())
    body = {"type": "Property", "value": "Iron Lady", "@context": CORE}
    response = api.patch(f"/entities/{B}/attrs/name", body, headers=LD)
    assert response.status_code == 204, response.text
    assert stored(api)["name"][0]["value"] == "Iron Lady"
    assert api.put(f"/entities/{B}/attrs/name", body, headers=LD).status_code == 204
    assert api.patch(f"/entities/{B}/attrs/name", {"value": 1}, headers=LD).status_code == 400  # no @context


def test_partial_update_targets_an_existing_instance_and_keeps_the_type(api: Api) -> None:
    api.create(building())
    unknown = api.patch(f"/entities/{B}/attrs/name", {"value": "x", "datasetId": "urn:ngsi-ld:Dataset:de"})
    assert unknown.status_code == 404 and problem_type(unknown) == "ResourceNotFound"
    retyped = api.patch(f"/entities/{B}/attrs/locatedAt", {"type": "Property", "value": "Paris"})
    assert retyped.status_code == 400 and problem_type(retyped) == "BadRequestData"
    metadata_only = api.patch(f"/entities/{B}/attrs/locatedAt", {"since": {"type": "Property", "value": 1889}})
    assert metadata_only.status_code == 204, metadata_only.text
    assert stored(api)["locatedAt"] == {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris",
                                        "since": {"type": "Property", "value": 1889}}
    api.create({"id": "urn:ngsi-ld:Building:w2", "type": "Building",
                "name": {"type": "Property", "value": "x", "datasetId": "urn:ngsi-ld:Dataset:fr"}})
    no_default = api.patch("/entities/urn:ngsi-ld:Building:w2/attrs/name", {"value": "y"})
    assert no_default.status_code == 404


@pytest.mark.parametrize("name", ["@invalid", "scope"])
def test_replace_attribute_refuses_names_that_are_no_attribute(api: Api, name: str) -> None:
    api.create(building())
    response = api.put(f"/entities/{B}/attrs/{name}", {"type": "Property", "value": 1})
    assert response.status_code == 400 and problem_type(response) == "BadRequestData"


def test_scope_in_attribute_writes(api: Api) -> None:
    api.create({"id": B, "type": "Building", "scope": "/Madrid/Gardens"})
    assert api.post(f"/entities/{B}/attrs", {"scope": "/Company/Unit"},
                    params={"options": "noOverwrite"}).status_code == 204
    assert stored(api)["scope"] == ["/Madrid/Gardens", "/Company/Unit"]  # noOverwrite adds
    assert api.post(f"/entities/{B}/attrs", {"scope": "/Other"}).status_code == 204
    assert stored(api)["scope"] == "/Other"  # append overwrites
    assert api.delete(f"/entities/{B}/attrs/scope").status_code == 204
    assert "scope" not in stored(api)
    not_updated = api.patch(f"/entities/{B}/attrs", {"scope": "/New"})
    assert not_updated.status_code == 207  # an update cannot give a scope to an entity without one
    assert "scope" not in stored(api)
    assert api.post(f"/entities/{B}/attrs", {"scope": "no-slash"}).status_code == 400
    assert api.put(f"/entities/{B}", {"type": "Building", "scope": ["/A", "/B"]}).status_code == 204
    assert stored(api)["scope"] == ["/A", "/B"]  # replace sets it


def test_update_appends_types(api: Api) -> None:
    api.create({"id": B, "type": "Building"})
    assert api.patch(f"/entities/{B}/attrs", {"type": ["Vehicle", "Building"]}).status_code == 204
    assert stored(api)["type"] == ["Building", "Vehicle"]


def test_type_that_is_a_json_ld_keyword_is_refused(api: Api) -> None:
    response = api.post("/entities", {"id": B, "type": "type"})
    assert response.status_code == 400 and problem_type(response) == "BadRequestData"


def test_creation_body_must_be_one_object(api: Api) -> None:
    response = api.post("/entities", [], headers=LD)
    assert response.status_code == 400 and problem_type(response) == "InvalidRequest"


def test_missing_id_in_the_path_is_bad_request_data(api: Api) -> None:
    for method, path in (("PATCH", "/entities/"), ("PUT", "/entities/"), ("POST", "/entities//attrs")):
        response = api.send(method, path, {"type": "Building"})
        assert response.status_code == 400 and problem_type(response) == "BadRequestData", (method, path)
    assert api.post("/entities/", {"id": B, "type": "Building"}).status_code == 201  # the collection
