"""Indexed queries answer exactly what testing every entity answers (same entities, same order).

Randomised but seeded data: entities of several types in two tenants, written, re-written,
re-typed, losing attributes (also by purge) and deleted, with values of every kind q compares
(text, numbers, booleans, lists, objects, relationships, observedAt) and points and polygons; then many queries
(equality, lists, ranges, comparisons, AND / OR, existence, regex, geo relations, pagination) run
through the planner and are compared with a plain scan of the same store.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from broker.attributes import parse_entity, parse_fragment
from broker.entity_query import EntityQuery
from broker.geo import compile_geo
from broker.jsonld import TermMap
from broker.query import compile_query
from broker.store import Store

TM = TermMap({}, "https://example.org/")
TYPES = ("EVSE", "ParkingSpot", "Area")
STATUSES = ("AVAILABLE", "CHARGING", "free", "occupied", 3, 3.0, 7, True, False, ["AVAILABLE", "x"],
            {"nested": 1}, None)


def _status(rng: random.Random) -> dict[str, Any] | None:
    value = rng.choice(STATUSES)
    if value is None:
        return None
    return {"type": "Property", "value": value,
            "observedAt": f"2026-01-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"}


def _location(rng: random.Random) -> dict[str, Any]:
    x, y = rng.uniform(-1.52, -1.48), rng.uniform(52.39, 52.41)
    if rng.random() < 0.3:
        d = rng.uniform(0.0005, 0.005)
        ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
        return {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [ring]}}
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}}


def _body(rng: random.Random, n: int) -> dict[str, Any]:
    body: dict[str, Any] = {"id": f"urn:ngsi-ld:Thing:{n:04d}", "type": rng.sample(TYPES, rng.randint(1, 2))}
    status = _status(rng)
    if status is not None:
        body["status"] = status
    if rng.random() < 0.8:
        body["power"] = {"type": "Property", "value": rng.choice((7.4, 22, 22.0, 50, 150, "fast"))}
    if rng.random() < 0.7:
        body["refSite"] = {"type": "Relationship", "object": f"urn:ngsi-ld:Site:{rng.randint(0, 5)}"}
    if rng.random() < 0.8:
        body["location"] = _location(rng)
    return body


def _patch(entity_id: str, rng: random.Random, attrs: dict[str, Any], now: str) -> dict[str, Any]:
    """An update that may also add a type (a re-typed entity moves between type indexes)."""
    return {"id": entity_id, "type": [TM.expand(rng.choice(TYPES))], "modifiedAt": now, "createdAt": now,
            "attrs": parse_fragment(attrs, TM, now)}


def _write(store: Store, rng: random.Random, tenant: str, n: int) -> None:
    now = f"2026-02-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z"
    entity_id = f"urn:ngsi-ld:Thing:{rng.randint(0, 119):04d}"
    action = rng.random()
    if action < 0.45:
        store.write_many(tenant, [parse_entity(_body(rng, int(entity_id[-4:])), TM, now)], mode="replace")
    elif action < 0.8:
        patch = {k: v for k, v in _body(rng, 0).items() if k not in ("id", "type") and rng.random() < 0.5}
        store.write_many(tenant, [_patch(entity_id, rng, patch, now)], mode="update")
    elif action < 0.9:
        store.write_many(tenant, [_patch(entity_id, rng, {"status": "urn:ngsi-ld:null"}, now)], mode="update")
    elif action < 0.95:
        store.drop_attrs(tenant, {entity_id: {TM.expand(rng.choice(("status", "location", "power")))}}, now)
    else:
        store.delete_many(tenant, [entity_id])


QUERIES = [
    'status=="AVAILABLE"', 'status=="AVAILABLE","free"', "status==3", "status==3.0", "status==true",
    "status!=\"AVAILABLE\"", "status>=4", "status<\"b\"", "status==2..8", 'status=="A".."Z"', "status",
    "!status", 'status~="^AV"', "power>=22", "power==22", 'power==22;status=="free"',
    'power==22|status=="free"', '(power>=50|status=="occupied");refSite=="urn:ngsi-ld:Site:2"',
    'refSite=="urn:ngsi-ld:Site:1","urn:ngsi-ld:Site:3"', 'status.observedAt>="2026-01-15T00:00:00Z"',
    'status.observedAt=="2026-01-10T00:00:00Z".."2026-01-20T12:00:00Z"', "status==1..\"z\"",
    'status[nested]==1', 'power=="fast"|power<10',
]
GEO = [("near;maxDistance==500", "Point", [-1.50, 52.40]), ("near;maxDistance==150", "Point", [-1.49, 52.395]),
       ("near;minDistance==1500", "Point", [-1.50, 52.40]),
       ("within", "Polygon", [[[-1.51, 52.395], [-1.495, 52.395], [-1.495, 52.405], [-1.51, 52.405], [-1.51, 52.395]]]),
       ("intersects", "Polygon", [[[-1.50, 52.40], [-1.49, 52.40], [-1.49, 52.41], [-1.50, 52.40]]]),
       ("contains", "Point", [-1.4999, 52.4001]), ("disjoint", "Point", [-1.50, 52.40])]


def _queries(rng: random.Random) -> list[EntityQuery]:
    out = []
    for text in QUERIES:
        for types in (None, {TM.expand("EVSE")}, {TM.expand("EVSE"), TM.expand("Area")}):
            out.append(EntityQuery(types=types, q=compile_query(text, TM)))
    for georel, geometry, coordinates in GEO:
        geo = compile_geo(georel, geometry, json.dumps(coordinates), TM.expand("location"))
        out.append(EntityQuery(geo=geo))
        out.append(EntityQuery(types={TM.expand(rng.choice(TYPES))}, geo=geo, q=compile_query("power>=22", TM)))
    out.append(EntityQuery(types={TM.expand("ParkingSpot")}))
    out.append(EntityQuery(types={TM.expand("EVSE")}, attrs={TM.expand("refSite")}, q=compile_query("status", TM)))
    out.append(EntityQuery(ids=["urn:ngsi-ld:Thing:0003", "urn:ngsi-ld:Thing:0001", "urn:ngsi-ld:Thing:0003"],
                           q=compile_query("power>=22", TM)))
    return out


def _assert_same(store: Store, tenant: str, rng: random.Random) -> None:
    for query in _queries(rng):
        expected = [e["id"] for e in store.scan(tenant, query.ids) if query.matches(e)]
        for start, size in ((0, None), (0, 5), (3, 7), (rng.randint(0, 30), rng.randint(0, 40))):
            page, total = store.query(tenant, query, start, size, total=True)
            end = None if size is None else start + size
            assert [e["id"] for e in page] == expected[start:end]
            assert total == len(expected)
            page, _total = store.query(tenant, query, start, size)
            assert [e["id"] for e in page] == expected[start:end]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_indexed_queries_equal_a_scan_through_writes(seed: int) -> None:
    rng = random.Random(seed)
    store = Store(None)
    for tenant in ("", "other"):
        store.write_many(tenant, [parse_entity(_body(rng, n), TM, "2026-02-01T00:00:00Z") for n in range(80)],
                         mode="replace")
    _assert_same(store, "", rng)  # builds the indexes the queries use
    for step in range(400):
        _write(store, rng, rng.choice(("", "other")), step)
        if step % 100 == 99:
            _assert_same(store, "", rng)
            _assert_same(store, "other", rng)
    store.close()


def test_an_index_follows_a_restart(tmp_path: Any) -> None:
    rng = random.Random(7)
    store = Store(tmp_path / "broker.sqlite")
    store.write_many("", [parse_entity(_body(rng, n), TM, "2026-02-01T00:00:00Z") for n in range(60)], mode="replace")
    store.close()
    store = Store(tmp_path / "broker.sqlite")
    for step in range(100):
        _write(store, rng, "", step)
    _assert_same(store, "", rng)
    store.close()
