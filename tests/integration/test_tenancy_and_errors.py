"""Tenant isolation and ProblemDetails for every kind of bad input."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support import Api, problem_type


def test_tenants_are_isolated(broker_url: str) -> None:
    a, b = Api(broker_url, "ta" + uuid.uuid4().hex[:8]), Api(broker_url, "tb" + uuid.uuid4().hex[:8])
    a.create({"id": "urn:ngsi-ld:EVSE:iso:1", "type": "EVSE", "status": "AVAILABLE"})
    b.create({"id": "urn:ngsi-ld:EVSE:iso:1", "type": "EVSE", "status": "OUTOFORDER"})  # same id, no clash
    assert a.get("/entities/urn:ngsi-ld:EVSE:iso:1", {"options": "keyValues"}).json()["status"] == "AVAILABLE"
    assert b.get("/entities/urn:ngsi-ld:EVSE:iso:1", {"options": "keyValues"}).json()["status"] == "OUTOFORDER"
    assert a.delete("/entities/urn:ngsi-ld:EVSE:iso:1").status_code == 204
    assert b.get("/entities/urn:ngsi-ld:EVSE:iso:1").status_code == 200
    default = Api(broker_url, None)
    assert default.get("/entities/urn:ngsi-ld:EVSE:iso:1").status_code == 404
    assert len(b.get("/types").json()["typeList"]) == 1


def test_unknown_tenant_is_404(broker_url: str) -> None:
    ghost = Api(broker_url, "ghost" + uuid.uuid4().hex[:8])
    response = ghost.get("/entities", {"type": "EVSE"})
    assert response.status_code == 404 and problem_type(response) == "NonexistentTenant"


def test_invalid_tenant_name(broker_url: str) -> None:
    response = Api(broker_url, "bad tenant!").get("/entities", {"type": "EVSE"})
    assert response.status_code == 400


@pytest.mark.parametrize(("body", "needle"), [
    ({"id": "not a uri", "type": "EVSE"}, "URI"),
    ({"type": "EVSE"}, "URI"),
    ({"id": "urn:x:1"}, "type"),
    ({"id": "urn:x:1", "type": ""}, "type"),
    ({"id": "urn:x:1", "type": "EVSE", "status": {"type": "Property"}}, "value"),
    ({"id": "urn:x:1", "type": "EVSE", "status": None}, "null"),
    ({"id": "urn:x:1", "type": "EVSE", "ref": {"type": "Relationship", "object": "no uri"}}, "URI"),
    ({"id": "urn:x:1", "type": "EVSE", "ref": {"type": "Relationship"}}, "object"),
    ({"id": "urn:x:1", "type": "EVSE", "status": {"type": "Proprety", "value": 1}}, "unknown type"),
    ({"id": "urn:x:1", "type": "EVSE", "location": {"type": "GeoProperty", "value": {"type": "Point",
                                                                                     "coordinates": "x"}}},
     "coordinates"),
    ({"id": "urn:x:1", "type": "EVSE", "location": 5}, "GeoProperty"),
    ({"id": "urn:x:1", "type": "EVSE", "s": {"type": "Property", "value": 1, "observedAt": "noon"}}, "ISO 8601"),
    ({"id": "urn:x:1", "type": "EVSE", "s": {"type": "Property", "value": 1, "datasetId": "x y"}}, "datasetId"),
    ({"id": "urn:x:1", "type": "EVSE", "s": {"type": "Property", "value": 1, "unitCode": 5}}, "unitCode"),
    ({"id": "urn:x:1", "type": "EVSE", "s": {"type": "Property", "value": 1, "object": "urn:x"}}, "object"),
    ([{"id": "urn:x:1"}], "object"),
])
def test_bad_entities_are_400_with_a_specific_detail(api: Api, body: object, needle: str) -> None:
    response = api.post("/entities", body)
    assert response.status_code == 400, response.text
    expected = "InvalidRequest" if isinstance(body, list) else "BadRequestData"  # not one entity: malformed
    assert problem_type(response) == expected and needle in response.json()["detail"]


def test_malformed_json(api: Api) -> None:
    response = api.post("/entities", b'{"id": "urn:x:1", "type": ')
    assert response.status_code == 400 and problem_type(response) == "InvalidRequest"
    assert "not valid JSON" in response.json()["detail"]


def test_empty_body(api: Api) -> None:
    response = api.post("/entities", b"")
    assert response.status_code == 400 and "empty" in response.json()["detail"]


def test_unknown_options(api: Api) -> None:
    api.create({"id": "urn:x:1", "type": "EVSE"})
    response = api.get("/entities/urn:x:1", {"options": "keyValues,bogus"})
    assert response.status_code == 400 and "bogus" in response.json()["detail"]
    both = api.get("/entities/urn:x:1", {"options": "keyValues,concise"})
    assert both.status_code == 400 and "exclusive" in both.json()["detail"]


def test_id_in_url_must_be_a_uri(api: Api) -> None:
    api.create({"id": "urn:x:1", "type": "EVSE"})
    assert api.get("/entities/notauri").status_code == 400


def test_body_over_the_limit_is_413(api: Api, embedded: str) -> None:
    huge = b'{"id": "urn:x:big", "type": "EVSE", "blob": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    response = api.post("/entities", huge)
    assert response.status_code == 413 and problem_type(response) == "BadRequestData"


def test_chunked_body_over_the_limit_is_413(api: Api, embedded: str) -> None:
    def stream() -> object:
        yield b'{"id": "urn:x:big", "type": "EVSE", "blob": "'
        for _ in range(10):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    response = requests.post(api.base + "/entities", data=stream(), timeout=15,
                             headers=api.headers(body=True))
    assert response.status_code == 413
