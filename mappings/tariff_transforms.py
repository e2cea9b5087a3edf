"""The transforms ocpi-tariff.yaml names (``transform: tariff_elements``): each reads the whole
OCPI tariff record through the one tariff model, so that 2.1.1 and 2.2.1 records, and every
attribute of the entity, agree. A record the model refuses raises TariffError (a ValueError): the
engine quarantines the tariff with the model's reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .reference_prices import reference_prices
from .tariff_model import Dimension, elements_value, parse, price_value, summary, uniform_vat


def tariff_elements(value: Any, _options: dict[str, Any]) -> list[dict[str, Any]]:
    return elements_value(parse(value))


def tariff_price_limit(value: Any, options: dict[str, Any]) -> dict[str, Any] | None:
    """``field``: min_price or max_price."""
    tariff = parse(value)
    return price_value(tariff.min_price if options["field"] == "min_price" else tariff.max_price)


def tariff_summary(value: Any, options: dict[str, Any]) -> float | int | None:
    """``dimension``: ENERGY, TIME, PARKING_TIME or FLAT; None (attribute left out) when ambiguous."""
    return summary(parse(value), Dimension(options["dimension"]))


def tariff_vat(value: Any, _options: dict[str, Any]) -> float | int | None:
    return uniform_vat(parse(value))


def tariff_reference_prices(value: Any, _options: dict[str, Any]) -> list[dict[str, Any]]:
    return reference_prices(parse(value))


TARIFF_TRANSFORMS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "tariff_elements": tariff_elements, "tariff_price_limit": tariff_price_limit, "tariff_summary": tariff_summary,
    "tariff_vat": tariff_vat, "reference_prices": tariff_reference_prices,
}
