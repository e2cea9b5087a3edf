"""The fuzzing findings of issue 8 §3, one reproducer each: every error is a ProblemDetails naming
the fault, and every entity that can be stored can be read, patched and deleted by its id."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.support import Api, problem_type


def segment(entity_id: str) -> str:
    """An id as one URL path segment: what every HTTP client library does with a path parameter."""
    return quote(entity_id, safe="")


def test_unknown_routes_and_wrong_methods_are_problem_details(api: Api) -> None:
    response = api.get("/no-such-resource")
    assert response.status_code == 404 and problem_type(response) == "ResourceNotFound"
    assert "/ngsi-ld/v1/no-such-resource" in response.json()["detail"]
    response = api.http.delete(f"{api.base}/types", headers=api.headers())
    assert response.status_code == 405 and problem_type(response) == "InvalidRequest"
    assert response.headers["Allow"] == "GET" and "DELETE" in response.json()["detail"]
    response = api.http.get(api.root + "/nothing/here", timeout=10)
    assert response.status_code == 404 and problem_type(response) == "ResourceNotFound"


@pytest.mark.parametrize(("params", "needle"), [
    ({"georel": "within", "geometry": "Polygon", "coordinates": "[]"}, "empty Polygon"),
    ({"georel": "near;maxDistance==10", "geometry": "Point", "coordinates": "[]"}, "empty Point"),
    ({"georel": "within", "geometry": "Polygon", "coordinates": "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]"},
     "Self-intersection"),
    ({"georel": "intersects", "geometry": "Point", "coordinates": "[NaN, 1]"}, "invalid Point"),
])
def test_geo_queries_on_degenerate_geometries_are_400(api: Api, params: dict[str, str], needle: str) -> None:
    api.create({"id": "urn:ngsi-ld:T:geo", "type": "T",
                "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [0.5, 0.5]}}})
    response = api.get("/entities", {"type": "T", **params})
    assert response.status_code == 400 and problem_type(response) == "BadRequestData"
    assert needle in response.json()["detail"]


@pytest.mark.parametrize("declared", [[], {}, 7, None, True])
def test_an_attribute_type_that_is_not_a_string_is_400(api: Api, declared: Any) -> None:
    response = api.post("/entities", {"id": "urn:ngsi-ld:T:typed", "type": "T", "a": {"type": declared, "value": 1}})
    assert response.status_code == 400 and problem_type(response) == "BadRequestData", response.text
    assert "'a'" in response.json()["detail"]
    assert api.get("/entities/urn:ngsi-ld:T:typed").status_code == 404  # nothing half-stored


def test_geojson_of_a_picked_entity_keeps_its_id(api: Api) -> None:
    api.create({"id": "urn:ngsi-ld:T:pick", "type": "T", "p": 1,
                "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}}})
    geo = {"Accept": "application/geo+json"}
    feature = api.get("/entities/urn:ngsi-ld:T:pick", {"pick": "p"}, headers=geo)
    assert feature.status_code == 200, feature.text
    assert feature.json()["id"] == "urn:ngsi-ld:T:pick" and feature.json()["geometry"] is None
    collection = api.get("/entities", {"type": "T", "pick": "p"}, headers=geo).json()
    assert [f["id"] for f in collection["features"]] == ["urn:ngsi-ld:T:pick"]


@pytest.mark.parametrize(("body", "needle"), [
    ({"type": "Query", "entities": [{"id": ["urn:ngsi-ld:T:1"], "type": "T"}]}, "entities.0.id"),
    ({"type": "Query", "q": 42}, "q"),
    ({"type": "Query", "entities": "T"}, "entities"),
    ({"type": "Query", "entities": [{"type": "T"}], "attrs": "p"}, "attrs"),
    ({"type": "Query", "geoQ": "near"}, "geoQ"),
    ({"type": "Query", "entities": [{"type": {"a": 1}}]}, "entities.0.type"),
    ({"type": "Subscription"}, "type"),
    (["Query"], "Query object"),
])
def test_malformed_query_bodies_are_400_naming_the_member(api: Api, body: Any, needle: str) -> None:
    response = api.post("/entityOperations/query", body)
    assert response.status_code == 400 and problem_type(response) == "BadRequestData", response.text
    assert needle in response.json()["detail"]


@pytest.mark.parametrize("entity_id", ["http://a/b", "urn:ngsi-ld:T:50%2Foff", "urn:ngsi-ld:T:a%b",
                                       "urn:ngsi-ld:T:🚗", "urn:ngsi-ld:T:x?y#z", "urn:ngsi-ld:T:é;p=1"])
def test_an_entity_is_reachable_by_whatever_id_it_was_stored_under(api: Api, entity_id: str) -> None:
    created = api.post("/entities", {"id": entity_id, "type": "T", "p": 1})
    assert created.status_code == 201, created.text
    location = created.headers["Location"]  # percent-encoded, so Latin-1-safe and one segment
    assert location == "/ngsi-ld/v1/entities/" + quote(entity_id, safe=":;=")
    by_location = api.http.get(api.root + location, headers=api.headers(), timeout=10)
    assert by_location.status_code == 200 and by_location.json()["id"] == entity_id
    path = "/entities/" + segment(entity_id)
    assert api.patch(path + "/attrs", {"p": 2}).status_code == 204
    assert api.get(path, {"options": "keyValues"}).json()["p"] == 2
    assert api.patch(path + "/attrs/p", {"value": 3}).status_code == 204
    assert api.get(path, {"options": "keyValues"}).json()["p"] == 3
    assert api.delete(path + "/attrs/p").status_code == 204
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_a_slash_in_an_id_never_splits_the_path(api: Api) -> None:
    api.create({"id": "http://a/b", "type": "T", "p": 1})
    api.create({"id": "http://a", "type": "T", "p": 1})
    # the decoded form is not the id: /entities/http://a/b is /entities/{http:} + more segments
    assert api.get("/entities/http://a/b").status_code == 404
    assert api.delete("/entities/" + segment("http://a") + "/attrs/b").status_code == 404  # attr b, not entity a/b
    assert api.get("/entities/" + segment("http://a")).status_code == 200


def test_discovery_accepts_url_encoded_iris(api: Api) -> None:
    api.create({"id": "urn:ngsi-ld:T:iri", "type": "https://example.org/types/Charger",
                "https://example.org/attrs/power": 22})
    types = api.get("/types/" + segment("https://example.org/types/Charger"))
    assert types.status_code == 200 and types.json()["entityCount"] == 1
    attribute = api.get("/attributes/" + segment("https://example.org/attrs/power"))
    assert attribute.status_code == 200 and attribute.json()["attributeCount"] == 1


@pytest.mark.parametrize(("entity_id", "needle"), [
    ("urn:ngsi-ld:Vehicle:A\u202eB", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("urn:ngsi-ld:T:A\u0000B", "U+0000"),
    ("urn:ngsi-ld:T:A\u0085B", "U+0085"),
    ("urn:ngsi-ld:T:A\u2066B", "U+2066"),
])
def test_ids_no_iri_may_contain_are_refused_before_anything_is_stored(api: Api, entity_id: str,
                                                                      needle: str) -> None:
    body = json.dumps({"id": entity_id, "type": "T"})  # json.dumps escapes: the wire carries \\u202e
    response = api.post("/entities", body)
    assert response.status_code == 400 and problem_type(response) == "BadRequestData"
    assert needle in response.json()["detail"]
    batch = api.post("/entityOperations/upsert", [{"id": entity_id, "type": "T"},
                                                  {"id": "urn:ngsi-ld:T:ok", "type": "T"}])
    assert batch.status_code == 207 and needle in batch.json()["errors"][0]["error"]["detail"]
    assert [e["id"] for e in api.get("/entities", {"type": "T"}).json()] == ["urn:ngsi-ld:T:ok"]


def test_a_body_over_the_limit_is_bad_request_data(api: Api, embedded: str) -> None:
    response = requests.post(f"{api.base}/entities", data=b"[" + b"1," * (5 << 20) + b"1]",
                             headers=api.headers(body=True), timeout=30)
    assert response.status_code == 413 and problem_type(response) == "BadRequestData"
