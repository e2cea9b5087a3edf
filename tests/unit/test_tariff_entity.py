"""Issue 11 §6: the ChargingTariff entity ocpi-tariff.yaml makes of the spec texts' tariffs — every
example gives a valid entity (docs/schemas/ChargingTariff.schema.json) under project terms, and the
wrong readings the issue lists are gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from broker.jsonld import ContextResolver
from citiesincharge import ldcontext
from mappings.engine import MappingError, mapping_for
from tests.unit.test_tariff_pricing import DATA, TARIFFS_211

SCHEMA = Draft7Validator(json.loads((Path(__file__).parents[2] / "docs" / "schemas" /
                                     "ChargingTariff.schema.json").read_text()))
EXAMPLES = sorted(p.stem for p in DATA.glob("*.json"))


def entity(record: dict[str, Any], version: str = "2.2.1") -> dict[str, Any]:
    return mapping_for("ocpi", version, "Tariff").apply({"record": record, "cpo": "becharged"})


def key_values(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: v["value"] if isinstance(v, dict) else v for k, v in entity.items()}


def example(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return record


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_2_2_1_example_becomes_a_valid_entity_with_reference_prices(name: str) -> None:
    tariff = key_values(entity(example(name)))
    assert [str(e) for e in SCHEMA.iter_errors(tariff)] == []
    assert [p["session"] for p in tariff["referencePrices"]] == ["ac7-evening", "dc50-morning", "ac11-2h",
                                                                 "ac7-overnight"]
    assert len(tariff["tariffElements"]) == len(example(name)["elements"])


@pytest.mark.parametrize("name", sorted(TARIFFS_211))
def test_every_2_1_1_example_becomes_a_valid_entity(name: str) -> None:
    tariff = key_values(entity(TARIFFS_211[name], "2.1.1"))
    assert [str(e) for e in SCHEMA.iter_errors(tariff)] == []
    assert all("priceInclVat" not in p for p in tariff["referencePrices"]) or name == "free_of_charge"


def test_every_attribute_is_a_project_term() -> None:
    resolver = ContextResolver()
    resolver.preload("http://local/ctx", ldcontext.project_context_document())
    terms = resolver.term_map("http://local/ctx")
    names = {k for name in EXAMPLES for k in entity(example(name)) if k not in ("id", "type")}
    assert {"tariffElements", "referencePrices", "minPrice", "maxPrice", "pricePerHour", "tariffType",
            "validTo"} <= names
    assert [n for n in sorted(names) if terms.expand(n).startswith("https://uri.etsi.org/ngsi-ld/default-context/")
            ] == []


def test_time_based_tariffs_are_no_longer_empty() -> None:
    tariff = key_values(entity(example("tariff_1_simple_2hour")))
    assert tariff["pricePerHour"] == 2 and tariff["vatRate"] == 10
    assert tariff["referencePrices"][0] == {"session": "ac7-evening", "startDateTime": "2015-06-30T18:00:00",
                                            "priceExclVat": 2.0, "priceInclVat": 2.2, "currency": "EUR"}


def test_restricted_prices_are_not_summarised_and_the_free_kwh_does_not_win() -> None:
    tariff = key_values(entity(example("tariff_7_first_hour_kwh_free")))
    assert "pricePerKWh" not in tariff and "parkingPricePerHour" not in tariff  # several, by restriction
    # 7 kWh: the first free, 6 x 0.20 = 1.20 (the issue: 0.0 per kWh from the first component)
    assert tariff["referencePrices"][0]["priceExclVat"] == 1.2


def test_vat_rate_only_when_every_component_shares_it() -> None:
    mixed = key_values(entity(example("tariff_9_025kwh_start")))  # FLAT 20 %, ENERGY 10 %
    assert "vatRate" not in mixed and mixed["pricePerKWh"] == 0.25 and mixed["flatFee"] == 0.5
    assert mixed["tariffElements"][0]["priceComponents"][1] == {"type": "ENERGY", "price": 0.25, "vat": 10,
                                                                "stepSize": 1}


def test_min_and_max_price_are_kept() -> None:
    assert key_values(entity(example("tariff_12_025kwh_min_price")))["minPrice"] == {"exclVat": 0.5, "inclVat": 0.55}
    limited = key_values(entity(example("tariff_6_025kwh_start_max_price")))
    assert limited["maxPrice"] == {"exclVat": 10, "inclVat": 11}
    assert limited["validTo"] == "2019-06-30T23:59:59.000Z"


def test_a_reservation_fee_is_not_a_start_fee() -> None:
    tariff = key_values(entity(example("tariff_16_reservation_2_euro_fee_5_euro_per_hour")))
    assert tariff["flatFee"] == 0.5 and "pricePerHour" not in tariff  # TIME 5.00/h prices reservations only
    assert tariff["tariffElements"][0]["restrictions"] == {"reservation": "RESERVATION"}


def test_a_tariff_the_model_refuses_is_quarantined_with_its_reason() -> None:
    record = example("tariff_8_simple_025kwh") | {"elements": [{"price_components": [{"type": "KWH", "price": 1}]}]}
    with pytest.raises(MappingError) as raised:
        entity(record)
    assert raised.value.field == "tariffElements" and "elements.0.price_components.0.type" in raised.value.reason
