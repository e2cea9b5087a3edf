"""Purge (DELETE /entities, GS CIM 009 v1.9 §5.6.21) and the request rules every endpoint shares
(unknown parameters, 415, 406 before the resource is looked up). Real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, Receiver, problem_type, wait_until


def _bins(api: Api) -> None:
    for n, (name, kind) in enumerate([("north", "Bin"), ("south", "Bin"), ("east", "Bench")]):
        api.create({"id": f"urn:ngsi-ld:{kind}:{n}", "type": kind, "name": {"type": "Property", "value": name},
                    "fill": {"type": "Property", "value": n}})


def _ids(api: Api) -> list[str]:
    return sorted(e["id"] for e in api.get("/entities", {"type": "Bin,Bench"}).json())


@pytest.mark.parametrize(("params", "left"), [
    ({"type": "Bin"}, ["urn:ngsi-ld:Bench:2"]),
    ({"id": "urn:ngsi-ld:Bin:0", "type": "Bin"}, ["urn:ngsi-ld:Bench:2", "urn:ngsi-ld:Bin:1"]),
    ({"q": 'name=="south"'}, ["urn:ngsi-ld:Bench:2", "urn:ngsi-ld:Bin:0"]),
    ({"idPattern": "Bench"}, ["urn:ngsi-ld:Bin:0", "urn:ngsi-ld:Bin:1"]),
    ({"local": "true"}, []),
    ({"type": "Nothing"}, ["urn:ngsi-ld:Bench:2", "urn:ngsi-ld:Bin:0", "urn:ngsi-ld:Bin:1"]),
])
def test_purge_deletes_what_the_query_selects(api: Api, params: dict[str, str], left: list[str]) -> None:
    _bins(api)
    response = api.delete("/entities", params)
    assert response.status_code == 204 and response.content == b""
    assert _ids(api) == left


@pytest.mark.parametrize(("params", "kept"), [
    ({"type": "Bin", "drop": "name"}, {"fill"}),
    ({"type": "Bin", "keep": "name"}, {"name"}),
    ({"type": "Bin", "drop": "nothing"}, {"name", "fill"}),
])
def test_purge_keep_and_drop_touch_only_attributes(api: Api, params: dict[str, str], kept: set[str]) -> None:
    _bins(api)
    assert api.delete("/entities", params).status_code == 204
    for entity in api.get("/entities", {"type": "Bin"}).json():
        assert set(entity) - {"id", "type"} == kept
    assert set(api.get("/entities/urn:ngsi-ld:Bench:2").json()) == {"id", "type", "name", "fill"}


@pytest.mark.parametrize("params", [{}, {"type": "Bin", "keep": "name", "drop": "fill"}, {"local": "maybe"}])
def test_purge_refusals(api: Api, params: dict[str, str]) -> None:
    _bins(api)
    response = api.delete("/entities", params)
    assert response.status_code == 400 and problem_type(response) == "BadRequestData"
    assert len(_ids(api)) == 3


def test_purge_notifies_subscribers(api: Api, receiver: Receiver) -> None:
    _bins(api)
    response = api.post("/subscriptions", {"type": "Subscription", "entities": [{"type": "Bin"}],
                                           "notification": {"endpoint": {"uri": receiver.url}},
                                           "notificationTrigger": ["entityDeleted"]})
    assert response.status_code == 201, response.text
    assert api.delete("/entities", {"type": "Bin"}).status_code == 204
    wait_until(lambda: {e["id"] for e in receiver.entities()} >= {"urn:ngsi-ld:Bin:0", "urn:ngsi-ld:Bin:1"})


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/entities?type=Bin&invalidParam=1", None),
    ("GET", "/types?limt=5", None),
    ("GET", "/subscriptions?invalidParam=1", None),
    ("POST", "/entities?invalidParam=1", {"id": "urn:ngsi-ld:Bin:9", "type": "Bin"}),
    ("DELETE", "/entities?invalidParam=1&type=Bin", None),
])
def test_unknown_query_parameters_are_invalid_requests(api: Api, method: str, path: str, body: Any) -> None:
    response = api.send(method, path, body) if body is not None else api.http.request(
        method, api.base + path, headers=api.headers(), timeout=15)
    assert response.status_code == 400 and problem_type(response) == "InvalidRequest"
    assert "invalidParam" in response.json()["detail"] or "limt" in response.json()["detail"]


@pytest.mark.parametrize("accept", ["application/xml", "application/geo+json"])
def test_not_acceptable_comes_before_not_found(api: Api, accept: str) -> None:
    response = api.get("/subscriptions/urn:ngsi-ld:Subscription:none", headers={"Accept": accept})
    assert response.status_code == 406


def test_geojson_stays_acceptable_for_entities(api: Api) -> None:
    _bins(api)
    response = api.get("/entities/urn:ngsi-ld:Bin:0", headers={"Accept": "application/geo+json"})
    assert response.status_code == 200


def test_unsupported_media_type_comes_before_not_found(api: Api) -> None:
    response = api.patch("/subscriptions/urn:ngsi-ld:Subscription:none", {"q": "fill>1"},
                         headers={"Content-Type": "application/xml"})
    assert response.status_code == 415


def test_merge_patch_is_a_patch_body_type(api: Api) -> None:
    _bins(api)
    response = api.patch("/entities/urn:ngsi-ld:Bin:0/attrs/fill", {"value": 9},
                         headers={"Content-Type": "application/merge-patch+json"})
    assert response.status_code == 204, response.text
    assert api.get("/entities/urn:ngsi-ld:Bin:0").json()["fill"]["value"] == 9
    refused = api.post("/entities", {"id": "urn:ngsi-ld:Bin:8", "type": "Bin"},
                       headers={"Content-Type": "application/merge-patch+json"})
    assert refused.status_code == 415
