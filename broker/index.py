"""Indexes of one tenant's entities, kept current by every write: what makes a query cost its matches.

Why: every query used to test every entity of the tenant in Python, so its cost grew with the
context (3 s for a geo-query at 100k entities) and it held up other clients meanwhile. Here:

* ``ordinal``: each entity's position in the tenant (creation order, as queries answer), so a
  set of matches is put in order without touching the entities;
* ``types``: the ids of each type, in order: a query by type never touches other types;
* :class:`ValueIndex`: for a ``q`` path (``status``, ``refX``, ``attr.observedAt``...) the ids per
  value and type, and each kind's distinct values sorted, for ``==``, lists, ranges and
  ``< <= > >=``: ``type=EVSE&q=status=="AVAILABLE"`` is one set, counted without a loop;
* :class:`~broker.spatial.SpatialIndex`: a grid of the bounding boxes of each GeoProperty that
  geo-queries use.

Value and spatial indexes are built the first time a query needs them (the paths queries really
use, at most :data:`MAX_VALUE_INDEXES` per tenant), then maintained on write: only the attributes
whose instance list changed are re-read (a write copies the lists it changes, so identity says
which). All of it runs under the store's lock, beside the memory mirror it indexes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Any

from .geo import GeoQuery
from .query import AttrPath, Plan, Term, values_at
from .spatial import SpatialIndex

Entities = dict[str, dict[str, Any]]
Key = tuple[str, Any]
MAX_VALUE_INDEXES = 16
_KINDS: dict[type, str] = {bool: "b", int: "n", float: "n", str: "s"}  # what q compares with what (_comparable)


def _key(value: Any) -> Key | None:
    kind = _KINDS.get(type(value))
    return None if kind is None else (kind, value)


class ValueIndex:
    """The ids of the entities holding each value at one path, by type; exact for the comparisons
    of :class:`~broker.query.Term` (a value q could never compare, such as an object, is not kept)."""

    def __init__(self, path: AttrPath) -> None:
        self.path = path
        self._ids: dict[Key, dict[str, set[str]]] = {}  # value -> type -> ids
        self._sorted: dict[str, list[Any]] = {}  # per kind, the distinct values in order

    def keys_of(self, entity: dict[str, Any] | None) -> set[Key]:
        if entity is None:
            return set()
        return {k for v in values_at(entity, self.path) if (k := _key(v)) is not None}

    def add(self, entity_id: str, keys: set[Key], types: list[str]) -> None:
        for key in keys:
            by_type = self._ids.get(key)
            if by_type is None:
                by_type = self._ids[key] = {}
                insort(self._sorted.setdefault(key[0], []), key[1])
            for type_iri in types:
                by_type.setdefault(type_iri, set()).add(entity_id)

    def discard(self, entity_id: str, keys: set[Key], types: list[str]) -> None:
        for key in keys:
            by_type = self._ids[key]
            for type_iri in types:
                holders = by_type[type_iri]
                holders.discard(entity_id)
                if not holders:
                    del by_type[type_iri]
            if not by_type:
                del self._ids[key]
                values = self._sorted[key[0]]
                del values[bisect_left(values, key[1])]

    def matching(self, term: Term, types: set[str] | None) -> set[str]:
        """The ids of the entities (of these types, or of any) the term holds for; may be the
        index's own set, which the caller only reads."""
        if term.op == "in":
            return self._of_types([by_type for v in term.values if (k := _key(v)) is not None
                                   and (by_type := self._ids.get(k)) is not None], types)
        low_key = _key(term.values[0])
        if low_key is None:
            return set()
        kind = low_key[0]
        values = self._sorted.get(kind, [])
        if term.op == "range":
            high_key = _key(term.values[1])
            if high_key is None or high_key[0] != kind:
                return set()
            picked = values[bisect_left(values, term.values[0]):bisect_right(values, term.values[1])]
        elif term.op == "<":
            picked = values[:bisect_left(values, term.values[0])]
        elif term.op == "<=":
            picked = values[:bisect_right(values, term.values[0])]
        elif term.op == ">":
            picked = values[bisect_right(values, term.values[0]):]
        else:
            picked = values[bisect_left(values, term.values[0]):]
        return self._of_types([self._ids[(kind, v)] for v in picked], types)

    @staticmethod
    def _of_types(found: list[dict[str, set[str]]], types: set[str] | None) -> set[str]:
        sets = [ids for by_type in found for type_iri, ids in by_type.items() if types is None or type_iri in types]
        if len(sets) == 1:
            return sets[0]
        return set().union(*sets)


