"""Subscriptions: CRUD, and notifications received by a real local HTTP endpoint."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import Api, Receiver, problem_type, wait_until


def subscription(receiver: Receiver, **fields: Any) -> dict[str, Any]:
    notification = {"endpoint": {"uri": receiver.url, "accept": "application/json"}}
    notification.update(fields.pop("notification", {}))
    return {"type": "Subscription", "entities": [{"type": "EVSE"}], "notification": notification, **fields}


def subscribe(api: Api, body: dict[str, Any]) -> str:
    response = api.post("/subscriptions", body)
    assert response.status_code == 201, response.text
    return str(response.headers["Location"].rsplit("/", 1)[-1])


def set_status(api: Api, n: int, status: str) -> None:
    response = api.post("/entityOperations/upsert",
                        [{"id": f"urn:ngsi-ld:EVSE:s:{n}", "type": "EVSE", "status": status}],
                        params={"options": "update"})
    assert response.status_code in (201, 204), response.text


def test_crud(api: Api, receiver: Receiver) -> None:
    sub_id = subscribe(api, subscription(receiver, id="urn:ngsi-ld:Subscription:crud", q="status==\"AVAILABLE\"",
                                         subscriptionName="available EVSEs"))
    assert sub_id == "urn:ngsi-ld:Subscription:crud"
    again = api.post("/subscriptions", subscription(receiver, id="urn:ngsi-ld:Subscription:crud"))
    assert again.status_code == 409
    got = api.get(f"/subscriptions/{sub_id}").json()
    assert got["status"] == "active" and got["q"] == 'status=="AVAILABLE"'
    assert got["notification"]["endpoint"]["uri"] == receiver.url
    listed = api.get("/subscriptions", {"count": "true"})
    assert [s["id"] for s in listed.json()] == [sub_id] and listed.headers["NGSILD-Results-Count"] == "1"
    assert api.patch(f"/subscriptions/{sub_id}", {"isActive": False, "throttling": 5}).status_code == 204
    got = api.get(f"/subscriptions/{sub_id}").json()
    assert got["status"] == "paused" and got["throttling"] == 5
    assert api.delete(f"/subscriptions/{sub_id}").status_code == 204
    assert api.get(f"/subscriptions/{sub_id}").status_code == 404


@pytest.mark.parametrize(("body", "needle"), [
    ({"type": "Subscription", "notification": {"endpoint": {"uri": "http://x/"}}}, "entities"),
    ({"entities": [{"type": "EVSE"}], "notification": {"endpoint": {"uri": "ftp://x/"}}}, "http"),
    ({"entities": [{"type": "EVSE"}], "notification": {"endpoint": {"uri": "http://x/"}, "format": "xml"}}, "format"),
    ({"entities": [{"type": "EVSE", "idPattern": "(["}], "notification": {"endpoint": {"uri": "http://x/"}}},
     "idPattern"),
    ({"entities": [{"type": "EVSE"}], "q": "a==", "notification": {"endpoint": {"uri": "http://x/"}}}, "invalid q"),
    ({"entities": [{"type": "EVSE"}], "notification": {"endpoint": {"uri": "http://x/"}},
      "timeInterval": 5, "watchedAttributes": ["status"]}, "timeInterval"),
    ({"entities": [{"type": "EVSE"}], "notification": {}}, "endpoint"),
])
def test_invalid_subscriptions_are_400(api: Api, body: dict[str, Any], needle: str) -> None:
    response = api.post("/subscriptions", body)
    assert response.status_code == 400, response.text
    assert problem_type(response) == "BadRequestData" and needle in response.json()["detail"]


def test_notification_on_create_and_update(api: Api, receiver: Receiver) -> None:
    sub_id = subscribe(api, subscription(receiver, notification={"format": "keyValues"}))
    set_status(api, 1, "AVAILABLE")
    receiver.wait_for(lambda got: len(got) >= 1)
    note = receiver.received[0]
    assert note["type"] == "Notification" and note["subscriptionId"] == sub_id
    assert note["id"].startswith("urn:ngsi-ld:Notification:") and note["notifiedAt"].endswith("Z")
    assert note["data"] == [{"id": "urn:ngsi-ld:EVSE:s:1", "type": "EVSE", "status": "AVAILABLE"}]
    assert receiver.headers[0]["NGSILD-Tenant"] == api.tenant
    assert "json-ld#context" in receiver.headers[0]["Link"]
    set_status(api, 1, "CHARGING")
    receiver.wait_for(lambda got: any(e["status"] == "CHARGING" for n in got for e in n["data"]))
    # the receiver has it before the broker has recorded the answer: wait for the record
    wait_until(lambda: api.get(f"/subscriptions/{sub_id}").json()["notification"].get("timesSent", 0) >= 2)
    status = api.get(f"/subscriptions/{sub_id}").json()["notification"]
    assert status["timesSent"] >= 2 and status["status"] == "ok" and "lastSuccess" in status


def test_watched_attributes_q_and_notification_attributes(api: Api, receiver: Receiver) -> None:
    subscribe(api, subscription(receiver, watchedAttributes=["status"], q='status=="OUTOFORDER"',
                                notification={"attributes": ["status"], "format": "normalized"}))
    api.create({"id": "urn:ngsi-ld:EVSE:s:1", "type": "EVSE", "status": "AVAILABLE", "maxPower": 22})
    api.patch("/entities/urn:ngsi-ld:EVSE:s:1/attrs", {"maxPower": 50})  # not watched
    api.patch("/entities/urn:ngsi-ld:EVSE:s:1/attrs", {"status": "OUTOFORDER"})
    receiver.wait_for(lambda got: len(got) >= 1)
    entities = receiver.entities()
    assert entities == [{"id": "urn:ngsi-ld:EVSE:s:1", "type": "EVSE",
                         "status": {"type": "Property", "value": "OUTOFORDER"}}]


def test_entity_id_pattern_and_triggers(api: Api, receiver: Receiver) -> None:
    subscribe(api, subscription(receiver, entities=[{"type": "EVSE", "idPattern": ".*:s:2$"}],
                                notificationTrigger=["entityDeleted"]))
    set_status(api, 1, "AVAILABLE")
    set_status(api, 2, "AVAILABLE")
    api.delete("/entities/urn:ngsi-ld:EVSE:s:1")
    api.delete("/entities/urn:ngsi-ld:EVSE:s:2")
    receiver.wait_for(lambda got: len(got) >= 1)
    assert [e["id"] for e in receiver.entities()] == ["urn:ngsi-ld:EVSE:s:2"]


def test_receiver_info_headers_and_ld_json(api: Api, receiver: Receiver) -> None:
    subscribe(api, subscription(receiver, notification={"endpoint": {
        "uri": receiver.url, "accept": "application/ld+json",
        "receiverInfo": [{"key": "X-Auth-Hint", "value": "council"}]}}))
    set_status(api, 1, "AVAILABLE")
    receiver.wait_for(lambda got: len(got) >= 1)
    assert receiver.headers[0]["X-Auth-Hint"] == "council"
    assert receiver.headers[0]["Content-Type"] == "application/ld+json"
    assert "@context" in receiver.received[0]["data"][0]


def test_write_does_not_wait_for_a_slow_or_dead_receiver(api: Api, receiver: Receiver) -> None:
    receiver.stop()
    subscribe(api, subscription(receiver))
    started = time.monotonic()
    for n in range(20):
        set_status(api, n, "AVAILABLE")
    assert time.monotonic() - started < 2  # 20 writes, none waits for delivery


def test_retry_after_receiver_was_down_delivers_latest_state(api: Api, receiver: Receiver) -> None:
    receiver.stop()
    sub_id = subscribe(api, subscription(receiver, notification={"format": "keyValues"}))
    set_status(api, 1, "AVAILABLE")
    set_status(api, 1, "CHARGING")
    wait_until(lambda: api.get(f"/subscriptions/{sub_id}").json()["notification"].get("timesFailed", 0) >= 1)
    failed = api.get(f"/subscriptions/{sub_id}").json()["notification"]
    assert failed["status"] == "failed" and "lastFailure" in failed
    receiver.start()
    receiver.wait_for(lambda got: any(e["status"] == "CHARGING" for n in got for e in n["data"]), timeout=15)
    assert api.get(f"/subscriptions/{sub_id}").json()["notification"]["status"] == "ok"


def test_receiver_error_status_is_retried(api: Api, receiver: Receiver) -> None:
    receiver.status = 503
    sub_id = subscribe(api, subscription(receiver))
    set_status(api, 1, "AVAILABLE")
    wait_until(lambda: api.get(f"/subscriptions/{sub_id}").json()["notification"].get("timesFailed", 0) >= 1)
    receiver.status = 200
    receiver.wait_for(lambda got: len(got) >= 1, timeout=15)


def test_throttling_coalesces_changes(api: Api, receiver: Receiver) -> None:
    subscribe(api, subscription(receiver, throttling=1.5, notification={"format": "keyValues"}))
    set_status(api, 1, "AVAILABLE")
    receiver.wait_for(lambda got: len(got) == 1)
    first_at = time.monotonic()
    for status in ("CHARGING", "BLOCKED", "OUTOFORDER"):
        set_status(api, 1, status)
    receiver.wait_for(lambda got: len(got) >= 2)
    assert time.monotonic() - first_at >= 1.3  # nothing was sent inside the throttling window
    assert receiver.received[1]["data"][0]["status"] == "OUTOFORDER"  # coalesced to the latest
    assert len(receiver.received) == 2


def test_periodic_subscription(api: Api, receiver: Receiver) -> None:
    set_status(api, 1, "AVAILABLE")
    subscribe(api, subscription(receiver, timeInterval=0.5))
    receiver.wait_for(lambda got: len(got) >= 2, timeout=5)
    assert all(n["data"][0]["id"] == "urn:ngsi-ld:EVSE:s:1" for n in receiver.received)


def test_paused_and_expired_subscriptions_do_not_notify(api: Api, receiver: Receiver) -> None:
    subscribe(api, subscription(receiver, isActive=False))
    past = api.post("/subscriptions", subscription(receiver, expiresAt="2020-01-01T00:00:00Z"))
    assert past.status_code == 400 and problem_type(past) == "BadRequestData"  # cannot be created expired
    soon = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    expired = subscribe(api, subscription(receiver, expiresAt=soon))
    wait_until(lambda: api.get(f"/subscriptions/{expired}").json()["status"] == "expired", timeout=5)
    live = Receiver()
    try:
        subscribe(api, subscription(live))
        set_status(api, 1, "AVAILABLE")
        live.wait_for(lambda got: len(got) >= 1)  # the live one got it, so the others had their chance
        assert receiver.received == []
    finally:
        live.stop()
