"""Cacheable answers: a strong ``ETag`` from the body's bytes and ``Last-Modified`` from the data,
and 304 Not Modified when a client already holds the same (RFC 9110 §13).

``If-None-Match`` wins over ``If-Modified-Since`` when both are sent, as RFC 9110 says: the ETag
changes with any change of the body, while the newest ``modifiedAt`` may not move when an entity
leaves the feed (becomes non-public, is deleted). A malformed ``If-Modified-Since`` is ignored
(the full answer is sent), never an error.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from fastapi.responses import Response


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(header: str, tag: str) -> bool:
    """Weak comparison, as If-None-Match uses: ``W/"x"`` matches ``"x"``; ``*`` matches anything."""
    candidates = [part.strip().removeprefix("W/") for part in header.split(",")]
    return "*" in candidates or tag in candidates


def _unchanged_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since


def respond(request: Request, body: bytes, media_type: str, *, last_modified: datetime | None,
            max_age: float, headers: dict[str, str] | None = None) -> Response:
    """The answer, or 304 with the same validators when the client's copy is current."""
    tag = etag(body)
    out = {"ETag": tag, "Cache-Control": f"public, max-age={int(max_age)}", "Vary": "Accept", **(headers or {})}
    if last_modified is not None:
        out["Last-Modified"] = format_datetime(last_modified.replace(microsecond=0), usegmt=True)
    none_match = request.headers.get("if-none-match")
    since = request.headers.get("if-modified-since")
    if none_match is not None:
        fresh = _matches(none_match, tag)
    else:
        fresh = since is not None and last_modified is not None and _unchanged_since(since, last_modified)
    if fresh:
        return Response(status_code=304, headers=out)
    return Response(body, media_type=media_type, headers=out)
