"""/ngsi-ld/v1/entities: create, retrieve, query, replace, merge, attributes, delete (§5.6, 5.7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..attributes import check_entity_id, parse_entity
from ..entity_query import EntityQuery
from ..errors import BadRequestData, InvalidRequest, ResourceNotFound
from ..geo import compile_geo
from ..http import accepted, json_response, output_format, parse_options, read_body, split_list, tenant_of
from ..paths import SegmentRoute, segment_url
from ..query import compile_query
from ..service import Broker
from ..timeutil import now_iso
from ..view import EntityView
from .common import broker_of, expand_all, paging, request_term_map

router = APIRouter(prefix="/ngsi-ld/v1", tags=["entities"], route_class=SegmentRoute)
_READ_OPTIONS = {"keyValues", "simplified", "concise", "normalized", "sysAttrs", "count"}


def _geojson_feature(entity_id: str, rendered: dict[str, Any], geoproperty: str) -> dict[str, Any]:
    """One GeoJSON Feature; the id comes from the stored entity, as ``pick``/``omit`` may have
    left it out of the rendered one (and a Feature has an id whatever the projection)."""
    geometry = rendered.get(geoproperty)
    if isinstance(geometry, dict):
        geometry = geometry.get("value", geometry)
    return {"id": entity_id, "type": "Feature", "geometry": geometry,
            "properties": {k: v for k, v in rendered.items() if k != "id"}}


@router.post("/entities", status_code=201)
async def create_entity(request: Request) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    body = await read_body(request)
    if not isinstance(body.data, dict):
        raise InvalidRequest("the body of an entity creation must be a JSON object (one entity)")
    tm = await broker.term_map(body.context)
    entity = parse_entity(body.data, tm, now_iso())
    change = broker.store.create(tenant, entity)
    broker.publish(tenant, [change])
    return Response(status_code=201, headers={"Location": segment_url("ngsi-ld", "v1", "entities", entity["id"])})


@router.get("/entities")
async def query_entities(
    request: Request,
    id: str | None = Query(None, description="comma-separated entity ids"),
    type: str | None = Query(None, description="comma-separated entity types"),
    idPattern: str | None = None,
    attrs: str | None = None,
    q: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | None = None,
    geoproperty: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
    count: bool = False,
    options: str | None = None,
    format: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    join: str | None = None,
    joinLevel: str | None = None,
) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    media = accepted(request, geo=True)
    context, tm = await request_term_map(request)
    opts = parse_options(options, _READ_OPTIONS)
    fmt = output_format(opts, format)
    if media == "application/geo+json" and format is None and not opts & {"normalized", "concise"}:
        fmt = "keyValues"  # GeoJSON properties read best as plain values
    size, start = paging(limit, offset)
    ids = split_list(id)
    if ids is not None:
        for entity_id in ids:
            check_entity_id(entity_id)
    if not any((ids, type, idPattern, attrs, q, georel)):
        raise BadRequestData("a query needs at least one of id, type, idPattern, attrs, q or georel")
    view = EntityView.parse(tm, fmt, "sysAttrs" in opts, expand_all(tm, split_list(attrs)), attrs_param=attrs,
                            pick=pick, omit=omit, join=join, join_level=joinLevel)
    query = EntityQuery(
        ids=ids,
        types=expand_all(tm, split_list(type)),
        id_pattern=EntityQuery.pattern(idPattern),
        attrs=view.attrs,
        q=compile_query(q, tm) if q else None,
        geo=compile_geo(georel, geometry, coordinates, tm.expand(geoproperty or "location")),
    )
    counted = count or "count" in opts

    def run() -> tuple[Any, int | None]:  # in the query pool: the event loop keeps serving others
        page, total = broker.store.query(tenant, query, start, size, total=counted)
        if media == "application/geo+json":
            geo_name = geoproperty or "location"
            features = [_geojson_feature(e["id"], view.render(e, view.pick, view.omit), geo_name) for e in page]
            return {"type": "FeatureCollection", "features": features}, total
        return view.show(page, _lookup(broker, tenant)), total

    rendered, total = await broker.offload(run)
    headers = {"NGSILD-Results-Count": str(total)} if counted else {}
    return json_response(rendered, media=media, context=context, headers=headers)


def _lookup(broker: Broker, tenant: str) -> Callable[[str], dict[str, Any] | None]:
    def find(entity_id: str) -> dict[str, Any] | None:
        try:
            return broker.store.get(tenant, entity_id)
        except ResourceNotFound:
            return None
    return find


@router.get("/entities/{entity_id}")
async def retrieve_entity(request: Request, entity_id: str, attrs: str | None = None,
                          options: str | None = None, format: str | None = None,
                          pick: str | None = None, omit: str | None = None,
                          join: str | None = None, joinLevel: str | None = None) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    media = accepted(request, geo=True)
    check_entity_id(entity_id)
    context, tm = await request_term_map(request)
    opts = parse_options(options, _READ_OPTIONS)
    view = EntityView.parse(tm, output_format(opts, format), "sysAttrs" in opts, expand_all(tm, split_list(attrs)),
                            attrs_param=attrs, pick=pick, omit=omit, join=join, join_level=joinLevel)
    entity = broker.store.get(tenant, entity_id)
    if media == "application/geo+json":
        rendered = view.render(entity, view.pick, view.omit)
        return json_response(_geojson_feature(entity["id"], rendered, "location"), media=media, context=context)
    shown = view.show([entity], _lookup(broker, tenant))
    if not shown:
        raise ResourceNotFound(f"entity {entity_id} has none of the members pick/omit leave to show")
    payload: Any = shown if len(shown) > 1 else shown[0]  # flat: a list when something was linked
    return json_response(payload, media=media, context=context)


@router.put("/entities/{entity_id}", status_code=204)
async def replace_entity(request: Request, entity_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    body = await read_body(request)
    if not isinstance(body.data, dict):
        raise BadRequestData("an entity must be a JSON object")
    data = dict(body.data)
    if data.setdefault("id", entity_id) != entity_id:
        raise BadRequestData(f"body id {data['id']} differs from the URL's {entity_id}")
    if "type" not in data:  # stored type IRIs expand to themselves under any context
        data["type"] = list(broker.store.get(tenant, entity_id)["type"])
    tm = await broker.term_map(body.context)
    entity = parse_entity(data, tm, now_iso())
    change = broker.store.replace(tenant, entity)
    broker.publish(tenant, [change])
    return Response(status_code=204)


@router.delete("/entities/{entity_id}", status_code=204)
async def delete_entity(request: Request, entity_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    changes, errors = broker.store.delete_many(tenant, [entity_id])
    if errors:
        raise errors[0][1]
    broker.publish(tenant, changes)
    return Response(status_code=204)
