"""The bearer token check and the per-request metrics, as plain ASGI middleware.

Why not ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs the app in a task of
its own and streams the response through a memory channel, adding await points and about a
millisecond of event-loop work to every request; under load, every other request (a GET by id,
``/health``) queues behind that work. This does the same checks on the ASGI messages directly.
"""

from __future__ import annotations

import hmac
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from citiesincharge.settings import Settings

from .errors import Unauthorized
from .http import problem
from .metrics import BrokerMetrics

PUBLIC_PREFIXES = ("/version", "/health", "/ngsi-ld/contexts/", "/docs", "/redoc", "/openapi.json")


class AccessAndMetrics:
    """Refuse requests without the required bearer token (when one is set); count and time the rest
    by method, matched route and status."""

    def __init__(self, app: ASGIApp, settings: Settings, metrics: BrokerMetrics) -> None:
        self.app = app
        self.settings = settings
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        required = self.settings.broker_required_token()
        if required is not None and not scope["path"].startswith(PUBLIC_PREFIXES):
            given = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
            expected = ("Bearer " + required.get_secret_value()).encode()
            if not hmac.compare_digest(given, expected):
                self.metrics.requests.labels(method, "unauthorized", "401").inc()
                refusal = Unauthorized("a valid 'Authorization: Bearer <token>' header is required")
                await problem(refusal)(scope, receive, send)
                return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            label = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(method, label, str(status)).inc()
            self.metrics.latency.labels(method, label).observe(time.perf_counter() - started)
