"""Paging of attribute instances in temporal responses (ETSI GS CIM 009 v1.x §6.3.10).

Why: one attribute may hold years of instances, more than one response should carry. The broker
returns at most ``limit`` instances of any attribute (``CIC_TEMPORAL_INSTANCE_LIMIT``); when some
attribute has more in the asked window, it answers ``206 Partial Content`` with
``Content-Range: date-time <start>-<end>/<size>`` for the time range it covers *completely*:

* forwards (no ``lastN``: oldest first) the range ends before the first instance left out of any
  attribute (of any entity of the response), so every attribute holds every instance of the range;
  the next page is the window after ``<end>``;
* backwards (``lastN`` above the limit: newest first) it begins after the newest instance left
  out, and the next page is the window before ``<end>``.

``<start>`` is the window's bound where the request gave one (``timeAt``; ``endTimeAt`` or the
``before`` instant backwards), else the first instance shown; ``<size>`` is ``lastN`` or ``*``.
Cutting every attribute at the same instant (not each after its own ``limit`` instances) is what
lets a client continue with one window for all of them. Aggregations are never paged: a bucket
is computed from every instance in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import history as compact
from .temporal import instance_time, shown_instant

History = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Page:
    """What the caller needs of one answered page: the (cut) histories and the Content-Range."""

    histories: list[History]
    content_range: str | None
    kinds: list[dict[str, str]] | None = None  # each attribute's type, for those the page left empty

    def kinds_of(self, index: int) -> dict[str, str] | None:
        return None if self.kinds is None else self.kinds[index]


@dataclass(frozen=True)
class InstancePaging:
    """The instance limit of one request: ``limit`` per attribute, ``last_n`` as asked."""

    limit: int
    last_n: int | None
    paged: bool = True  # False for aggregations

    @property
    def backwards(self) -> bool:
        return self.last_n is not None

    def rows(self) -> int | None:
        """How many instances of each attribute to read: ``lastN`` when the limit allows it, else one
        more than the limit (that one only tells that the attribute goes on), else all."""
        if not self.paged:
            return self.last_n
        if self.last_n is not None and self.last_n <= self.limit:
            return self.last_n
        return self.limit + 1

    def cut(self, histories: list[History], column: str, start: str | None, end: str | None) -> Page | None:
        """The page of these histories (read with :meth:`rows`), or None if one attribute has more
        than ``limit`` instances at a single instant: no range can then split it, so the caller
        reads the window whole."""
        if self.rows() != self.limit + 1 or not self.paged:
            return Page(histories, None)
        truncated = [instances for h in histories for instances in h.values() if len(instances) > self.limit]
        if not truncated:
            return Page(histories, None)
        if any(self._edge(i, column) == self._edge(i[::-1], column) for i in truncated):
            return None  # all limit + 1 instances at one instant
        edges = [self._edge(instances, column) for instances in truncated]
        edge = max(edges) if self.backwards else min(edges)
        kept: list[History] = []
        kinds: list[dict[str, str]] = []
        for h in histories:
            kept.append({iri: [i for i in instances if self._inside(_ms(i, column), edge)]
                         for iri, instances in h.items()})
            kinds.append({iri: instances[-1]["type"] for iri, instances in h.items() if instances})
        return Page(kept, self._range(kept, column, start, end), kinds)

    def _edge(self, instances: list[dict[str, Any]], column: str) -> int:
        """The instant of the first instance left out (instances are in time order)."""
        return _ms(instances[0] if self.backwards else instances[-1], column)

    def _inside(self, moment: int, edge: int) -> bool:
        return moment > edge if self.backwards else moment < edge

    def _range(self, histories: list[History], column: str, start: str | None, end: str | None) -> str:
        moments = sorted(_ms(i, column) for h in histories for instances in h.values() for i in instances)
        first = compact.iso(moments[0]) if moments else start or end or ""
        last = compact.iso(moments[-1]) if moments else first
        if self.backwards:
            low, high = (end or last), first
        else:
            low, high = (start or first), last
        size = "*" if self.last_n is None else str(self.last_n)
        return f"date-time {shown_instant(low)}-{shown_instant(high)}/{size}"


def _ms(instance: dict[str, Any], column: str) -> int:
    return compact.ms(instance_time(instance, column))

