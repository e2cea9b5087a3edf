"""Issue 11 §3: tokens and errors as real peers give them. A token encoding one endpoint refuses,
a refusal hidden behind a later server error, and a module whose every record is quarantined."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from citiesincharge.client import NgsiLdClient
from tests.integration.ocpi.conftest import PEER_OPERATOR, AgentFactory
from tests.integration.ocpi.peer import ImpolitePeer
from tests.integration.ocpi.records import cdr_211, location


def test_an_endpoint_that_refuses_base64_gets_the_plain_token(peer: ImpolitePeer, make_peer_agent: AgentFactory,
                                                              ngsi: NgsiLdClient) -> None:
    peer.version = "2.1.1"
    peer.quirks.encodings = {"details": {"plain"}, "locations": {"base64"}}  # /versions takes either
    peer.data["locations"] = [location("L1"), location("L2")]
    agent = make_peer_agent(modules=["locations"])
    assert agent.run_once()
    # the encoding of each request: details refused Base64 (401), locations refused plain (401)
    assert peer.requests == [("versions", "base64"), ("details", "base64"), ("details", "plain"),
                             ("locations", "plain"), ("locations", "base64")]
    assert ngsi.count_entities(type="EVChargingStation") == 2
    peer.requests.clear()
    assert agent.syncs[PEER_OPERATOR].sync("locations")  # what worked is remembered per endpoint
    assert peer.requests == [("locations", "base64")]


def test_a_refused_token_is_the_error_reported_not_a_later_server_error(peer: ImpolitePeer,
                                                                        make_peer_agent: AgentFactory) -> None:
    peer.quirks.encodings = {"locations": set()}  # our token is refused here, in either encoding
    peer.quirks.answers = {"sessions": (200, 3000, "Generic server error")}
    agent = make_peer_agent(modules=["locations", "sessions"])
    assert not agent.run_once()
    status = agent.status()["operators"][0]
    assert status["last_error"] == ("impolite: auth: HTTP 401: the operator refused our token "
                                    "(as base64 and as plain)")
    assert status["errors"] == {"locations": status["last_error"],
                                "sessions": "impolite: server: OCPI status 3000: Generic server error"}


def test_a_refusal_answered_by_a_server_error_in_the_other_encoding_stays_a_refusal(
        peer: ImpolitePeer, make_peer_agent: AgentFactory) -> None:
    peer.quirks.encodings = {"versions": {"plain"}}
    peer.quirks.answers = {"versions": (200, 3000, "Generic server error")}  # its answer to the plain token
    agent = make_peer_agent(modules=["locations"])
    assert not agent.run_once()
    assert agent.status()["operators"][0]["last_error"] == (
        "impolite: auth: HTTP 401: the operator refused our token (as base64 and as plain); "
        "with the plain token: server: OCPI status 3000: Generic server error")


def test_once_says_what_was_quarantined_and_fails_when_a_module_delivered_nothing(
        peer: ImpolitePeer, broker_url: str, tenant: str, tmp_path: Path, ngsi: NgsiLdClient) -> None:
    peer.version = "2.1.1"
    sites = [location("L1"), location("L2")]
    peer.data["locations"] = sites
    peer.data["cdrs"] = []
    for n in range(40):  # this peer names the end of a CDR as 2.2.1 does
        cdr = cdr_211(f"C{n}", sites[n % 2], f"L{n % 2 + 1}-1")
        cdr["end_date_time"] = cdr.pop("stop_date_time")
        peer.data["cdrs"].append(cdr)
    token = tmp_path / "peer.token"
    token.write_text(peer.token)
    operators = tmp_path / "operators.yaml"
    operators.write_text(yaml.safe_dump({"operators": [
        {"name": PEER_OPERATOR, "party_id": "IMP", "country_code": "NL", "versions_url": peer.versions_url,
         "token_file": str(token), "modules": ["locations", "cdrs"]}]}))
    done = subprocess.run([sys.executable, "-m", "citiesincharge.cli", "agent", "ocpi", "--once",
                           "--operators", str(operators)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CIC_BROKER_URL": broker_url, "CIC_TENANT": tenant,
                               "CIC_DATA_DIR": str(tmp_path), "CIC_LOG_LEVEL": "INFO"})
    console = done.stdout + done.stderr
    assert done.returncode == 1, console
    assert "impolite: OCPI 2.1.1, last error: none, quarantined: 40" in console
    assert ("impolite cdrs: 0 of 40 records delivered, 40 quarantined: "
            "endDateTime: no value at 'record.stop_date_time' (40)") in console
    assert "impolite cdrs: delivered nothing: all 40 records quarantined" in console
    assert "impolite locations:" not in console  # nothing quarantined there
    assert ngsi.count_entities(type="EVChargingStation") == 2  # the rest landed
    assert ngsi.count_entities(type="ChargeDetailRecord") == 0
