"""Planning areas against a real broker: imported, stations placed by geo-query, re-import idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analytics.planning.cli import ImportOptions, import_main, stations_main
from analytics.planning.placement import place_stations
from broker.jsonld import ContextResolver
from citiesincharge import ldcontext
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings

DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
COUNCIL = "testcouncil"


def square(west: float, south: float, size: float) -> list[list[float]]:
    return [[west, south], [west + size, south], [west + size, south + size], [west, south + size], [west, south]]


AREAS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"code": "A", "name": "West", "population": 1000},
     "geometry": {"type": "Polygon", "coordinates": [square(-1.52, 52.40, 0.02)]}},
    {"type": "Feature", "properties": {"code": "B", "name": "East", "householdsWithoutOffStreetParking": 120},
     "geometry": {"type": "Polygon", "coordinates": [square(-1.50, 52.40, 0.02)]}},  # shares lon -1.50 with A
    {"type": "Feature", "properties": {"code": "C", "name": "Two parts"},
     "geometry": {"type": "MultiPolygon", "coordinates": [[square(-1.46, 52.40, 0.01)], [square(-1.44, 52.40, 0.01)]]}},
]}
#: station -> (lon, lat, EVSEs); by hand: A holds s1, s2 and s4 (on the A/B border, A's id sorts first),
#: B holds s3, C holds s5 (first part) and s6 (second part); s7 is in no area
STATIONS = {"s1": (-1.51, 52.41, 2), "s2": (-1.505, 52.405, 4), "s3": (-1.49, 52.41, 1), "s4": (-1.50, 52.41, 3),
            "s5": (-1.455, 52.405, 2), "s6": (-1.435, 52.405, 6), "s7": (-1.40, 52.41, 1)}
REGISTRATIONS = "area,date,count\nA,2024 Q4,12\nA,2025 Q1,15\nB,2025 Q1,7\nA,2024 Q3,9\n"


@pytest.fixture
def settings(broker_url: str, tenant: str) -> Settings:
    return Settings(broker_url=broker_url, tenant=tenant, council_id=COUNCIL)


@pytest.fixture
def client(settings: Settings) -> NgsiLdClient:
    return NgsiLdClient(settings)


@pytest.fixture
def files(tmp_path: Path) -> ImportOptions:
    (tmp_path / "areas.geojson").write_text(json.dumps(AREAS), "utf-8")
    (tmp_path / "evs.csv").write_text(REGISTRATIONS, "utf-8")
    return ImportOptions(tmp_path / "areas.geojson", tmp_path / "evs.csv")


def _stations(client: NgsiLdClient) -> None:
    client.batch_upsert([{
        "id": f"urn:ngsi-ld:EVChargingStation:test:{name}", "type": "EVChargingStation",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "capacity": {"type": "Property", "value": evses}} for name, (lon, lat, evses) in STATIONS.items()])


def _area(client: NgsiLdClient, code: str) -> dict[str, Any]:
    return client.get_entity(f"urn:ngsi-ld:PlanningArea:{COUNCIL}:{code}")


def test_areas_are_entities_with_project_terms_and_history(settings: Settings, client: NgsiLdClient,
                                                           files: ImportOptions) -> None:
    assert import_main(settings, files, client) == 0
    west = _area(client, "A")
    assert west["id"] == "urn:ngsi-ld:PlanningArea:testcouncil:A" and "%" not in west["id"]
    assert west["type"] == "PlanningArea"
    assert west["location"]["value"]["type"] == "Polygon"
    assert (west["name"]["value"], west["areaCode"]["value"], west["population"]["value"]) == ("West", "A", 1000)
    assert west["areaKm2"]["value"] == pytest.approx(1.357 * 2.211, rel=0.01)
    assert west["plugInVehicles"]["value"] == 15 and west["plugInVehicles"]["observedAt"].startswith("2025-03-31")
    assert _area(client, "B")["householdsWithoutOffStreetParking"]["value"] == 120
    resolver = ContextResolver()
    resolver.preload("http://local/ctx", ldcontext.project_context_document())
    terms = resolver.term_map("http://local/ctx")
    names = {k for code in "ABC" for k in _area(client, code) if k not in ("id", "type")} | {"PlanningArea"}
    assert [n for n in sorted(names) if terms.expand(n).startswith(DEFAULT)] == []
    history = client.temporal_entity(west["id"], attrs=["plugInVehicles"])["plugInVehicles"]
    assert sorted((i["observedAt"][:10], i["value"]) for i in history) == [
        ("2024-09-30", 9), ("2024-12-31", 12), ("2025-03-31", 15)]


def test_reimport_is_idempotent(settings: Settings, client: NgsiLdClient, files: ImportOptions,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert import_main(settings, files, client) == 0
    first = {code: _area(client, code) for code in "ABC"}
    history = client.temporal_entity(first["A"]["id"], attrs=["plugInVehicles"])
    capsys.readouterr()
    assert import_main(settings, files, client) == 0
    assert "0 new plugInVehicles instances" in capsys.readouterr().out
    assert {code: _area(client, code) for code in "ABC"} == first
    assert client.temporal_entity(first["A"]["id"], attrs=["plugInVehicles"]) == history


def test_stations_land_in_their_areas_by_geo_query(settings: Settings, client: NgsiLdClient, files: ImportOptions,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert import_main(settings, files, client) == 0
    _stations(client)
    placement = place_stations(client, COUNCIL)
    ids = {area_id.rsplit(":", 1)[1]: [s.rsplit(":", 1)[1] for s in stations]
           for area_id, stations in placement.stations.items()}
    assert ids == {"A": ["s1", "s2", "s4"], "B": ["s3"], "C": ["s5", "s6"]}
    assert placement.shared == 1
    capsys.readouterr()
    assert stations_main(settings, client=client) == 0
    out = capsys.readouterr().out
    assert "6 stations in 3 areas; 1 claimed by two areas" in out
    counts = {code: (_area(client, code)["stations"]["value"], _area(client, code)["chargers"]["value"])
              for code in "ABC"}
    assert counts == {"A": (3, 9), "B": (1, 1), "C": (2, 8)}
    assert import_main(settings, files, client) == 0  # a re-import keeps the counts written back
    assert _area(client, "A")["stations"]["value"] == 3
