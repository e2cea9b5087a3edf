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
    station = {"id": "urn:ngsi-ld:EVChargingStation:cpoA:L1", "type": "EVChargingStation"}
    assert provenance.stamp(station) is station  # source data carries its source's terms already


def test_alerts_and_forecasts_follow_the_same_rule(ngsi: NgsiLdClient) -> None:
    a = DataPolicy(licence=Licence(id="CC-BY-4.0"), sharing=Sharing(locations="public", sessions="council",
                                                                     kpis="public"))
    b = DataPolicy(licence=Licence(id="ODbL-1.0"), sharing=Sharing(locations="public", kpis="public"))
    assert ngsi.batch_upsert([_organization("cpoA", a), _organization("cpoB", b)]).ok
    provenance = Provenance(ngsi, council="perth")

    def terms(entity: dict[str, object]) -> tuple[object, object]:
        stamped = provenance.stamp(entity)
        return stamped["license"]["value"], stamped["dataAccess"]["value"]  # type: ignore[index]

    down = {"id": "urn:ngsi-ld:Alert:chargerDown:x", "type": "Alert",
            "data": {"type": "Property", "value": {"kind": "chargerDown", "operator": "cpoA"}}}
    assert terms(down) == ("CC-BY-4.0", "public")  # from cpoA's public status
    station = {"id": "urn:ngsi-ld:DemandForecast:daily:x", "type": "DemandForecast",
               "measure": {"type": "Property", "value": "sessionsStarted"},
               "refEVChargingStation": {"type": "Relationship", "object": "urn:ngsi-ld:EVChargingStation:cpoA:L1"}}
    assert terms(station) == ("CC-BY-4.0", "council")  # from cpoA's sessions, which it shares with the council
    council = {**station, "refEVChargingStation": None}
    del council["refEVChargingStation"]
    council["refOrganization"] = {"type": "Relationship", "object": "urn:ngsi-ld:Organization:perth"}
    assert terms(council) == ("CC-BY-4.0 AND ODbL-1.0", "council")  # the council's: every operator
    area = {"id": "urn:ngsi-ld:DemandForecast:yearly:a", "type": "DemandForecast",
            "measure": {"type": "Property", "value": "energyKWh"},
            "refPlanningArea": {"type": "Relationship", "object": "urn:ngsi-ld:PlanningArea:perth:A"}}
    assert terms(area) == ("CC-BY-4.0 AND ODbL-1.0", "council")  # energy from CDRs, council by default
