"""The prices a station's connectors charge, from the public ChargingTariff entities they name.

A connector names its tariffs by the operator's tariff id (``connectors[].tariffIds``); the entity
is ``urn:ngsi-ld:ChargingTariff:<operator>:<tariff id>`` (docs/TARIFFS.md). Only tariffs in the
snapshot (public ones) are shown: a station of an operator whose prices stay with the council has
no price in the feed, rather than a hint of one. A price per kWh incl. VAT is given only where the
tariff has one unambiguous price per kWh and one VAT rate (``pricePerKWh``, ``vatRate``); the
reference sessions' prices (``referencePrices``) compare tariffs built differently.
"""

from __future__ import annotations

from typing import Any

from citiesincharge import ids

from .entities import value


def tariff_entity(provider: str, name: Any) -> str | None:
    """The ChargingTariff entity id of an operator's tariff id (None: not a usable id)."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ids.entity_id("ChargingTariff", provider, name)
    except ValueError:
        return None


def tariff_ids(evse: dict[str, Any]) -> list[str]:
    """The ChargingTariff entity ids an EVSE's connectors name, each once, in order."""
    provider = str(value(evse, "dataProvider") or evse["id"].split(":")[3])
    found: list[str] = []
    connectors = value(evse, "connectors")
    for connector in connectors if isinstance(connectors, list) else []:
        names = connector.get("tariffIds") if isinstance(connector, dict) else None
        for name in names if isinstance(names, list) else []:
            if (entity_id := tariff_entity(provider, name)) is not None:
                found.append(entity_id)
    return list(dict.fromkeys(found))


def _number(found: Any) -> float | None:
    return float(found) if isinstance(found, int | float) and not isinstance(found, bool) else None


def summary(tariff: dict[str, Any]) -> dict[str, Any]:
    """One tariff as the GeoJSON feed shows it; absent figures are left out."""
    per_kwh, vat = _number(value(tariff, "pricePerKWh")), _number(value(tariff, "vatRate"))
    out: dict[str, Any] = {"tariff": tariff["id"], "currency": value(tariff, "currency"),
                           "pricePerKWh": per_kwh, "vatRate": vat,
                           "pricePerKWhInclVat": round(per_kwh * (1 + vat / 100), 4)
                           if per_kwh is not None and vat is not None else None,
                           "pricePerHour": _number(value(tariff, "pricePerHour")),
                           "parkingPricePerHour": _number(value(tariff, "parkingPricePerHour")),
                           "flatFee": _number(value(tariff, "flatFee")),
                           "referencePrices": value(tariff, "referencePrices")}
    return {k: v for k, v in out.items() if v is not None}
