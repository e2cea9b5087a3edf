"""Temporal API: history of observed updates, time filters, lastN, temporalValues, aggregation."""

from __future__ import annotations

import pytest

from tests.support import Api, problem_type

EVSE = "urn:ngsi-ld:EVSE:t:1"
SERIES = [("AVAILABLE", 0.0, "2026-03-01T08:00:00Z"), ("CHARGING", 7.0, "2026-03-01T08:20:00Z"),
          ("CHARGING", 22.0, "2026-03-01T08:40:00Z"), ("AVAILABLE", 0.0, "2026-03-01T09:10:00Z"),
          ("OUTOFORDER", 0.0, "2026-03-01T10:05:00Z")]


@pytest.fixture
def history(api: Api) -> Api:
    for status, power, at in SERIES:
        response = api.post("/entityOperations/upsert", [{
            "id": EVSE, "type": "EVSE",
            "status": {"type": "Property", "value": status, "observedAt": at},
            "power": {"type": "Property", "value": power, "observedAt": at, "unitCode": "KWT"}}],
            params={"options": "update"})
        assert response.status_code in (201, 204)
    return api


def test_full_history_in_observed_order(history: Api) -> None:
    got = history.get(f"/temporal/entities/{EVSE}", {"attrs": "power"}).json()
    assert [i["value"] for i in got["power"]] == [0.0, 7.0, 22.0, 0.0, 0.0]
    assert [i["observedAt"] for i in got["power"]][:2] == ["2026-03-01T08:00:00Z", "2026-03-01T08:20:00Z"]
    assert "status" not in got


def test_repeated_value_with_same_time_is_not_a_new_instance(history: Api) -> None:
    status, _power, at = SERIES[-1]
    history.post("/entityOperations/upsert", [{"id": EVSE, "type": "EVSE",
                                               "status": {"type": "Property", "value": status, "observedAt": at}}],
                 params={"options": "update"})
    got = history.get(f"/temporal/entities/{EVSE}", {"attrs": "status"}).json()
    assert len(got["status"]) == 5


@pytest.mark.parametrize(("params", "expected"), [
    ({"timerel": "before", "timeAt": "2026-03-01T08:40:00Z"}, ["AVAILABLE", "CHARGING"]),
    ({"timerel": "after", "timeAt": "2026-03-01T08:40:00Z"}, ["AVAILABLE", "OUTOFORDER"]),
    ({"timerel": "between", "timeAt": "2026-03-01T08:20:00Z", "endTimeAt": "2026-03-01T09:10:00Z"},
     ["CHARGING", "CHARGING"]),
    ({"lastN": "2"}, ["AVAILABLE", "OUTOFORDER"]),
])
def test_time_filters(history: Api, params: dict[str, str], expected: list[str]) -> None:
    got = history.get(f"/temporal/entities/{EVSE}", {"attrs": "status", **params}).json()
    assert [i["value"] for i in got["status"]] == expected


def test_temporal_values(history: Api) -> None:
    got = history.get(f"/temporal/entities/{EVSE}", {"attrs": "status", "options": "temporalValues",
                                                     "timerel": "before", "timeAt": "2026-03-01T08:30:00Z"}).json()
    assert got["status"] == {"type": "Property", "values": [["AVAILABLE", "2026-03-01T08:00:00Z"],
                                                            ["CHARGING", "2026-03-01T08:20:00Z"]]}


def test_hourly_aggregation(history: Api) -> None:
    got = history.get(f"/temporal/entities/{EVSE}", {
        "attrs": "power", "aggrMethods": "totalCount,sum,avg,min,max", "aggrPeriodDuration": "PT1H",
        "timerel": "between", "timeAt": "2026-03-01T08:00:00Z", "endTimeAt": "2026-03-01T11:00:00Z"}).json()
    power = got["power"]
    assert power["totalCount"] == [[3, "2026-03-01T08:00:00Z", "2026-03-01T09:00:00Z"],
                                   [1, "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z"],
                                   [1, "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"]]
    assert [b[0] for b in power["sum"]] == [29.0, 0.0, 0.0]
    assert power["avg"][0][0] == pytest.approx(29.0 / 3)
    assert power["max"][0][0] == 22.0 and power["min"][0][0] == 0.0


