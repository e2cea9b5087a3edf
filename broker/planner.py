"""The query planner: which indexes answer an entity query, and what is left to test entity by entity.

Why: results must be exactly what testing every entity gave (same entities, same order: the
tenant's), at a cost that follows the matches rather than the context. :func:`choose` runs under
the store's lock: it intersects what the indexes know (type, ``q`` terms, the spatial window)
and, when that is the whole answer, returns the page itself (walking the type's ids in order
until the page is full, or sorting the few matches), and the total without materialising the
entities. Otherwise it returns the narrowed candidates, in order, with the *residual* query
(what no index covered exactly) that :meth:`Chosen.finish` applies outside the lock, stopping at
the end of the page when no total is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from .entity_query import EntityQuery
from .index import Entities, TenantIndex, intersection


@dataclass
class Chosen:
    """Entities in tenant order: the page itself (``residual`` None, ``total`` known), or
    candidates that the residual query still has to confirm."""

    entities: list[dict[str, Any]]
    residual: EntityQuery | None
    total: int | None
    paged: bool = False

    def finish(self, start: int, size: int | None, want_total: bool) -> tuple[list[dict[str, Any]], int | None]:
        """(the page, the total number of matches when known or asked for)."""
        if self.paged:
            return self.entities, self.total
        matched: Iterable[dict[str, Any]] = self.entities
        residual = self.residual
        if residual is not None:
            matched = (e for e in self.entities if residual.matches(e))
            if not want_total and size is not None:
                return list(islice(matched, start, start + size)), None
        found = list(matched)
        end = None if size is None else start + size
        return found[start:end], len(found)


def choose(entities: Entities, index: TenantIndex, query: EntityQuery, start: int, size: int | None) -> Chosen:
    """Plan and (as far as the indexes go) run a query; the caller holds the store's lock."""
    if query.ids is not None:  # a list of ids: those entities, in the order asked
        return Chosen([entities[i] for i in query.ids if i in entities], query, None)
    narrowing: list[set[str]] = []
    q_exact = typed = False  # typed: the narrowed ids are all of the query's types already
    if query.q is not None:
        found, q_exact = index.answer(query.q.plan, entities, query.types)
        if found is not None:
            narrowing.append(found)
            typed = True
    if query.geo is not None:
        near = index.near(query.geo, entities)
        if near is not None:
            narrowing.append(near)
    residual = EntityQuery(id_pattern=query.id_pattern, attrs=query.attrs, q=None if q_exact else query.q,
                           geo=query.geo)
    exact = residual.is_empty()
    buckets = None if query.types is None else [index.of_type(t) for t in sorted(query.types)]
    if not narrowing:
        return _scan(entities, index, buckets, None if exact else residual, start, size)
    matches = intersection(narrowing)  # read only: it may be an index's own set
    if buckets is not None and not typed:  # the spatial candidates, a few
        matches = {i for i in matches if any(i in bucket for bucket in buckets)}
    if not exact:
        return Chosen([entities[i] for i in sorted(matches, key=index.ordinal.__getitem__)], residual, None)
    ordered = buckets[0] if buckets is not None and len(buckets) == 1 else entities if buckets is None else None
    if ordered is not None and size is not None and _walk_is_cheaper(len(matches), len(ordered), start + size):
        page = list(islice((i for i in ordered if i in matches), start, start + size))
    else:
        end = None if size is None else start + size
        page = sorted(matches, key=index.ordinal.__getitem__)[start:end]
    return Chosen([entities[i] for i in page], None, len(matches), paged=True)


def _scan(entities: Entities, index: TenantIndex, buckets: list[dict[str, None]] | None,
          residual: EntityQuery | None, start: int, size: int | None) -> Chosen:
    """No index narrows the query: the entities of its types (or all), in order."""
    ids: Iterable[str]
    if buckets is None:
        ids, total = entities, len(entities)
    elif len(buckets) == 1:
        ids, total = buckets[0], len(buckets[0])
    else:
        merged = sorted(set().union(*buckets), key=index.ordinal.__getitem__)
        ids, total = merged, len(merged)
    if residual is None:
        end = None if size is None else start + size
        return Chosen([entities[i] for i in islice(ids, start, end)], None, total, paged=True)
    return Chosen([entities[i] for i in ids], residual, None)


def _walk_is_cheaper(matches: int, ordered: int, wanted: int) -> bool:
    """Walk the ordered ids testing membership until the page is full, or sort the matches?"""
    if matches == 0:
        return False
    return wanted * ordered / matches < 4 * matches
