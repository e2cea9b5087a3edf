"""/ngsi-ld/v1/entityOperations: batch create, upsert, update, delete, query (§5.6.7-5.6.10).

Each entity of a batch is parsed and applied on its own: one bad entity becomes an entry in the
207 ``errors`` list and the rest of the batch lands, in one SQLite transaction.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..attributes import check_entity_id, parse_entity, render_entity
from ..entity_query import EntityQuery
from ..errors import BadRequestData, NgsiLdError
from ..geo import compile_geo
from ..http import accepted, json_response, output_format, parse_options, read_body, tenant_of
from ..paths import SegmentRoute
from ..query import compile_query
from ..query_body import parse_query_body
from ..store import AttributesKept
from ..timeutil import now_iso
from .common import broker_of, expand_all, paging

router = APIRouter(prefix="/ngsi-ld/v1/entityOperations", tags=["batch"], route_class=SegmentRoute)


def _problem(entity_id: Any, error: NgsiLdError) -> dict[str, Any]:
    return {"entityId": entity_id, "error": error.body()}


def _result(success: list[str], errors: list[dict[str, Any]], ok_status: int, ok_body: bool) -> Response:
    if errors:
        return json_response({"success": success, "errors": errors}, media="application/json",
                             context=None, status=207)
    if ok_body:
        return json_response(success, media="application/json", context=None, status=ok_status)
    return Response(status_code=204)


async def _write(request: Request, mode: Literal["create", "replace", "update", "noOverwrite", "merge"], *,
                 must_exist: bool = False) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    broker = broker_of(request)
    tenant = tenant_of(request)
    body = await read_body(request, per_item=True)
    if not isinstance(body.data, list) or not body.data:
        raise BadRequestData("a batch operation needs a non-empty JSON array of entities")
    now = now_iso()
    parsed, errors = [], []
    for item in body.data:
        item_id = item.get("id") if isinstance(item, dict) else None
        try:
            context = body.item_context(item) if isinstance(item, dict) else body.context
            tm = await broker.term_map(context)
            parsed.append(parse_entity(item, tm, now))
        except NgsiLdError as error:
            errors.append(_problem(item_id, error))
    changes, failures = broker.store.write_many(tenant, parsed, mode=mode, must_exist=must_exist)
    errors += [_problem(entity_id, error) for entity_id, error in failures if isinstance(error, NgsiLdError)]
    broker.publish(tenant, changes)
    created = [c.entity_id for c in changes if c.created]
    partial = {entity_id for entity_id, error in failures if isinstance(error, AttributesKept)}
    return [c.entity_id for c in changes if c.entity_id not in partial], created, errors


@router.post("/create")
async def batch_create(request: Request) -> Response:
    success, _created, errors = await _write(request, "create")
    return _result(success, errors, 201, True)


@router.post("/upsert")
async def batch_upsert(request: Request, options: str | None = None) -> Response:
    opts = parse_options(options, {"replace", "update"})
    if opts == {"replace", "update"}:
        raise BadRequestData("options replace and update are mutually exclusive")
    success, created, errors = await _write(request, "update" if "update" in opts else "replace")
    if errors:
        return _result(success, errors, 201, True)
    return _result(created, [], 201, True) if created else Response(status_code=204)


@router.post("/update")
async def batch_update(request: Request, options: str | None = None) -> Response:
    opts = parse_options(options, {"noOverwrite"})
    success, _created, errors = await _write(request, "noOverwrite" if opts else "update", must_exist=True)
    return _result(success, errors, 204, False)


@router.post("/merge")
async def batch_merge(request: Request) -> Response:
    """Merge-patch each entity into the existing one (§5.6.20): NGSI-LD Null deletes, absent
    sub-attributes are kept; an entity that does not exist is that entity's error."""
    success, _created, errors = await _write(request, "merge", must_exist=True)
    return _result(success, errors, 204, False)


@router.post("/delete")
async def batch_delete(request: Request) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    body = await read_body(request)
    if not isinstance(body.data, list) or not body.data:
        raise BadRequestData("batch delete needs a non-empty JSON array of entity ids")
    ids, errors = [], []
    for item in body.data:
        try:
            ids.append(check_entity_id(item))
        except NgsiLdError as error:
            errors.append(_problem(item, error))
    changes, failures = broker.store.delete_many(tenant, ids)
    errors += [_problem(entity_id, error) for entity_id, error in failures if isinstance(error, NgsiLdError)]
    broker.publish(tenant, changes)
    return _result([c.entity_id for c in changes], errors, 204, False)


@router.post("/query")
async def batch_query(request: Request, limit: str | None = None, offset: str | None = None,
                      count: bool = False, options: str | None = None) -> Response:
    """Query with a body (``type: Query``): for long id lists and q expressions that outgrow a URL."""
    broker = broker_of(request)
    tenant = tenant_of(request)
    media = accepted(request)
    body = await read_body(request)
    spec = parse_query_body(body.data)
    tm = await broker.term_map(body.context)
    opts = parse_options(options, {"keyValues", "simplified", "concise", "normalized", "sysAttrs", "count"})
    size, start = paging(limit, offset)
    geo = spec.geoQ
    base = EntityQuery(attrs=expand_all(tm, spec.attrs), q=compile_query(spec.q, tm) if spec.q else None,
                       geo=compile_geo(geo.georel, geo.geometry, json.dumps(geo.coordinates),
                                       tm.expand(geo.geoproperty)) if geo else None)
    queries = [EntityQuery(ids=[s.id] if s.id else None, types={tm.expand(s.type)} if s.type else None,
                           id_pattern=EntityQuery.pattern(s.idPattern), attrs=base.attrs, q=base.q, geo=base.geo)
               for s in spec.entities or ()] or [base]

    def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # in the query pool, off the event loop
        seen: dict[str, dict[str, Any]] = {}
        for query in queries:
            for entity in broker.select(tenant, query):
                seen.setdefault(entity["id"], entity)
        matches = list(seen.values())
        return matches, [render_entity(e, tm, fmt=output_format(opts), attrs=base.attrs, sys_attrs="sysAttrs" in opts)
                         for e in matches[start:start + size]]

    matches, rendered = await broker.offload(run)
    headers = {"NGSILD-Results-Count": str(len(matches))} if count or "count" in opts else None
    return json_response(rendered, media=media, context=body.context, headers=headers)
