"""The open-data feed's web app (``cic opendata``): GeoJSON, NGSI-LD keyValues and OCPI 2.2.1
Locations of what the operators share as public, each answer with its licences, cacheable and
rate-limited (docs/OPENDATA.md).

Read-only (GET only), anonymous, bound to 127.0.0.1 unless told otherwise. Every answer is built
from one snapshot (source.py) and sent through ``conditional.respond`` (ETag, Last-Modified, 304).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter

from citiesincharge import ldcontext
from citiesincharge.client import LINK_REL, NgsiLdClient
from citiesincharge.errors import NgsiLdClientError
from citiesincharge.operations import status_app
from citiesincharge.settings import Settings

from . import conditional, geojson, keyvalues, licences, ocpi, params
from .ratelimit import TokenBucket, retry_after
from .source import Feed, Snapshot

log = logging.getLogger(__name__)
CONTEXT_PATH = "/ngsi-ld/contexts/citiesincharge.jsonld"
NGSI_ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
OCPI_VERSION = "2.2.1"
UNLIMITED = ("/health",)


class NotAcceptable(Exception):
    """The client accepts no form the NGSI-LD side answers in."""


def _json(document: Any) -> bytes:
    return orjson.dumps(document)


def _problem(status: int, kind: str, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = {"type": NGSI_ERRORS + kind, "title": title, "status": status, "detail": detail}
    return Response(_json(body), status_code=status, media_type="application/problem+json", headers=headers)


def _ocpi_error(status: int, code: int, message: str) -> Response:
    return Response(_json({"data": None, "status_code": code, "status_message": message,
                           "timestamp": ocpi.stamp(datetime.now(UTC))}), status_code=status,
                    media_type="application/json")


def create_app(settings: Settings, *, client: NgsiLdClient | None = None,
               clock: Callable[[], float] | None = None) -> FastAPI:
    """The feed reading ``settings.broker_url``; ``clock`` (monotonic seconds) drives the rate limit
    and the snapshot's age, so tests step it instead of sleeping."""
    client = client or NgsiLdClient(settings)
    feed = Feed(client, settings.opendata_cache_seconds, **({"monotonic": clock} if clock else {}))
    bucket = TokenBucket(settings.opendata_rate_per_second, settings.opendata_rate_burst,
                         **({"clock": clock} if clock else {}))
    registry = CollectorRegistry()
    served = Counter("cic_opendata_responses", "answers of the open-data feed", ["format", "status"],
                     registry=registry)
    limited = Counter("cic_opendata_rate_limited", "requests refused by the rate limit", registry=registry)
    app = FastAPI(title="CitiesInCharge open data", version="1",
                  description="Public EV charging data: GeoJSON, NGSI-LD keyValues, OCPI 2.2.1 Locations")
    status_app("CitiesInCharge open data", lambda: {"broker": client.base, "broker_reads": feed.reads},
               registry, app=app)
    max_age = settings.opendata_cache_seconds

    def base(request: Request) -> str:
        return (settings.opendata_public_url or str(request.base_url)).rstrip("/")

    @app.middleware("http")
    async def _guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _problem(405, "OperationNotSupported", "Method not allowed",
                            "the open-data feed is read-only: GET only", {"Allow": "GET"})
        if request.url.path not in UNLIMITED:
            wait = bucket.take(request.client.host if request.client else "unknown")
            if wait > 0:
                limited.inc()
                return _problem(429, "TooManyRequests", "Too many requests",
                                f"at most {settings.opendata_rate_per_second:g} requests a second on average "
                                f"({settings.opendata_rate_burst} at once) per client address; retry later",
                                {"Retry-After": retry_after(wait)})
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Access-Control-Allow-Origin", "*")  # open data: any web page may read it
        return response

    def snapshot() -> Snapshot:
        return feed.get()

    @app.exception_handler(NgsiLdClientError)
    async def _broker_down(request: Request, error: NgsiLdClientError) -> Response:
        log.warning("open data %s: the broker cannot be read: %s", request.url.path, error)
        return _problem(503, "InternalError", "The data cannot be read now",
                        "the feed's source is unavailable; retry in a minute", {"Retry-After": "60"})

    @app.exception_handler(params.BadParameter)
    async def _bad(request: Request, error: params.BadParameter) -> Response:
        if request.url.path.startswith("/ocpi/"):
            return _ocpi_error(400, 2001, str(error))
        return _problem(400, "BadRequestData", "Invalid request", str(error))

    def send(request: Request, kind: str, body: bytes, media_type: str, entities: list[dict[str, Any]],
             found: list[licences.LicenceGroup], snap: Snapshot, headers: dict[str, str] | None = None) -> Response:
        extra = dict(headers or {})
        links = [extra.pop("Link", ""), licences.link_header(found, base(request) + "/licences")]
        extra["Link"] = ", ".join(link for link in links if link)
        if (expression := licences.expression(found)) is not None:
            extra["X-Data-License"] = expression
        response = conditional.respond(request, body, media_type, last_modified=snap.newest(entities),
                                       max_age=max_age, headers=extra)
        served.labels(kind, str(response.status_code)).inc()
        return response

    @app.get("/", summary="What the feed offers")
    def _index(request: Request) -> JSONResponse:
        root = base(request)
        return JSONResponse({"title": "CitiesInCharge open data", "licences": root + "/licences",
                             "geojson": root + "/stations.geojson",
                             "ngsi-ld": [root + f"/ngsi-ld/v1/entities?type={t}" for t in keyvalues.TYPES],
                             "ocpi": root + "/ocpi/versions", "documentation": root + "/docs"})

    @app.get("/licences", summary="Every provider's licence and attribution")
    def _licences(request: Request) -> Response:
        snap = snapshot()
        found = licences.groups(snap.terms_of(e) for e in [*snap.stations, *snap.evses, *snap.tariffs])
        body = _json({"licenses": [g.model_dump() for g in found],
                      "rule": "each item is under the licence of its provider (its own `license`); a response "
                              "mixing providers is under all of them (X-Data-License)"})
        return send(request, "licences", body, "application/json", [], found, snap)

    @app.get("/stations.geojson", summary="Stations as an RFC 7946 FeatureCollection")
    def _geojson(request: Request) -> Response:
        snap = snapshot()
        document, found = geojson.collection(snap, base(request) + "/licences")
        return send(request, "geojson", _json(document), "application/geo+json", snap.stations, found, snap)

    @app.get(CONTEXT_PATH, summary="The project @context")
    def _context() -> JSONResponse:
        return JSONResponse(ldcontext.project_context_document(), media_type="application/ld+json")

    def ngsi_body(request: Request, entities: list[dict[str, Any]], snap: Snapshot) -> tuple[Any, str, dict[str, str]]:
        accept = request.headers.get("accept", "*/*")
        context = base(request) + CONTEXT_PATH
        if "application/ld+json" in accept:
            return ([{**keyvalues.key_values(e, snap), "@context": context} for e in entities],
                    "application/ld+json", {})
        if not any(t in accept for t in ("application/json", "*/*", "application/*")):
            raise NotAcceptable(accept)
        return ([keyvalues.key_values(e, snap) for e in entities], "application/json",
                {"Link": f'<{context}>; rel="{LINK_REL}"; type="application/ld+json"'})

    def not_acceptable() -> Response:
        return _problem(406, "NotAcceptable", "Not acceptable",
                        "the feed answers application/json (context in a Link header) or application/ld+json")

    @app.get("/ngsi-ld/v1/entities", summary="Open entities in keyValues form, paged")
    def _entities(request: Request, type: str | None = None) -> Response:
        if type not in keyvalues.TYPES:
            return _problem(400, "BadRequestData", "Invalid request",
                            f"type must be one of {', '.join(keyvalues.TYPES)}; got {str(type)[:60]!r}")
        window = params.page(request.query_params, default=20, maximum=settings.opendata_max_limit)
        snap = snapshot()
        every = keyvalues.of_type(snap, type)
        chosen = every[window.offset:window.offset + window.limit]
        try:
            body, media_type, headers = ngsi_body(request, chosen, snap)
        except NotAcceptable:
            return not_acceptable()
        if request.query_params.get("count") == "true":
            headers["NGSILD-Results-Count"] = str(len(every))
        found = licences.groups(snap.terms_of(e) for e in chosen)
        return send(request, "ngsi-ld", _json(body), media_type, chosen, found, snap, headers)

    @app.get("/ngsi-ld/v1/entities/{entity_id:path}", summary="One open entity in keyValues form")
    def _entity(request: Request, entity_id: str) -> Response:
        snap = snapshot()
        entity = keyvalues.by_id(snap, entity_id)
        if entity is None:
            return _problem(404, "ResourceNotFound", "Not found",
                            f"no open entity {entity_id[:200]!r}: it does not exist or is not public")
        try:
            body, media_type, headers = ngsi_body(request, [entity], snap)
        except NotAcceptable:
            return not_acceptable()
        found = licences.groups([snap.terms_of(entity)])
        return send(request, "ngsi-ld", _json(body[0]), media_type, [entity], found, snap, headers)

    ocpi_routes(app, settings, snapshot, send, base)
    return app


