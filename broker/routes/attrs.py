"""Attribute writes on one entity: merge-patch, append, update, partial update, replace, delete.

All of them are "parse a fragment with the request's context, apply it with a merge mode,
publish the change"; :func:`_apply` is that one mechanism, and each route only names its mode.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..attributes import check_entity_id, parse_fragment
from ..errors import BadRequestData, ResourceNotFound
from ..http import json_response, parse_options, read_body, tenant_of
from ..jsonld import TermMap
from ..paths import SegmentRoute
from ..store import MergeMode
from ..timeutil import now_iso
from .common import broker_of, request_term_map

router = APIRouter(prefix="/ngsi-ld/v1/entities/{entity_id}", tags=["attributes"], route_class=SegmentRoute)


async def _apply(request: Request, entity_id: str, mode: MergeMode, *, attr_id: str | None = None,
                 merge_patch: bool = False) -> tuple[dict[str, Any], list[str], TermMap]:
    """Parse the body as an attribute fragment (or as attribute ``attr_id``) and apply it."""
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    body = await read_body(request, allow_merge_patch=merge_patch)
    if not isinstance(body.data, dict):
        raise BadRequestData("an attribute fragment must be a JSON object")
    if body.data.get("id", entity_id) != entity_id:
        raise BadRequestData(f"body id {body.data['id']} differs from the URL's {entity_id}")
    tm = await broker.term_map(body.context)
    fragment = body.data
    if attr_id is not None:
        current = broker.store.get(tenant, entity_id)["attrs"].get(tm.expand(attr_id))
        if current is None:
            raise ResourceNotFound(f"entity {entity_id} has no attribute {attr_id}")
        if mode == "merge" and "type" not in fragment:
            fragment = {**fragment, "type": current[0]["type"]}  # a partial update keeps the type
        fragment = {attr_id: fragment}
    now = now_iso()
    attrs = parse_fragment(fragment, tm, now)
    change, not_updated = broker.store.update_attrs(tenant, entity_id, attrs, mode, now)
    broker.publish(tenant, [change])
    return attrs, not_updated, tm


def _result(attrs: dict[str, Any], not_updated: list[str], tm: TermMap, why: str) -> Response:
    """204, or 207 with ``{updated, notUpdated}`` when some attributes were left alone."""
    if not not_updated:
        return Response(status_code=204)
    body = {"updated": [tm.compact(a) for a in attrs if a not in not_updated],
            "notUpdated": [{"attributeName": tm.compact(a), "reason": f"attribute {why}"}
                           for a in dict.fromkeys(not_updated)]}
    return json_response(body, media="application/json", context=None, status=207)


@router.patch("", status_code=204)
async def merge_entity(request: Request, entity_id: str) -> Response:
    await _apply(request, entity_id, "merge", merge_patch=True)
    return Response(status_code=204)


@router.post("/attrs")
async def append_attrs(request: Request, entity_id: str, options: str | None = None) -> Response:
    no_overwrite = "noOverwrite" in parse_options(options, {"noOverwrite"})
    attrs, not_updated, tm = await _apply(request, entity_id, "noOverwrite" if no_overwrite else "overwrite")
    return _result(attrs, not_updated, tm, "was not overwritten (options=noOverwrite)")


@router.patch("/attrs")
async def update_attrs(request: Request, entity_id: str) -> Response:
    attrs, not_updated, tm = await _apply(request, entity_id, "onlyExisting")
    return _result(attrs, not_updated, tm, "does not exist")


@router.patch("/attrs/{attr_id}", status_code=204)
async def partial_attr_update(request: Request, entity_id: str, attr_id: str) -> Response:
    await _apply(request, entity_id, "merge", attr_id=attr_id)
    return Response(status_code=204)


@router.put("/attrs/{attr_id}", status_code=204)
async def replace_attr(request: Request, entity_id: str, attr_id: str) -> Response:
    await _apply(request, entity_id, "overwrite", attr_id=attr_id)
    return Response(status_code=204)


@router.delete("/attrs/{attr_id}", status_code=204)
async def delete_attr(request: Request, entity_id: str, attr_id: str, datasetId: str | None = None,
                      deleteAll: bool = False) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    _context, tm = await request_term_map(request)
    change = broker.store.delete_attr(tenant, entity_id, tm.expand(attr_id), datasetId, deleteAll, now_iso())
    broker.publish(tenant, [change])
    return Response(status_code=204)
