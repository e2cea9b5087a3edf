"""/ngsi-ld/v1/temporal/entities: attribute history of one entity or of a query (§5.7.3, 5.7.4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..attributes import check_entity_id
from ..errors import BadRequestData, ResourceNotFound
from ..http import accepted, json_response, parse_options, split_list, tenant_of
from ..jsonld import TermMap
from ..paths import SegmentRoute
from ..query import Predicate, compile_query
from ..service import Broker, EntityQuery
from ..temporal import TimeFilter, parse_aggr_methods, parse_period, render_temporal
from ..temporal_store import TemporalEntity
from .common import broker_of, expand_all, paging, request_term_map

router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["temporal"], route_class=SegmentRoute)
_OPTIONS = {"temporalValues", "aggregatedValues", "sysAttrs", "count"}
DELETED = "https://uri.etsi.org/ngsi-ld/default-context/Deleted"


class _TemporalRequest:
    """The temporal parameters of a request, validated once."""

    def __init__(self, request: Request, tm: TermMap) -> None:
        params = request.query_params
        self.window = TimeFilter.from_params(params.get("timerel"), params.get("timeAt"),
                                             params.get("endTimeAt"), params.get("timeproperty"))
        last_n = params.get("lastN")
        try:
            self.last_n = int(last_n) if last_n is not None else None
        except ValueError:
            raise BadRequestData(f"lastN '{last_n}' must be a positive integer") from None
        if self.last_n is not None and self.last_n < 1:
            raise BadRequestData("lastN must be a positive integer")
        self.options = parse_options(params.get("options"), _OPTIONS)
        self.mode = "normalized"
        self.methods: list[str] | None = None
        self.period: Any = None
        if "aggregatedValues" in self.options or params.get("aggrMethods"):
            self.mode = "aggregatedValues"
            self.methods = parse_aggr_methods(params.get("aggrMethods"))
            self.period = parse_period(params.get("aggrPeriodDuration"))
        elif "temporalValues" in self.options:
            self.mode = "temporalValues"
        self.attrs = expand_all(tm, split_list(params.get("attrs")))

    def render(self, broker: Broker, tenant: str, entity_id: str, types: list[str],
               tm: TermMap) -> dict[str, Any]:
        attrs = sorted(self.attrs) if self.attrs is not None else None
        history = broker.store.history(tenant, entity_id, attrs, self.window.start, self.window.end,
                                       self.last_n, column=self.window.column,
                                       exclusive_start=self.window.strict_start,
                                       instance_ids=self.mode == "normalized")
        return render_temporal(entity_id, types, history, tm, mode=self.mode, column=self.window.column,
                               aggr_methods=self.methods, period=self.period, origin=self.window.start,
                               sys_attrs="sysAttrs" in self.options)


def _types(broker: Broker, tenant: str, found: TemporalEntity | None, entity_id: str) -> list[str]:
    """An entity's types as the history recorded them, else as the current entity has them."""
    if found is not None and found.types:
        return found.types
    try:
        return list(broker.store.get(tenant, entity_id)["type"])
    except ResourceNotFound:
        if found is None:
            raise
        return [DELETED]  # history recorded before types were, of an entity deleted since


@router.get("/entities/{entity_id}")
async def temporal_entity(request: Request, entity_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    check_entity_id(entity_id)
    context, tm = await request_term_map(request)
    temporal = _TemporalRequest(request, tm)
    broker.store.require_tenant(tenant)
    types = _types(broker, tenant, broker.store.temporal.entity(tenant, entity_id), entity_id)
    rendered = await broker.offload(temporal.render, broker, tenant, entity_id, types, tm)
    return json_response(rendered, media=accepted(request), context=context)


@router.get("/entities")
async def temporal_query(request: Request, id: str | None = None, type: str | None = None,
                         idPattern: str | None = None, q: str | None = None, limit: str | None = None,
                         offset: str | None = None, count: bool = False) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    context, tm = await request_term_map(request)
    temporal = _TemporalRequest(request, tm)
    if not any((id, type, idPattern, q, temporal.attrs)):
        raise BadRequestData("a temporal query needs at least one of id, type, idPattern, q or attrs")
    size, start = paging(limit, offset)
    ids = split_list(id)
    for entity_id in ids or []:
        check_entity_id(entity_id)
    query = EntityQuery(types=expand_all(tm, split_list(type)), id_pattern=EntityQuery.pattern(idPattern))
    predicate = compile_query(q, tm) if q else None
    broker.store.require_tenant(tenant)

    def run() -> tuple[int, list[dict[str, Any]]]:
        matches = _select(broker, tenant, ids, query, predicate, temporal)
        return len(matches), [temporal.render(broker, tenant, e.entity_id, types, tm)
                              for e, types in matches[start:start + size]]

    total, page = await broker.offload(run)
    headers = {"NGSILD-Results-Count": str(total)} if count or "count" in temporal.options else None
    return json_response(page, media=accepted(request), context=context, headers=headers)


def _select(broker: Broker, tenant: str, ids: list[str] | None, query: EntityQuery, q: Predicate | None,
            temporal: _TemporalRequest) -> list[tuple[TemporalEntity, list[str]]]:
    """Temporal entities matching ids, types and idPattern that hold instances in the window (of
    the asked attributes), and whose instances there satisfy ``q`` (any instance may match a term)."""
    store = broker.store
    typed = [(e, _types(broker, tenant, e, e.entity_id)) for e in store.temporal.entities(tenant, ids)]
    typed = [(e, types) for e, types in typed
             if query.matches({"id": e.entity_id, "type": types, "attrs": {}})]
    window = temporal.window
    attrs = sorted(temporal.attrs) if temporal.attrs is not None else None
    holding = store.temporal.with_instances([e.number for e, _ in typed], attrs, window.column, window.start,
                                            window.end, window.strict_start)
    typed = [(e, types) for e, types in typed if e.number in holding]
    if q is None:
        return typed
    return [(e, types) for e, types in typed if q({"id": e.entity_id, "type": types, "attrs": store.history(
        tenant, e.entity_id, None, window.start, window.end, None, column=window.column,
        exclusive_start=window.strict_start)})]
