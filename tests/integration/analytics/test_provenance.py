"""The licence and sharing level of KPIs, from the operators' policies on their Organization entities
in a real broker (issue 15 §1)."""

from __future__ import annotations

from analytics.provenance import Provenance
from citiesincharge.client import NgsiLdClient
from citiesincharge.licensing import DataPolicy, Licence, Sharing


def _organization(cpo: str, policy: DataPolicy) -> dict[str, object]:
    return {"id": f"urn:ngsi-ld:Organization:{cpo}", "type": "Organization",
            "cpo": {"type": "Property", "value": cpo}, **policy.organization_attributes()}


def _kpi(process: str, organization: str | None = None) -> dict[str, object]:
    entity: dict[str, object] = {"id": f"urn:ngsi-ld:KeyPerformanceIndicator:{process}",
                                 "type": "KeyPerformanceIndicator", "process": {"type": "Property", "value": process},
                                 "kpiValue": {"type": "Property", "value": 1}}
    if organization:
        entity["organization"] = {"type": "Property", "value": organization}
    return entity


def test_kpi_levels_follow_their_operators_policies(ngsi: NgsiLdClient) -> None:
    open_a = DataPolicy(licence=Licence(id="CC-BY-4.0"), sharing=Sharing(locations="public", cdrs="operator",
                                                                          kpis="public"))
    b = DataPolicy(licence=Licence(id="ODbL-1.0"), sharing=Sharing(locations="public", cdrs="council", kpis="council"))
    assert ngsi.batch_upsert([_organization("cpoA", open_a), _organization("cpoB", b)]).ok
    provenance = Provenance(ngsi)  # reads the operators' Organization entities, as the analytics do

    def stamp(entity: dict[str, object]) -> tuple[object, object]:
        stamped = provenance.stamp(entity)
        return stamped["license"]["value"], stamped["dataAccess"]["value"]  # type: ignore[index]

    assert stamp(_kpi("reliability", "cpoA")) == ("CC-BY-4.0", "public")  # status is public, so are A's KPIs
    assert stamp(_kpi("revenueExclVat", "cpoA")) == ("CC-BY-4.0", "operator")  # from CDRs: A's own
    assert stamp(_kpi("reliability", "cpoB")) == ("ODbL-1.0", "council")  # B's KPIs stay with the council
    assert stamp(_kpi("reliability")) == ("CC-BY-4.0 AND ODbL-1.0", "council")  # network-wide: both
    assert stamp(_kpi("reliability", "cpoZ")) == ("LicenseRef-unspecified", "council")  # unknown operator
    alert = {"id": "urn:ngsi-ld:Alert:x", "type": "Alert"}
    assert provenance.stamp(alert) is alert
