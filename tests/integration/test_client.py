"""The project's NGSI-LD client against a real broker: pagination, chunking, 207s, typed errors."""

from __future__ import annotations

import pytest

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import AlreadyExists, BadRequest, BrokerUnavailable, NotFound
from citiesincharge.settings import Settings
from tests.support import Receiver, free_port


@pytest.fixture
def client(broker_url: str, tenant: str) -> NgsiLdClient:
    return NgsiLdClient(Settings(broker_url=broker_url, tenant=tenant, batch_size=40))


def evses(count: int) -> list[dict[str, object]]:
    return [{"id": f"urn:ngsi-ld:EVSE:cl:{n:04d}", "type": "EVSE",
             "status": {"type": "Property", "value": "AVAILABLE" if n % 3 else "CHARGING"},
             "evseId": {"type": "Property", "value": f"GB*CL*E{n}"}} for n in range(count)]


def test_chunked_upsert_and_paginated_query(client: NgsiLdClient) -> None:
    result = client.batch_upsert(evses(250))
    assert result.ok and len(result.success) == 250
    found = list(client.query_entities(type="EVSE", page_size=60))
    assert len(found) == 250 and len({e["id"] for e in found}) == 250
    assert client.count_entities(type="EVSE", q='status=="CHARGING"') == 84
    # project context: short names come back short, including project terms
    assert found[0]["evseId"]["value"].startswith("GB*CL*E")


def test_batch_errors_are_reported_per_entity(client: NgsiLdClient) -> None:
    good = evses(3)
    bad = {"id": "urn:ngsi-ld:EVSE:cl:bad", "type": "EVSE", "status": {"type": "Property"}}
    result = client.batch_upsert([*good, bad])
    assert sorted(result.success) == sorted(e["id"] for e in good)
    assert [e.entity_id for e in result.errors] == ["urn:ngsi-ld:EVSE:cl:bad"]
    assert result.errors[0].error.short_type == "BadRequestData"


def test_typed_errors(client: NgsiLdClient) -> None:
    client.create_entity(evses(1)[0])
    with pytest.raises(AlreadyExists):
        client.create_entity(evses(1)[0])
    with pytest.raises(NotFound):
        client.get_entity("urn:ngsi-ld:EVSE:none")
    assert client.find_entity("urn:ngsi-ld:EVSE:none") is None
    with pytest.raises(BadRequest) as raised:
        list(client.query_entities(type="EVSE", q="status=="))
    assert "invalid q" in (raised.value.problem.detail or "")


def test_unreachable_broker_is_broker_unavailable() -> None:
    client = NgsiLdClient(Settings(broker_url=f"http://127.0.0.1:{free_port()}", http_timeout=1))
    with pytest.raises(BrokerUnavailable):
        client.get_entity("urn:ngsi-ld:EVSE:x")


def test_subscription_crud_and_temporal(client: NgsiLdClient, receiver: Receiver) -> None:
    sub_id = client.create_subscription({"type": "Subscription", "entities": [{"type": "EVSE"}],
                                         "watchedAttributes": ["status"],
                                         "notification": {"endpoint": {"uri": receiver.url}, "format": "keyValues"}})
    assert client.get_subscription(sub_id)["watchedAttributes"] == ["status"]
    client.batch_upsert([{"id": "urn:ngsi-ld:EVSE:cl:t", "type": "EVSE",
                          "status": {"type": "Property", "value": v, "observedAt": f"2026-02-01T0{h}:00:00Z"}}
                         for h, v in enumerate(["AVAILABLE", "CHARGING"])][:1])
    client.update_attrs("urn:ngsi-ld:EVSE:cl:t",
                        {"status": {"type": "Property", "value": "CHARGING", "observedAt": "2026-02-01T01:00:00Z"}})
    receiver.wait_for(lambda got: any(e.get("status") == "CHARGING" for n in got for e in n["data"]))
    history = client.temporal_entity("urn:ngsi-ld:EVSE:cl:t", attrs=["status"], options="temporalValues")
    assert [v for v, _t in history["status"]["values"]] == ["AVAILABLE", "CHARGING"]
    client.update_subscription(sub_id, {"isActive": False})
    assert client.list_subscriptions()[0]["status"] == "paused"
    client.delete_subscription(sub_id)
    assert client.list_subscriptions() == []
