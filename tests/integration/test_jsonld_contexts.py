"""/ngsi-ld/v1/jsonldContexts (GS CIM 009 §5.13): hosted @contexts added, listed, served, used,
deleted; the core context listed and protected; hostile input refused with a specific
ProblemDetails; limits; hosted contexts surviving a restart. Real HTTP against real brokers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.support import Api, BrokerProcess, problem_type

LD = "application/ld+json"
CORE_V16 = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
TERMS = {"@context": {"Bin": "https://city.example/Bin", "fill": "https://city.example/fillLevel"}}


@pytest.fixture
def ctx(embedded: str, tenant: str) -> Api:
    return Api(embedded, tenant)


def add(ctx: Api, document: Any = TERMS) -> str:
    """POST a context; returns its local id (the Location's last segment)."""
    response = ctx.post("/jsonldContexts", document)
    assert response.status_code == 201 and response.content == b"", response.text
    location = response.headers["Location"]
    assert location.startswith("/ngsi-ld/v1/jsonldContexts/")
    return location.rsplit("/", 1)[1]


def details(ctx: Api, identifier: str) -> dict[str, Any]:
    response = ctx.get(f"/jsonldContexts/{quote(identifier, safe='')}", {"details": "true"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_hosted_context_is_added_served_listed_and_deleted(ctx: Api) -> None:
    local_id = add(ctx)
    served = ctx.get(f"/jsonldContexts/{local_id}")
    assert served.status_code == 200 and served.headers["Content-Type"] == "application/json"
    assert served.json() == TERMS
    meta = details(ctx, local_id)
    assert meta["kind"] == "Hosted" and meta["localId"] == local_id
    assert meta["URL"] == f"{ctx.root}/ngsi-ld/v1/jsonldContexts/{local_id}"
    assert set(meta) <= {"URL", "localId", "kind", "createdAt", "lastUsage", "numberOfHits"}
    assert meta["URL"] in ctx.get("/jsonldContexts", {"kind": "Hosted"}).json()
    assert meta["URL"] not in ctx.get("/jsonldContexts", {"kind": "Cached"}).json()
    assert ctx.delete(f"/jsonldContexts/{local_id}").status_code == 204
    assert problem_type(ctx.get(f"/jsonldContexts/{local_id}")) == "ResourceNotFound"
    assert problem_type(ctx.delete(f"/jsonldContexts/{local_id}")) == "ResourceNotFound"


def test_a_hosted_context_expands_by_its_url_and_counts_its_uses(ctx: Api) -> None:
    local_id = add(ctx)
    url = details(ctx, local_id)["URL"]
    assert details(ctx, local_id)["numberOfHits"] == 0  # looking at the metadata is no use
    by_link = Api(ctx.root, ctx.tenant, context=url)
    by_link.create({"id": "urn:ngsi-ld:Bin:1", "type": "Bin", "fill": 0.5})
    relative = ctx.post("/entities", {"id": "urn:ngsi-ld:Bin:2", "type": "Bin", "fill": 0.7,
                                      "@context": f"/ngsi-ld/v1/jsonldContexts/{local_id}"},
                        headers={"Content-Type": LD})
    assert relative.status_code == 201, relative.text
    stored = ctx.get("/entities", {"type": "https://city.example/Bin"}).json()
    assert sorted(e["https://city.example/fillLevel"]["value"] for e in stored) == [0.5, 0.7]
    meta = details(ctx, local_id)
    assert meta["numberOfHits"] == 2 and meta["lastUsage"] >= meta["createdAt"]


def test_a_deleted_hosted_context_no_longer_expands(ctx: Api) -> None:
    local_id = add(ctx)
    by_link = Api(ctx.root, ctx.tenant, context=details(ctx, local_id)["URL"])
    by_link.create({"id": "urn:ngsi-ld:Bin:3", "type": "Bin"})
    assert ctx.delete(f"/jsonldContexts/{local_id}").status_code == 204
    response = by_link.get("/entities", {"type": "Bin"})
    assert response.status_code == 503 and problem_type(response) == "LdContextNotAvailable"


def test_contexts_in_use_are_listed_as_cached_and_the_core_is_protected(ctx: Api) -> None:
    listed = ctx.get("/jsonldContexts", {"details": "true", "kind": "Cached"}).json()
    core = next(e for e in listed if e["URL"] == CORE)
    assert core["kind"] == "Cached"
    assert details(ctx, CORE_V16)["localId"] == core["localId"]  # every core version is the core
    refused = ctx.get(f"/jsonldContexts/{quote(CORE, safe='')}")
    assert refused.status_code == 422 and problem_type(refused) == "OperationNotSupported"
    for reload in (None, "false"):
        response = ctx.delete(f"/jsonldContexts/{quote(CORE_V16, safe='')}", {"reload": reload})
        assert response.status_code == 400 and problem_type(response) == "BadRequestData"
    assert ctx.delete(f"/jsonldContexts/{quote(CORE_V16, safe='')}", {"reload": "true"}).status_code == 204
    assert details(ctx, CORE)["kind"] == "Cached"
    assert Api(ctx.root, None).get("/types").status_code == 200  # still expanding with it


@pytest.mark.parametrize(("identifier", "reload", "status", "error"), [
    ("no-such-context", "true", 400, "BadRequestData"),  # only a cached copy can be reloaded
    ("no-such-context", "false", 404, "ResourceNotFound"),
    ("no-such-context", None, 404, "ResourceNotFound"),
    ("no-such-context", "yes", 400, "BadRequestData"),
])
def test_delete_refusals(ctx: Api, identifier: str, reload: str | None, status: int, error: str) -> None:
    response = ctx.delete(f"/jsonldContexts/{identifier}", {"reload": reload})
    assert response.status_code == status and problem_type(response) == error


def test_a_hosted_context_cannot_be_reloaded(ctx: Api) -> None:
    local_id = add(ctx)
    response = ctx.delete(f"/jsonldContexts/{local_id}", {"reload": "true"})
    assert response.status_code == 400 and problem_type(response) == "BadRequestData"
    assert details(ctx, local_id)["kind"] == "Hosted"


@pytest.mark.parametrize(("params", "error"), [
    ({"kind": "Other"}, "BadRequestData"),
    ({"details": "maybe"}, "BadRequestData"),
    ({"details": "true", "kind": "hosted"}, "BadRequestData"),
    ({"detail": "true"}, "InvalidRequest"),  # a misspelt parameter is not ignored
])
def test_list_refusals(ctx: Api, params: dict[str, str], error: str) -> None:
    response = ctx.get("/jsonldContexts", params)
    assert response.status_code == 400 and problem_type(response) == error


@pytest.mark.parametrize(("body", "content_type", "status", "error"), [
    (b'{"A1": "urn:a:1" "A2": "urn:a:2"}', "application/json", 400, "InvalidRequest"),  # not JSON
    ({"A1": "urn:a:1"}, "application/json", 400, "InvalidRequest"),  # no @context member
    ([{"@context": {}}], "application/json", 400, "InvalidRequest"),  # not an object
    ({"@context": {"A1": 42}}, "application/json", 400, "BadRequestData"),  # a term that means nothing
    ({"@context": ["ftp://example.org/c.jsonld"]}, "application/json", 400, "BadRequestData"),
    ({"@context": []}, "application/json", 400, "BadRequestData"),
    ({"@context": {"A1": "urn:a:1"}}, "text/plain", 415, "InvalidRequest"),
])
def test_hostile_documents_are_refused(ctx: Api, body: Any, content_type: str, status: int, error: str) -> None:
    response = ctx.post("/jsonldContexts", body, headers={"Content-Type": content_type})
    assert response.status_code == status and problem_type(response) == error


def test_an_ld_json_document_is_accepted(ctx: Api) -> None:
    response = ctx.post("/jsonldContexts", TERMS, headers={"Content-Type": LD})
    assert response.status_code == 201


@pytest.fixture
def small_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(tmp_path, CIC_CONTEXT_MAX_STORED="2", CIC_CONTEXT_MAX_BYTES="2048")
    yield broker
    broker.stop()


def test_limits_on_size_and_count(small_broker: BrokerProcess) -> None:
    ctx = Api(small_broker.url, None)
    huge = {"@context": {f"T{n}": f"urn:t:{n}" for n in range(200)}}
    response = ctx.post("/jsonldContexts", huge)
    assert response.status_code == 413 and problem_type(response) == "BadRequestData"
    add(ctx)
    add(ctx)
    full = ctx.post("/jsonldContexts", TERMS)
    assert full.status_code == 422 and problem_type(full) == "OperationNotSupported"
    assert "CIC_CONTEXT_MAX_STORED" in full.json()["detail"]


def test_hosted_contexts_survive_a_restart(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path)
    try:
        local_id = add(Api(broker.url, None))
    finally:
        broker.stop()
    again = BrokerProcess(tmp_path, port=broker.port)
    try:
        response = requests.get(f"{again.url}/ngsi-ld/v1/jsonldContexts/{local_id}", timeout=5)
        assert response.status_code == 200 and response.json() == TERMS
    finally:
        again.stop()
