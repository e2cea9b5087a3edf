"""Paging of attribute instances (ETSI GS CIM 009 v1.x §6.3.10) over real HTTP: past
CIC_TEMPORAL_INSTANCE_LIMIT (19) instances of an attribute the broker answers 206 with the
Content-Range it covered completely, forwards or (lastN) backwards; and the project's client
follows the pages, so the analytics still read every instance of their window."""

from __future__ import annotations

from typing import Any

import pytest

from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.support import Api

LIMIT = 19  # the broker's default CIC_TEMPORAL_INSTANCE_LIMIT
CAR, VAN = "urn:ngsi-ld:Vehicle:pg:car", "urn:ngsi-ld:Vehicle:pg:van"


def _at(minute: int) -> str:
    return f"2020-01-01T{1 + minute // 60:02d}:{minute % 60:02d}:00Z"


def _series(first: int, count: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": first + n, "observedAt": _at(first + n), **extra} for n in range(count)]


def _create(api: Api, entity_id: str, **attrs: Any) -> None:
    response = api.post("/temporal/entities", {"id": entity_id, "type": "Vehicle", **attrs})
    assert response.status_code == 201, response.text


@pytest.fixture
def car(api: Api, embedded: str) -> Api:
    """speed at minutes 1..30, fuelLevel at minutes 3..32: both above the limit, not in step."""
    _create(api, CAR, speed=_series(1, 30), fuelLevel=_series(3, 30))
    return api


def _minutes(instances: list[dict[str, Any]]) -> list[int]:
    return [int(i["observedAt"][14:16]) for i in instances]


def test_forward_page_ends_before_the_first_instance_left_out_of_any_attribute(car: Api) -> None:
    got = car.get(f"/temporal/entities/{CAR}")
    assert got.status_code == 206, got.text
    # speed's 20th instance (minute 20) is the first left out: the range is minutes 1..19 for both
    assert got.headers["Content-Range"] == f"date-time {_at(1)}-{_at(19)}/*"
    assert _minutes(got.json()["speed"]) == list(range(1, 20))
    assert _minutes(got.json()["fuelLevel"]) == list(range(3, 20))


def test_forward_range_starts_at_the_window_start_when_given(car: Api) -> None:
    got = car.get(f"/temporal/entities/{CAR}", {"timerel": "after", "timeAt": "2019-06-01T00:00:00Z",
                                                "options": "temporalValues"})
    assert got.status_code == 206
    assert got.headers["Content-Range"] == f"date-time 2019-06-01T00:00:00Z-{_at(19)}/*"
    assert len(got.json()["speed"]["values"]) == LIMIT


def test_backward_page_with_last_n_above_the_limit(car: Api) -> None:
    got = car.get(f"/temporal/entities/{CAR}", {"lastN": 25, "timerel": "before", "timeAt": "2021-01-01T00:00:00Z"})
    assert got.status_code == 206
    # newest first: fuelLevel's 20th newest (minute 13) is the newest left out
    assert got.headers["Content-Range"] == f"date-time 2021-01-01T00:00:00Z-{_at(14)}/25"
    assert _minutes(got.json()["fuelLevel"]) == list(range(14, 33))
    assert _minutes(got.json()["speed"]) == list(range(14, 31))


def test_last_n_within_the_limit_and_small_histories_are_whole(car: Api) -> None:
    got = car.get(f"/temporal/entities/{CAR}", {"lastN": 5})
    assert got.status_code == 200 and "Content-Range" not in got.headers
    assert _minutes(got.json()["speed"]) == list(range(26, 31))
    _create(car, VAN, speed=_series(1, LIMIT))
    assert car.get(f"/temporal/entities/{VAN}").status_code == 200


def test_aggregations_are_never_paged(car: Api) -> None:
    got = car.get(f"/temporal/entities/{CAR}", {"aggrMethods": "totalCount", "aggrPeriodDuration": "P1D"})
    assert got.status_code == 200
    assert got.json()["speed"]["totalCount"][0][0] == 30


def test_query_cuts_every_entity_at_the_same_instant(car: Api) -> None:
    _create(car, VAN, speed=_series(40, 3))  # all after the cut: on a later page
    got = car.get("/temporal/entities", {"type": "Vehicle"})
    assert got.status_code == 206
    assert got.headers["Content-Range"] == f"date-time {_at(1)}-{_at(19)}/*"
    by_id = {e["id"]: e for e in got.json()}
    assert by_id[VAN]["speed"] == [] and len(by_id[CAR]["speed"]) == LIMIT


def test_more_instances_at_one_instant_than_the_limit_come_whole(api: Api, embedded: str) -> None:
    same = [{"type": "Property", "value": n, "observedAt": _at(1), "datasetId": f"urn:ngsi-ld:Dataset:{n}"}
            for n in range(LIMIT + 3)]
    _create(api, CAR, speed=same)
    got = api.get(f"/temporal/entities/{CAR}")
    assert got.status_code == 200 and len(got.json()["speed"]) == LIMIT + 3


def test_bad_last_n_is_refused_before_paging(car: Api) -> None:
    for bad in ("0", "-3", "many"):
        got = car.get(f"/temporal/entities/{CAR}", {"lastN": bad})
        assert got.status_code == 400, bad


# -- the project's client follows the pages -------------------------------------------------------
def _plain(broker_url: str, tenant: str) -> NgsiLdClient:
    """The client with the core @context (the test's attributes are not project terms)."""
    return NgsiLdClient(Settings(broker_url=broker_url, tenant=tenant),
                        context_url="https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld")


def test_client_reads_every_instance_of_a_paged_entity(car: Api, broker_url: str, tenant: str) -> None:
    client = _plain(broker_url, tenant)
    whole = client.temporal_entity(CAR)
    assert _minutes(whole["speed"]) == list(range(1, 31))
    assert _minutes(whole["fuelLevel"]) == list(range(3, 33))
    window = client.temporal_entity(CAR, timerel="between", time_at=_at(2), end_time_at=_at(29),
                                    options="temporalValues")
    assert [v[0] for v in window["speed"]["values"]] == list(range(2, 29))
    newest = client.temporal_entity(CAR, last_n=25)
    assert _minutes(newest["speed"]) == list(range(6, 31)) and _minutes(newest["fuelLevel"]) == list(range(8, 33))


def test_client_query_reads_every_instance_of_every_entity(car: Api, broker_url: str, tenant: str) -> None:
    _create(car, VAN, speed=_series(40, 3))
    client = _plain(broker_url, tenant)
    found = {e["id"]: e for e in client.temporal_query(type="Vehicle", timerel="after", time_at=_at(0))}
    assert _minutes(found[CAR]["speed"]) == list(range(1, 31))
    assert _minutes(found[CAR]["fuelLevel"]) == list(range(3, 33))
    assert _minutes(found[VAN]["speed"]) == [40, 41, 42]


def test_an_attribute_wholly_after_the_cut_is_empty_on_this_page(api: Api, embedded: str) -> None:
    _create(api, CAR, speed=_series(1, 30), fuelLevel=_series(100, 30))  # fuelLevel starts after speed ends
    got = api.get(f"/temporal/entities/{CAR}", {"options": "temporalValues"})
    assert got.status_code == 206
    assert got.json()["fuelLevel"] == {"type": "Property", "values": []}
    assert len(got.json()["speed"]["values"]) == LIMIT
    newest = api.get(f"/temporal/entities/{CAR}", {"lastN": 100})
    assert newest.status_code == 206 and newest.json()["speed"] == []
    assert len(newest.json()["fuelLevel"]) == LIMIT
