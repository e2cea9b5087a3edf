"""Discovery and operations: /types, /attributes, served @contexts, /version, /health, /metrics.

The discovery answers read every entity of the tenant (or of a type): they run in the query pool,
so that a large context does not hold up the event loop and everyone else's requests.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

import citiesincharge
from citiesincharge import ldcontext

from ..entity_query import EntityQuery
from ..errors import ResourceNotFound
from ..http import JSON_LD, accepted, json_response, tenant_of
from ..paths import SegmentRoute
from .common import broker_of, request_term_map

router = APIRouter(tags=["discovery and operations"], route_class=SegmentRoute)


@router.get("/ngsi-ld/v1/types")
async def list_types(request: Request, details: bool = False) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    context, tm = await request_term_map(request)

    def summarise() -> tuple[Counter[str], dict[str, set[str]]]:
        counts: Counter[str] = Counter()
        attrs: dict[str, set[str]] = {}
        for entity in broker.store.scan(tenant):
            for type_iri in entity["type"]:
                counts[type_iri] += 1
                attrs.setdefault(type_iri, set()).update(entity["attrs"])
        return counts, attrs

    counts, attrs = await broker.offload(summarise)
    if details:
        body: Any = [{"id": t, "type": "EntityType", "typeName": tm.compact(t),
                      "attributeNames": sorted(tm.compact(a) for a in attrs[t])} for t in counts]
    else:
        body = {"id": "urn:ngsi-ld:EntityTypeList:" + (tenant or "default"), "type": "EntityTypeList",
                "typeList": sorted(tm.compact(t) for t in counts)}
    return json_response(body, media=accepted(request), context=context)


@router.get("/ngsi-ld/v1/types/{type_name}")
async def type_info(request: Request, type_name: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    context, tm = await request_term_map(request)
    iri = tm.expand(type_name)

    def summarise() -> tuple[int, list[str]]:
        entities, _total = broker.store.query(tenant, EntityQuery(types={iri}))
        return len(entities), sorted({a for e in entities for a in e["attrs"]})

    count, names = await broker.offload(summarise)
    if not count:
        raise ResourceNotFound(f"no entity of type {type_name}")
    body = {"id": iri, "type": "EntityTypeInfo", "typeName": tm.compact(iri), "entityCount": count,
            "attributeDetails": [{"id": a, "type": "Attribute", "attributeName": tm.compact(a)} for a in names]}
    return json_response(body, media=accepted(request), context=context)


@router.get("/ngsi-ld/v1/attributes")
async def list_attributes(request: Request) -> Response:
    broker = broker_of(request)
    context, tm = await request_term_map(request)
    tenant = tenant_of(request)
    names = await broker.offload(lambda: {a for e in broker.store.scan(tenant) for a in e["attrs"]})
    body = {"id": "urn:ngsi-ld:AttributeList:" + (tenant_of(request) or "default"), "type": "AttributeList",
            "attributeList": sorted(tm.compact(a) for a in names)}
    return json_response(body, media=accepted(request), context=context)


@router.get("/ngsi-ld/v1/attributes/{attr_name}")
async def attribute_info(request: Request, attr_name: str) -> Response:
    broker = broker_of(request)
    context, tm = await request_term_map(request)
    iri = tm.expand(attr_name)
    tenant = tenant_of(request)
    holders = await broker.offload(lambda: [e for e in broker.store.scan(tenant) if iri in e["attrs"]])
    if not holders:
        raise ResourceNotFound(f"no entity has attribute {attr_name}")
    body = {"id": iri, "type": "Attribute", "attributeName": tm.compact(iri), "attributeCount": len(holders),
            "attributeTypes": sorted({i["type"] for e in holders for i in e["attrs"][iri]}),
            "typeNames": sorted({tm.compact(t) for e in holders for t in e["type"]})}
    return json_response(body, media=accepted(request), context=context)


@router.get(ldcontext.PROJECT_CONTEXT_PATH)
async def project_context() -> Response:
    return JSONResponse(ldcontext.project_context_document(), media_type=JSON_LD,
                        headers={"Cache-Control": "public, max-age=3600"})


@router.get("/ngsi-ld/contexts/vendored/{file_name}")
async def vendored_context(file_name: str) -> Response:
    if file_name not in ldcontext.VENDORED_CONTEXTS.values():
        raise ResourceNotFound(f"no vendored @context named {file_name}")
    return JSONResponse(ldcontext.load_vendored(file_name), media_type=JSON_LD)


@router.get("/version")
async def version(request: Request) -> dict[str, Any]:
    broker = broker_of(request)
    return {"broker": "citiesincharge-embedded", "version": citiesincharge.__version__,
            "ngsiLdSpec": "ETSI GS CIM 009 v1.8 (subset)", "coreContext": ldcontext.CORE_CONTEXT_URL,
            "persistent": not broker.settings.broker_memory}


@router.get("/health")
async def health() -> dict[str, str]:
    """Up or not, nothing more: /health is public even with a token, so it must not tell anyone
    how many entities or subscriptions there are. Counts are on /metrics, which auth covers."""
    return {"status": "ok"}


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(generate_latest(broker_of(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
