"""/ngsi-ld/v1/temporal: the history of one entity, of a query, or of a query given as a body
(§5.7.3, 5.7.4; HTTP binding §6.18, 6.24). The shaping lives in :mod:`broker.temporal_query`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError

from ..attributes import check_entity_id
from ..entity_query import EntityQuery
from ..errors import BadRequestData, ResourceNotFound
from ..http import accepted, json_response, read_body, split_list, tenant_of
from ..jsonld import TermMap
from ..paths import SegmentRoute
from ..query import Predicate, compile_query
from ..query_body import QueryIn
from ..service import Broker
from ..subscriptions import validation_message
from ..temporal_paging import Page
from ..temporal_query import Selector, TemporalParams, entity_types, select
from .common import broker_of, expand_all, paging, request_term_map

router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["temporal"], route_class=SegmentRoute)


@router.get("/entities/{entity_id}")
async def temporal_entity(request: Request, entity_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    context, tm = await request_term_map(request)
    params = TemporalParams(request.query_params, tm)
    broker.store.require_tenant(tenant)
    found = broker.store.temporal.entity(tenant, entity_id)
    types = entity_types(broker, tenant, found, entity_id)
    if params.attrs is not None and (found is None or not broker.store.temporal.with_instances(
            [found.number], sorted(params.attrs), "ts", None, None, False)):
        raise ResourceNotFound(f"temporal entity {entity_id} has none of the attributes {sorted(params.attrs)}")
    page = await broker.offload(params.page, broker, tenant, [entity_id])
    rendered = params.render(entity_id, types, page.histories[0], tm, page.kinds_of(0))
    if not rendered:
        raise ResourceNotFound(f"pick/omit leave nothing of temporal entity {entity_id}")
    return _paged(json_response(rendered, media=accepted(request), context=context), page)


@router.get("/entities")
async def temporal_query(request: Request, id: str | None = None, type: str | None = None,
                         idPattern: str | None = None, q: str | None = None, limit: str | None = None,
                         offset: str | None = None, count: bool = False) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    context, tm = await request_term_map(request)
    params = TemporalParams(request.query_params, tm)
    if not any((id, type, idPattern, q, params.attrs)):
        raise BadRequestData("a temporal query needs at least one of id, type, idPattern, q or attrs")
    ids = split_list(id)
    for entity_id in ids or []:
        check_entity_id(entity_id)
    selector = Selector(ids, EntityQuery(types=expand_all(tm, split_list(type)),
                                         id_pattern=EntityQuery.pattern(idPattern)))
    predicate = compile_query(q, tm) if q else None
    return await _answer(request, broker, tenant, tm, context, [selector], predicate, params,
                         paging(limit, offset), count)


class _TemporalQ(BaseModel):
    """``temporalQ`` of a Query (§5.2.23): the time window, as the GET parameters name it."""

    model_config = ConfigDict(extra="forbid")
    timerel: str | None = None
    timeAt: str | None = None
    endTimeAt: str | None = None
    timeproperty: str | None = None
    lastN: int | None = None


class _TemporalQueryIn(QueryIn):
    temporalQ: _TemporalQ | None = None


@router.post("/entityOperations/query")
async def temporal_query_by_body(request: Request, limit: str | None = None, offset: str | None = None,
                                 count: bool = False) -> Response:
    """The temporal query of a ``Query`` body; paging, options and format stay URL parameters."""
    broker = broker_of(request)
    tenant = tenant_of(request)
    body = await read_body(request)
    if not isinstance(body.data, dict):
        raise BadRequestData("the body must be a Query object ({\"type\": \"Query\", ...})")
    try:
        spec = _TemporalQueryIn.model_validate({k: v for k, v in body.data.items() if k != "@context"})
    except ValidationError as error:
        raise BadRequestData(validation_message(error, "query")) from None
    tm = await broker.term_map(body.context)
    window = spec.temporalQ.model_dump(exclude_none=True) if spec.temporalQ else {}
    merged = {**request.query_params, **{k: str(v) for k, v in window.items()},
              **({"attrs": ",".join(spec.attrs)} if spec.attrs else {})}
    params = TemporalParams(merged, tm)
    selectors = [Selector([s.id] if s.id else None,
                          EntityQuery(types={tm.expand(s.type)} if s.type else None,
                                      id_pattern=EntityQuery.pattern(s.idPattern)))
                 for s in spec.entities or ()] or [Selector(None, EntityQuery())]
    if spec.entities is None and not (spec.q or spec.attrs):
        raise BadRequestData("a temporal query needs entities, q or attrs")
    predicate = compile_query(spec.q, tm) if spec.q else None
    return await _answer(request, broker, tenant, tm, body.context, selectors, predicate, params,
                         paging(limit, offset), count)


async def _answer(request: Request, broker: Broker, tenant: str, tm: TermMap, context: Any,
                  selectors: list[Selector], q: Predicate | None, params: TemporalParams,
                  page: tuple[int, int], count: bool) -> Response:
    """Select, render one page, and answer with the count when asked."""
    size, start = page
    broker.store.require_tenant(tenant)

    def run() -> tuple[int, Page, list[dict[str, Any]]]:
        matches = select(broker, tenant, selectors, q, params)
        shown = matches[start:start + size]
        instances = params.page(broker, tenant, [e.entity_id for e, _types in shown])
        return len(matches), instances, [params.render(e.entity_id, types, history, tm, instances.kinds_of(n))
                                         for n, ((e, types), history) in enumerate(zip(shown, instances.histories,
                                                                                       strict=True))]

    total, instances, rendered = await broker.offload(run)
    headers = {"NGSILD-Results-Count": str(total)} if count or "count" in params.options else None
    return _paged(json_response(rendered, media=accepted(request), context=context, headers=headers), instances)


def _paged(response: Response, page: Page) -> Response:
    """A page that leaves instances out is 206 with its Content-Range (§6.3.10)."""
    if page.content_range is not None:
        response.status_code = 206
        response.headers["Content-Range"] = page.content_range
    return response
