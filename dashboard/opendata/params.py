"""Paging parameters of the feed, checked at the edge: a bad one gets a 400 that says what is
allowed, never a crash or a silently different page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from citiesincharge.timeutil import parse_utc

MAX_OFFSET = 2**31 - 1


class BadParameter(ValueError):
    """A query parameter the feed cannot use; the message says which and what it accepts."""


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def _whole(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise BadParameter(f"{name} must be a whole number from {low} to {high}, not {text[:40]!r}")
    found = int(text)
    if not low <= found <= high:
        raise BadParameter(f"{name} must be from {low} to {high}, not {found}")
    return found


def page(params: Mapping[str, str], *, default: int, maximum: int) -> Page:
    """``limit`` (1 to the feed's maximum) and ``offset`` (0 or more; past the end: an empty page)."""
    return Page(_whole(params, "limit", min(default, maximum), 1, maximum), _whole(params, "offset", 0, 0, MAX_OFFSET))


def instant(params: Mapping[str, str], name: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 date-time parameter (OCPI ``date_from``, ``date_to``); naive is UTC."""
    text = params.get(name)
    if text is None:
        return None
    try:
        return parse_utc(text)
    except ValueError:
        raise BadParameter(f"{name} must be an RFC 3339 date-time such as 2026-03-02T03:00:00Z, "
                           f"not {text[:40]!r}") from None
