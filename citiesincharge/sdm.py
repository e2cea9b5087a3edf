"""Offline validation of entities against the vendored Smart Data Models JSON schemas.

The SDM schemas describe the key-values form and ``$ref`` each other by their published URLs;
a local ``referencing`` registry serves those URLs from the vendored files, so validation never
touches the network. Used by tests and by mappings to prove what they produce is standard.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

SCHEMA_TYPES = ("EVChargingStation", "ParkingSpot", "OnStreetParking", "OffStreetParking", "Alert",
                "KeyPerformanceIndicator")
_SHARED = {
    "https://smart-data-models.github.io/data-models/common-schema.json": "common-schema.json",
    "https://smart-data-models.github.io/dataModel.Alert/alert-schema.json": "alert-schema.json",
}


@cache
def _load(file_name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(resources.files("citiesincharge.schemas").joinpath(file_name).read_text("utf-8"))
    return doc


@cache  # a validator's registry does not keep what it retrieved: without this, every check re-reads the files
def _retrieve(uri: str) -> Resource[Any]:
    file_name = _SHARED.get(uri)
    if file_name is None:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class, keyword-only
    return Resource.from_contents(_load(file_name))


@cache
def validator(entity_type: str) -> Draft7Validator:
    if entity_type not in SCHEMA_TYPES:
        raise KeyError(f"no vendored SDM schema for {entity_type}; have {', '.join(SCHEMA_TYPES)}")
    registry: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    # the shared schemas held and crawled once: each $ref is then a look-up, not a crawl (~10x faster)
    registry = registry.with_resources((uri, _retrieve(uri)) for uri in _SHARED).crawl()
    return Draft7Validator(_load(f"{entity_type}.schema.json"), registry=registry)


def schema_errors(entity: dict[str, Any]) -> list[str]:
    """Every way a key-values entity breaks its SDM schema (empty list: valid)."""
    check = validator(str(entity["type"]))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(entity)'}: {e.message}"
            for e in check.iter_errors(entity)]