def ocpi_routes(app: FastAPI, settings: Settings, snapshot: Callable[[], Snapshot], send: Callable[..., Response],
                base: Callable[[Request], str]) -> None:
    """OCPI 2.2.1: versions, version details and the Locations module (Sender interface, GET only)."""
    def envelope(data: Any, snap: Snapshot) -> bytes:
        # the time the data were read: the same data give the same bytes (ETag)
        return _json({"data": data, "status_code": 1000, "status_message": "Success",
                      "timestamp": ocpi.stamp(datetime.fromtimestamp(snap.since, UTC))})

    @app.get("/ocpi/versions", summary="OCPI versions")
    def _versions(request: Request) -> Response:
        snap = snapshot()
        body = envelope([{"version": OCPI_VERSION, "url": f"{base(request)}/ocpi/{OCPI_VERSION}"}], snap)
        return send(request, "ocpi", body, "application/json", [], [], snap)

    @app.get(f"/ocpi/{OCPI_VERSION}", summary="OCPI 2.2.1 version details")
    def _details(request: Request) -> Response:
        snap = snapshot()
        body = envelope({"version": OCPI_VERSION, "endpoints": [
            {"identifier": "locations", "role": "SENDER", "url": f"{base(request)}/ocpi/{OCPI_VERSION}/locations"}]},
            snap)
        return send(request, "ocpi", body, "application/json", [], [], snap)

    @app.get(f"/ocpi/{OCPI_VERSION}/locations", summary="OCPI 2.2.1 Locations, paged (Link, X-Total-Count)")
    def _locations(request: Request) -> Response:
        window = params.page(request.query_params, default=settings.opendata_max_limit,
                             maximum=settings.opendata_max_limit)
        since = params.instant(request.query_params, "date_from")
        until = params.instant(request.query_params, "date_to")
        snap = snapshot()
        matching = [s for s in snap.stations if _within(ocpi.location_updated(s, snap), since, until)]
        chosen = matching[window.offset:window.offset + window.limit]
        data = [loc for s in chosen if (loc := ocpi.location(s, snap, settings.timezone)) is not None]
        headers = {"X-Total-Count": str(len(matching)), "X-Limit": str(settings.opendata_max_limit)}
        if window.offset + window.limit < len(matching):
            query = {k: v for k, v in request.query_params.items() if k in ("date_from", "date_to")}
            query |= {"offset": str(window.offset + window.limit), "limit": str(window.limit)}
            headers["Link"] = f'<{base(request)}/ocpi/{OCPI_VERSION}/locations?{urlencode(query)}>; rel="next"'
        found = licences.groups(snap.terms_of(s) for s in chosen)
        entities = [*chosen, *(e for s in chosen for e in snap.evses_of(s["id"]))]
        return send(request, "ocpi", envelope(data, snap), "application/json", entities, found, snap, headers)

    @app.get(f"/ocpi/{OCPI_VERSION}/locations/{{location_id}}", summary="One OCPI 2.2.1 Location")
    def _location(request: Request, location_id: str) -> Response:
        snap = snapshot()
        wanted = location_id.upper()  # CiString: the agent keeps the upper-case form
        station = next((s for s in snap.stations if ocpi.location_id(s) == wanted), None)
        built = ocpi.location(station, snap, settings.timezone) if station is not None else None
        if station is None or built is None:
            return _ocpi_error(404, 2003, f"Unknown Location {location_id[:36]!r}: not in the open data")
        found = licences.groups([snap.terms_of(station)])
        return send(request, "ocpi", envelope(built, snap), "application/json",
                    [station, *snap.evses_of(station["id"])], found, snap)


def _within(moment: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    """OCPI: date_from inclusive, date_to exclusive, on last_updated."""
    if moment is None:
        return since is None and until is None
    return (since is None or moment >= since) and (until is None or moment < until)
