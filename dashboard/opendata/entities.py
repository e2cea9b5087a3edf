"""Reading normalized NGSI-LD entities (with system attributes) the way the feed needs: values,
observation and modification instants, and whether an entity may be published at all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from citiesincharge.timeutil import parse_utc


def value(entity: dict[str, Any], name: str) -> Any:
    """An attribute's value (Property, GeoProperty) or object (Relationship), else None."""
    attribute = entity.get(name)
    if isinstance(attribute, dict):
        return attribute.get("value", attribute.get("object"))
    return attribute


def _instant(text: Any) -> datetime | None:
    try:
        return parse_utc(text) if isinstance(text, str) else None
    except ValueError:
        return None


def observed(entity: dict[str, Any], name: str) -> datetime | None:
    """When the source says an attribute's value held (``observedAt``)."""
    attribute = entity.get(name)
    return _instant(attribute.get("observedAt")) if isinstance(attribute, dict) else None


def modified(entity: dict[str, Any]) -> datetime | None:
    """When the broker last changed the entity (``modifiedAt``, asked for with ``options=sysAttrs``)."""
    return _instant(entity.get("modifiedAt"))


def is_public(entity: dict[str, Any]) -> bool:
    """Shared with anyone by its source's terms (docs/LICENSING.md). Checked here although the broker
    was asked for ``dataAccess=="public"`` only: a broker that ignored ``q`` (or a query written
    wrong one day) must not open what the operators did not."""
    return bool(value(entity, "dataAccess") == "public")


def is_published(station: dict[str, Any]) -> bool:
    """A Location its operator lets be published: OCPI ``publish: false`` (with or without the token
    kinds in ``publishAllowedTo`` that may see it) keeps it off every website and app."""
    return value(station, "publish") is not False and not value(station, "publishAllowedTo")
