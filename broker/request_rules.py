"""Request rules every NGSI-LD endpoint shares, checked once before its handler runs (§6.3.4, 6.3.20).

* A query parameter that neither the endpoint declares nor NGSI-LD defines is an error
  (``InvalidRequest``), not silently ignored: a client that misspells ``limit`` learns it.
* A body must be ``application/json`` or ``application/ld+json`` (and, for PATCH,
  ``application/merge-patch+json``), else 415; an ``Accept`` header of a GET must allow JSON,
  JSON-LD or (entities only) GeoJSON, else 406.

Checked in the route class, so the answer does not depend on the resource: a GET of a missing
subscription with ``Accept: application/xml`` is 406, as for an existing one. Handlers still pick
the response type themselves with :func:`broker.http.accepted`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from .errors import InvalidRequest, NotAcceptable, UnsupportedMediaType
from .http import GEO_JSON, JSON, JSON_LD, MERGE_PATCH

_API = "/ngsi-ld/v1/"
#: Every query parameter GS CIM 009 (up to v1.9) defines; an endpoint that reads parameters from
#: ``request.query_params`` rather than declaring them is covered by this list.
NGSI_LD_PARAMETERS = frozenset({
    "id", "type", "idPattern", "attrs", "pick", "omit", "q", "csf", "georel", "geometry", "coordinates",
    "geoproperty", "geometryProperty", "lang", "scopeQ", "limit", "offset", "count", "options", "format",
    "timerel", "timeAt", "endTimeAt", "timeproperty", "lastN", "aggrMethods", "aggrPeriodDuration",
    "details", "kind", "reload", "local", "keep", "drop", "deleteAll", "datasetId", "join", "joinLevel",
    "orderBy", "collation", "expandValues", "containedBy", "showChanges", "entityMap", "splitEntities",
    "observedAt", "dataset", "jsonKeys", "via", "contextSourceInfo", "doNotCompact",
})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ACCEPTABLE = frozenset({JSON, JSON_LD, "*/*", "application/*"})
_GEO_PATHS = frozenset({"/ngsi-ld/v1/entities", "/ngsi-ld/v1/entities/{entity_id}"})


def media_types(header: str) -> list[str]:
    """The media types an ``Accept`` header offers with a non-zero quality."""
    offered = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        if any(f.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for f in fields[1:]):
            continue
        offered.append(fields[0].lower())
    return offered


def check_request(request: Request, route_path: str, declared: frozenset[str]) -> None:
    """Raise the ProblemDetails this request deserves before any handler work, or nothing."""
    unknown = sorted(set(request.query_params) - declared - NGSI_LD_PARAMETERS)
    if unknown:
        raise InvalidRequest(f"unknown query parameter(s) {', '.join(unknown)} for {request.method} {route_path}")
    if request.method in _BODY_METHODS and _has_body(request):
        media = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        allowed = {JSON, JSON_LD} | ({MERGE_PATCH} if request.method == "PATCH" else set())
        if media not in allowed:
            raise UnsupportedMediaType(f"Content-Type '{media or 'none'}' not supported; use "
                                       + " or ".join(sorted(allowed)))
    accept = request.headers.get("Accept")
    if request.method == "GET" and accept:
        acceptable = _ACCEPTABLE | ({GEO_JSON} if route_path in _GEO_PATHS else set())
        if not acceptable.intersection(media_types(accept)):
            raise NotAcceptable(f"Accept '{accept}' offers none of {', '.join(sorted(acceptable - {'*/*'}))}")


def _has_body(request: Request) -> bool:
    length = request.headers.get("Content-Length")
    return (length is not None and length != "0") or "Transfer-Encoding" in request.headers


class CheckedRoute(APIRoute):
    """An API route that applies :func:`check_request` to requests under ``/ngsi-ld/v1/``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self.path.startswith(_API):
            return handler
        declared = frozenset(p.alias for p in self.dependant.query_params)
        path = self.path

        async def checked(request: Request) -> Response:
            check_request(request, path, declared)
            return await handler(request)

        return checked
