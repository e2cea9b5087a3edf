"""The registrar and the receiver: subscriptions kept in shape, notifications authenticated and de-duplicated."""

from __future__ import annotations

import json

import requests

from citiesincharge.client import NgsiLdClient
from subscriptions.registrar import SECRET_HEADER
from subscriptions.specs import subscription_id
from tests.integration.analytics.conftest import ServiceFactory
from tests.support import wait_until


def test_registrar_creates_repairs_and_cleans_up(start_analytics: ServiceFactory, ngsi: NgsiLdClient) -> None:
    running = start_analytics(["violations"])
    registrar = running.service.registrars["violations"]
    ids = {subscription_id("violations", "bays"), subscription_id("violations", "chargers")}
    # the worker's thread subscribes after the service answers: await it, don't race it
    wait_until(lambda: {s["id"] for s in ngsi.list_subscriptions()} == ids)
    bays = ngsi.get_subscription(subscription_id("violations", "bays"))
    assert bays["notification"]["endpoint"]["receiverInfo"][0]["key"] == SECRET_HEADER
    ngsi.delete_subscription(subscription_id("violations", "bays"))  # the broker "loses" one
    assert registrar.check() == 1
    ngsi.create_subscription({"id": subscription_id("violations", "retired"), "type": "Subscription",
                              "entities": [{"type": "EVSE"}], "notification": {"endpoint": {"uri": "http://x/"}}})
    assert registrar.ensure() == 1  # the stray it owns is removed, the others updated in place
    assert {s["id"] for s in ngsi.list_subscriptions()} == ids


def test_receiver_refuses_strangers_and_drops_repeats(start_analytics: ServiceFactory) -> None:
    running = start_analytics(["violations"])
    url = f"http://127.0.0.1:{running.service.settings.analytics_port}/notify/violations?subscriptionId=x"
    entity = {"id": "urn:ngsi-ld:ParkingSpot:S1:b9", "type": "ParkingSpot",
              "status": {"type": "Property", "value": "free", "observedAt": "2026-03-02T10:00:00.000Z"}}
    body = json.dumps({"id": "urn:ngsi-ld:Notification:1", "type": "Notification", "data": [entity]})
    headers = {"Content-Type": "application/json"}
    assert requests.post(url, data=body, headers=headers, timeout=5).status_code == 401
    wrong = requests.post(url, data=body, headers={**headers, SECRET_HEADER: "guess"}, timeout=5)
    assert wrong.status_code == 401
    for _ in range(2):  # the same observation twice (a retry)
        ok = requests.post(url, data=body, headers={**headers, SECRET_HEADER: "test-secret"}, timeout=5)
        assert ok.status_code == 204
    counts = {s.labels["outcome"]: s.value for s in next(iter(running.service.receiver.received.collect())).samples
              if s.name.endswith("_total") and s.labels["worker"] == "violations"}
    assert counts["duplicate"] >= 1
    bad = requests.post(url, data="{}", headers={**headers, SECRET_HEADER: "test-secret"}, timeout=5)
    assert bad.status_code == 400
