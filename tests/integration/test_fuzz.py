"""Fuzzing the broker over HTTP: a few thousand hostile requests built from its own OpenAPI
document, while a well-behaved writer works beside them.

Fails on any 5xx, on any 4xx that is not an NGSI-LD ProblemDetails, on a broker that stops
answering, and on a single entity of the writer that is not exactly what it last wrote. Derandomized
(hypothesis draws the same requests on every run), so a failure here is reproducible, and bounded
(``FUZZ_REQUESTS``) so it fits in ``make test``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import BrokerProcess

FUZZ_REQUESTS = 2500
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
CONTEXT_REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
FUZZ_TENANTS = [None, "fuzz1", "fuzz2", "bad tenant!", "x" * 70]
NGSI_PARAMS = ["id", "type", "idPattern", "attrs", "q", "georel", "geometry", "coordinates", "geoproperty", "limit",
               "offset", "count", "options", "format", "pick", "omit", "details", "datasetId", "deleteAll",
               "timerel", "timeAt", "endTimeAt", "timeproperty", "lastN", "aggrMethods", "aggrPeriodDuration",
               "csf", "scopeQ", "lang", "local"]
HOSTILE_TEXT = ["", " ", "*", "..", "%", "%00", "%2F", "\x00", "\u202e", "🚗", "null", "true", "[]", "{}", "-1", "0",
                "1e308", "NaN", "99999999999999999999999", "urn:ngsi-ld:T:1", "urn:ngsi-ld:T:2", "http://a/b", "T",
                "p", "location", "(a+)+$", "a" * 300, "keyValues", "sysAttrs,count", "concise", "normalized",
                "p==1", "p~=\"(a+)+$\"", "p.q[r]==\"x\"", "!p", "p>=1970-01-01T00:00:00Z", "p==1..3", "((((((",
                "near;maxDistance==1e308", "within", "intersects", "near;minDistance==-1", "Point", "Polygon",
                "[0,0]", "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]", "[[[0,0],[0,1],[1,1],[0,0]]]", "[NaN,1]",
                "after", "before", "between", "1970-01-01T00:00:00Z", "2026-03-02T03:00:00Z", "yesterday",
                "sum", "avg,max,stddev,totalCount", "PT1H", "P99999999Y", "PT0S", "P1M", "1000", "1001"]

text = st.text(max_size=30)
hostile = st.sampled_from(HOSTILE_TEXT) | text | st.integers(-10**20, 10**20).map(str)
json_scalar = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | hostile
member = st.sampled_from(["id", "type", "value", "object", "observedAt", "unitCode", "datasetId", "location",
                          "coordinates", "@context", "entities", "idPattern", "q", "geoQ", "georel", "geometry",
                          "attrs", "notification", "endpoint", "uri", "accept", "format", "watchedAttributes",
                          "languageMap", "valueList", "objectList", "vocab", "json", "p", "r", "expiresAt",
                          "throttling", "timeInterval", "isActive", "scope", "createdAt"]) | text
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(member, inner, max_size=5), max_leaves=16)
SEEDED = ["urn:ngsi-ld:T:1", "urn:ngsi-ld:T:2", "http://a/b", "urn:ngsi-ld:T:🚗"]
known_id = st.sampled_from(SEEDED)
ids = known_id | known_id | hostile  # mostly ids that exist, so requests get past the lookup
geometry = st.fixed_dictionaries({"type": st.sampled_from(["Point", "Polygon", "LineString", "Nope"]) | json_value,
                                  "coordinates": json_value | st.just([0.5, 0.5]) | st.just([])})
attribute = json_value | st.fixed_dictionaries(
    {"type": st.sampled_from(["Property", "Relationship", "GeoProperty", "LanguageProperty", "ListProperty"])
     | json_value}, optional={"value": json_value | geometry, "object": ids | json_value, "observedAt": hostile,
                              "datasetId": ids, "languageMap": json_value, "valueList": json_value, "sub": json_value})
entity_type = st.sampled_from(["T", "EVSE"])
entity = st.fixed_dictionaries({"id": ids, "type": entity_type | entity_type | json_value},
                               optional={"p": attribute, "r": attribute, "location": attribute | geometry,
                                         "@context": st.sampled_from(["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"])
                                         | json_value})
endpoint = st.fixed_dictionaries({"uri": st.sampled_from(["http://127.0.0.1:1/notify", "ftp://x", "http://"])
                                         | hostile})
subscription = st.fixed_dictionaries(
    {"type": st.just("Subscription") | json_value,
     "entities": st.lists(st.fixed_dictionaries({"type": hostile}), max_size=2) | json_value,
     "notification": st.fixed_dictionaries({"endpoint": endpoint}) | json_value},
    optional={"q": hostile | json_value, "watchedAttributes": json_value, "geoQ": json_value, "throttling": json_value})
query = st.fixed_dictionaries({"type": st.just("Query") | json_value},
                              optional={"entities": json_value, "attrs": json_value, "q": hostile | json_value,
                                        "geoQ": json_value | st.fixed_dictionaries(
                                            {"georel": hostile, "geometry": hostile, "coordinates": json_value})})
deep: Any = 0
for _ in range(300):
    deep = [deep]
body = st.one_of(json_value, entity, st.lists(entity, max_size=4), subscription, query,
                 st.just({"p": {"type": "Property", "value": deep}}), st.binary(max_size=40), st.none())
headers = st.fixed_dictionaries({}, optional={
    "Content-Type": st.sampled_from(["application/json", "application/ld+json", "application/merge-patch+json",
                                     "text/plain", "application/json; charset=utf-8", ""]),
    "Accept": st.sampled_from(["*/*", "application/json", "application/ld+json", "application/geo+json",
                               "text/html", "application/json;q=0", ""]),
    "Link": st.sampled_from([f"<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld>; {CONTEXT_REL}",
                             f"<http://127.0.0.1:1/ctx.jsonld>; {CONTEXT_REL}",  # refused by the fetch policy
                             f"<http://169.254.169.254/latest/meta-data>; {CONTEXT_REL}",
                             "<>; rel=x", "garbage", "<a>;",
                             f"<urn:x>; {CONTEXT_REL}"]),
    "NGSILD-Tenant": st.sampled_from(FUZZ_TENANTS[1:]),
})


def fill(template: str, values: list[str]) -> str:
    """The path with each ``{param}`` replaced by a percent-encoded value (one segment each)."""
    parts = template.split("/")
    filled, taken = [], iter(values)
    for part in parts:
        filled.append(quote(next(taken), safe="") if part.startswith("{") else part)
    return "/".join(filled)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[BrokerProcess]:
    """Its own broker (the fuzz's tenants and subscriptions stay out of other tests), seeded with
    entities and a subscription in each tenant the fuzz uses, so that requests reach the handlers'
    depths rather than stopping at "no such tenant" or "no such entity"."""
    broker = BrokerProcess()
    for tenant in FUZZ_TENANTS[:3]:
        headers = {"NGSILD-Tenant": tenant} if tenant else {}
        seed: list[dict[str, Any]] = [{"id": entity_id, "type": "T",
                 "p": {"type": "Property", "value": n, "observedAt": "2026-03-02T03:00:00Z"},
                 "r": {"type": "Relationship", "object": SEEDED[0]},
                 "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [0.5, 0.5]}}}
                for n, entity_id in enumerate(SEEDED)]
        requests.post(broker.url + "/ngsi-ld/v1/entityOperations/upsert", json=seed, headers=headers,
                      timeout=10).raise_for_status()
        requests.post(broker.url + "/ngsi-ld/v1/subscriptions", headers=headers, timeout=10, json={
            "id": "urn:ngsi-ld:Subscription:fuzz", "type": "Subscription", "entities": [{"type": "T"}],
            "notification": {"endpoint": {"uri": "http://127.0.0.1:1/notify"}}}).raise_for_status()
    yield broker
    broker.stop()


class Writer(threading.Thread):
    """A client that does everything right, in its own tenant, while the fuzz runs."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.tenant = url + "/ngsi-ld/v1", "writer" + uuid.uuid4().hex[:8]
        self.stop = threading.Event()
        self.written: dict[str, int] = {}  # entity id -> the round it was last written in
        self.failures: list[str] = []
        self.http = requests.Session()

    def run(self) -> None:
        round_ = 0
        while not self.stop.is_set():
            status = "AVAILABLE" if round_ % 2 else "CHARGING"
            batch: list[dict[str, Any]] = [{"id": f"urn:ngsi-ld:W:{n}", "type": "W",
                                            "round": {"type": "Property", "value": round_},
                                            "status": {"type": "Property", "value": status}}
                                           for n in range(round_ % 7, round_ % 7 + 10)]
            response = self.http.post(f"{self.url}/entityOperations/upsert", json=batch, timeout=30,
                                      headers={"NGSILD-Tenant": self.tenant})
            if response.status_code in (201, 204):
                self.written.update({e["id"]: round_ for e in batch})
            else:
                self.failures.append(f"{response.status_code} {response.text[:200]}")
            round_ += 1

    def check(self) -> None:
        assert self.failures == [] and len(self.written) >= 10
        for entity_id, round_ in self.written.items():
            got = self.http.get(f"{self.url}/entities/{quote(entity_id, safe='')}", params={"options": "keyValues"},
                                headers={"NGSILD-Tenant": self.tenant}, timeout=30)
            assert got.status_code == 200, got.text
            assert got.json() == {"id": entity_id, "type": "W", "round": round_,
                                  "status": "AVAILABLE" if round_ % 2 else "CHARGING"}


def test_hostile_requests_get_problem_details_and_break_nothing(fuzzed: BrokerProcess) -> None:
    spec = requests.get(fuzzed.url + "/openapi.json", timeout=10).json()
    routes = [(path, sorted(ops)) for path, ops in spec["paths"].items()]
    routes += [("/ngsi-ld/v1/{x}", ["get"]), ("/{x}/{y}", ["delete"]),
               ("/ngsi-ld/v1/entities/{id}/attrs/{a}/{b}", ["get"])]
    paths = st.sampled_from(routes)  # the broker's own, and a few it does not have
    writer = Writer(fuzzed.url)
    writer.start()
    http = requests.Session()
    seen: dict[int, int] = {}

    @settings(max_examples=FUZZ_REQUESTS, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(route=paths, method=st.sampled_from(["get", "post", "patch", "put", "delete"]),
           documented=st.integers(-2, 9), values=st.lists(ids | st.just("p"), min_size=3, max_size=3),
           params=st.dictionaries(st.sampled_from(NGSI_PARAMS), hostile, max_size=6), payload=body, extra=headers)
    def one_request(route: tuple[str, list[str]], method: str, documented: int, values: list[str],
                    params: dict[str, str], payload: Any, extra: dict[str, str]) -> None:
        template, methods = route
        verb = methods[documented % len(methods)] if documented >= 0 else method  # mostly a documented one
        data = payload if isinstance(payload, bytes) else None if payload is None else json.dumps(payload).encode()
        request = requests.Request(verb.upper(), fuzzed.url + fill(template, values), params=params, data=data,
                                   headers={"Content-Type": "application/json", **extra}).prepare()
        response = http.send(request, timeout=30)  # a broker that hangs fails here
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        where = f"{verb.upper()} {request.url} {extra} body={(data or b'')[:300]!r}"
        assert response.status_code < 500, f"{where} -> {response.status_code} {response.text[:500]}"
        if response.status_code >= 400:
            problem = response.json()
            assert isinstance(problem, dict) and str(problem.get("type", "")).startswith(ERRORS), where
            assert problem["status"] == response.status_code and problem.get("title") and problem.get("detail"), where

    try:
        one_request()
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    print(f"fuzz: {sum(seen.values())} requests, answers by status: {dict(sorted(seen.items()))}")
    assert requests.get(fuzzed.url + "/version", timeout=5).status_code == 200
    writer.check()
    assert sum(seen.values()) >= FUZZ_REQUESTS and any(200 <= code < 300 for code in seen), seen  # it reached handlers
