"""The verdict on a peer's next link (agents/ocpi/paging.py), case by case."""

from __future__ import annotations

import pytest

from agents.ocpi.paging import judge

ASKED = "http://cpo.example:8080/ocpi/2.2.1/locations?date_from=2026-03-01T00:00:00Z&limit=10"
FILTERS = {"date_from": "2026-03-01T00:00:00Z", "limit": 10}


@pytest.mark.parametrize(("link", "why"), [
    ("https://cpo.example:8080/ocpi/2.2.1/locations?date_from=2026-03-01T00:00:00Z&offset=10", "points at https"),
    ("http://cpo.internal:8080/ocpi/2.2.1/locations?date_from=2026-03-01T00:00:00Z&offset=10", "cpo.internal"),
    ("http://cpo.example:99999/ocpi/2.2.1/locations?offset=10", "not a usable URL"),
    ("/ocpi/2.2.1/locations?date_from=None&offset=10", "date_from='None'"),
    ("/ocpi/2.2.1/locations?offset=10", "drops the date_from filter"),
    ("/ocpi/2.2.1/locations?date_from=2026-03-01T00:00:00Z&offset=20", "offset='20' is not the 10"),
    ("/ocpi/2.2.1/locations?date_from=2026-03-01T00:00:00Z&offset=10&limit=-1", "limit='-1'"),
    (ASKED, "repeats the page"),
])
def test_links_that_lead_elsewhere_are_refused_with_the_reason(link: str, why: str) -> None:
    verdict = judge(link, requested=ASKED, filters=FILTERS, received=10)
    assert verdict.url is None and verdict.refused is not None and why in verdict.refused


@pytest.mark.parametrize("link", [
    "/ocpi/2.2.1/locations?date_from=2026-03-01T00:00:00Z&offset=10&limit=10",
    "http://CPO.example:8080/ocpi/2.2.1/locations?date_from=2026-03-01T00:00:00%2B00:00&offset=10",
    "http://cpo.example:8080/ocpi/2.2.1/locations/page2?date_from=2026-03-01T00:00:00Z&cursor=abc",
])
def test_sound_links_are_followed(link: str) -> None:
    verdict = judge(link, requested=ASKED, filters=FILTERS, received=10)
    assert verdict.refused is None and verdict.url is not None and verdict.url.startswith("http://")
