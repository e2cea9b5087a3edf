"""Timestamps as the broker stores them: UTC ISO 8601 with milliseconds, so that string order is
time order (SQLite range scans and ``observedAt`` comparisons stay plain string compares)."""

from __future__ import annotations

from datetime import UTC, datetime

from citiesincharge.timeutil import parse_utc

from .errors import BadRequestData


def now_iso() -> str:
    return format_iso(datetime.now(UTC))


def format_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: object, what: str) -> datetime:
    """Parse an ISO 8601 date-time; naive times are taken as UTC, as Orion-LD does."""
    try:
        return parse_utc(text)
    except ValueError as error:
        raise BadRequestData(f"{what}: {error}") from None


def normalise_iso(text: object, what: str) -> str:
    return format_iso(parse_iso(text, what))