class TenantIndex:
    """Every index of one tenant (see the module docstring)."""

    def __init__(self) -> None:
        self.ordinal: dict[str, int] = {}
        self._next = 0
        self.types: dict[str, dict[str, None]] = {}
        self._unordered: set[str] = set()  # types whose id list gained an older entity
        self._values: dict[AttrPath, ValueIndex] = {}
        self._spatial: dict[str, SpatialIndex] = {}

    @classmethod
    def of(cls, entities: Entities) -> TenantIndex:
        """The index of a tenant as loaded (ids in order): what ``put`` of each would give, in bulk."""
        index = cls()
        index.ordinal = dict(zip(entities, range(len(entities)), strict=True))
        index._next = len(entities)
        types = index.types
        for entity_id, entity in entities.items():
            for type_iri in entity["type"]:
                ids = types.get(type_iri)
                if ids is None:
                    ids = types[type_iri] = {}
                ids[entity_id] = None
        return index

    # -- maintenance ---------------------------------------------------------------------------
    def put(self, entity_id: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        """An entity created (``before`` None) or changed."""
        if before is None:
            self.ordinal[entity_id] = self._next
            self._next += 1
        retyped = before is None or before["type"] != after["type"]
        if retyped:
            self._retype(entity_id, [] if before is None else before["type"], after["type"])
        for index in self._values.values():
            if before is None or retyped:
                if before is not None:
                    index.discard(entity_id, index.keys_of(before), before["type"])
                index.add(entity_id, index.keys_of(after), after["type"])
            elif _changed(before, after, index.path.attr):
                old, new = index.keys_of(before), index.keys_of(after)
                index.discard(entity_id, old - new, after["type"])
                index.add(entity_id, new - old, after["type"])
        for spatial in self._spatial.values():
            if before is None or _changed(before, after, spatial.geoproperty):
                spatial.place(entity_id, after["attrs"].get(spatial.geoproperty))

    def remove(self, entity_id: str, before: dict[str, Any]) -> None:
        self._retype(entity_id, before["type"], [])
        for index in self._values.values():
            index.discard(entity_id, index.keys_of(before), before["type"])
        for spatial in self._spatial.values():
            spatial.place(entity_id, None)
        del self.ordinal[entity_id]

    def _retype(self, entity_id: str, old: list[str], new: list[str]) -> None:
        for type_iri in set(old) - set(new):
            self.types[type_iri].pop(entity_id, None)
            if not self.types[type_iri]:
                del self.types[type_iri]
        for type_iri in new:
            ids = self.types.setdefault(type_iri, {})
            if entity_id not in ids:
                if ids and self.ordinal[next(reversed(ids))] > self.ordinal[entity_id]:
                    self._unordered.add(type_iri)
                ids[entity_id] = None

    # -- lookups -------------------------------------------------------------------------------
    def of_type(self, type_iri: str) -> dict[str, None]:
        """The ids of a type in tenant order (an empty dict for a type nobody has)."""
        ids = self.types.get(type_iri)
        if ids is None:
            return {}
        if type_iri in self._unordered:
            ids = self.types[type_iri] = dict.fromkeys(sorted(ids, key=self.ordinal.__getitem__))
            self._unordered.discard(type_iri)
        return ids

    def answer(self, plan: Plan, entities: Entities, types: set[str] | None) -> tuple[set[str] | None, bool]:
        """(ids of these types, or any, that include every match of the plan, or None if no index
        narrows it; exactly the matches?). The set may be an index's own: read it, never change it."""
        if plan is None:
            return None, False
        if isinstance(plan, Term):
            index = self._value_index(plan.path, entities)
            return (None, False) if index is None else (index.matching(plan, types), True)
        answers = [self.answer(part, entities, types) for part in plan.parts]
        exact = all(found is not None and is_exact for found, is_exact in answers)
        known = [found for found, _exact in answers if found is not None]
        if plan.every:
            return (intersection(known), exact) if known else (None, False)
        if len(known) < len(answers):
            return None, False
        return set().union(*known), exact

    def near(self, geo: GeoQuery, entities: Entities) -> set[str] | None:
        """Entities whose geometry may satisfy the geo-query, or None when any may."""
        window = geo.window()
        if window is None:
            return None
        spatial = self._spatial.get(geo.geoproperty)
        if spatial is None:
            spatial = self._spatial[geo.geoproperty] = SpatialIndex(geo.geoproperty)
            for entity_id, entity in entities.items():
                instances = entity["attrs"].get(geo.geoproperty)
                if instances is not None:
                    spatial.place(entity_id, instances)
        return spatial.candidates(window)

    def _value_index(self, path: AttrPath, entities: Entities) -> ValueIndex | None:
        index = self._values.get(path)
        if index is None and len(self._values) < MAX_VALUE_INDEXES:
            index = self._values[path] = ValueIndex(path)
            for entity_id, entity in entities.items():
                index.add(entity_id, index.keys_of(entity), entity["type"])
        return index


def _changed(before: dict[str, Any], after: dict[str, Any], attr: str) -> bool:
    return before["attrs"].get(attr) is not after["attrs"].get(attr)


def intersection(sets: list[set[str]]) -> set[str]:
    """The common ids, starting from the smallest set (cost: its size times the others' count)."""
    ordered = sorted(sets, key=len)
    return ordered[0].intersection(*ordered[1:]) if len(ordered) > 1 else ordered[0]