@pytest.mark.parametrize(("period", "expected"), [
    ("PT1H", [(3, "2026-03-01T08:00:00Z"), (1, "2026-03-01T09:00:00Z"), (1, "2026-03-01T10:00:00Z")]),
    ("P1D", [(5, "2026-03-01T00:00:00Z")]),
    ("P1M", [(5, "2026-03-01T00:00:00Z")]),
    ("P7M", [(5, "2026-01-01T00:00:00Z")]),  # 1970-01 + 96 periods of 7 months
    ("P1Y", [(5, "2026-01-01T00:00:00Z")]),
])
def test_aggregation_from_an_old_origin_finds_the_periods_holding_data(history: Api, period: str,
                                                                       expected: list[tuple[int, str]]) -> None:
    """Periods counted from 1970 land exactly on the data, found without walking the empty ones."""
    got = history.get(f"/temporal/entities/{EVSE}", {
        "attrs": "power", "aggrMethods": "totalCount", "aggrPeriodDuration": period,
        "timerel": "after", "timeAt": "1970-01-01T00:00:00Z"}).json()
    assert [(count, low) for count, low, _high in got["power"]["totalCount"]] == expected


def test_temporal_query_by_type(history: Api) -> None:
    history.post("/entityOperations/upsert", [{"id": "urn:ngsi-ld:EVSE:t:2", "type": "EVSE",
                                               "status": {"type": "Property", "value": "AVAILABLE",
                                                          "observedAt": "2026-03-01T09:00:00Z"}}])
    got = history.get("/temporal/entities", {"type": "EVSE", "attrs": "status", "timerel": "after",
                                             "timeAt": "2026-03-01T08:50:00Z", "count": "true"})
    assert got.headers["NGSILD-Results-Count"] == "2"
    by_id = {e["id"]: [i["value"] for i in e["status"]] for e in got.json()}
    assert by_id == {EVSE: ["AVAILABLE", "OUTOFORDER"], "urn:ngsi-ld:EVSE:t:2": ["AVAILABLE"]}


def test_history_survives_entity_deletion(history: Api) -> None:
    assert history.delete(f"/entities/{EVSE}").status_code == 204
    got = history.get(f"/temporal/entities/{EVSE}", {"attrs": "status", "lastN": "1"}).json()
    assert got["status"][0]["value"] == "OUTOFORDER"


@pytest.mark.parametrize(("params", "needle"), [
    ({"timerel": "during", "timeAt": "2026-03-01T08:00:00Z"}, "timerel"),
    ({"timerel": "before"}, "timeAt"),
    ({"timerel": "before", "timeAt": "yesterday"}, "ISO 8601"),
    ({"timerel": "between", "timeAt": "2026-03-01T08:00:00Z"}, "endTimeAt"),
    ({"lastN": "zero"}, "lastN"),
    ({"aggrMethods": "median"}, "median"),
    ({"aggrMethods": "sum", "aggrPeriodDuration": "1 hour"}, "ISO 8601"),
    ({"aggrMethods": "sum", "aggrPeriodDuration": "P99999999Y"}, "P100Y"),
])
def test_invalid_temporal_parameters(history: Api, params: dict[str, str], needle: str) -> None:
    response = history.get(f"/temporal/entities/{EVSE}", params)
    # an options value outside the parameter's vocabulary is a malformed request (§6.3.7)
    expected = "InvalidRequest" if "options" in params else "BadRequestData"
    assert response.status_code == 400 and problem_type(response) == expected
    assert needle in response.json()["detail"]


def test_an_unknown_option_is_an_invalid_request(history: Api) -> None:
    """§6.3.20 (since v1.8.1): a bad value of ``options`` is an InvalidRequest, not BadRequestData."""
    response = history.get(f"/temporal/entities/{EVSE}", {"options": "fancy"})
    assert response.status_code == 400 and problem_type(response) == "InvalidRequest"
    assert "fancy" in response.json()["detail"]
