"""What workers write back: SDM ``Alert`` and ``KeyPerformanceIndicator`` entities.

Ids are deterministic (what, about whom, since when / which period), so a restarted worker that
re-derives the same finding writes the same entity instead of a duplicate. An alert is *open*
while it has no ``validTo``; ``data`` carries the project-specific facts (kind, the entities
involved, the times) so that each finding can be traced to the events that caused it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from citiesincharge import ids

from .clock import iso

Severity = Literal["informational", "low", "medium", "high", "critical"]


def severity_for(minutes: float, steps: tuple[float, float, float, float] = (10, 30, 120, 1440)) -> Severity:
    """Severity rises with how long it has lasted (thresholds in minutes)."""
    levels: tuple[Severity, ...] = ("informational", "low", "medium", "high", "critical")
    return levels[sum(1 for threshold in steps if minutes >= threshold)]


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def alert(kind: str, subject: str, since: datetime, *, now: datetime, source: str, description: str,
          data: dict[str, Any], until: datetime | None = None, sub_category: str | None = None,
          steps: tuple[float, float, float, float] = (10, 30, 120, 1440)) -> dict[str, Any]:
    """An SDM Alert: ``kind`` (e.g. chargingBayBlocked), the ``subject`` entity id, since when."""
    end = until or now
    minutes = round((end - since).total_seconds() / 60, 1)
    entity: dict[str, Any] = {
        "id": ids.entity_id("Alert", "cic", kind, subject.removeprefix(ids.PREFIX), since.strftime("%Y%m%dT%H%M%S")),
        "type": "Alert",
        "category": _prop("traffic"),
        "alertSource": _prop(source),
        "dateIssued": _prop(iso(now)),
        "validFrom": _prop(iso(since)),
        "severity": _prop(severity_for(minutes, steps)),
        "description": _prop(description),
        "data": _prop({**data, "kind": kind, "subject": subject, "since": iso(since), "durationMinutes": minutes,
                       "status": "closed" if until else "open"}),
    }
    if sub_category:
        entity["subCategory"] = _prop(sub_category)
    if until is not None:
        entity["validTo"] = _prop(iso(until))
    return entity


def own_data(alert_entity: dict[str, Any]) -> dict[str, Any]:
    """The worker-specific part of an alert's ``data`` (what :func:`alert` adds is left out)."""
    return {k: v for k, v in alert_entity["data"]["value"].items()
            if k not in ("kind", "subject", "since", "durationMinutes", "status")}


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
