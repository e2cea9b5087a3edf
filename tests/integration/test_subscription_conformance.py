"""Subscriptions as ETSI GS CIM 009 §5.8 says: validation, representation, paging, and what a
notification shows (deleted attributes, showChanges, linked entities, the subscription's @context)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, Receiver, problem_type

B = "urn:ngsi-ld:Building:s1"
CITY = "urn:ngsi-ld:City:s1"
NULL = "urn:ngsi-ld:null"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"


def subscribe(api: Api, receiver: Receiver, **fields: Any) -> str:
    notification = {"endpoint": {"uri": receiver.url}, **fields.pop("notification", {})}
    body = {"type": "Subscription", "entities": [{"type": "Building"}], "notification": notification, **fields}
    response = api.post("/subscriptions", body)
    assert response.status_code == 201, response.text
    return str(response.headers["Location"].rsplit("/", 1)[-1])


def test_a_deleted_attribute_is_notified_as_ngsi_ld_null_with_its_previous_value(api: Api, receiver: Receiver) -> None:
    api.create({"id": B, "type": "Building", "name": "Eiffel", "street": {
        "type": "LanguageProperty", "languageMap": {"fr": "Champ de Mars"}}})
    subscribe(api, receiver, notificationTrigger=["attributeDeleted"], notification={"showChanges": True})
    assert api.delete(f"/entities/{B}/attrs/street").status_code == 204
    receiver.wait_for(lambda got: len(got) >= 1)
    assert receiver.entities()[0]["street"] == {"type": "LanguageProperty", "languageMap": {"@none": NULL},
                                           "previousLanguageMap": {"fr": "Champ de Mars"}}
    assert receiver.entities()[0]["name"] == {"type": "Property", "value": "Eiffel"}


def test_show_changes_reports_the_replaced_value(api: Api, receiver: Receiver) -> None:
    api.create({"id": B, "type": "Building", "name": "Eiffel"})
    subscribe(api, receiver, notification={"showChanges": True})
    assert api.patch(f"/entities/{B}/attrs", {"name": "Iron Lady"}).status_code == 204
    receiver.wait_for(lambda got: len(got) >= 1)
    assert receiver.entities()[0]["name"] == {"type": "Property", "value": "Iron Lady", "previousValue": "Eiffel"}


def test_a_deleted_entity_is_notified_with_deleted_at_and_null_attributes(api: Api, receiver: Receiver) -> None:
    api.create({"id": B, "type": "Building", "name": "Eiffel"})
    subscribe(api, receiver, notificationTrigger=["entityDeleted"])
    assert api.delete(f"/entities/{B}").status_code == 204
    receiver.wait_for(lambda got: len(got) >= 1)
    got = receiver.entities()[0]
    assert got["deletedAt"] and got["name"] == {"type": "Property", "value": NULL}


@pytest.mark.parametrize(("join", "expect"), [("inline", 1), ("flat", 2)])
def test_notifications_join_linked_entities(api: Api, receiver: Receiver, join: str, expect: int) -> None:
    api.create({"id": CITY, "type": "City", "name": "Paris"})
    subscribe(api, receiver, notification={"join": join, "format": "simplified"})
    api.create({"id": B, "type": "Building", "locatedAt": {"type": "Relationship", "object": CITY}})
    receiver.wait_for(lambda got: len(got) >= 1)
    got = receiver.entities()
    assert len(got) == expect
    linked = got[0]["locatedAt"] if join == "inline" else got[1]
    assert linked == {"id": CITY, "type": "City", "name": "Paris"}


@pytest.mark.parametrize("notification", [
    {"pick": ["id"], "attributes": ["name"]}, {"omit": ["id"], "attributes": ["name"]},
    {"pick": ["name"], "omit": ["name"]},
])
def test_pick_and_omit_are_validated(api: Api, receiver: Receiver, notification: dict[str, Any]) -> None:
    body = {"type": "Subscription", "entities": [{"type": "Building"}],
            "notification": {"endpoint": {"uri": receiver.url}, **notification}}
    response = api.post("/subscriptions", body)
    assert response.status_code == 400 and problem_type(response) == "BadRequestData"


def test_expires_at_in_the_past_and_bad_contexts_are_refused(api: Api, receiver: Receiver) -> None:
    sub_id = subscribe(api, receiver)
    past = api.patch(f"/subscriptions/{sub_id}", {"expiresAt": "2020-01-01T00:00:00Z"})
    assert past.status_code == 400 and problem_type(past) == "BadRequestData"
    bad = api.patch(f"/subscriptions/{sub_id}", {"jsonldContext": "not a uri"})
    assert bad.status_code == 400
    gone = api.patch(f"/subscriptions/{sub_id}", {"jsonldContext": "http://no-such-host.invalid/none.jsonld"})
    assert problem_type(gone) == "LdContextNotAvailable"  # 400 refused by the fetch policy, 503 unreachable
    no_endpoint = api.patch(f"/subscriptions/{sub_id}", {"notification": {"format": "keyValues"}})
    assert no_endpoint.status_code == 400  # the member is replaced, and a notification needs an endpoint


def test_notifications_name_the_subscriptions_own_context(api: Api, receiver: Receiver) -> None:
    subscribe(api, receiver, jsonldContext=CORE)
    api.create({"id": B, "type": "Building", "name": "Eiffel"})
    receiver.wait_for(lambda got: len(got) >= 1)
    assert f"<{CORE}>" in receiver.headers[0]["Link"]


def test_representation_and_paging(api: Api, receiver: Receiver) -> None:
    ids = [subscribe(api, receiver) for _ in range(3)]
    one = api.get(f"/subscriptions/{ids[0]}").json()
    assert "createdAt" not in one and "modifiedAt" not in one
    assert "createdAt" in api.get(f"/subscriptions/{ids[0]}", {"options": "sysAttrs"}).json()
    page = api.get("/subscriptions", {"limit": 1, "offset": 1})
    links = page.headers["Link"]
    assert '</ngsi-ld/v1/subscriptions?limit=1&offset=0>;rel="prev"' in links
    assert '</ngsi-ld/v1/subscriptions?limit=1&offset=2>;rel="next"' in links
    assert 'rel="next"' not in api.get("/subscriptions", {"limit": 1, "offset": 2}).headers["Link"]


def test_a_json_notification_links_the_one_context_the_subscription_was_created_with(
        api: Api, receiver: Receiver, broker_url: str) -> None:
    project = f"{broker_url}/ngsi-ld/contexts/citiesincharge.jsonld"
    body = {"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"endpoint": {
        "uri": receiver.url}}, "@context": [project]}  # a list of one URL, as the ETSI suite writes it
    created = api.send("POST", "/subscriptions", body, headers={"Content-Type": "application/ld+json"})
    assert created.status_code == 201, created.text
    api.create({"id": B, "type": "Building", "name": "Eiffel"})
    receiver.wait_for(lambda got: len(got) >= 1)
    assert receiver.headers[0]["Link"].startswith(f"<{project}>")


def test_a_subscription_shows_the_triggers_it_notifies_on(api: Api, receiver: Receiver) -> None:
    default = subscribe(api, receiver)
    assert api.get(f"/subscriptions/{default}").json()["notificationTrigger"] == [
        "attributeCreated", "attributeUpdated"]  # the default of §5.2.12
    chosen = subscribe(api, receiver, notificationTrigger=["entityDeleted"])
    assert api.get(f"/subscriptions/{chosen}").json()["notificationTrigger"] == ["entityDeleted"]
    periodic = subscribe(api, receiver, timeInterval=60)
    assert api.get(f"/subscriptions/{periodic}").json()["notificationTrigger"] == [
        "attributeCreated", "attributeUpdated"]
    bad = api.post("/subscriptions", {"type": "Subscription", "entities": [{"type": "Building"}],
                                      "notificationTrigger": ["whenever"], "notification": {"endpoint": {
                                          "uri": receiver.url}}})
    assert bad.status_code == 400


def test_a_subscription_with_datasetid_notifies_only_those_instances(api: Api, receiver: Receiver) -> None:
    """§5.2.12 ``datasetId``: the notification's entity holds only the attribute instances of the listed
    datasetIds (``@none``: the default instance); an attribute with none of them is left out."""
    subscribe(api, receiver, datasetId=["urn:ngsi-ld:Dataset:fr"])
    api.create({"id": B, "type": "Building", "height": 300,
                "name": [{"type": "Property", "value": "Eiffel Tower"},
                         {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}]})
    receiver.wait_for(lambda got: len(got) >= 1)
    entity = receiver.received[0]["data"][0]
    assert entity["name"] == {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}
    assert "height" not in entity
    default = subscribe(api, receiver, datasetId=["@none"])
    assert api.get(f"/subscriptions/{default}").json()["datasetId"] == ["@none"]
    bad = api.post("/subscriptions", {"type": "Subscription", "entities": [{"type": "Building"}], "datasetId": [
        "not a uri"], "notification": {"endpoint": {"uri": receiver.url}}})
    assert bad.status_code == 400 and "datasetId" in bad.text
