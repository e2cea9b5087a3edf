"""The Organization entities the context refers to: one per operator, and the council.

Why the OCPI agent writes them: alerts (``alertSource``, ``data.organization``) and KPIs
(``organization``, ``refOrganization``) point at ``urn:ngsi-ld:Organization:<operator>`` and at the
council's; a reference to an entity that does not exist is a dead end for an integrator. The
agent knows the operators (its operators file) and, through the settings, the council, and
writes them (idempotently) each time it starts.
"""

from __future__ import annotations

from typing import Any

from citiesincharge import ids
from citiesincharge.settings import Settings

from .config import OperatorConfig


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def organizations(operators: list[OperatorConfig], settings: Settings) -> list[dict[str, Any]]:
    """The operators' and the council's Organization entities (normalized NGSI-LD)."""
    entities = [{"id": ids.organization(op.name), "type": "Organization", "name": _prop(op.display_name or op.name),
                 "description": _prop(f"Charge point operator {op.name} (OCPI party {op.country_code}*{op.party_id})"),
                 "partyId": _prop(op.party_id), "cpo": _prop(op.name), **op.policy.organization_attributes()}
                for op in operators]
    entities.append({"id": ids.organization(settings.council_id), "type": "Organization",
                     "name": _prop(settings.council_name),
                     "description": _prop("The local authority whose public charging network this is")})
    return entities
