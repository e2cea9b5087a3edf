"""Client regular expressions (idPattern, q ~=, a subscription's idPattern) cannot stall the broker.

Each pattern below backtracks exponentially in Python's ``re``: with 40 characters it never
returns. The broker matches them in linear time, so these requests simply answer.
"""

from __future__ import annotations

import pytest

from tests.integration.test_subscriptions import subscribe, subscription
from tests.support import Api, Receiver, problem_type

EVIL = "(a+)+$"
VICTIM = "urn:ngsi-ld:R:" + "a" * 40 + "!"  # the '!' forces a catastrophic backtracking search in re
MATCHING = "urn:ngsi-ld:R:" + "a" * 40


@pytest.fixture
def victims(api: Api) -> Api:
    for entity_id in (VICTIM, MATCHING):
        api.create({"id": entity_id, "type": "R", "name": {"type": "Property", "value": entity_id[14:]}})
    return api


def test_id_pattern_is_matched_in_linear_time(victims: Api) -> None:
    got = victims.get("/entities", {"idPattern": "urn:ngsi-ld:R:" + EVIL})
    assert got.status_code == 200, got.text
    assert [e["id"] for e in got.json()] == [MATCHING]


def test_q_regex_is_matched_in_linear_time(victims: Api) -> None:
    got = victims.get("/entities", {"type": "R", "q": f'name~="{EVIL}"'})
    assert [e["id"] for e in got.json()] == [MATCHING]
    negated = victims.get("/entities", {"type": "R", "q": f'name!~="{EVIL}"'})
    assert [e["id"] for e in negated.json()] == [VICTIM]


def test_subscription_id_pattern_does_not_slow_writes(api: Api, receiver: Receiver) -> None:
    subscribe(api, subscription(receiver, entities=[{"type": "R", "idPattern": "urn:ngsi-ld:R:" + EVIL}]))
    for entity_id in (VICTIM, MATCHING):
        api.create({"id": entity_id, "type": "R", "name": {"type": "Property", "value": "x"}})
    receiver.wait_for(lambda got: any(e["id"] == MATCHING for n in got for e in n["data"]))
    assert all(e["id"] != VICTIM for n in receiver.received for e in n["data"])


@pytest.mark.parametrize(("params", "needle"), [
    ({"idPattern": r"(a)\1"}, "back-references"),
    ({"idPattern": "(?=a)b"}, "not a valid regular expression"),
    ({"idPattern": "a" * 2000}, "longer than 1024"),
    ({"type": "R", "q": r'name~="(a)\1"'}, "back-references"),
])
def test_patterns_outside_linear_time_regex_are_400(api: Api, params: dict[str, str], needle: str) -> None:
    response = api.get("/entities", params)
    assert response.status_code == 400
    assert problem_type(response) == "BadRequestData"
    assert needle in response.json()["detail"]
