"""``cic plan`` against a real broker on the scripted town of ``town.py``: it must rank Busy above Idle
for its saturation, show Bare's coverage gap, say why, and write it all back as NGSI-LD the
dashboard reads."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from analytics.planning.cli import plan_main
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings

from .town import COUNCIL, NOW, ZONE, build_town, station


@pytest.fixture
def settings(broker_url: str, tenant: str) -> Settings:
    return Settings(broker_url=broker_url, tenant=tenant, council_id=COUNCIL, timezone=ZONE)


@pytest.fixture
def client(settings: Settings) -> NgsiLdClient:
    return NgsiLdClient(settings)


@pytest.fixture
def town(settings: Settings, client: NgsiLdClient, tmp_path: Path) -> None:
    build_town(settings, client, tmp_path)


def area(client: NgsiLdClient, code: str) -> dict[str, Any]:
    return client.get_entity(f"urn:ngsi-ld:PlanningArea:{COUNCIL}:{code}")


@pytest.mark.usefixtures("town")
def test_plan_ranks_explains_and_writes_back(settings: Settings, client: NgsiLdClient,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_main(settings, at=NOW, client=client) == 0
    out = capsys.readouterr().out
    assert "use figures of November 2026" in out
    busy, idle, bare = (area(client, code) for code in ("BUSY", "IDLE", "BARE"))
    assert busy["planRank"]["value"] < idle["planRank"]["value"]
    assert sorted(a["planRank"]["value"] for a in (busy, idle, bare)) == [1, 2, 3]
    indicators = busy["planIndicators"]["value"]
    assert indicators["saturation"] == pytest.approx(6 / 24) and indicators["chargers"] == 1
    assert indicators["sessionsPerCharger"] == 30 and indicators["kWhPerCharger"] == 300
    assert busy["planReasons"]["value"][0]["indicator"] == "saturation"
    assert busy["planReasons"]["value"][0]["value"] == 25.0
    assert busy["recommendedChargerKind"]["value"] == "rapidHub"
    assert busy["recommendedChargerKind"]["reason"]["value"].startswith("Saturation (no free charger within a walk)")
    assert bare["planIndicators"]["value"]["coverageGapShare"] == 1.0
    assert bare["recommendedChargerKind"]["value"] == "onStreetResidential"
    assert bare["planPeriod"]["value"]["label"] == "November 2026"
    assert busy["distanceMethod"]["value"] == "straightLine"
    assert busy["stations"]["value"] == 1 and bare["stations"]["value"] == 0
    assert sum(busy["planContributions"]["value"].values()) == pytest.approx(busy["planScore"]["value"], abs=0.1)
    # each line of the printed ranking names its area and its reasons
    lines = [line for line in out.splitlines() if " Busy " in line or " Bare " in line]
    assert any("Saturation (no free charger within a walk) 25 %" in line for line in lines)
    assert any("Area farther than 500 m from a charger 100 %" in line for line in lines)


@pytest.mark.usefixtures("town")
def test_indicators_are_monthly_kpis_and_growth_a_yearly_forecast(settings: Settings, client: NgsiLdClient) -> None:
    assert plan_main(settings, at=NOW, client=client) == 0
    busy_id = f"urn:ngsi-ld:PlanningArea:{COUNCIL}:BUSY"
    found = list(client.query_entities(type="KeyPerformanceIndicator", q=f'refPlanningArea=="{busy_id}"'))
    by_name = {k["process"]["value"]: k for k in found}
    assert by_name["saturation"]["kpiValue"]["value"] == pytest.approx(0.25)
    assert by_name["saturation"]["kpiScope"]["value"] == "area"
    assert by_name["saturation"]["calculationFrequency"]["value"] == "monthly"
    assert by_name["saturation"]["kpiValue"]["provisional"]["value"] is True  # November still running
    assert by_name["areaReliability"]["kpiValue"]["value"] == 1
    assert by_name["saturation"]["name"]["value"] == "Saturation, Busy, November 2026"
    forecasts = {f["refPlanningArea"]["object"].rsplit(":", 1)[1]: f
                 for f in client.query_entities(type="DemandForecast", q='resolution=="P1Y"')}
    assert set(forecasts) == {"BUSY", "IDLE", "BARE"}
    busy = forecasts["BUSY"]
    assert busy["demandRate"]["source"]["value"] == "area" and forecasts["BARE"]["demandRate"]["source"]["value"] \
        == "council"
    values, low, high = (busy[k]["value"] for k in ("forecastValues", "lowerBound", "upperBound"))
    assert len(values) == 3 and values[0] < values[1] < values[2]
    assert all(a <= b <= c for a, b, c in zip(low, values, high, strict=True))
    # ~300 kWh a month from 120-144 vehicles: about 2.2 kWh per vehicle per month, from the area's own months
    assert 1.5 < busy["demandRate"]["value"] < 3.0


@pytest.mark.usefixtures("town")
def test_plan_again_changes_nothing_but_its_instant(settings: Settings, client: NgsiLdClient) -> None:
    assert plan_main(settings, at=NOW, client=client) == 0
    first = area(client, "BUSY")
    assert plan_main(settings, at=NOW, client=client) == 0
    again = area(client, "BUSY")
    assert {k: v for k, v in again.items() if k != "planScore"} == {k: v for k, v in first.items() if k != "planScore"}
    assert again["planScore"]["value"] == first["planScore"]["value"]


def test_plan_without_areas_says_what_to_run(settings: Settings, client: NgsiLdClient,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_main(settings, at=NOW, client=client) == 1  # a tenant nothing was written to: the broker's 404
    assert "Tenant not found" in capsys.readouterr().err
    client.batch_upsert([{"id": station("lonely"), "type": "EVChargingStation"}])
    assert plan_main(settings, at=NOW, client=client) == 1
    assert "run cic areas import first" in capsys.readouterr().err


def test_vehicle_history_survives_the_plan(settings: Settings, client: NgsiLdClient, town: None) -> None:
    assert plan_main(settings, at=NOW, client=client) == 0
    history = client.temporal_entity(f"urn:ngsi-ld:PlanningArea:{COUNCIL}:BUSY", attrs=["plugInVehicles"])
    assert sorted(i["observedAt"][:10] for i in history["plugInVehicles"]) == [
        str(date(2025, 1, 1)), str(date(2025, 7, 1)), str(date(2026, 1, 1))]
