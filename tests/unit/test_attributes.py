"""Attribute shape inference and idempotency checks (pure functions)."""

from __future__ import annotations

import pytest

from broker.attributes import parse_attribute, render_entity, same_content
from broker.errors import BadRequestData
from broker.jsonld import ContextResolver

NOW = "2026-01-01T00:00:00.000Z"
TM = ContextResolver().term_map(None)


@pytest.mark.parametrize(("raw", "kind"), [
    (5, "Property"), ("text", "Property"), ([1, 2], "Property"), ({"a": 1}, "Property"),
    ({"value": 5}, "Property"), ({"object": "urn:x:1"}, "Relationship"),
    ({"type": "Point", "coordinates": [1, 2]}, "GeoProperty"),
    ({"languageMap": {"en": "bay", "fr": "place"}}, "LanguageProperty"),
    ({"valueList": [1, 2]}, "ListProperty"),
    ({"type": "Relationship", "object": ["urn:x:1", "urn:x:2"]}, "Relationship"),
])
def test_concise_and_normalized_inference(raw: object, kind: str) -> None:
    [instance] = parse_attribute(raw, "a", TM, NOW)
    assert instance["type"] == kind


def test_geo_value_on_location_becomes_geoproperty() -> None:
    [instance] = parse_attribute({"value": {"type": "Point", "coordinates": [1, 2]}}, "location", TM, NOW)
    assert instance["type"] == "GeoProperty"


def test_observed_at_is_normalised_to_utc_millis() -> None:
    [instance] = parse_attribute({"value": 1, "observedAt": "2026-01-01T01:00:00+01:00"}, "a", TM, NOW)
    assert instance["observedAt"] == "2026-01-01T00:00:00.000Z"


def test_same_content_ignores_timestamps_only() -> None:
    [a] = parse_attribute({"value": 1, "sub": {"value": 2}}, "a", TM, NOW)
    [b] = parse_attribute({"value": 1, "sub": {"value": 2}}, "a", TM, "2027-01-01T00:00:00.000Z")
    [c] = parse_attribute({"value": 1, "sub": {"value": 3}}, "a", TM, NOW)
    assert same_content(a, b) and not same_content(a, c)


def test_keyvalues_of_several_instances_is_a_dataset_map() -> None:
    """v1.8 simplified form: the instances by datasetId, the default one under @none (the core context's
    ``dataset`` is an @index container); an attribute with only its default instance stays a bare value."""
    instances = parse_attribute([{"value": 1, "datasetId": "urn:d:1"}, {"value": 2}], "p", TM, NOW)
    single = parse_attribute({"value": 3}, "q", TM, NOW)
    entity = {"id": "urn:x:1", "type": [TM.expand("T")], "createdAt": NOW, "modifiedAt": NOW,
              "attrs": {TM.expand("p"): instances, TM.expand("q"): single}}
    shown = render_entity(entity, TM, fmt="keyValues")
    assert shown["p"] == {"dataset": {"urn:d:1": 1, "@none": 2}} and shown["q"] == 3


@pytest.mark.parametrize("raw", [{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1]}},
                                 {"type": "LanguageProperty", "languageMap": "en"},
                                 {"type": "ListProperty", "valueList": 3}])
def test_invalid_shapes(raw: object) -> None:
    with pytest.raises(BadRequestData):
        parse_attribute(raw, "a", TM, NOW)
