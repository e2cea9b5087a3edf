"""A compiled entity selection (ids, types, idPattern, attrs, q, geo-query): what a query asks.

Kept apart from the broker's service so that the store's planner can read it without importing
the service that owns the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .geo import GeoQuery
from .patterns import Pattern, compile_pattern
from .query import Query


@dataclass
class EntityQuery:
    """What an entity must be to be selected; :meth:`matches` tests one entity against all of it."""

    ids: list[str] | None = None
    types: set[str] | None = None
    id_pattern: Pattern | None = None
    attrs: set[str] | None = None
    q: Query | None = None
    geo: GeoQuery | None = None

    @staticmethod
    def pattern(text: str | None) -> Pattern | None:
        return None if text is None else compile_pattern(text, "idPattern")

    def matches(self, entity: dict[str, Any]) -> bool:
        if self.types is not None and not self.types.intersection(entity["type"]):
            return False
        if self.id_pattern is not None and not self.id_pattern.search(entity["id"]):
            return False
        if self.attrs is not None and not self.attrs.intersection(entity["attrs"]):
            return False
        if self.q is not None and not self.q(entity):
            return False
        return self.geo is None or self.geo(entity)

    def is_empty(self) -> bool:
        return (self.types is None and self.id_pattern is None and self.attrs is None and self.q is None
                and self.geo is None)
