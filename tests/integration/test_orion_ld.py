"""Smoke test of the project's client against a real Orion-LD, where Docker can run one.

Skipped with its reason elsewhere. The full suite runs against Orion-LD with CIC_TEST_BROKER=orion.
"""

from __future__ import annotations

import pytest

from citiesincharge.client import NgsiLdClient
from citiesincharge.ldcontext import CORE_CONTEXT_URL
from citiesincharge.settings import Settings
from tests.orion import docker_unavailable_reason, orion_ld

reason = docker_unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=f"Orion-LD path: {reason}")


def test_client_round_trip_on_orion_ld() -> None:
    with orion_ld() as url:
        client = NgsiLdClient(Settings(broker_url=url, tenant="cicsmoke"), context_url=CORE_CONTEXT_URL)
        result = client.batch_upsert([{"id": f"urn:ngsi-ld:EVSE:orion:{n}", "type": "EVSE",
                                       "status": {"type": "Property", "value": "AVAILABLE"}} for n in range(150)])
        assert result.ok and len(result.success) == 150
        assert len(list(client.query_entities(type="EVSE", page_size=100))) == 150
        assert client.count_entities(type="EVSE", q='status=="AVAILABLE"') == 150
