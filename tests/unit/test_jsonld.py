"""Term expansion and compaction (pure functions, no server)."""

from __future__ import annotations

import pytest

from broker.errors import BadRequestData
from broker.jsonld import ContextResolver
from citiesincharge import ldcontext

DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"


@pytest.fixture(scope="module")
def resolver() -> ContextResolver:
    r = ContextResolver()
    r.preload("http://local/ctx", ldcontext.project_context_document())
    return r


def test_core_only_uses_default_vocab(resolver: ContextResolver) -> None:
    tm = resolver.term_map(None)
    assert tm.expand("speed") == DEFAULT + "speed"
    assert tm.compact(DEFAULT + "speed") == "speed"
    assert tm.expand("location") == "https://uri.etsi.org/ngsi-ld/location"
    assert tm.expand("urn:x:abs") == "urn:x:abs"


def test_project_context_layers(resolver: ContextResolver) -> None:
    tm = resolver.term_map("http://local/ctx")
    assert tm.expand("EVChargingStation") == "https://smartdatamodels.org/dataModel.Transportation/EVChargingStation"
    assert tm.expand("category") == "https://smartdatamodels.org/dataModel.Parking/category"  # Parking wins
    assert tm.expand("EVSE") == "https://citiesincharge.org/ns/EVSE"  # compact IRI resolved via prefix
    assert tm.expand("status") == "https://uri.etsi.org/ngsi-ld/status"
    for term in ("availableCapacity", "refParkingSite", "EVSE", "kpiValue"):
        assert tm.compact(tm.expand(term)) == term


def test_core_terms_are_protected(resolver: ContextResolver) -> None:
    tm = resolver.term_map({"location": "https://evil.example/location", "Property": "https://evil/x"})
    assert tm.expand("location") == "https://uri.etsi.org/ngsi-ld/location"
    assert tm.expand("Property") == "https://uri.etsi.org/ngsi-ld/Property"


def test_compaction_does_not_shadow_a_redefined_term(resolver: ContextResolver) -> None:
    """'speed' means something else here, so the default-vocabulary name reads back as a compact
    IRI with the core's ``ngsi-ld`` prefix (as JSON-LD compaction gives it), and expands again."""
    tm = resolver.term_map({"speed": "https://example.org/speed"})
    assert tm.compact(DEFAULT + "speed") == "ngsi-ld:default-context/speed"
    assert tm.expand("ngsi-ld:default-context/speed") == DEFAULT + "speed"
    assert tm.compact("https://example.org/speed") == "speed"
    assert tm.compact("https://unrelated.example/x") == "https://unrelated.example/x"


def test_prefixed_names_and_null_definitions(resolver: ContextResolver) -> None:
    tm = resolver.term_map([{"ex": "https://example.org/", "temp": "ex:temperature"}, {"temp": None}])
    assert tm.expand("ex:pressure") == "https://example.org/pressure"
    assert tm.expand("temp") == DEFAULT + "temp"


def test_invalid_context_shapes(resolver: ContextResolver) -> None:
    with pytest.raises(BadRequestData):
        resolver.term_map(42)
    with pytest.raises(BadRequestData):
        resolver.term_map({"x": 5})
    with pytest.raises(BadRequestData):
        resolver.term_map("file:///etc/passwd")


def test_project_context_is_offline_and_clashes_are_listed() -> None:
    doc = ldcontext.project_context_document()
    assert doc["@context"][-1] == ldcontext.CORE_CONTEXT_URL
    clashes = ldcontext.term_clashes()
    assert "category" in clashes and len(set(clashes["category"].values())) > 1


def test_every_name_a_kpi_carries_is_a_project_term(resolver: ContextResolver) -> None:
    """No attribute or sub-property of what the analytics write falls to the default @vocab (where any
    other app's same-named term would silently merge with ours)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from analytics.kpis import kpi, period

    day = period("daily", datetime(2026, 3, 2, 8, tzinfo=UTC), ZoneInfo("Europe/London"))
    entity = kpi("reliability", "urn:ngsi-ld:EVSE:cpoT:1", "evse", day, 99.0, now=day.start, subject_name="1",
                 description="", formula="", aggregated=[], organization="cpoT", unit="P1", coverage=0.5)
    tm = resolver.term_map("http://local/ctx")
    names = [k for k in entity if k not in ("id", "type")] + [k for k, v in entity["kpiValue"].items()
                                                             if isinstance(v, dict)]
    assert [n for n in names if tm.expand(n).startswith(DEFAULT)] == []

