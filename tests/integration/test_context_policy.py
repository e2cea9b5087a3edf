"""Fetching @contexts is not an open proxy: a real broker process, a real local context server.

The shared test broker runs with the default policy, so a context on 127.0.0.1 must be refused
there without a single connection. The broker that may fetch from 127.0.0.1 is a separate one that
says so explicitly (CIC_CONTEXT_ALLOWED_HOSTS + CIC_CONTEXT_ALLOW_PRIVATE): the defaults stay safe.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.context_server import ContextServer
from tests.support import Api, BrokerProcess, free_port, problem_type

CAP = 64 * 1024


@pytest.fixture(scope="module")
def context_server() -> Iterator[ContextServer]:
    server = ContextServer(big=2 * CAP)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local_fetching_broker() -> Iterator[str]:
    broker = BrokerProcess(CIC_CONTEXT_ALLOWED_HOSTS="127.0.0.1", CIC_CONTEXT_ALLOW_PRIVATE="true",
                           CIC_CONTEXT_MAX_BYTES=str(CAP), CIC_CONTEXT_FETCH_TIMEOUT="1")
    yield broker.url
    broker.stop()


def test_loopback_context_is_refused_by_default_without_a_connection(
        embedded: str, tenant: str, context_server: ContextServer) -> None:
    before = len(context_server.requests)
    api = Api(embedded, tenant, context=context_server.url())
    for response in (api.post("/entities", {"id": "urn:ngsi-ld:Bin:1", "type": "Bin"}),
                     api.get("/entities", {"type": "Bin"})):
        assert response.status_code == 400 and problem_type(response) == "LdContextNotAvailable"
        assert ("host 127.0.0.1 is not in the allowed @context hosts (CIC_CONTEXT_ALLOWED_HOSTS)"
                in response.json()["detail"])
    assert len(context_server.requests) == before


def test_loopback_context_is_fetched_once_when_the_site_allows_it(
        local_fetching_broker: str, tenant: str, context_server: ContextServer) -> None:
    url = context_server.url()
    api = Api(local_fetching_broker, tenant, context=url)
    api.create({"id": "urn:ngsi-ld:Bin:1", "type": "Bin", "fill": 0.5})
    assert api.get("/entities/urn:ngsi-ld:Bin:1").json()["fill"]["value"] == 0.5
    plain = Api(local_fetching_broker, tenant).get("/entities/urn:ngsi-ld:Bin:1").json()
    assert plain["type"] == "https://city.example/Bin"
    assert [path for path, _ in context_server.requests].count("/ctx.jsonld") == 1  # then cached


@pytest.mark.parametrize("path", ["/big.jsonld", "/big-stream.jsonld"])
def test_oversize_context_is_refused(local_fetching_broker: str, tenant: str, context_server: ContextServer,
                                     path: str) -> None:
    response = Api(local_fetching_broker, tenant, context=context_server.url(path)).get("/entities",
                                                                                        {"type": "Bin"})
    assert response.status_code == 400 and problem_type(response) == "LdContextNotAvailable"
    assert f"larger than {CAP} bytes (CIC_CONTEXT_MAX_BYTES)" in response.json()["detail"]


def test_dripping_context_times_out_under_the_total_cap(
        local_fetching_broker: str, tenant: str, context_server: ContextServer) -> None:
    """One byte every 0.2 s never trips a socket timeout; the total cap (1 s here) still holds."""
    api = Api(local_fetching_broker, tenant, context=context_server.url("/drip.jsonld"))
    started = time.monotonic()
    response = api.get("/entities", {"type": "Bin"})
    assert response.status_code == 504 and problem_type(response) == "LdContextNotAvailable"
    assert "within 1.0 s (CIC_CONTEXT_FETCH_TIMEOUT)" in response.json()["detail"]
    assert time.monotonic() - started < 2.0


def test_unreachable_allowed_context_is_503_quickly(local_fetching_broker: str, tenant: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}/nothing.jsonld"
    started = time.monotonic()
    response = Api(local_fetching_broker, tenant, context=dead).post("/entities", {"id": "urn:x:1", "type": "T"})
    assert response.status_code == 503 and problem_type(response) == "LdContextNotAvailable"
    assert dead in response.json()["detail"] and time.monotonic() - started < 3


@pytest.mark.parametrize("version", ["-v1.9", "-v1.6", ""])
def test_core_context_of_any_version_resolves_offline(embedded: str, tenant: str, version: str) -> None:
    core = f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context{version}.jsonld"
    api = Api(embedded, tenant, context=core)
    api.create({"id": "urn:ngsi-ld:Thing:core", "type": "Thing", "location": {
        "type": "GeoProperty", "value": {"type": "Point", "coordinates": [-1.5, 53.8]}}})
    got = api.get("/entities/urn:ngsi-ld:Thing:core").json()
    assert got["type"] == "Thing" and got["location"]["value"]["type"] == "Point"
