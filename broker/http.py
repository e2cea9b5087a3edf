"""HTTP conventions of NGSI-LD: content types, the @context Link header, options, responses.

Kept apart from the routes so that every endpoint negotiates content the same way (§6.3.4-6.3.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from citiesincharge import ldcontext

from .errors import BadRequestData, InvalidRequest, NgsiLdError, NotAcceptable, UnsupportedMediaType

JSON = "application/json"
JSON_LD = "application/ld+json"
GEO_JSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
LINK_REL = "http://www.w3.org/ns/json-ld#context"
_LINK = re.compile(r'<([^>]+)>\s*;(.*)')
_TENANT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
OPTIONS = {"keyValues", "simplified", "concise", "normalized", "sysAttrs", "noOverwrite", "replace",
           "update", "temporalValues", "aggregatedValues", "count"}


def problem(error: NgsiLdError, headers: dict[str, str] | None = None) -> Response:
    """The ProblemDetails response of an error (with the challenge a 401 needs)."""
    if error.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def link_header(context_url: str) -> str:
    return f'<{context_url}>; rel="{LINK_REL}"; type="{JSON_LD}"'


def tenant_of(request: Request) -> str:
    tenant = request.headers.get("NGSILD-Tenant", "")
    if tenant and not _TENANT.match(tenant):
        raise BadRequestData(f"NGSILD-Tenant '{tenant}' must be 1-64 letters, digits, '_' or '-'")
    return tenant


def context_from_link(request: Request) -> str | None:
    """The @context URL of a ``Link`` header with the JSON-LD context relation, if any."""
    header = request.headers.get("Link")
    if not header:
        return None
    for part in header.split(","):
        match = _LINK.match(part.strip())
        if match and LINK_REL in match.group(2):
            return match.group(1)
    raise BadRequestData(f"Link header '{header}' is not a JSON-LD @context link")


@dataclass
class Body:
    data: Any
    context: Any
    media: str = JSON

    def item_context(self, item: dict[str, Any]) -> Any:
        """The @context of one entity of a batch read with ``per_item``: §6.3.5 applies to each
        entity, and an entity that breaks it is that entity's error, not the whole batch's."""
        if self.media == JSON_LD:
            if "@context" not in item:
                raise BadRequestData("with application/ld+json each entity must carry an @context member")
            return item["@context"]
        if "@context" in item:
            raise BadRequestData("@context in the body needs Content-Type application/ld+json")
        return self.context


async def read_body(request: Request, *, allow_merge_patch: bool = False, per_item: bool = False) -> Body:
    """Parse a JSON body and find its @context as §6.3.5 says for each content type.

    ``per_item``: a JSON array of entities whose @context each entity carries (batch operations);
    :meth:`Body.item_context` checks them one by one.
    """
    media = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    # §6.3.4: merge-patch+json is a PATCH body type on every endpoint that takes a PATCH.
    allowed = {JSON, JSON_LD} | ({MERGE_PATCH} if allow_merge_patch or request.method == "PATCH" else set())
    if media not in allowed:
        raise UnsupportedMediaType(f"Content-Type '{media or 'none'}' not supported; use "
                                   + " or ".join(sorted(allowed)))
    try:
        raw = await request.body()
    except ClientDisconnect:  # also what the body limiter turns an oversized body into
        raise InvalidRequest("the client went away before the body was read") from None
    if not raw:
        raise InvalidRequest("the request body is empty")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"the request body is not valid JSON ({error})") from None
    link = context_from_link(request)
    if per_item and isinstance(data, list):
        if media == JSON_LD and link is not None:
            raise BadRequestData("with application/ld+json the @context goes in the body, not a Link header")
        return Body(data, link, media)
    if media == JSON_LD and (isinstance(data, dict) or (isinstance(data, list) and data
                                                        and all(isinstance(i, dict) for i in data))):
        if link is not None:
            raise BadRequestData("with application/ld+json the @context goes in the body, not a Link header")
        items = data if isinstance(data, list) else [data]
        contexts = [i.get("@context") for i in items if isinstance(i, dict)]
        if not contexts or any(c is None for c in contexts):
            raise BadRequestData("application/ld+json payloads must carry an @context member")
        return Body(data, contexts[0], media)
    if _has_body_context(data):
        raise BadRequestData("@context in the body needs Content-Type application/ld+json")
    return Body(data, link)


def _has_body_context(data: Any) -> bool:
    if isinstance(data, dict):
        return "@context" in data
    return isinstance(data, list) and any(isinstance(i, dict) and "@context" in i for i in data)


def accepted(request: Request, *, geo: bool = False) -> str:
    """The response media type chosen from the Accept header."""
    header = request.headers.get("Accept", "")
    if not header:
        return JSON
    offered = [JSON, JSON_LD] + ([GEO_JSON] if geo else [])
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        quality = 1.0
        for param in fields[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, index, fields[0].lower()))
    for _q, _i, media in sorted(ranked):
        if media in offered:
            return media
        if media in ("*/*", "application/*"):
            return JSON
    raise NotAcceptable(f"Accept '{header}' offers none of {', '.join(offered)}")


def parse_options(raw: str | None, allowed: set[str]) -> set[str]:
    if not raw:
        return set()
    options = {o.strip() for o in raw.split(",") if o.strip()}
    unknown = options - allowed
    if unknown:  # a value outside the parameter's vocabulary: the request itself is malformed (§6.3.7)
        raise InvalidRequest(f"options {sorted(unknown)} not supported here; use {', '.join(sorted(allowed))}")
    return options


def output_format(options: set[str], format_param: str | None = None) -> str:
    if format_param is not None:
        if format_param not in ("normalized", "keyValues", "simplified", "concise"):
            raise InvalidRequest(f"format '{format_param}' must be normalized, keyValues or concise")
        return "keyValues" if format_param == "simplified" else format_param
    chosen = options & {"keyValues", "simplified", "concise", "normalized"}
    if len(chosen) > 1:
        raise InvalidRequest(f"options {sorted(chosen)} are mutually exclusive")
    name = next(iter(chosen), "normalized")
    return "keyValues" if name == "simplified" else name


def split_list(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    items = [i.strip() for i in raw.split(",") if i.strip()]
    if not items:
        raise BadRequestData("an empty list parameter was given")
    return items


def page_links(path: str, limit: int, offset: int, total: int) -> dict[str, str]:
    """``Link`` rel="prev"/"next" of one page of a list (§6.3.13), or nothing for a single page."""
    links = []
    if offset > 0 and limit > 0:
        links.append(f'<{path}?limit={limit}&offset={max(offset - limit, 0)}>;rel="prev";type="{JSON_LD}"')
    if limit > 0 and offset + limit < total:
        links.append(f'<{path}?limit={limit}&offset={offset + limit}>;rel="next";type="{JSON_LD}"')
    return {"Link": ", ".join(links)} if links else {}


def json_response(payload: Any, *, media: str, context: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """Serialise with the @context where the media type says it goes (Link vs. body)."""
    headers = dict(headers or {})
    response_context = context if context is not None else ldcontext.CORE_CONTEXT_URL
    if media == JSON_LD:
        if isinstance(payload, list):
            payload = [dict(item, **{"@context": response_context}) for item in payload]
        elif isinstance(payload, dict):
            payload = dict(payload, **{"@context": response_context})
    elif media == JSON:
        url = response_context if isinstance(response_context, str) else ldcontext.CORE_CONTEXT_URL
        headers["Link"] = ", ".join(filter(None, [link_header(url), headers.get("Link")]))
    return Response(orjson.dumps(payload), status_code=status, media_type=media, headers=headers)
