"""The embedded broker's ASGI app: routes, ProblemDetails errors, limits, auth and metrics."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import citiesincharge
from citiesincharge.apidocs import serve_offline
from citiesincharge.settings import Settings

from .access import AccessAndMetrics
from .admission import Admission
from .errors import BadRequestData, InvalidRequest, NgsiLdError, PayloadTooLarge, ResourceNotFound
from .http import problem
from .paths import EncodedSegments
from .routes import attrs, batch, entities, info, jsonld_contexts, purge, subscriptions, temporal, temporal_provision
from .service import Broker

log = logging.getLogger(__name__)
#: /entities//attrs, or PATCH /entities/ (routed as /entities, which has no PATCH): an entity id left out
#: (the suite wants 405, not 400, for /subscriptions/ without an id: only entity ids are checked)
_EMPTY_SEGMENT = re.compile(r"^/ngsi-ld/v1/entities(//|/$)")


def routing_problem(request: Request, error: StarletteHTTPException) -> NgsiLdError:
    """What the router itself refuses (no such path, wrong method) as NGSI-LD ProblemDetails, so
    a client parses every error the same way."""
    where = f"{request.method} {request.url.path}"
    raw_path = bytes(request.scope.get("raw_path") or b"").split(b"?", 1)[0].decode("latin-1")
    if error.status_code in (404, 405) and _EMPTY_SEGMENT.search(raw_path):
        return BadRequestData(f"{where}: an id in the path is empty")
    if error.status_code == 404:
        return ResourceNotFound(f"no resource at {where}")
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        return InvalidRequest(f"method {request.method} is not allowed on {request.url.path}"
                              + (f"; allowed: {allowed}" if allowed else ""), status=405)
    return InvalidRequest(f"{where}: {error.detail}", status=error.status_code)


class BodyLimit:
    """Reject bodies over the limit with 413 before they are buffered (Content-Length or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = PayloadTooLarge(f"request body exceeds the limit of {self.limit} bytes")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await problem(too_large)(scope, receive, send)
            return
        received = 0
        answered = False

        async def limited() -> Message:
            nonlocal received, answered
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit and not answered:
                answered = True
                await problem(too_large)(scope, receive, send)
                return {"type": "http.disconnect"}  # the app stops reading; its answer is dropped
            return message

        async def guarded_send(message: Message) -> None:
            if not answered:
                await send(message)

        await self.app(scope, limited, guarded_send)


def create_app(settings: Settings, public_urls: list[str] | None = None) -> FastAPI:
    """Build the app; ``public_urls`` are the base URLs clients use (for the served @context)."""
    base = f"http://{settings.broker_host}:{settings.broker_port}"
    urls = list(dict.fromkeys([*(public_urls or []), base, f"http://127.0.0.1:{settings.broker_port}",
                               f"http://localhost:{settings.broker_port}",
                               *([settings.broker_public_url] if settings.broker_public_url else [])]))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.broker.close()

    app = FastAPI(title="CitiesInCharge embedded NGSI-LD broker", version=citiesincharge.__version__,
                  lifespan=lifespan, description="The ETSI GS CIM 009 subset CitiesInCharge needs, on SQLite.",
                  redirect_slashes=False)  # paths.EncodedSegments handles a trailing '/'
    app.state.broker = Broker(settings, urls)
    for module in (entities, purge, attrs, batch, subscriptions, temporal, temporal_provision, jsonld_contexts, info):
        app.include_router(module.router)
    serve_offline(app)  # /docs and /redoc with their assets served here, not from a CDN

    @app.exception_handler(NgsiLdError)
    async def _ngsi_error(_request: Request, error: NgsiLdError) -> Response:
        return problem(error)

    @app.exception_handler(StarletteHTTPException)
    async def _routing(request: Request, error: StarletteHTTPException) -> Response:
        return problem(routing_problem(request, error), headers=dict(error.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return problem(BadRequestData(f"{where}: {first.get('msg')}"))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> Response:
        log.exception("internal error")
        return problem(NgsiLdError(f"internal error ({type(error).__name__}); see the broker log"))

    app.add_middleware(AccessAndMetrics, settings=settings, metrics=app.state.broker.metrics)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Admission, limit=settings.broker_max_requests)
    app.add_middleware(EncodedSegments)
    return app
