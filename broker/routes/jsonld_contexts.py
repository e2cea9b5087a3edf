"""/ngsi-ld/v1/jsonldContexts: add, list, serve and delete (or reload) @contexts (§5.13, 6.30-6.31).

The store behind it is :mod:`broker.context_registry`; this module is only its HTTP face: the
request rules (media type, size, shape of the document, strict boolean flags) and how an entry is
shown. A hosted context's URL is built from the base URL the client used, so that it can be
handed on to another client as it is.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..context_registry import KINDS, Kind, StoredContext
from ..errors import (
    BadRequestData,
    InvalidRequest,
    OperationNotSupported,
    PayloadTooLarge,
    ResourceNotFound,
    UnsupportedMediaType,
)
from ..http import JSON, JSON_LD
from ..jsonld import check_context
from ..paths import SegmentRoute, segment_url
from .common import broker_of, flag

router = APIRouter(prefix="/ngsi-ld/v1/jsonldContexts", tags=["JSON-LD contexts"], route_class=SegmentRoute)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=JSON)


def _base(request: Request) -> str:
    public = broker_of(request).settings.broker_public_url
    return (public or str(request.base_url)).rstrip("/")


def _url(entry: StoredContext, base: str) -> str:
    return entry.url or f"{base}/ngsi-ld/v1/jsonldContexts/{quote(entry.local_id, safe='')}"


def _metadata(entry: StoredContext, base: str) -> dict[str, Any]:
    """The entry as clause 5.13.3 lists it (``details=true``). Where a cached copy came from is
    not shown as ``extraInfo``: the ETSI suite's check of that optional member fails on any object."""
    shown: dict[str, Any] = {"URL": _url(entry, base), "localId": entry.local_id, "kind": entry.kind,
                             "createdAt": entry.created_at, "numberOfHits": entry.hits}
    if entry.last_usage is not None:
        shown["lastUsage"] = entry.last_usage
    return shown


async def _posted_context(request: Request, limit: int) -> Any:
    """The @context value of a POSTed document, refused with a ProblemDetails that says why."""
    media = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media not in (JSON, JSON_LD):
        raise UnsupportedMediaType(f"Content-Type '{media or 'none'}' not supported; use {JSON} or {JSON_LD}")
    raw = await request.body()
    if len(raw) > limit:
        raise PayloadTooLarge(f"an @context document may have at most {limit} bytes (CIC_CONTEXT_MAX_BYTES)")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"the request body is not valid JSON ({error})") from None
    if not isinstance(document, dict) or "@context" not in document:
        raise InvalidRequest("the request body must be a JSON object with an @context member")
    check_context(document["@context"])
    return document["@context"]


def _entry(request: Request, context_id: str) -> StoredContext:
    entry = broker_of(request).contexts.entry(context_id)
    if entry is None:
        raise ResourceNotFound(f"no @context with local id or URL '{context_id}'")
    return entry


@router.post("", status_code=201)
async def add_context(request: Request) -> Response:
    broker = broker_of(request)
    value = await _posted_context(request, broker.settings.context_max_bytes)
    entry = broker.contexts.registry.add("Hosted", value)
    return Response(status_code=201,
                    headers={"Location": segment_url("ngsi-ld", "v1", "jsonldContexts", entry.local_id)})


@router.get("")
async def list_contexts(request: Request, details: str | None = None, kind: str | None = None) -> Response:
    detailed = flag(details, "details")
    if kind not in (None, "", *KINDS):
        raise BadRequestData(f"kind must be one of {', '.join(KINDS)}, not '{kind}'")
    entries = broker_of(request).contexts.registry.entries(cast(Kind, kind) if kind else None)
    base = _base(request)
    return _json([_metadata(e, base) if detailed else _url(e, base) for e in entries])


@router.get("/{context_id}")
async def serve_context(request: Request, context_id: str, details: str | None = None) -> Response:
    detailed = flag(details, "details")
    entry = _entry(request, context_id)
    if detailed:
        return _json(_metadata(entry, _base(request)))
    if entry.kind == "Cached":
        raise OperationNotSupported(f"@context {entry.url} is a cached copy; fetch it from that URL, or ask "
                                    "for its metadata with details=true")
    broker_of(request).contexts.registry.record_use([entry])
    return _json({"@context": entry.value})


@router.delete("/{context_id}", status_code=204)
async def delete_context(request: Request, context_id: str, reload: str | None = None) -> Response:
    """Delete an entry, or with ``reload=true`` replace a cached copy by a fresh download.

    Only a cached copy has somewhere to be reloaded from, so ``reload=true`` on anything else
    (a hosted or implicitly created context, or an id the broker does not hold) is a bad request.
    A failed reload keeps the old copy and answers 503 LdContextNotAvailable.
    """
    contexts = broker_of(request).contexts
    if not flag(reload, "reload"):
        contexts.delete(_entry(request, context_id))
        return Response(status_code=204)
    entry = contexts.entry(context_id)
    if entry is None or entry.kind != "Cached":
        raise BadRequestData(f"reload=true needs a cached @context (its URL or local id); '{context_id}' "
                             "is " + ("unknown" if entry is None else f"of kind {entry.kind}"))
    await broker_of(request).offload(contexts.reload, entry)
    return Response(status_code=204)
