"""Issue 11 §7: CPOs push (OCPI Receiver, PUT/PATCH) instead of being polled. A PATCH carries only
what changed, and used to fail the mapping (``record (no id): id part record.uid is missing``): it
is now merged with the last full object and written as a poll would write it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from agents.ocpi.service import OcpiAgent
from citiesincharge.client import NgsiLdClient
from tests.integration.ocpi.conftest import AgentFactory, Served
from tests.integration.ocpi.peer import ImpolitePeer
from tests.integration.ocpi.records import evse, location

PUSH_TOKEN = "token-b-issued-by-hand"
LATER = "2026-03-01T13:00:00Z"


def session(session_id: str, kwh: float, **extra: Any) -> dict[str, Any]:
    return {"country_code": "NL", "party_id": "IMP", "id": session_id, "start_date_time": "2026-03-01T12:00:00Z",
            "kwh": kwh, "cdr_token": {"country_code": "NL", "party_id": "IMP", "uid": "012345678", "type": "RFID",
                                      "contract_id": "NL-IMP-C12345678"},
            "auth_method": "WHITELIST", "location_id": "LOC1", "evse_uid": "LOC1-2", "connector_id": "1",
            "currency": "EUR", "status": "ACTIVE", "last_updated": "2026-03-01T12:05:00Z", **extra}


class Cpo:
    """What a CPO pushing to our Receiver does: OCPI requests with its token (Base64, as 2.2.1)."""

    def __init__(self, served: Served, token: str = PUSH_TOKEN) -> None:
        self.base = f"{served.url}/ocpi/2.2.1"
        self.headers = {"Authorization": f"Token {base64.b64encode(token.encode()).decode()}"}

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        answer = requests.request(method, f"{self.base}/{path}", json=body, headers=self.headers, timeout=10)
        return answer.status_code, dict(answer.json())


def pushing_agent(tmp_path: Path, make_peer_agent: AgentFactory) -> OcpiAgent:
    (tmp_path / "push.token").write_text(PUSH_TOKEN + "\n")
    return make_peer_agent(receiver_token_file=str(tmp_path / "push.token"))


def test_put_then_patch_merges_with_the_last_full_object(tmp_path: Path, peer: ImpolitePeer,
                                                         make_peer_agent: AgentFactory,
                                                         serve_agent: Callable[[OcpiAgent], Served],
                                                         ngsi: NgsiLdClient) -> None:
    agent = pushing_agent(tmp_path, make_peer_agent)
    cpo = Cpo(serve_agent(agent))
    assert cpo("PUT", "locations/NL/IMP/LOC1", location("LOC1", evse("LOC1-1"), evse("LOC1-2")))[1][
        "status_code"] == 1000
    assert cpo("PUT", "sessions/NL/IMP/S1", session("S1", 1.5))[1]["status_code"] == 1000
    # the reproducers: partial objects, as the spec's examples send them
    status, answer = cpo("PATCH", "locations/nl/imp/loc1/loc1-2", {"status": "CHARGING", "last_updated": LATER})
    assert (status, answer["status_code"], answer["status_message"]) == (200, 1000, "Success")
    assert cpo("PATCH", "sessions/NL/IMP/S1", {"kwh": 7.25, "last_updated": LATER})[1]["status_code"] == 1000
    assert agent.quarantine.count() == 0
    assert agent.outbox.flush().sent == (1 + 2 + 1) + (1 + 1 + 1)  # station, EVSEs, session; then the EVSE,
    # its station (one EVSE fewer available) and the session
    uid = "urn:ngsi-ld:EVSE:impolite:LOC1-2"
    assert ngsi.get_entity(uid, attrs=["status"])["status"]["value"] == "CHARGING"
    assert ngsi.get_entity(uid, attrs=["status"])["status"]["observedAt"].startswith(LATER[:19])
    charged = ngsi.get_entity("urn:ngsi-ld:ChargingSession:impolite:S1", options="keyValues")
    assert charged["energyDelivered"] == 7.25
    assert charged["refEVSE"] == uid
    station = ngsi.get_entity("urn:ngsi-ld:EVChargingStation:impolite:LOC1", options="keyValues")
    assert (station["capacity"], station["availableCapacity"]) == (2, 1)
    # a stale PATCH (older last_updated) changes nothing, as a stale polled record
    status, answer = cpo("PATCH", "locations/NL/IMP/LOC1/LOC1-2", {"status": "AVAILABLE",
                                                                   "last_updated": "2026-03-01T12:30:00Z"})
    assert answer["status_code"] == 1000 and answer["status_message"].startswith("stale")
    assert agent.outbox.depth() == 0
    # the CPO checks what we have (GET on the Receiver)
    status, answer = cpo("GET", "locations/NL/IMP/LOC1/LOC1-2")
    assert (status, answer["data"]["status"], answer["data"]["connectors"][0]["id"]) == (200, "CHARGING", "1")


def test_unknown_objects_bad_requests_and_bad_tokens(tmp_path: Path, peer: ImpolitePeer,
                                                     make_peer_agent: AgentFactory,
                                                     serve_agent: Callable[[OcpiAgent], Served]) -> None:
    served = serve_agent(pushing_agent(tmp_path, make_peer_agent))
    cpo = Cpo(served)
    status, answer = cpo("PATCH", "locations/NL/IMP/NOWHERE/E1", {"status": "CHARGING", "last_updated": LATER})
    assert (status, answer["status_code"]) == (404, 2003)  # OCPI: Unknown Location
    status, answer = cpo("PATCH", "sessions/NL/IMP/S9", {"kwh": 1.0, "last_updated": LATER})
    assert (status, answer["status_code"]) == (404, 2000)
    cpo("PUT", "locations/NL/IMP/LOC1", location("LOC1"))
    status, answer = cpo("PATCH", "locations/NL/IMP/LOC1/LOC1-1", {"status": "CHARGING"})  # no last_updated
    assert (status, answer["status_code"]) == (400, 2001)
    status, answer = cpo("PUT", "locations/BE/BEC/LOC1", location("LOC1"))  # another party's URL
    assert (status, answer["status_code"]) == (400, 2001)
    status, answer = Cpo(served, token="not-ours")("PUT", "locations/NL/IMP/LOC2", location("LOC2"))
    assert (status, answer["status_code"], answer["data"]) == (401, 2000, None)
    assert "timestamp" in answer
    versions = requests.get(f"{served.url}/ocpi/versions", headers=cpo.headers, timeout=10).json()
    assert [v["version"] for v in versions["data"]] == ["2.2.1", "2.1.1"]
    details = requests.get(versions["data"][0]["url"], headers=cpo.headers, timeout=10).json()["data"]
    assert {(e["identifier"], e["role"]) for e in details["endpoints"]} == {
        (m, "RECEIVER") for m in ("locations", "sessions", "cdrs", "tariffs", "credentials")}
