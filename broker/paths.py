"""Path segments that may hold any IRI: ``/entities/http%3A%2F%2Fa%2Fb/attrs/p``.

Entity ids, type and attribute names are IRIs, so they contain ``/`` and ``%``. A client sends
them percent-encoded as one path segment, but ASGI servers decode the whole path before routing,
after which ``http://a/b`` is three segments and no route matches. :class:`EncodedSegments`
re-derives the path from the raw bytes decoding every escape except ``%2F`` and ``%25``, so a
segment stays a segment; :class:`SegmentRoute` decodes those two in the path parameters it
extracts. Every ``%`` left in the routed path is one of the two escapes, so that last decode is
exact: ``%252F`` arrives as the three characters ``%2F``, never as ``/``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from .request_rules import CheckedRoute

_KEPT_ESCAPES = re.compile(r"(%2[fF]|%25)")


def route_path(raw_path: bytes) -> str:
    """The path to route on: decoded, except the escapes that would change its segments."""
    pieces = _KEPT_ESCAPES.split(raw_path.decode("latin-1"))
    return "".join(piece.upper() if index % 2 else unquote(piece, errors="replace")
                   for index, piece in enumerate(pieces))


def segment_url(*segments: str) -> str:
    """A path made of ``segments``, each percent-encoded as one segment (for Location headers):
    ``/`` and ``%`` and everything outside printable ASCII escaped, so the header is Latin-1-safe
    and the URL reads back through :func:`route_path` as the same segments."""
    return "".join("/" + quote(segment, safe=":@!$&'()*+,;=~") for segment in segments)


class EncodedSegments:
    """ASGI middleware: route on :func:`route_path` of the raw path, not the server's decoding."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or quote(scope["path"]).encode()
            path = route_path(raw.split(b"?", 1)[0])
            if len(path) > 1 and path.endswith("/"):
                path = path[:-1]  # '/entities/' is the collection (the ETSI suite writes it so)
            scope = dict(scope, path=path)
        await self.app(scope, receive, send)


class SegmentRoute(CheckedRoute):
    """An API route whose path parameters are whole decoded segments (see the module docstring);
    the request rules every NGSI-LD endpoint shares come with it (:mod:`broker.request_rules`)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        params: dict[str, Any] | None = child.get("path_params")
        if params:
            child["path_params"] = {name: unquote(value) if isinstance(value, str) else value
                                    for name, value in params.items()}
        return match, child


class MaybeEmptySegment(Convertor[str]):
    """``{name:maybe_empty}``: one path segment that may be empty, so that ``/entities//attrs``
    reaches its route and is refused as a bad id (400), not as an unknown path (404)."""

    regex = "[^/]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("maybe_empty", MaybeEmptySegment())
