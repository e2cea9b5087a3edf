"""Temporal retrieval and query, independent of how they were asked (GET parameters or the body of
``POST /temporal/entityOperations/query``): ETSI GS CIM 009 §5.7.3, 5.7.4, 6.3.12, 4.21 (pick/omit).

:class:`TemporalParams` validates the parameters once; :func:`select` finds the temporal entities
a query matches; :meth:`TemporalParams.render` shapes one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .entity_query import EntityQuery
from .errors import BadRequestData, InvalidRequest, ResourceNotFound
from .http import split_list
from .jsonld import TermMap
from .query import Predicate
from .service import Broker
from .temporal import TimeFilter, parse_aggr_methods, parse_period, render_temporal
from .temporal_paging import History, InstancePaging, Page
from .temporal_store import TemporalEntity

OPTIONS = {"temporalValues", "aggregatedValues", "sysAttrs", "count"}
FORMATS = {"normalized": "normalized", "temporalValues": "temporalValues", "simplified": "temporalValues",
           "aggregatedValues": "aggregatedValues"}
DELETED = "https://uri.etsi.org/ngsi-ld/default-context/Deleted"
_CORE_MEMBERS = {"id", "type"}


def _options(raw: str | None) -> set[str]:
    """``options``: an unknown value is an InvalidRequest (§6.3.20 since v1.8.1)."""
    options = {o.strip() for o in (raw or "").split(",") if o.strip()}
    unknown = options - OPTIONS
    if unknown:
        raise InvalidRequest(f"options {sorted(unknown)} not supported here; use {', '.join(sorted(OPTIONS))}")
    return options


def _mode(fmt: str | None, options: set[str], aggr_methods: str | None) -> str:
    """The representation: ``format`` wins over ``options`` (§6.3.12); aggrMethods alone means aggregation."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InvalidRequest(f"format '{fmt}' must be one of {', '.join(FORMATS)}")
        return FORMATS[fmt]
    if "aggregatedValues" in options or aggr_methods:
        return "aggregatedValues"
    return "temporalValues" if "temporalValues" in options else "normalized"


def _last_n(raw: str | None) -> int | None:
    try:
        last_n = int(raw) if raw is not None else None
    except ValueError:
        raise BadRequestData(f"lastN '{raw}' must be a positive integer") from None
    if last_n is not None and last_n < 1:
        raise BadRequestData("lastN must be a positive integer")
    return last_n


class TemporalParams:
    """The temporal parameters of a request, validated once."""

    def __init__(self, params: Mapping[str, str], tm: TermMap) -> None:
        self.window = TimeFilter.from_params(params.get("timerel"), params.get("timeAt"),
                                             params.get("endTimeAt"), params.get("timeproperty"))
        self.last_n = _last_n(params.get("lastN"))
        self.options = _options(params.get("options"))
        self.mode = _mode(params.get("format"), self.options, params.get("aggrMethods"))
        self.methods: list[str] | None = None
        self.period: Any = None
        if self.mode == "aggregatedValues":
            self.methods = parse_aggr_methods(params.get("aggrMethods"))
            self.period = parse_period(params.get("aggrPeriodDuration"))
        names = split_list(params.get("attrs"))
        self.attrs = None if names is None else {tm.expand(n) for n in names}
        self.pick = set(split_list(params.get("pick")) or []) or None
        self.omit = set(split_list(params.get("omit")) or []) or None
        if self.pick and self.omit and self.pick & self.omit:
            raise BadRequestData(f"{sorted(self.pick & self.omit)} are both picked and omitted")
        if (self.pick or self.omit) and names is not None:
            raise BadRequestData("pick and omit cannot be combined with attrs")

    def page(self, broker: Broker, tenant: str, entity_ids: list[str]) -> Page:
        """The instances of these entities in one response: paged (:mod:`broker.temporal_paging`)."""
        paging = InstancePaging(broker.settings.temporal_instance_limit, self.last_n,
                                paged=self.mode != "aggregatedValues")
        found = paging.cut(self._read(broker, tenant, entity_ids, paging.rows()), self.window.column,
                           self.window.start, self.window.end)
        return found or Page(self._read(broker, tenant, entity_ids, self.last_n), None)

    def _read(self, broker: Broker, tenant: str, entity_ids: list[str], rows: int | None) -> list[History]:
        attrs = sorted(self.attrs) if self.attrs is not None else None
        newest = self.last_n is not None
        return [broker.store.temporal.instances(tenant, entity_id, attrs, self.window, rows, newest=newest)
                for entity_id in entity_ids]

    def render(self, entity_id: str, types: list[str], history: History, tm: TermMap,
               kinds: dict[str, str] | None = None) -> dict[str, Any]:
        rendered = render_temporal(entity_id, types, history, tm, mode=self.mode, column=self.window.column,
                                   kinds=kinds,
                                   aggr_methods=self.methods, period=self.period, origin=self.window.start,
                                   sys_attrs="sysAttrs" in self.options)
        return self.project(rendered)

    def project(self, rendered: dict[str, Any]) -> dict[str, Any]:
        """``pick`` / ``omit`` on the entity's members (id, type and attribute names, §4.21)."""
        if self.pick is not None:
            rendered = {k: v for k, v in rendered.items() if k in self.pick}
        if self.omit is not None:
            rendered = {k: v for k, v in rendered.items() if k not in self.omit}
        return rendered


def entity_types(broker: Broker, tenant: str, found: TemporalEntity | None, entity_id: str) -> list[str]:
    """An entity's types as the history recorded them, else as the current entity has them."""
    if found is not None and found.types:
        return found.types
    try:
        return list(broker.store.get(tenant, entity_id)["type"])
    except ResourceNotFound:
        if found is None:
            raise
        return [DELETED]  # history recorded before types were, of an entity deleted since


@dataclass(frozen=True)
class Selector:
    """One entity selector of a query: ids, types and idPattern (all optional)."""

    ids: list[str] | None
    query: EntityQuery


def select(broker: Broker, tenant: str, selectors: list[Selector], q: Predicate | None,
           params: TemporalParams) -> list[tuple[TemporalEntity, list[str]]]:
    """Temporal entities matching a selector that hold instances in the window (of the asked
    attributes), and whose instances there satisfy ``q`` (a term holds if one instance meets it)."""
    store = broker.store
    chosen: dict[int, tuple[TemporalEntity, list[str]]] = {}
    for selector in selectors:
        for entity in store.temporal.entities(tenant, selector.ids):
            if entity.number in chosen:
                continue
            types = entity_types(broker, tenant, entity, entity.entity_id)
            if selector.query.matches({"id": entity.entity_id, "type": types, "attrs": {}}):
                chosen[entity.number] = (entity, types)
    window = params.window
    attrs = sorted(params.attrs) if params.attrs is not None else None
    holding = store.temporal.with_instances(sorted(chosen), attrs, window.column, window.start, window.end,
                                            window.strict_start)
    found = [chosen[number] for number in sorted(holding)]
    if q is None:
        return found
    return [(e, types) for e, types in found if q({"id": e.entity_id, "type": types, "attrs": store.history(
        tenant, e.entity_id, None, window.start, window.end, None, column=window.column,
        exclusive_start=window.strict_start)})]
