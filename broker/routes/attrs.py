"""Attribute writes on one entity: merge-patch, append, update, partial update, replace, delete.

All of them are "parse a fragment with the request's context, apply it with a merge mode,
publish the change"; :func:`_apply` is that one mechanism, and each route only names its mode.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..attributes import (
    PAYLOAD_MEMBER,
    SCOPE,
    check_attribute_name,
    check_entity_id,
    parse_fragment,
    parse_scope,
    parse_types,
)
from ..errors import BadRequestData, ResourceNotFound
from ..http import json_response, parse_options, read_body, tenant_of
from ..jsonld import TermMap
from ..paths import SegmentRoute
from ..store import MergeMode
from ..timeutil import now_iso
from .common import broker_of, request_term_map

router = APIRouter(prefix="/ngsi-ld/v1/entities/{entity_id}", tags=["attributes"], route_class=SegmentRoute)


async def _fragment(request: Request, entity_id: str, *, merge_patch: bool = False) -> tuple[dict[str, Any], TermMap]:
    """The body as a JSON object of attribute members, with the term map of its @context."""
    check_entity_id(entity_id)
    body = await read_body(request, allow_merge_patch=merge_patch)
    if not isinstance(body.data, dict):
        raise BadRequestData("an attribute fragment must be a JSON object")
    if body.data.get("id", entity_id) != entity_id:
        raise BadRequestData(f"body id {body.data['id']} differs from the URL's {entity_id}")
    return body.data, await broker_of(request).term_map(body.context)


async def _apply(request: Request, entity_id: str, mode: MergeMode, *,
                 merge_patch: bool = False) -> tuple[list[str], list[str]]:
    """Apply the body's attributes, types and scope with a merge mode."""
    fragment, tm = await _fragment(request, entity_id, merge_patch=merge_patch)
    now = now_iso()
    attrs = parse_fragment(fragment, tm, now)
    types = parse_types(fragment["type"], tm, entity_id) if "type" in fragment else None
    scope = parse_scope(fragment["scope"]) if "scope" in fragment else None
    not_updated = _store(request, entity_id, attrs, mode, now, types=types, scope=scope)
    return [*attrs, *([SCOPE] if scope is not None else [])], not_updated


async def _apply_one(request: Request, entity_id: str, attr_id: str, mode: MergeMode) -> None:
    """Apply the body as the one attribute ``attr_id`` (its @context member is not an attribute).

    A partial update (``merge``) changes an existing instance, so the instance of the body's
    datasetId (or the default instance) must exist (§5.6.4); a replacement needs the attribute.
    """
    check_attribute_name(attr_id)
    fragment, tm = await _fragment(request, entity_id)
    fragment = {k: v for k, v in fragment.items() if k != "@context"}
    current = broker_of(request).store.get(tenant_of(request), entity_id)["attrs"].get(tm.expand(attr_id))
    if current is None:
        raise ResourceNotFound(f"entity {entity_id} has no attribute {attr_id}")
    if mode == "merge":
        dataset_id = fragment.get("datasetId")
        instance = next((i for i in current if i.get("datasetId") == dataset_id), None)
        if instance is None:
            raise ResourceNotFound(f"attribute {attr_id} of {entity_id} has no "
                                   + (f"instance with datasetId {dataset_id}" if dataset_id else "default instance"))
        if fragment.setdefault("type", instance["type"]) != instance["type"]:
            raise BadRequestData(f"attribute {attr_id} is a {instance['type']}; a partial update cannot "
                                 f"make it a {fragment['type']} (replace the attribute instead)")
        member = PAYLOAD_MEMBER[instance["type"]]
        fragment.setdefault(member, instance[member])  # a partial update may change metadata only
    now = now_iso()
    _store(request, entity_id, parse_fragment({attr_id: fragment}, tm, now), mode, now)


def _store(request: Request, entity_id: str, attrs: dict[str, Any], mode: MergeMode, now: str, *,
           types: list[str] | None = None, scope: list[str] | None = None) -> list[str]:
    """Write and publish; returns the names left alone."""
    broker = broker_of(request)
    tenant = tenant_of(request)
    change, not_updated = broker.store.update_attrs(tenant, entity_id, attrs, mode, now, types=types, scope=scope)
    broker.publish(tenant, [change])
    return not_updated


def _result(names: list[str], not_updated: list[str], why: str) -> Response:
    """204, or 207 with ``{updated, notUpdated}`` when some attributes were left alone; names are
    fully qualified, as §5.2.18 / 6.3.6 require of an UpdateResult."""
    if not not_updated:
        return Response(status_code=204)
    body = {"updated": [a for a in names if a not in not_updated],
            "notUpdated": [{"attributeName": a, "reason": f"attribute {why}"}
                           for a in dict.fromkeys(not_updated)]}
    return json_response(body, media="application/json", context=None, status=207)


@router.patch("", status_code=204)
async def merge_entity(request: Request, entity_id: str) -> Response:
    await _apply(request, entity_id, "merge", merge_patch=True)
    return Response(status_code=204)


@router.post("/attrs")
async def append_attrs(request: Request, entity_id: str, options: str | None = None) -> Response:
    no_overwrite = "noOverwrite" in parse_options(options, {"noOverwrite"})
    names, not_updated = await _apply(request, entity_id, "noOverwrite" if no_overwrite else "overwrite")
    return _result(names, not_updated, "was not overwritten (options=noOverwrite)")


@router.patch("/attrs")
async def update_attrs(request: Request, entity_id: str) -> Response:
    names, not_updated = await _apply(request, entity_id, "onlyExisting")
    return _result(names, not_updated, "does not exist")


@router.patch("/attrs/{attr_id}", status_code=204)
async def partial_attr_update(request: Request, entity_id: str, attr_id: str) -> Response:
    await _apply_one(request, entity_id, attr_id, "merge")
    return Response(status_code=204)


@router.put("/attrs/{attr_id}", status_code=204)
async def replace_attr(request: Request, entity_id: str, attr_id: str) -> Response:
    await _apply_one(request, entity_id, attr_id, "overwrite")
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
