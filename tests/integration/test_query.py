"""GET /entities: type/id/idPattern/attrs, the q language, geo-queries, paging and count."""

from __future__ import annotations

import json

import pytest

from tests.support import Api, problem_type

# Points around Coventry city centre; distances checked with an external haversine calculator.
CENTRE = [-1.5106, 52.4081]


def station(n: int, lon: float, lat: float, *, available: int, operator: str, status: str) -> dict[str, object]:
    return {"id": f"urn:ngsi-ld:EVChargingStation:{operator}:L{n}", "type": "EVChargingStation",
            "availableCapacity": {"type": "Property", "value": available},
            "capacity": {"type": "Property", "value": 4},
            "operator": {"type": "Property", "value": operator},
            "status": {"type": "Property", "value": status, "observedAt": f"2026-03-0{n}T08:00:00Z"},
            "address": {"type": "Property", "value": {"streetAddress": f"{n} High St", "postalCode": f"CV{n} 1AA"}},
            "socketType": {"type": "Property", "value": ["Type2", "CCS"] if n % 2 else ["Type2"]},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}}


@pytest.fixture
def town(api: Api) -> Api:
    stations = [
        station(1, -1.5106, 52.4081, available=0, operator="cpoA", status="outOfService"),  # centre
        station(2, -1.5000, 52.4081, available=2, operator="cpoA", status="working"),  # ~720 m east
        station(3, -1.4500, 52.4081, available=4, operator="cpoB", status="working"),  # ~4.1 km east
        station(4, -1.5106, 52.4300, available=1, operator="cpoC", status="almostFull"),  # ~2.4 km north
    ]
    response = api.post("/entityOperations/create", stations)
    assert response.status_code == 201, response.text
    api.create({"id": "urn:ngsi-ld:EVSE:cpoA:E1", "type": "EVSE", "status": "AVAILABLE"})
    return api


def ids(response: object) -> list[str]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return sorted(e["id"].rsplit(":", 1)[-1] for e in response.json())  # type: ignore[attr-defined]


def q(api: Api, expression: str) -> list[str]:
    return ids(api.get("/entities", {"type": "EVChargingStation", "q": expression}))


def test_type_id_and_id_pattern(town: Api) -> None:
    assert ids(town.get("/entities", {"type": "EVChargingStation"})) == ["L1", "L2", "L3", "L4"]
    assert ids(town.get("/entities", {"type": "EVChargingStation,EVSE"})) == ["E1", "L1", "L2", "L3", "L4"]
    wanted = "urn:ngsi-ld:EVChargingStation:cpoA:L2,urn:ngsi-ld:EVChargingStation:cpoC:L4"
    assert ids(town.get("/entities", {"id": wanted})) == ["L2", "L4"]
    assert ids(town.get("/entities", {"idPattern": "^urn:ngsi-ld:EVChargingStation:cpoA:.*"})) == ["L1", "L2"]


def test_attrs_selects_and_projects(town: Api) -> None:
    found = town.get("/entities", {"type": "EVChargingStation,EVSE", "attrs": "capacity"}).json()
    assert len(found) == 4 and all(set(e) == {"id", "type", "capacity"} for e in found)


@pytest.mark.parametrize(("expression", "expected"), [
    ("availableCapacity==2", ["L2"]),
    ("availableCapacity!=2", ["L1", "L3", "L4"]),
    ("availableCapacity>1", ["L2", "L3"]),
    ("availableCapacity>=1", ["L2", "L3", "L4"]),
    ("availableCapacity<1", ["L1"]),
    ("availableCapacity<=1", ["L1", "L4"]),
    ("availableCapacity==1..2", ["L2", "L4"]),
    ("availableCapacity==0,4", ["L1", "L3"]),
    ('operator=="cpoA"', ["L1", "L2"]),
    ('operator=="cpoB","cpoC"', ["L3", "L4"]),
    ('operator~="^cpo[BC]$"', ["L3", "L4"]),
    ('operator!~="cpoA"', ["L3", "L4"]),
    ('operator=="cpoA";availableCapacity>0', ["L2"]),
    ('operator=="cpoB"|availableCapacity==0', ["L1", "L3"]),
    ('(operator=="cpoA"|operator=="cpoC");availableCapacity>=1', ["L2", "L4"]),
    ('address[postalCode]=="CV3 1AA"', ["L3"]),
    ('socketType=="CCS"', ["L1", "L3"]),
    ("status.observedAt>=2026-03-03T00:00:00Z", ["L3", "L4"]),
    ("status.observedAt<2026-03-02T00:00:00Z", ["L1"]),
    ("availableCapacity", ["L1", "L2", "L3", "L4"]),
    ("nonexistent", []),
    ("!nonexistent", ["L1", "L2", "L3", "L4"]),
    ("!availableCapacity", []),
    ('!nonexistent;operator=="cpoB"', ["L3"]),
    ('operator=="cpoB"|!address[postalCode]', ["L3"]),
])
def test_q_language(town: Api, expression: str, expected: list[str]) -> None:
    assert q(town, expression) == expected


