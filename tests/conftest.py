"""Shared fixtures: one real broker per test session, a fresh tenant per test so tests never see
each other's entities.

The broker is the embedded one started as a process (default), the broker CIC_TEST_BROKER_URL
names (e.g. a local Orion-LD), or with CIC_TEST_BROKER=orion a throw-away Orion-LD container.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.orion import docker_unavailable_reason, orion_ld
from tests.support import Api, BrokerProcess, Receiver


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    external = os.environ.get("CIC_TEST_BROKER_URL")
    if external:
        yield external.rstrip("/")
        return
    if os.environ.get("CIC_TEST_BROKER") == "orion":
        reason = docker_unavailable_reason()
        if reason:
            pytest.fail(f"CIC_TEST_BROKER=orion asked for Orion-LD, but {reason}")
        with orion_ld() as url:
            os.environ["CIC_TEST_BROKER_URL"] = url  # embedded-only tests skip themselves
            yield url
        return
    # pages of 19 instances (the product default is 1,000): every test that reads history through the
    # temporal API also shows that the clients follow the pages
    broker = BrokerProcess(CIC_TEMPORAL_INSTANCE_LIMIT="19")
    yield broker.url
    broker.stop()


@pytest.fixture
def embedded(broker_url: str) -> str:
    """For tests of embedded-broker features that are not NGSI-LD (metrics, served contexts)."""
    if os.environ.get("CIC_TEST_BROKER_URL"):
        pytest.skip("embedded-broker feature; CIC_TEST_BROKER_URL points at another broker")
    return broker_url


@pytest.fixture
def tenant() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def api(broker_url: str, tenant: str) -> Api:
    return Api(broker_url, tenant)


@pytest.fixture
def project_api(broker_url: str, tenant: str) -> Api:
    """Raw API that sends the project @context (as every CitiesInCharge component does)."""
    return Api(broker_url, tenant, context=f"{broker_url}/ngsi-ld/contexts/citiesincharge.jsonld")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.stop()
