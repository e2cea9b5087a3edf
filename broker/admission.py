"""Admission control: a bounded number of requests in progress per kind; the excess gets 503.

Why: under a burst (the FIWARE IoT Agent held 16-23k connections, one request per measure) an
unbounded broker queues everything, and every other client waits behind the burst for as long as
it lasts (~90 s measured). Here each kind of request has its own bound on requests in progress:
writes, queries, and lookups (a GET of one entity or subscription, a served @context). A burst of
one kind fills only its own bound; beyond it the excess is answered at once with 503, a
ProblemDetails body and ``Retry-After``, which costs next to nothing, so the other kinds, and
``/health``, ``/version`` and ``/metrics`` (never bounded), keep answering. The number of open
connections is bounded by the server (uvicorn's ``limit_concurrency``, see ``server.py``).
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ServiceBusy
from .http import problem

_UNBOUNDED = ("/health", "/version", "/metrics")
_LOOKUP = re.compile(r"^/ngsi-ld/(v1/(entities|subscriptions|temporal/entities|jsonldContexts)/[^/]+|contexts/.*)$")


def kind_of(method: str, path: str) -> str | None:
    """The bound a request counts against: "write", "query", "lookup", or None (never refused)."""
    if path.startswith(_UNBOUNDED):
        return None
    if method not in ("GET", "HEAD"):
        return "write"
    return "lookup" if _LOOKUP.match(path.rstrip("/")) else "query"


class Admission:
    """ASGI middleware: at most ``limit`` requests of each kind in progress (see the module docstring)."""

    def __init__(self, app: ASGIApp, limit: int, retry_after: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = retry_after
        self.active = {"write": 0, "query": 0, "lookup": 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = kind_of(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        if self.active[kind] >= self.limit:
            busy = ServiceBusy(f"the broker has {self.limit} {kind} requests in progress; retry in "
                               f"{self.retry_after} s")
            await problem(busy, {"Retry-After": str(self.retry_after)})(scope, receive, send)
            return
        self.active[kind] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active[kind] -= 1