@pytest.mark.parametrize("expression", ["availableCapacity==", "(availableCapacity==1", 'operator=="cpoA',
                                        'operator~="(["', "availableCapacity>1..3", ";"])
def test_invalid_q_is_400_naming_the_problem(town: Api, expression: str) -> None:
    response = town.get("/entities", {"type": "EVChargingStation", "q": expression})
    assert response.status_code == 400
    assert problem_type(response) == "BadRequestData"
    assert "invalid q" in response.json()["detail"] or "idPattern" in response.json()["detail"]


@pytest.mark.parametrize(("georel", "geometry", "coordinates", "expected"), [
    ("near;maxDistance==1000", "Point", CENTRE, ["L1", "L2"]),
    ("near;maxDistance==3000", "Point", CENTRE, ["L1", "L2", "L4"]),
    ("near;minDistance==3000", "Point", CENTRE, ["L3"]),
    ("near;minDistance==500;maxDistance==3000", "Point", CENTRE, ["L2", "L4"]),
    ("within", "Polygon", [[[-1.52, 52.40], [-1.49, 52.40], [-1.49, 52.42], [-1.52, 52.42], [-1.52, 52.40]]],
     ["L1", "L2"]),
    ("intersects", "Polygon", [[[-1.46, 52.40], [-1.44, 52.40], [-1.44, 52.42], [-1.46, 52.42], [-1.46, 52.40]]],
     ["L3"]),
    ("disjoint", "Polygon", [[[-1.52, 52.40], [-1.49, 52.40], [-1.49, 52.42], [-1.52, 52.42], [-1.52, 52.40]]],
     ["L3", "L4"]),
    ("equals", "Point", [-1.45, 52.4081], ["L3"]),
])
def test_geo_queries(town: Api, georel: str, geometry: str, coordinates: object, expected: list[str]) -> None:
    response = town.get("/entities", {"type": "EVChargingStation", "georel": georel, "geometry": geometry,
                                      "coordinates": json.dumps(coordinates)})
    assert ids(response) == expected


@pytest.mark.parametrize(("params", "needle"), [
    ({"georel": "near;maxDistance==abc", "geometry": "Point", "coordinates": "[1,2]"}, "not a number"),
    ({"georel": "nearby", "geometry": "Point", "coordinates": "[1,2]"}, "georel"),
    ({"georel": "within", "geometry": "Circle", "coordinates": "[1,2]"}, "geometry"),
    ({"georel": "within", "geometry": "Polygon", "coordinates": "[1,2"}, "coordinates"),
    ({"georel": "within", "geometry": "Polygon"}, "coordinates"),
])
def test_invalid_geo_query_is_400(town: Api, params: dict[str, str], needle: str) -> None:
    response = town.get("/entities", {"type": "EVChargingStation", **params})
    assert response.status_code == 400 and needle in response.json()["detail"]


def test_paging_count_and_limits(town: Api) -> None:
    first = town.get("/entities", {"type": "EVChargingStation", "limit": 3, "count": "true"})
    assert first.headers["NGSILD-Results-Count"] == "4" and len(first.json()) == 3
    rest = town.get("/entities", {"type": "EVChargingStation", "limit": 3, "offset": 3})
    assert len(rest.json()) == 1
    seen = {e["id"] for e in first.json()} | {e["id"] for e in rest.json()}
    assert len(seen) == 4
    only_count = town.get("/entities", {"type": "EVChargingStation", "limit": 0, "count": "true"})
    assert only_count.json() == [] and only_count.headers["NGSILD-Results-Count"] == "4"
    too_many = town.get("/entities", {"type": "EVChargingStation", "limit": 1001})
    assert too_many.status_code == 400 and "1000" in too_many.json()["detail"]
    negative = town.get("/entities", {"type": "EVChargingStation", "offset": -1})
    assert negative.status_code == 400


def test_default_limit_is_20(api: Api) -> None:
    batch = [{"id": f"urn:ngsi-ld:EVSE:p:{n}", "type": "EVSE", "n": n} for n in range(25)]
    assert api.post("/entityOperations/create", batch).status_code == 201
    assert len(api.get("/entities", {"type": "EVSE"}).json()) == 20


def test_query_needs_a_filter(town: Api) -> None:
    response = town.get("/entities")
    assert response.status_code == 400 and problem_type(response) == "BadRequestData"


def test_geojson_output(town: Api) -> None:
    response = town.get("/entities", {"type": "EVChargingStation", "q": 'operator=="cpoB"'},
                        headers={"Accept": "application/geo+json"})
    assert response.headers["Content-Type"].startswith("application/geo+json")
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["features"][0]["geometry"] == {"type": "Point", "coordinates": [-1.45, 52.4081]}


def test_types_and_attributes_discovery(town: Api) -> None:
    types = town.get("/types").json()
    assert types["type"] == "EntityTypeList" and types["typeList"] == ["EVChargingStation", "EVSE"]
    info = town.get("/types/EVChargingStation").json()
    assert info["entityCount"] == 4
    assert "availableCapacity" in [a["attributeName"] for a in info["attributeDetails"]]
    attrs = town.get("/attributes").json()["attributeList"]
    assert "socketType" in attrs and "status" in attrs
