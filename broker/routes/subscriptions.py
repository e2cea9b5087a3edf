"""/ngsi-ld/v1/subscriptions: create, list, retrieve, update, delete (§5.8)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..attributes import check_entity_id
from ..errors import AlreadyExists, BadRequestData, ResourceNotFound
from ..http import accepted, context_from_link, json_response, page_links, parse_options, read_body, tenant_of
from ..paths import SegmentRoute, segment_url
from ..service import Broker
from ..subscriptions import DEFAULT_TRIGGERS, CompiledSubscription, check_new_subscription, new_subscription_id
from ..timeutil import now_iso
from .common import broker_of, paging

router = APIRouter(prefix="/ngsi-ld/v1/subscriptions", tags=["subscriptions"], route_class=SegmentRoute)
_SYSTEM = ("status", "createdAt", "modifiedAt", "@context", "_context")


def _representation(sub: CompiledSubscription, sys_attrs: bool) -> dict[str, Any]:
    """The subscription as stored, with its status; createdAt/modifiedAt only with sysAttrs."""
    hidden = ("_context",) if sys_attrs else ("_context", "createdAt", "modifiedAt")
    doc = {k: v for k, v in sub.doc.items() if k not in hidden}
    # the triggers it notifies on: the default when none were given (§5.2.12), periodic ones included
    # (the member's default does not depend on timeInterval; the suite's 031_01_01 expects it there too)
    doc.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
    stamp = now_iso()
    doc["status"] = "expired" if sub.expires_at and stamp >= sub.expires_at else (
        "active" if sub.is_active else "paused")
    notification = dict(doc["notification"])
    notification.update(sub.status_fields)
    doc["notification"] = notification
    if isinstance(sub.context, str):
        doc["jsonldContext"] = sub.context
    return doc


async def _resolve_own_context(broker: Broker, doc: dict[str, Any]) -> None:
    """A subscription's own jsonldContext must resolve now (503 if not), not at its first notification."""
    if isinstance(doc.get("jsonldContext"), str):
        await broker.term_map(doc["jsonldContext"])


def _find(broker: Broker, tenant: str, sub_id: str) -> CompiledSubscription:
    check_entity_id(sub_id)
    broker.store.require_tenant(tenant)
    sub = broker.subscriptions.get(tenant, {}).get(sub_id)
    if sub is None:
        raise ResourceNotFound(f"subscription {sub_id} not found")
    return sub


@router.post("", status_code=201)
async def create_subscription(request: Request) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    body = await read_body(request)
    if not isinstance(body.data, dict):
        raise BadRequestData("a subscription must be a JSON object")
    doc = {k: v for k, v in body.data.items() if k not in _SYSTEM}
    doc.setdefault("id", new_subscription_id())
    doc.setdefault("type", "Subscription")
    if doc["id"] in broker.subscriptions.get(tenant, {}):
        raise AlreadyExists(f"subscription {doc['id']} already exists")
    stamp = now_iso()
    check_new_subscription(doc, stamp)
    tm = await broker.term_map(body.context)
    await _resolve_own_context(broker, doc)
    doc["createdAt"] = doc["modifiedAt"] = stamp
    broker.install_subscription(tenant, doc, body.context, tm)
    broker.store.save_subscription(tenant, doc["id"], dict(doc, _context=body.context))
    return Response(status_code=201, headers={"Location": segment_url("ngsi-ld", "v1", "subscriptions", doc["id"])})


@router.get("")
async def list_subscriptions(request: Request, limit: str | None = None, offset: str | None = None,
                             count: bool = False, options: str | None = None) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    media = accepted(request)
    size, start = paging(limit, offset)
    opts = parse_options(options, {"sysAttrs", "count"})
    sys_attrs = "sysAttrs" in opts
    subs = list(broker.subscriptions.get(tenant, {}).values())
    headers = page_links(request.url.path, size, start, len(subs))
    if count or "count" in opts:
        headers["NGSILD-Results-Count"] = str(len(subs))
    return json_response([_representation(s, sys_attrs) for s in subs[start:start + size]], media=media,
                         context=context_from_link(request), headers=headers)


@router.get("/{sub_id}")
async def retrieve_subscription(request: Request, sub_id: str, options: str | None = None) -> Response:
    broker = broker_of(request)
    sub = _find(broker, tenant_of(request), sub_id)
    sys_attrs = "sysAttrs" in parse_options(options, {"sysAttrs"})
    return json_response(_representation(sub, sys_attrs), media=accepted(request), context=sub.context)


@router.patch("/{sub_id}", status_code=204)
async def update_subscription(request: Request, sub_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    sub = _find(broker, tenant, sub_id)
    body = await read_body(request)
    if not isinstance(body.data, dict):
        raise BadRequestData("a subscription fragment must be a JSON object")
    if body.data.get("id", sub_id) != sub_id:
        raise BadRequestData("the id of a subscription cannot be changed")
    doc = dict(sub.doc)
    for key, value in body.data.items():
        if key in _SYSTEM:
            continue
        if value is None:  # (a fragment's notification replaces the whole member, §5.8.2)
            doc.pop(key, None)
        else:
            doc[key] = value
    doc["modifiedAt"] = now_iso()
    check_new_subscription({k: v for k, v in body.data.items() if k in ("expiresAt", "jsonldContext")},
                           doc["modifiedAt"])
    await _resolve_own_context(broker, doc)
    context = body.context if body.context is not None else sub.context
    broker.install_subscription(tenant, doc, context, await broker.term_map(context))
    broker.store.save_subscription(tenant, sub_id, dict(doc, _context=context))
    return Response(status_code=204)


@router.delete("/{sub_id}", status_code=204)
async def delete_subscription(request: Request, sub_id: str) -> Response:
    broker = broker_of(request)
    tenant = tenant_of(request)
    _find(broker, tenant, sub_id)
    broker.remove_subscription(tenant, sub_id)
    return Response(status_code=204)
