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

    def __init__(self, client: NgsiLdClient, refresh_s: float = REFRESH_S) -> None:
        self.client = client
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
        """A KPI with its ``license`` and ``dataAccess``; other entities as they are."""
        if entity.get("type") != "KeyPerformanceIndicator" or "kpiValue" not in entity:
            return entity
        self._refresh()
        operator = attribute_value(entity, "organization")
        kind: Kind = KIND_OF.get(str(attribute_value(entity, "process")), "locations")
        policies = ([self.policies.get(str(operator), DataPolicy())] if operator
                    else list(self.policies.values()) or [DataPolicy()])
        levels = [level for policy in policies for level in (policy.access(kind), policy.access("kpis"))]
        return {**entity, "license": {"type": "Property", "value": combined(p.licence.id for p in policies)},
                "dataAccess": {"type": "Property", "value": most_restrictive(levels)}}
