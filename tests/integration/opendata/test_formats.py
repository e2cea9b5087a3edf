"""Issue 15 §3: only what is open, in each of the three formats, valid and with its licences. The
town: cpoA (CC-BY-4.0) and cpoB (ODbL-1.0) share locations and prices publicly, cpoC was turned
council-only, the impolite peer (OGL-UK-3.0) has one published Location and one not published."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import orjson
import requests

from citiesincharge.client import NgsiLdClient
from tests.integration.opendata.conftest import DATA, UNPUBLISHED, Town

GEOJSON_SCHEMA = json.loads((DATA / "geojson" / "point-feature-collection.schema.json").read_text())
OCPI_LOCATION = json.loads(resources.files("citiesincharge.schemas").joinpath(
    "ocpi-2.2.1-location.schema.json").read_text())
OPEN = {"cpoA": "CC-BY-4.0", "cpoB": "ODbL-1.0", "impolite": "OGL-UK-3.0"}
HIDDEN = ("cpoC", UNPUBLISHED["id"].upper(), "FD855359-BC81-47BB-BB89-849AE3DAC89E", "ihomer", "Tamboerijn")


def truth(broker: NgsiLdClient, entity_type: str) -> dict[str, dict[str, Any]]:
    """Every entity of a type in the tenant, straight from the broker (keyValues)."""
    return {e["id"]: e for e in broker.query_entities(type=entity_type, options="keyValues")}


def open_stations(town: Town) -> dict[str, dict[str, Any]]:
    return {i: s for i, s in truth(town.broker, "EVChargingStation").items()
            if s.get("dataAccess") == "public" and s.get("publish") is not False}


def all_pages(url: str, **params: Any) -> tuple[list[dict[str, Any]], list[requests.Response]]:
    """Every OCPI Location by following the Link next headers."""
    found, answers = [], []
    response = requests.get(url, params=params, timeout=10)
    while True:
        assert response.status_code == 200, response.text
        answers.append(response)
        found += response.json()["data"]
        following = response.links.get("next")
        if not following:
            return found, answers
        response = requests.get(following["url"], timeout=10)


def test_only_public_published_stations_appear_in_every_format(town: Town, feed: str) -> None:
    expected = open_stations(town)
    assert {s["dataProvider"] for s in expected.values()} == set(OPEN)  # the town is what the test says
    everything = truth(town.broker, "EVChargingStation")
    assert any(s["dataProvider"] == "cpoC" for s in everything.values())  # there, but council-only
    assert any(s.get("publish") is False and s["dataAccess"] == "public" for s in everything.values())

    geo = requests.get(f"{feed}/stations.geojson", timeout=10).json()
    assert {f["id"] for f in geo["features"]} == set(expected)
    ngsi = requests.get(f"{feed}/ngsi-ld/v1/entities", params={"type": "EVChargingStation", "limit": 1000},
                        timeout=10).json()
    assert {e["id"] for e in ngsi} == set(expected)
    assert all(e["dataAccess"] == "public" and e.get("publish", True) is True for e in ngsi)
    locations, _ = all_pages(f"{feed}/ocpi/2.2.1/locations", limit=50)
    assert {(loc["party_id"], loc["id"]) for loc in locations} == {
        (s["partyId"], s["id"].rsplit(":", 1)[-1]) for s in expected.values()}

    evses = requests.get(f"{feed}/ngsi-ld/v1/entities", params={"type": "EVSE", "limit": 1000}, timeout=10).json()
    assert {e["refEVChargingStation"] for e in evses} == set(expected)
    for body in (geo, ngsi, locations, evses, requests.get(f"{feed}/licences", timeout=10).json()):
        text = orjson.dumps(body).decode()
        assert not [word for word in HIDDEN if word in text]


def test_the_geojson_is_rfc_7946_with_live_availability_and_prices(town: Town, feed: str) -> None:
    response = requests.get(f"{feed}/stations.geojson", timeout=10)
    assert response.headers["content-type"] == "application/geo+json"
    geo = response.json()
    jsonschema.Draft202012Validator(GEOJSON_SCHEMA).validate(geo)
    evses = truth(town.broker, "EVSE")
    tariffs = {i: t for i, t in truth(town.broker, "ChargingTariff").items() if t["dataAccess"] == "public"}
    stations = open_stations(town)
    for feature in geo["features"]:
        station, props = stations[feature["id"]], feature["properties"]
        assert feature["geometry"] == station["location"]  # [lon, lat]
        mine = [e for e in evses.values() if e["refEVChargingStation"] == feature["id"] and e["status"] != "REMOVED"]
        assert props["evses"] == len(mine) and props["available"] == sum(e["status"] == "AVAILABLE" for e in mine)
        assert props.get("name") == station.get("name") and props.get("maxPowerKW") == station.get("maxPower")
        assert props["connectorStandards"] == sorted({c["standard"] for e in mine for c in e["connectors"]})
        assert props["license"] == OPEN[props["dataProvider"]]
        for price in props["prices"]:
            tariff = tariffs[price["tariff"]]
            assert price["currency"] == tariff["currency"]
            if "pricePerKWh" in tariff and "vatRate" in tariff:
                assert price["pricePerKWhInclVat"] == round(tariff["pricePerKWh"] * (1 + tariff["vatRate"] / 100), 4)
    priced = {f["properties"]["dataProvider"] for f in geo["features"] if f["properties"]["prices"]}
    assert priced == {"cpoA", "cpoB"}  # the peer published no tariffs
    assert any(p.get("pricePerKWhInclVat") for f in geo["features"] for p in f["properties"]["prices"])


def test_every_feature_and_the_collection_carry_their_licences_and_attributions(feed: str) -> None:
    response = requests.get(f"{feed}/stations.geojson", timeout=10)
    geo = response.json()
    attribution = {"cpoA": "Contains data from cpoA Charging Ltd", "cpoB": "cpoB Charging Ltd and contributors",
                   "impolite": "Contains public sector information licensed under the Open Government Licence v3.0"}
    for feature in geo["features"]:
        props = feature["properties"]
        assert props["attribution"] == attribution[props["dataProvider"]]
        assert props["licenseUrl"] == f"https://spdx.org/licenses/{props['license']}.html"
    licences = {g["license"]: g for g in geo["metadata"]["licenses"]}
    assert {k: (g["providers"], g["attribution"]) for k, g in licences.items()} == {
        OPEN[p]: ([p], [attribution[p]]) for p in OPEN}
    assert geo["metadata"]["license"] == "CC-BY-4.0 AND ODbL-1.0 AND OGL-UK-3.0"
    assert response.headers["X-Data-License"] == geo["metadata"]["license"]
    assert 'rel="license"' not in response.headers["Link"]  # three licences: none is the response's
    assert response.links["describedby"]["url"] == f"{feed}/licences"


def test_ngsi_ld_key_values_are_paged_with_the_project_context(town: Town, feed: str) -> None:
    url = f"{feed}/ngsi-ld/v1/entities"
    first = requests.get(url, params={"type": "EVSE", "limit": 7, "count": "true"}, timeout=10)
    second = requests.get(url, params={"type": "EVSE", "limit": 7, "offset": 7}, timeout=10)
    assert first.status_code == second.status_code == 200
    public = [e for e in truth(town.broker, "EVSE").values() if e["dataAccess"] == "public"]
    assert 0 < int(first.headers["NGSILD-Results-Count"]) < len(public)  # the unpublished and cpoC's are not
    assert len(first.json()) == len(second.json()) == 7
    assert not {e["id"] for e in first.json()} & {e["id"] for e in second.json()}
    context_url = f"{feed}/ngsi-ld/contexts/citiesincharge.jsonld"
    assert first.links["http://www.w3.org/ns/json-ld#context"]["url"] == context_url
    context = requests.get(f"{feed}/ngsi-ld/contexts/citiesincharge.jsonld", timeout=10).json()
    assert "@context" in context
    assert all("modifiedAt" not in e and "createdAt" not in e for e in first.json())

    tariffs = requests.get(url, params={"type": "ChargingTariff"}, timeout=10).json()
    assert {t["dataProvider"] for t in tariffs} == {"cpoA", "cpoB"} and all(t["license"] for t in tariffs)
    open_tariffs = {t["id"].rsplit(":", 1)[-1] for t in tariffs}
    named = {n for e in requests.get(url, params={"type": "EVSE", "limit": 1000}, timeout=10).json()
             for c in e["connectors"] for n in c.get("tariffIds", [])}
    assert named and named <= open_tariffs

    one = first.json()[0]
    alone = requests.get(f"{url}/{one['id']}", headers={"Accept": "application/ld+json"}, timeout=10)
    assert alone.headers["content-type"] == "application/ld+json"
    assert alone.json() == {**one, "@context": f"{feed}/ngsi-ld/contexts/citiesincharge.jsonld"}
    spdx = f"https://spdx.org/licenses/{one['license']}.html"
    assert alone.links["license"]["url"] == spdx and alone.headers["X-Data-License"] == one["license"]


def test_ocpi_locations_are_paged_as_ocpi_says_and_valid_against_the_location_schema(town: Town, feed: str) -> None:
    check = jsonschema.Draft202012Validator(OCPI_LOCATION)
    locations, answers = all_pages(f"{feed}/ocpi/2.2.1/locations", limit=40)
    expected = open_stations(town)
    assert len(answers) == -(-len(expected) // 40) and len(locations) == len(expected)
    for answer in answers:
        body = answer.json()
        assert set(body) == {"data", "status_code", "status_message", "timestamp"} and body["status_code"] == 1000
        assert answer.headers["X-Total-Count"] == str(len(expected)) and answer.headers["X-Limit"] == "1000"
    assert "offset=40" in answers[0].links["next"]["url"] and "limit=40" in answers[0].links["next"]["url"]
    for found in locations:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(found)]
        assert errors == [], (found["id"], errors)
        assert found["publish"] is True and found["evses"]
    assert sum(len(loc["evses"]) for loc in locations) == len(
        [e for e in truth(town.broker, "EVSE").values() if e["refEVChargingStation"] in expected])

    station = next(s for s in expected.values() if s["dataProvider"] == "cpoB")
    one = requests.get(f"{feed}/ocpi/2.2.1/locations/{station['id'].rsplit(':', 1)[-1].lower()}", timeout=10)
    assert one.status_code == 200 and check.is_valid(one.json()["data"])
    loc = one.json()["data"]
    lon, lat = station["location"]["coordinates"]
    assert loc["coordinates"] == {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"}
    assert loc["address"] == station["address"]["streetAddress"] and loc["operator"] == {"name": station["operator"]}
    assert one.links["license"]["url"] == "https://spdx.org/licenses/ODbL-1.0.html"
    assert one.headers["X-Data-License"] == "ODbL-1.0"

    later = requests.get(f"{feed}/ocpi/2.2.1/locations", params={"date_from": "2100-01-01T00:00:00Z"}, timeout=10)
    assert later.json()["data"] == [] and later.headers["X-Total-Count"] == "0"
