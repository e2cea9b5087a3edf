"""DELETE /ngsi-ld/v1/entities: purge the entities a query selects, or only some of their
attributes (GS CIM 009 v1.9 §5.6.21, 6.4.3.3).

A purge is a query whose matches are deleted, so it takes the query's own selection (``id``,
``type``, ``idPattern``, ``q``) compiled the same way; ``keep`` or ``drop`` (never both) narrow it
to attributes. With no selection at all it would wipe the tenant, so that needs an explicit
``local=true`` (the spec's "this broker only, every entity"). Subscribers are told as for any
deletion: one write, one transaction, then :meth:`Broker.publish`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..attributes import check_entity_id
from ..entity_query import EntityQuery
from ..errors import BadRequestData
from ..http import split_list, tenant_of
from ..paths import SegmentRoute
from ..query import compile_query
from ..timeutil import now_iso
from .common import broker_of, expand_all, flag, request_term_map

router = APIRouter(prefix="/ngsi-ld/v1", tags=["entities"], route_class=SegmentRoute)


@router.delete("/entities", status_code=204)
async def purge_entities(request: Request, id: str | None = None, type: str | None = None,
                         idPattern: str | None = None, q: str | None = None, keep: str | None = None,
                         drop: str | None = None, local: str | None = None) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    everything = flag(local, "local")
    if not (id or type or idPattern or q or everything):
        raise BadRequestData("a purge needs at least one of id, type, idPattern or q (local=true purges every entity)")
    if keep is not None and drop is not None:
        raise BadRequestData("keep and drop exclude each other")
    _context, tm = await request_term_map(request)
    ids = split_list(id)
    for entity_id in ids or []:
        check_entity_id(entity_id)
    query = EntityQuery(ids=ids, types=expand_all(tm, split_list(type)), id_pattern=EntityQuery.pattern(idPattern),
                        q=compile_query(q, tm) if q else None)
    matches = list(broker.select(tenant, query))
    if keep is None and drop is None:
        changes, _missing = broker.store.delete_many(tenant, [e["id"] for e in matches])
    else:
        kept, dropped = expand_all(tm, split_list(keep)), expand_all(tm, split_list(drop))
        drops = {e["id"]: (set(e["attrs"]) - kept if kept is not None else dropped or set()) for e in matches}
        changes = broker.store.drop_attrs(tenant, drops, now_iso())
    broker.publish(tenant, changes)
    return Response(status_code=204)
