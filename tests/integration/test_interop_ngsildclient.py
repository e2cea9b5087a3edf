"""Interoperability: an independent NGSI-LD client (ngsildclient 0.5.2) talks to the broker.

ngsildclient is unmaintained and has import side effects (it turns http.client debug output on
and configures the root logger); they are undone right after import so the rest of the test
session is unaffected.
"""

from __future__ import annotations

import http.client
import importlib.util
import logging
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.support import Api, Receiver


def _import_ngsildclient() -> Any:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    debuglevel = http.client.HTTPConnection.debuglevel
    try:
        import ngsildclient
    finally:
        http.client.HTTPConnection.debuglevel = debuglevel
        root.handlers[:] = handlers
        root.setLevel(level)
    return ngsildclient


if importlib.util.find_spec("ngsildclient") is None:
    pytest.skip("ngsildclient is not installed (pip install -e .[dev])", allow_module_level=True)
ngsildclient = _import_ngsildclient()
pytestmark = pytest.mark.interop


@pytest.fixture
def client(broker_url: str, tenant: str, api: Api) -> Any:
    # ngsildclient probes the tenant on connect; make it exist the standard way first
    api.create({"id": "urn:ngsi-ld:Probe:1", "type": "Probe"})
    assert api.delete("/entities/urn:ngsi-ld:Probe:1").status_code == 204
    where = urlparse(broker_url)
    c = ngsildclient.Client(hostname=where.hostname, port=where.port, tenant=tenant, tenant_autocreate=False)
    yield c
    c.close()


def test_side_effects_are_neutralised() -> None:
    assert http.client.HTTPConnection.debuglevel == 0


def test_create_get_query_with_ngsildclient(client: Any) -> None:
    entity = ngsildclient.Entity("EVChargingStation", "cpoA:L1")
    entity.prop("capacity", 4).prop("availableCapacity", 2).gprop("location", (52.4081, -1.5106))
    entity.rel("refDevice", "urn:ngsi-ld:Device:meter1")
    client.create(entity)
    got = client.get("urn:ngsi-ld:EVChargingStation:cpoA:L1")
    assert got["capacity"]["value"] == 4
    assert got["location"]["value"]["coordinates"] == [-1.5106, 52.4081]
    found = client.query(type="EVChargingStation", q="availableCapacity>1")
    assert [e["id"] for e in found] == ["urn:ngsi-ld:EVChargingStation:cpoA:L1"]


def test_batch_upsert_with_ngsildclient(client: Any) -> None:
    entities = []
    for n in range(30):
        entity = ngsildclient.Entity("EVSE", f"cpoB:E{n}")
        entity.prop("status", "AVAILABLE" if n % 2 else "CHARGING")
        entities.append(entity)
    result = client.upsert(entities)
    assert result.success
    assert client.count(type="EVSE") == 30
    assert client.count(type="EVSE", q='status=="CHARGING"') == 15


def test_subscription_with_ngsildclient(client: Any, receiver: Receiver) -> None:
    sub = ngsildclient.SubscriptionBuilder(receiver.url).context(
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld").select_type("EVSE").build()
    sub_id = client.subscriptions.create(sub)
    assert sub_id
    entity = ngsildclient.Entity("EVSE", "cpoC:E1")
    entity.prop("status", "AVAILABLE")
    client.create(entity)
    receiver.wait_for(lambda got: len(got) >= 1)
    assert receiver.received[0]["data"][0]["id"] == "urn:ngsi-ld:EVSE:cpoC:E1"
