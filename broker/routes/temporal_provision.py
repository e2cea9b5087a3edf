"""Temporal provision: write the history of an entity through /ngsi-ld/v1/temporal/entities
(ETSI GS CIM 009 §5.6.11-5.6.17, HTTP binding §6.18-6.22).

Each route validates its ids and body, then makes one call on :class:`broker.temporal_store.TemporalStore`.
Temporal writes change no current entity, so they notify no subscriber.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..attributes import check_entity_id, is_uri
from ..errors import BadRequestData
from ..http import read_body, tenant_of
from ..paths import SegmentRoute, segment_url
from ..temporal_input import (
    check_attr_name,
    parse_fragment_body,
    parse_instance_patch,
    parse_temporal_attrs,
    parse_temporal_entity,
)
from ..timeutil import now_iso
from .common import broker_of, request_term_map

router = APIRouter(prefix="/ngsi-ld/v1/temporal/entities", tags=["temporal"], route_class=SegmentRoute)
_ATTR = "/{entity_id:maybe_empty}/attrs/{attr_id:maybe_empty}"


def _check_instance_id(instance_id: str) -> str:
    if not is_uri(instance_id):
        raise BadRequestData(f"instanceId {instance_id!a} is not a URI")
    return instance_id


@router.post("", status_code=201)
@router.post("/", status_code=201, include_in_schema=False)
async def create_or_update_temporal_entity(request: Request) -> Response:
    """201 and a Location for a new temporal entity; 204 when instances were added to one."""
    broker = broker_of(request)
    tenant = tenant_of(request)
    body = await read_body(request)
    tm = await broker.term_map(body.context)
    entity_id, types, attrs = parse_temporal_entity(body.data, tm, now_iso())
    broker.store.ensure_tenant(tenant)
    if broker.store.temporal.append(tenant, entity_id, types, attrs, create=True):
        return Response(status_code=201, headers={
            "Location": segment_url("ngsi-ld", "v1", "temporal", "entities", entity_id)})
    return Response(status_code=204)


@router.delete("/{entity_id}", status_code=204)
async def delete_temporal_entity(request: Request, entity_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    broker.store.require_tenant(tenant)
    broker.store.temporal.delete_entity(tenant, entity_id)
    return Response(status_code=204)


@router.post("/{entity_id:maybe_empty}/attrs", status_code=204)
async def append_temporal_attrs(request: Request, entity_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    body = await read_body(request)
    fragment = parse_fragment_body(body.data, entity_id)
    tm = await broker.term_map(body.context)
    attrs = parse_temporal_attrs(fragment, tm, now_iso())
    broker.store.require_tenant(tenant)
    broker.store.temporal.append(tenant, entity_id, None, attrs, create=False)
    return Response(status_code=204)


@router.delete(_ATTR, status_code=204)
async def delete_temporal_attr(request: Request, entity_id: str, attr_id: str, datasetId: str | None = None,
                               deleteAll: bool = False) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    check_attr_name(attr_id)
    if datasetId is not None and not is_uri(datasetId):
        raise BadRequestData(f"datasetId {datasetId!a} is not a URI")
    _context, tm = await request_term_map(request)
    broker.store.require_tenant(tenant)
    broker.store.temporal.delete_attr(tenant, entity_id, tm.expand(attr_id), datasetId, deleteAll)
    return Response(status_code=204)


@router.patch("/{entity_id:maybe_empty}/attrs/{attr_id}/{instance_id}", status_code=204)
async def patch_temporal_instance(request: Request, entity_id: str, attr_id: str, instance_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    check_attr_name(attr_id)
    _check_instance_id(instance_id)
    body = await read_body(request)
    tm = await broker.term_map(body.context)
    patch = parse_instance_patch(body.data, attr_id, tm, now_iso())
    broker.store.require_tenant(tenant)
    broker.store.temporal.patch_instance(tenant, entity_id, tm.expand(attr_id), instance_id, patch)
    return Response(status_code=204)


@router.delete(_ATTR + "/{instance_id:maybe_empty}", status_code=204)
async def delete_temporal_instance(request: Request, entity_id: str, attr_id: str, instance_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    check_attr_name(attr_id)
    _check_instance_id(instance_id)
    _context, tm = await request_term_map(request)
    broker.store.require_tenant(tenant)
    broker.store.temporal.delete_instance(tenant, entity_id, tm.expand(attr_id), instance_id)
    return Response(status_code=204)
