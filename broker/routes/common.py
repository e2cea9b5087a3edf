"""What every route needs: the broker of this app, paging parameters, the requester's context."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ..errors import BadRequestData, TooManyResults
from ..http import context_from_link
from ..jsonld import TermMap
from ..service import Broker

DEFAULT_LIMIT, MAX_LIMIT = 20, 1000


def broker_of(request: Request) -> Broker:
    broker: Broker = request.app.state.broker
    return broker


async def request_term_map(request: Request) -> tuple[Any, TermMap]:
    """Context of a GET/DELETE (Link header only) and its term map."""
    context = context_from_link(request)
    return context, await broker_of(request).term_map(context)


def flag(raw: str | None, name: str) -> bool:
    """A boolean query parameter, strictly ``true`` or ``false`` (absent or empty: false)."""
    if raw in (None, "", "false"):
        return False
    if raw == "true":
        return True
    raise BadRequestData(f"{name} must be true or false, not '{raw}'")


def paging(limit: str | None, offset: str | None) -> tuple[int, int]:
    try:
        size = DEFAULT_LIMIT if limit is None else int(limit)
        start = 0 if offset is None else int(offset)
    except ValueError:
        raise BadRequestData(f"limit '{limit}' and offset '{offset}' must be integers") from None
    if size < 0 or start < 0:
        raise BadRequestData("limit and offset must not be negative")
    if size > MAX_LIMIT:
        raise TooManyResults(f"limit {size} is above the maximum of {MAX_LIMIT}; page with offset", status=400)
    return size, start


def expand_all(tm: TermMap, names: list[str] | None) -> set[str] | None:
    return None if names is None else {tm.expand(n) for n in names}
