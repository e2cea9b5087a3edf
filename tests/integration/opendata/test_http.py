"""The feed as HTTP: cacheable (ETag, Last-Modified, 304), rate-limited per address (429 with
Retry-After, then recovery, on an injected clock), one broker read per cache period, and clear
errors for hostile requests."""

from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime

import pytest
import requests

from tests.integration.opendata.conftest import FakeClock, FeedFactory

PATHS = ["/stations.geojson", "/ngsi-ld/v1/entities?type=EVChargingStation", "/ocpi/2.2.1/locations", "/licences"]


@pytest.mark.parametrize("path", PATHS)
def test_etag_and_last_modified_answer_304(feed: str, path: str) -> None:
    first = requests.get(feed + path, timeout=10)
    assert first.status_code == 200 and first.headers["ETag"].startswith('"')
    again = requests.get(feed + path, timeout=10)
    assert again.content == first.content and again.headers["ETag"] == first.headers["ETag"]  # same data, same bytes
    tag = first.headers["ETag"]
    assert requests.get(feed + path, headers={"If-None-Match": tag}, timeout=10).status_code == 304
    assert requests.get(feed + path, headers={"If-None-Match": f'"x", W/{tag}'}, timeout=10).status_code == 304
    assert requests.get(feed + path, headers={"If-None-Match": '"other"'}, timeout=10).status_code == 200
    if path == "/licences":
        return
    modified = first.headers["Last-Modified"]
    moment = parsedate_to_datetime(modified)
    cached = requests.get(feed + path, headers={"If-Modified-Since": modified}, timeout=10)
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["ETag"] == tag
    earlier = format_datetime(moment.replace(year=moment.year - 1), usegmt=True)
    assert requests.get(feed + path, headers={"If-Modified-Since": earlier}, timeout=10).status_code == 200
    # If-None-Match wins (RFC 9110): a stale tag gets the body even with a current date
    both = requests.get(feed + path, headers={"If-None-Match": '"old"', "If-Modified-Since": modified}, timeout=10)
    assert both.status_code == 200


def test_the_rate_limit_answers_429_with_retry_after_and_recovers(serve_feed: FeedFactory) -> None:
    clock = FakeClock()
    url = serve_feed(clock, opendata_rate_per_second=0.5, opendata_rate_burst=3).url
    assert [requests.get(f"{url}/stations.geojson", timeout=10).status_code for _ in range(3)] == [200] * 3
    refused = requests.get(f"{url}/stations.geojson", timeout=10)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"  # one token per 2 s
    assert "per client address" in refused.json()["detail"]
    assert requests.get(f"{url}/health", timeout=10).status_code == 200  # never limited
    clock.now += 1.0
    assert requests.get(f"{url}/ocpi/2.2.1/locations", timeout=10).headers["Retry-After"] == "1"
    clock.now += 1.0
    assert requests.get(f"{url}/stations.geojson", timeout=10).status_code == 200
    assert requests.get(f"{url}/stations.geojson", timeout=10).status_code == 429
    clock.now += 60
    assert [requests.get(f"{url}/licences", timeout=10).status_code for _ in range(3)] == [200] * 3


def test_one_broker_read_serves_requests_until_the_cache_expires(serve_feed: FeedFactory) -> None:
    clock = FakeClock()
    url = serve_feed(clock, opendata_cache_seconds=5, opendata_rate_burst=1000).url
    for path in PATHS * 3:
        assert requests.get(url + path, timeout=10).status_code == 200
    assert requests.get(f"{url}/status", timeout=10).json()["broker_reads"] == 1
    tag = requests.get(f"{url}/stations.geojson", timeout=10).headers["ETag"]
    clock.now += 6
    again = requests.get(f"{url}/stations.geojson", timeout=10)
    assert requests.get(f"{url}/status", timeout=10).json()["broker_reads"] == 2
    assert again.headers["ETag"] == tag  # re-read, same data: same bytes, the clients' copies stay valid


@pytest.mark.parametrize(("path", "needle"), [
    ("/ngsi-ld/v1/entities?type=EVSE&limit=abc", "limit must be a whole number from 1 to 1000"),
    ("/ngsi-ld/v1/entities?type=EVSE&limit=0", "limit must be from 1 to 1000, not 0"),
    ("/ngsi-ld/v1/entities?type=EVSE&limit=100000", "limit must be from 1 to 1000"),
    ("/ngsi-ld/v1/entities?type=EVSE&offset=-1", "offset must be a whole number"),
    ("/ngsi-ld/v1/entities?type=EVSE&offset=99999999999999999999", "offset must be a whole number"),
    ("/ngsi-ld/v1/entities?type=EVSE&limit=%C2%B2", "limit must be a whole number"),
    ("/ngsi-ld/v1/entities?type=ChargingSession", "type must be one of EVChargingStation, EVSE, ChargingTariff"),
    ("/ngsi-ld/v1/entities", "type must be one of"),
])
def test_bad_ngsi_ld_parameters_get_a_problem_details_400(feed: str, path: str, needle: str) -> None:
    response = requests.get(feed + path, timeout=10)
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
    assert needle in response.json()["detail"]


@pytest.mark.parametrize("query", ["limit=x", "offset=-5", "limit=1001", "date_from=yesterday", "date_to=2026-13-01"])
def test_bad_ocpi_parameters_get_an_ocpi_2001(feed: str, query: str) -> None:
    response = requests.get(f"{feed}/ocpi/2.2.1/locations?{query}", timeout=10)
    body = response.json()
    assert response.status_code == 400 and body["status_code"] == 2001 and body["data"] is None
    assert query.split("=")[0] in body["status_message"]


def test_odd_requests_get_clear_answers(feed: str) -> None:
    far = requests.get(f"{feed}/ocpi/2.2.1/locations?offset=1000000", timeout=10)
    assert far.status_code == 200 and far.json()["data"] == [] and "next" not in far.links
    assert requests.get(f"{feed}/ngsi-ld/v1/entities?type=EVSE&offset=2147483647", timeout=10).json() == []
    unknown = requests.get(f"{feed}/ocpi/2.2.1/locations/NOPE", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["status_code"] == 2003
    council = requests.get(f"{feed}/ngsi-ld/v1/entities/urn:ngsi-ld:EVChargingStation:cpoC:CPC0001", timeout=10)
    assert council.status_code == 404 and "not public" in council.json()["detail"]
    html = requests.get(f"{feed}/ngsi-ld/v1/entities?type=EVSE", headers={"Accept": "text/html"}, timeout=10)
    assert html.status_code == 406
    odd_headers = [{"If-Modified-Since": "yesterday"}, {"If-None-Match": 'W/,,"unterminated'},
                   {"If-Modified-Since": "Sun, 06 Nov"}]
    for odd in odd_headers:
        assert requests.get(f"{feed}/stations.geojson", headers=odd, timeout=10).status_code == 200
    posted = requests.post(f"{feed}/stations.geojson", json={}, timeout=10)
    assert posted.status_code == 405 and posted.headers["Allow"] == "GET"
