"""Entity id building: URN-safe, reversible, deterministic."""

from __future__ import annotations

import pytest

from broker.attributes import is_uri
from citiesincharge import ids


def test_ids_follow_the_entity_model() -> None:
    assert ids.charging_station("cpoA", "L001") == "urn:ngsi-ld:EVChargingStation:cpoA:L001"
    assert ids.evse("cpoA", "E1") == "urn:ngsi-ld:EVSE:cpoA:E1"
    assert ids.parking_spot("farGosford", "b1") == "urn:ngsi-ld:ParkingSpot:farGosford:b1"
    assert ids.parking_site("mall", "OffStreetParking") == "urn:ngsi-ld:OffStreetParking:mall"


@pytest.mark.parametrize("raw", ["GB*ABC*E 12", "loc:with:colons", "a/b", "ümlaut", "x%y"])
def test_awkward_source_ids_stay_valid_and_reversible(raw: str) -> None:
    built = ids.evse("cpo B", raw)
    assert is_uri(built) and " " not in built
    assert ids.parse(built) == ids.EntityRef("EVSE", ("cpo B", raw))
    assert ids.evse("cpo B", raw) == built


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_parts_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        ids.evse("cpoA", bad)


def test_parse_rejects_foreign_ids() -> None:
    with pytest.raises(ValueError):
        ids.parse("https://example.org/x")
