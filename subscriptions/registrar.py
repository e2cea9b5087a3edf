"""The idempotent registrar: makes the broker's subscriptions match the specs, and keeps them so.

At start-up each spec's subscription is created, or updated in place when it exists (ids are
deterministic); subscriptions this worker owns that no spec names any more are removed. A periodic
check re-creates any the broker lost (a broker restart without persistence, an operator's cleanup).
Only standard NGSI-LD calls, so it works against Orion-LD as against the embedded broker.
"""

from __future__ import annotations

import logging
from typing import Any

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import AlreadyExists, NotFound

from .specs import WorkerSpecs, subscription_id

log = logging.getLogger(__name__)
SECRET_HEADER = "X-CIC-Notification-Secret"


def body(specs: WorkerSpecs, spec_index: int, endpoint: str, secret: str) -> dict[str, Any]:
    spec = specs.subscriptions[spec_index]
    notification = dict(spec.notification)
    notification["endpoint"] = {"uri": endpoint, "accept": "application/json",
                                "receiverInfo": [{"key": SECRET_HEADER, "value": secret}]}
    sub: dict[str, Any] = {"id": subscription_id(specs.worker, spec.name), "type": "Subscription",
                           "subscriptionName": f"cic {specs.worker} {spec.name}", "entities": spec.entities,
                           "notification": notification}
    for key in ("watchedAttributes", "q", "throttling"):
        value = getattr(spec, key)
        if value is not None:
            sub[key] = value
    return sub


class Registrar:
    def __init__(self, client: NgsiLdClient, specs: WorkerSpecs, endpoint: str, secret: str) -> None:
        self.client = client
        self.specs = specs
        self.endpoint = endpoint
        self.secret = secret

    def ensure(self) -> int:
        """Create or update every subscription of the specs; remove owned strays. Returns changes."""
        changes = 0
        wanted = set()
        for index in range(len(self.specs.subscriptions)):
            sub = body(self.specs, index, self.endpoint, self.secret)
            wanted.add(sub["id"])
            try:
                self.client.create_subscription(sub)
                log.info("subscription %s created", sub["id"])
                changes += 1
            except AlreadyExists:
                self.client.update_subscription(sub["id"], {k: v for k, v in sub.items() if k not in ("id", "type")})
        prefix = subscription_id(self.specs.worker, "")
        for existing in self.client.list_subscriptions():
            if existing["id"].startswith(prefix) and existing["id"] not in wanted:
                self.client.delete_subscription(existing["id"])
                log.info("stale subscription %s removed", existing["id"])
                changes += 1
        return changes

    def check(self) -> int:
        """Re-create subscriptions the broker lost; returns how many."""
        lost = 0
        for index, spec in enumerate(self.specs.subscriptions):
            try:
                self.client.get_subscription(subscription_id(self.specs.worker, spec.name))
            except NotFound:
                self.client.create_subscription(body(self.specs, index, self.endpoint, self.secret))
                log.warning("subscription %s was lost by the broker; re-created", spec.name)
                lost += 1
        return lost
