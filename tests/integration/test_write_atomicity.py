"""A write the broker cannot store is refused whole, over HTTP: nothing of it is kept or half-kept."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, problem_type

ENTITY = "urn:ngsi-ld:T:1"


def _nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(("method", "attr"), [("PATCH", "speed"), ("POST", "deep")])
def test_attrs_write_with_value_too_deep_is_refused_and_entity_stays_readable(api: Api, method: str,
                                                                               attr: str) -> None:
    api.create({"id": ENTITY, "type": "T", "speed": {"type": "Property", "value": 1}})
    refused = api.send(method, f"/entities/{ENTITY}/attrs", {attr: {"type": "Property", "value": _nested(300)}})
    assert refused.status_code == 400, refused.text
    assert problem_type(refused) == "BadRequestData"
    got = api.get(f"/entities/{ENTITY}")
    assert got.status_code == 200
    assert got.json()["speed"] == {"type": "Property", "value": 1}
    assert set(got.json()) == {"id", "type", "speed"}
    assert api.get("/entities", params={"type": "T"}).status_code == 200
    assert api.get(f"/temporal/entities/{ENTITY}").status_code == 200


def test_post_with_value_too_deep_is_refused_the_same_way_each_time(api: Api) -> None:
    body = {"id": ENTITY, "type": "T", "deep": {"type": "Property", "value": _nested(300)}}
    first, retry = api.post("/entities", body), api.post("/entities", body)
    assert (first.status_code, retry.status_code) == (400, 400), (first.text, retry.text)
    assert api.get(f"/entities/{ENTITY}").status_code == 404


def test_batch_keeps_the_storable_entities_and_reports_the_other(api: Api) -> None:
    good = {"id": "urn:ngsi-ld:T:good", "type": "T", "a": {"type": "Property", "value": 1}}
    bad = {"id": "urn:ngsi-ld:T:bad", "type": "T", "a": {"type": "Property", "value": _nested(300)}}
    response = api.post("/entityOperations/upsert", [good, bad])
    assert response.status_code == 207, response.text
    errors = response.json()["errors"]
    assert [e["entityId"] for e in errors] == ["urn:ngsi-ld:T:bad"]
    assert api.get("/entities/urn:ngsi-ld:T:good").status_code == 200
    assert api.get("/entities/urn:ngsi-ld:T:bad").status_code == 404
