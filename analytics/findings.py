"""What workers write back: SDM ``KeyPerformanceIndicator`` entities (alerts: ``analytics/alerts.py``).

Ids are deterministic (what, about whom, since when / which period), so a restarted worker that
re-derives the same finding writes the same entity instead of a duplicate. An alert is *open*
while it has no ``validTo``; ``data`` carries the project-specific facts (kind, the entities
involved, the times) so that each finding can be traced to the events that caused it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from citiesincharge import ids

from .clock import iso


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def kpi(name: str, scope: str, period: str, value: Any, *, start: datetime, end: datetime, frequency: str,
        description: str, organization: str | None = None, aggregated: list[dict[str, Any]] | None = None,
        refs: dict[str, str] | None = None, unit: str | None = None) -> dict[str, Any]:
    """An SDM KeyPerformanceIndicator for one scope (an EVSE, a station, an operator) and period."""
    entity: dict[str, Any] = {
        "id": ids.entity_id("KeyPerformanceIndicator", "cic", name, scope, period),
        "type": "KeyPerformanceIndicator",
        "name": _prop(f"{name} {scope} {period}"),
        "description": _prop(description),
        "category": _prop(["quantitative"]),
        "kpiValue": {"type": "Property", "value": value, **({"unitCode": unit} if unit else {})},
        "calculationPeriod": _prop({"from": start.date().isoformat(), "to": end.date().isoformat()}),
        "calculationFrequency": _prop(frequency),
        "calculationMethod": _prop("automatic"),
        "process": _prop(name),
        "updatedAt": _prop(iso(datetime.now(start.tzinfo))),
    }
    if organization:
        entity["organization"] = _prop(organization)
    if aggregated:
        entity["aggregatedData"] = _prop(aggregated)
    for attribute, target in (refs or {}).items():
        entity[attribute] = {"type": "Relationship", "object": target}
    return entity
