"""What operators charge, as a council compares it: the prices of the reference sessions
(``referencePrices`` of each ChargingTariff, docs/TARIFFS.md) per tariff, their cheapest-dearest
range per operator and currency, and the tariffs each station's connectors name.

Why reference sessions rather than "price per kWh": two operators' tariffs are rarely built the same
way (start fees, night rates, parking fees, minimum prices), so the OCPI agent prices the same few
sessions under every tariff and the dashboard only compares those figures. Incl. VAT where the
tariff gives the VAT of every billed component; else excl. VAT, and the cell says so (every OCPI
2.1.1 tariff). A range mixes nothing: it is incl. VAT only when every tariff in it is.

The session names and labels are here, not imported from ``mappings`` (the dashboard reads the
broker only); tests/unit/test_dashboard_tariffs.py checks them against docs/TARIFFS.md and the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from citiesincharge.timeutil import parse_utc

from .reader import value


@dataclass(frozen=True)
class ReferenceSession:
    name: str  # the ``session`` of a referencePrices entry
    label: str  # a column heading
    description: str  # as docs/TARIFFS.md describes it


REFERENCE_SESSIONS: tuple[ReferenceSession, ...] = (
    ReferenceSession("ac7-evening", "7 kWh AC from 18:00",
                     "7 kWh at 7 kW (AC, 30 A) from 18:00, unplugged when charged (1 h)"),
    ReferenceSession("dc50-morning", "30 kWh DC from 10:00",
                     "30 kWh at 50 kW (DC, 125 A) from 10:00 (36 min)"),
    ReferenceSession("ac11-2h", "11 kWh AC, 2 h plugged in",
                     "11 kWh at 11 kW (AC three-phase, 48 A summed over the phases) from 12:00, plugged in 2 h "
                     "(1 h charging, 1 h parked)"),
    ReferenceSession("ac7-overnight", "21 kWh AC overnight",
                     "21 kWh at 7 kW (AC, 30 A) plugged in 22:00\N{EN DASH}07:00 (3 h charging, 6 h parked)"),
)
EXCL = "excl. VAT"
DASH = "\N{EN DASH}"  # between the cheapest and the dearest
ATTRS = ["currency", "referencePrices", "pricePerKWh", "pricePerHour", "parkingPricePerHour", "flatFee", "vatRate",
         "minPrice", "maxPrice", "tariffType", "validFrom", "validTo", "dataProvider"]


@dataclass(frozen=True)
class Price:
    """One session's price under one tariff: incl. VAT when known, else excl. VAT."""

    excl: float
    incl: float | None
    currency: str

    @property
    def shown(self) -> float:
        return self.incl if self.incl is not None else self.excl


def _number(found: Any) -> float | None:
    return float(found) if isinstance(found, int | float) and not isinstance(found, bool) else None


def _moment(found: Any) -> datetime | None:
    if isinstance(found, dict):  # NGSI-LD DateTime value {"@type": "DateTime", "@value": …}
        found = found.get("@value")
    try:
        return parse_utc(found) if isinstance(found, str) and found else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Tariff:
    id: str  # entity id
    key: str  # the operator's tariff id (cistring form), the last part of the entity id
    operator: str  # dataProvider
    currency: str
    prices: dict[str, Price]  # session name -> price
    attributes: dict[str, Any]  # the rest, as read (summary prices, vatRate, minPrice …)
    valid_from: datetime | None
    valid_to: datetime | None

    def valid_at(self, moment: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= moment) and (self.valid_to is None
                                                                           or moment < self.valid_to)


def key_of(entity_id: str) -> str:
    """The operator's tariff id in a ChargingTariff entity id (its last part, decoded)."""
    return unquote(entity_id.rsplit(":", 1)[-1])


def tariff(entity: dict[str, Any]) -> Tariff:
    """A ChargingTariff entity (normalized) as the pages read it; what is missing stays None."""
    currency = str(value(entity, "currency") or "—")
    prices: dict[str, Price] = {}
    found = value(entity, "referencePrices")
    for entry in found if isinstance(found, list) else [found] if isinstance(found, dict) else []:
        excl = _number(entry.get("priceExclVat")) if isinstance(entry, dict) else None
        if excl is None or not isinstance(entry.get("session"), str):
            continue
        prices[entry["session"]] = Price(excl, _number(entry.get("priceInclVat")),
                                         str(entry.get("currency") or currency))
    attributes = {name: value(entity, name) for name in ATTRS}
    return Tariff(entity["id"], key_of(entity["id"]), str(value(entity, "dataProvider") or ""), currency,
                  prices, attributes, _moment(value(entity, "validFrom")), _moment(value(entity, "validTo")))


def money(amount: float) -> str:
    return f"{amount:,.2f}"


def price_cell(found: Price | None) -> str:
    """``3.78`` (incl. VAT), ``3.23 excl. VAT`` (no VAT given), ``—`` (not priced)."""
    if found is None:
        return "—"
    return money(found.incl) if found.incl is not None else f"{money(found.excl)} {EXCL}"


def limit_cell(found: Any) -> str:
    """minPrice / maxPrice {exclVat, inclVat}: incl. VAT when given."""
    if not isinstance(found, dict) or _number(found.get("exclVat")) is None:
        return "—"
    incl = _number(found.get("inclVat"))
    return money(incl) if incl is not None else f"{money(float(found['exclVat']))} {EXCL}"


def range_cell(prices: list[Price]) -> str:
    """Cheapest to dearest (``3.78 - 6.00`` with an en dash): over the prices incl. VAT when every
    one has it, else over the prices excl. VAT (marked); one figure when they are equal."""
    if not prices:
        return "—"
    inclusive = all(p.incl is not None for p in prices)
    amounts = [p.shown if inclusive else p.excl for p in prices]
    low, high = min(amounts), max(amounts)
    shown = money(low) if money(low) == money(high) else f"{money(low)} {DASH} {money(high)}"
    return shown if inclusive else f"{shown} {EXCL}"


def operator_ranges(tariffs: list[Tariff]) -> dict[tuple[str, str], dict[str, list[Price]]]:
    """(operator, currency) -> session -> the prices of that session under the operator's tariffs."""
    out: dict[tuple[str, str], dict[str, list[Price]]] = {}
    for item in tariffs:
        for session, found in item.prices.items():
            out.setdefault((item.operator, found.currency), {}).setdefault(session, []).append(found)
    return out
