"""Parsing date-times the way every component must: ISO 8601, naive means UTC.

OCPI and NGSI-LD both define their times as UTC; a time without an offset is read as UTC rather
than as the machine's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_utc(text: object) -> datetime:
    """An aware datetime from an ISO 8601 string; ValueError (with the reason) otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a valid ISO 8601 date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
