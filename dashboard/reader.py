"""Everything the dashboard reads, over NGSI-LD only: batch entity queries, counts, and KPI figures
from the temporal API.

Why one reader: the dashboard must work unchanged against the embedded broker and against
Orion-LD + Mintaka, and a page must never cost one request per station. So every read here is a
query by type (and ``q``), paged at 1,000; KPI figures of a calendar period are read as the
newest ``kpiValue`` instance stamped at the period's end (``timerel=between`` a millisecond wide,
``lastN=1``), one request per period for all the subjects at once, a few periods in parallel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from citiesincharge.client import NgsiLdClient
from citiesincharge.timeutil import parse_utc

from .periods import Span

_API = "/ngsi-ld/v1"
PAGE = 1000
ID_CHUNK = 60  # KPI ids per temporal request (~100 characters each)
_KPI_ID = re.compile(r"^urn:ngsi-ld:KeyPerformanceIndicator:([^:]+):(.+):(daily|monthly|yearly)(?::([^:]+))?$")


def value(entity: dict[str, Any], name: str) -> Any:
    """An attribute's value (Property) or object (Relationship) in a normalized entity, else None."""
    attribute = entity.get(name)
    if isinstance(attribute, dict):
        return attribute.get("value", attribute.get("object"))
    return attribute


def observed(entity: dict[str, Any], name: str) -> datetime | None:
    attribute = entity.get(name)
    stamp = attribute.get("observedAt") if isinstance(attribute, dict) else None
    return parse_utc(stamp) if stamp else None


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Figure:
    """One KPI figure: the newest ``kpiValue`` instance of one period of one KPI entity.

    process, subject, frequency and currency come from the KPI's id, whose shape docs/KPIS.md
    fixes (``urn:ngsi-ld:KeyPerformanceIndicator:<process>:<subject>:<frequency>[:<currency>]``).
    """

    id: str
    process: str
    subject: str
    frequency: str
    currency: str | None
    end: datetime
    value: Any
    coverage: float | None
    provisional: bool


def figure(entity_id: str, instance: dict[str, Any]) -> Figure | None:
    match = _KPI_ID.match(entity_id)
    if match is None or "observedAt" not in instance:
        return None
    process, subject, frequency, currency = match.groups()
    coverage = value(instance, "coverage")
    return Figure(entity_id, process, "urn:ngsi-ld:" + subject, frequency, currency, parse_utc(instance["observedAt"]),
                  instance.get("value"), float(coverage) if isinstance(coverage, int | float) else None,
                  bool(value(instance, "provisional")))


class Reader:
    def __init__(self, client: NgsiLdClient, parallel: int = 4) -> None:
        self.client = client
        # two pools: a page's independent reads (outer) may each read several periods (inner)
        self.outer = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="dashboard-read")
        self.inner = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="dashboard-period")

    def close(self) -> None:
        self.outer.shutdown(wait=False, cancel_futures=True)
        self.inner.shutdown(wait=False, cancel_futures=True)

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.client.request("GET", _API + path, params={**params, "limit": PAGE, "offset": offset},
                                       ok=(200,)).json()
            yield from page
            if len(page) < PAGE:
                return
            offset += PAGE

    def entities(self, type_: str, *, attrs: list[str] | None = None, q: str | None = None) -> list[dict[str, Any]]:
        """Every entity of ``type_`` (matching ``q``), normalized, only ``attrs`` (all if None)."""
        return list(self._pages("/entities", {"type": type_, "q": q, "attrs": ",".join(attrs) if attrs else None}))

    def by_ids(self, type_: str, entity_ids: list[str], attrs: list[str]) -> list[dict[str, Any]]:
        """Entities by id (``GET /entities?id=a,b,…``, chunks in parallel): where the ids are known, a
        direct look-up in any broker, much cheaper than a query by type that scans a big tenant."""
        def one(chunk: list[str]) -> list[dict[str, Any]]:
            return list(self._pages("/entities", {"type": type_, "id": ",".join(chunk), "attrs": ",".join(attrs)}))

        chunks = [entity_ids[i:i + ID_CHUNK] for i in range(0, len(entity_ids), ID_CHUNK)]
        return [e for found in self.inner.map(one, chunks) for e in found]

    def count(self, type_: str, q: str | None = None) -> int:
        return self.client.count_entities(type=type_, q=q)

    def figures(self, kpi_ids: list[str], spans: list[Span]) -> list[Figure]:
        """The figure of each KPI in ``kpi_ids`` for each of ``spans`` (the newest instance stamped at
        the span's end); a KPI the workers have not written is simply absent.

        By id rather than by ``q``: a query by id is a direct look-up in any broker, where a ``q``
        over every KPI entity costs a scan per request (about 10x slower on the embedded broker).
        Ids go in chunks (a URL stays well under 8 kB), chunks and spans in parallel.
        """
        def one(job: tuple[Span, list[str]]) -> list[Figure]:
            span, chunk = job
            params = {"type": "KeyPerformanceIndicator", "id": ",".join(chunk), "attrs": "kpiValue",
                      "timerel": "between", "timeAt": iso(span.end),
                      "endTimeAt": iso(span.end + timedelta(milliseconds=1)), "lastN": 1}
            out = []
            for entity in self._pages("/temporal/entities", params):
                instances = entity.get("kpiValue") or []
                instances = instances if isinstance(instances, list) else [instances]
                if instances and (found := figure(entity["id"], instances[-1])) is not None:
                    out.append(found)
            return out

        unique = list(dict.fromkeys(kpi_ids))
        jobs = [(span, unique[i:i + ID_CHUNK]) for span in spans for i in range(0, len(unique), ID_CHUNK)]
        return [f for chunk in self.inner.map(one, jobs) for f in chunk]

    def in_parallel(self, *calls: Any) -> list[Any]:
        """Run independent reads at once (each a zero-argument callable); results in order."""
        futures = [self.outer.submit(call) for call in calls]
        return [future.result() for future in futures]
