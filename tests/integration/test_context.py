"""@context handling: Link header vs body, expansion/compaction, served and preloaded contexts.
Fetching remote contexts (policy, caps, failures) is in test_context_policy.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.support import Api, BrokerProcess, problem_type

LD = "application/ld+json"


def test_project_context_is_served_and_offline(broker_url: str, embedded: str) -> None:
    response = requests.get(f"{broker_url}/ngsi-ld/contexts/citiesincharge.jsonld", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(LD)
    context = response.json()["@context"]
    assert context[-1] == "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    assert context[0]["EVChargingStation"] == "https://smartdatamodels.org/dataModel.Transportation/EVChargingStation"
    assert context[0]["EVSE"] == "cic:EVSE" and context[0]["cic"] == "https://citiesincharge.org/ns/"


def test_same_short_name_means_different_attributes_under_different_contexts(
        project_api: Api, broker_url: str, tenant: str) -> None:
    project_api.create({"id": "urn:ngsi-ld:ParkingSpot:s:1", "type": "ParkingSpot", "category": ["onStreet"],
                        "status": "free"})
    core_only = Api(broker_url, tenant)
    got = core_only.get("/entities/urn:ngsi-ld:ParkingSpot:s:1").json()
    assert got["type"] == "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"
    assert got["https://smartdatamodels.org/dataModel.Parking/category"]["value"] == ["onStreet"]
    assert got["status"]["value"] == "free"  # 'status' is an NGSI-LD core term in both
    with_project = project_api.get("/entities/urn:ngsi-ld:ParkingSpot:s:1").json()
    assert with_project["type"] == "ParkingSpot" and with_project["category"]["value"] == ["onStreet"]
    assert "citiesincharge.jsonld" in project_api.get("/entities/urn:ngsi-ld:ParkingSpot:s:1").headers["Link"]


def test_ld_json_with_context_in_body(api: Api, broker_url: str) -> None:
    ctx = f"{broker_url}/ngsi-ld/contexts/citiesincharge.jsonld"
    response = api.post("/entities", {"id": "urn:ngsi-ld:EVSE:ld:1", "type": "EVSE", "evseId": "GB*ABC*E1",
                                      "@context": ctx}, headers={"Content-Type": LD})
    assert response.status_code == 201, response.text
    got = api.get("/entities/urn:ngsi-ld:EVSE:ld:1", headers={"Accept": LD}).json()
    assert got["@context"] == "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    assert got["https://citiesincharge.org/ns/evseId"]["value"] == "GB*ABC*E1"


def test_inline_context_object(api: Api) -> None:
    response = api.post("/entities", {"id": "urn:ngsi-ld:Thing:1", "type": "Thing", "speed": 3,
                                      "@context": [{"speed": "https://example.org/speed",
                                                    "Thing": "https://example.org/Thing"}]},
                        headers={"Content-Type": LD})
    assert response.status_code == 201
    got = api.get("/entities", {"type": "https://example.org/Thing"}).json()[0]
    assert got["https://example.org/speed"]["value"] == 3


@pytest.mark.parametrize(("content_type", "body", "status", "error"), [
    ("text/plain", {"id": "urn:x:1", "type": "T"}, 415, "InvalidRequest"),
    ("application/json", {"id": "urn:x:1", "type": "T", "@context": "https://x.org/c"}, 400, "BadRequestData"),
    (LD, {"id": "urn:x:1", "type": "T"}, 400, "BadRequestData"),
])
def test_content_type_rules(api: Api, content_type: str, body: dict[str, str], status: int, error: str) -> None:
    response = api.post("/entities", body, headers={"Content-Type": content_type})
    assert response.status_code == status and problem_type(response) == error


def test_link_header_with_ld_json_is_rejected(api: Api) -> None:
    response = api.post("/entities", {"id": "urn:x:1", "type": "T", "@context": "https://x.org/c"},
                        headers={"Content-Type": LD,
                                 "Link": '<https://x.org/c>; rel="http://www.w3.org/ns/json-ld#context"'})
    assert response.status_code == 400


def test_not_acceptable(api: Api) -> None:
    api.create({"id": "urn:x:1", "type": "T"})
    response = api.get("/entities/urn:x:1", headers={"Accept": "text/html"})
    assert response.status_code == 406


def test_contexts_preloaded_from_a_directory(tmp_path: Path) -> None:
    ctx_dir = tmp_path / "contexts"
    ctx_dir.mkdir()
    (ctx_dir / "city.jsonld").write_text(json.dumps({"@context": {"Bin": "https://city.example/Bin",
                                                                  "fill": "https://city.example/fill"}}))
    (ctx_dir / "contexts.json").write_text(json.dumps({"https://city.example/ctx.jsonld": "city.jsonld"}))
    broker = BrokerProcess(CIC_CONTEXT_DIR=str(ctx_dir))
    try:
        # no network needed, and the fetch policy does not apply (city.example is not an allowed host)
        api = Api(broker.url, None, context="https://city.example/ctx.jsonld")
        api.create({"id": "urn:ngsi-ld:Bin:1", "type": "Bin", "fill": 0.5})
        plain = Api(broker.url, None).get("/entities/urn:ngsi-ld:Bin:1").json()
        assert plain["type"] == "https://city.example/Bin" and plain["https://city.example/fill"]["value"] == 0.5
        assert api.get("/entities/urn:ngsi-ld:Bin:1").json()["fill"]["value"] == 0.5
    finally:
        broker.stop()
