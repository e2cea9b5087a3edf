"""The licence and sharing level of derived KPIs, from the policies of the operators they derive from.

Why read the policies from the context: each operator's terms are configured once, with its OCPI
endpoint, and the OCPI agent writes them on the operator's ``Organization`` entity (``license``,
``dataSharing``); the analytics find them there like any other integrator would, so nothing is
configured twice. The rule (citiesincharge/licensing.py): a KPI of one operator takes that
operator's level for the kind of data it is computed from, never more open than the operator's
``kpis`` level; a KPI over several operators (the council's, an area's) the most restrictive of all
of theirs, under the conjunction of their licences.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from citiesincharge import ids
from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError
from citiesincharge.licensing import DataPolicy, Kind, Licence, Sharing, combined, most_restrictive

from .base import attribute_value

log = logging.getLogger(__name__)
REFRESH_S = 600.0

#: the kind of source data each KPI is computed from (default: status, i.e. locations)
KIND_OF: dict[str, Kind] = {
    "energyDelivered": "cdrs", "sessions": "cdrs", "avgDurationHours": "cdrs", "avgIdleHours": "cdrs",
    "peakPowerKW": "cdrs", "revenueExclVat": "cdrs", "revenueInclVat": "cdrs", "avgPricePerKWh": "cdrs",
    "hourlySessions": "sessions", "sessionsPerCharger": "cdrs", "kWhPerCharger": "cdrs",
}


class Provenance:
    """Operators' data policies, read from their Organization entities and refreshed now and then."""

    def __init__(self, client: NgsiLdClient, council: str = "council", refresh_s: float = REFRESH_S) -> None:
        self.client = client
        self.council = council  # CIC_COUNCIL_ID: its Organization spans every operator
        self.refresh_s = refresh_s
        self.policies: dict[str, DataPolicy] = {}
        self._read_at = -float("inf")

    def _refresh(self) -> None:
        if time.monotonic() - self._read_at < self.refresh_s:
            return
        self._read_at = time.monotonic()
        try:
            found = list(self.client.query_entities(type="Organization", attrs=["cpo", "licenceDetails",
                                                                                 "dataSharing"]))
        except NgsiLdClientError as error:
            log.warning("provenance: operators' data policies not read (%s); KPIs stay council-only", error)
            return
        policies = {}
        for organization in found:
            operator = attribute_value(organization, "cpo")
            licence, sharing = attribute_value(organization, "licenceDetails"), attribute_value(organization,
                                                                                                "dataSharing")
            if not operator:
                continue
            try:
                policies[str(operator)] = DataPolicy(licence=Licence(**licence) if isinstance(licence, dict)
                                                     else DataPolicy().licence,
                                                     sharing=Sharing(**sharing) if isinstance(sharing, dict)
                                                     else Sharing())
            except ValueError as error:  # a policy someone wrote by hand, badly: the safe default
                log.warning("provenance: operator %s's data policy unreadable (%s); council-only", operator, error)
                policies[str(operator)] = DataPolicy()
        self.policies = policies

    def stamp(self, entity: dict[str, Any]) -> dict[str, Any]:
        """A finding (KPI, alert, demand forecast) with its ``license`` and ``dataAccess``; other entities
        as they are."""
        kind = _kind(entity)
        if kind is None:
            return entity
        self._refresh()
        operator = _operator(entity)
        if operator == self.council:
            operator = None
        policies = ([self.policies.get(operator, DataPolicy())] if operator
                    else list(self.policies.values()) or [DataPolicy()])
        levels = [level for policy in policies for level in (policy.access(kind), policy.access("kpis"))]
        return {**entity, "license": {"type": "Property", "value": combined(p.licence.id for p in policies)},
                "dataAccess": {"type": "Property", "value": most_restrictive(levels)}}


def _kind(entity: dict[str, Any]) -> Kind | None:
    """The kind of source data a finding is computed from; None for what is no finding of ours."""
    kind = entity.get("type")
    if kind == "KeyPerformanceIndicator" and "kpiValue" in entity:
        return KIND_OF.get(str(attribute_value(entity, "process")), "locations")
    if kind == "Alert":
        return "locations"  # charger and bay states
    if kind == "DemandForecast":
        return "cdrs" if attribute_value(entity, "measure") == "energyKWh" else "sessions"
    return None


def _operator(entity: dict[str, Any]) -> str | None:
    """The one operator a finding is about, or None when it spans them (the council's, an area's)."""
    if entity.get("type") == "KeyPerformanceIndicator":
        found = attribute_value(entity, "organization")
        return str(found) if found else None
    if entity.get("type") == "Alert":
        data = attribute_value(entity, "data")
        return str(data["operator"]) if isinstance(data, dict) and data.get("operator") else None
    for relation in ("refEVChargingStation", "refOrganization"):  # a station's id and an operator's start
        target = entity.get(relation, {})  # with the operator's name; the council's is no operator
        if isinstance(target, dict) and isinstance(target.get("object"), str):
            try:
                parts = ids.parse(target["object"]).parts
            except ValueError:
                return None
            return parts[0] if parts else None
    return None
