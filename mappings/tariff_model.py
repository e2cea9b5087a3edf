"""One typed model of an OCPI tariff, for 2.2.1 and 2.1.1 alike. Pure, no I/O.

Why one model: the two versions share the structure (elements of price components under
restrictions) and differ only in what 2.1.1 lacks — VAT per component, ``min_price``/``max_price``,
the ``reservation``, ``min_current``/``max_current`` restrictions, a tariff ``type`` and validity
dates. A 2.1.1 tariff is therefore a 2.2.1 tariff with those fields absent, and the pricing
(``mappings/pricing.py``) needs to know only one shape.

Also here: the tariff as the ``ChargingTariff`` entity keeps it (``tariffElements``, camelCase
like every other structured value the project writes) and the summary figures that are only
written where the tariff leaves no doubt about them (docs/TARIFFS.md).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class TariffError(ValueError):
    """A tariff the model cannot accept; the message names the field (the mapping quarantines it)."""


class Dimension(StrEnum):
    ENERGY = "ENERGY"  # per kWh, step_size in Wh
    FLAT = "FLAT"  # once
    PARKING_TIME = "PARKING_TIME"  # per hour not charging, step_size in seconds
    TIME = "TIME"  # per hour charging (or reserved), step_size in seconds


class Reservation(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
# 24:00 is not in the spec's regex, but its own step_size example (tariff_14) ends a day with it.
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
_DATE = re.compile(r"^[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Price(_Model):
    """2.2.1 Price: ``min_price``/``max_price`` of a tariff."""

    excl_vat: Decimal = Field(ge=0)
    incl_vat: Decimal | None = Field(None, ge=0)


class PriceComponent(_Model):
    type: Dimension
    price: Decimal = Field(ge=0, description="per unit, excl. VAT")
    vat: Decimal | None = Field(None, ge=0, description="percent; absent = not given (2.1.1 never gives it)")
    step_size: int = Field(1, ge=0, description="Wh or seconds billed per step; 0 (2.1.1 examples) = none")


class Restrictions(_Model):
    start_time: str | None = None
    end_time: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    min_kwh: Decimal | None = Field(None, ge=0)
    max_kwh: Decimal | None = Field(None, ge=0)
    min_current: Decimal | None = Field(None, ge=0)
    max_current: Decimal | None = Field(None, ge=0)
    min_power: Decimal | None = Field(None, ge=0)
    max_power: Decimal | None = Field(None, ge=0)
    min_duration: int | None = Field(None, ge=0)
    max_duration: int | None = Field(None, ge=0)
    day_of_week: tuple[str, ...] = ()
    reservation: Reservation | None = None

    @field_validator("start_time", "end_time")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None and not _TIME.match(value):
            raise ValueError(f"'{value}' is not a time of day HH:MM")
        return value

    @field_validator("start_date", "end_date")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value is not None:
            if not _DATE.match(value):
                raise ValueError(f"'{value}' is not a date YYYY-MM-DD")
            date.fromisoformat(value)
        return value

    @field_validator("day_of_week", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if value is None:
            return ()
        if not isinstance(value, list | tuple) or any(day not in DAYS for day in value):
            raise ValueError(f"{value!r} is not a list of {', '.join(DAYS)}")
        return tuple(value)

    @property
    def minutes(self) -> tuple[int | None, int | None]:
        """start_time and end_time as minutes of the day (end 00:00 means the day's end, 1440)."""
        start = _minutes(self.start_time) if self.start_time else None
        end = _minutes(self.end_time) if self.end_time else None
        return start, (1440 if end == 0 else end)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class TariffElement(_Model):
    price_components: tuple[PriceComponent, ...] = Field(min_length=1)
    restrictions: Restrictions | None = None

    def component(self, dimension: Dimension) -> PriceComponent | None:
        return next((c for c in self.price_components if c.type == dimension), None)

    @property
    def reservation(self) -> Reservation | None:
        return self.restrictions.reservation if self.restrictions else None


class Tariff(_Model):
    """An OCPI Tariff of either version; unknown fields (e.g. 2.3's ``tax_included``) are ignored."""

    currency: str = Field(min_length=3, max_length=3)
    type: str | None = None
    elements: tuple[TariffElement, ...] = Field(min_length=1)
    min_price: Price | None = None
    max_price: Price | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    last_updated: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _numbers_as_text(cls, data: Any) -> Any:
        """A 2.1.1 Price is a bare number; keep Decimal exact by reading numbers through their text."""
        return _decimal_ready(data)


def _decimal_ready(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)  # 0.1 stays 0.1, not 0.1000000000000000055511151231257827
    if isinstance(value, dict):
        return {k: _decimal_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal_ready(v) for v in value]
    return value


def parse(record: Any) -> Tariff:
    """The model of one OCPI tariff record, or TariffError naming the first bad field."""
    if not isinstance(record, dict):
        raise TariffError("tariff is not a JSON object")
    try:
        return Tariff.model_validate(record)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "tariff"
        raise TariffError(f"{where}: {first['msg']}") from None


# -- the tariff as the entity keeps it --------------------------------------------------------------
def _number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() and abs(value) < 10**15 else float(value)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _plain(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in model:
        if value is None or value == ():
            continue
        if isinstance(value, Decimal):
            value = _number(value)
        elif isinstance(value, tuple):
            value = [_plain(v) if isinstance(v, BaseModel) else v for v in value]
        elif isinstance(value, BaseModel):
            value = _plain(value)
        elif isinstance(value, StrEnum):
            value = value.value
        out[_camel(name)] = value
    return out


def elements_value(tariff: Tariff) -> list[dict[str, Any]]:
    """``tariffElements``: every element in order, its price components (type, price excl. VAT,
    vat, stepSize) and restrictions, camelCase; fields the operator did not send are left out."""
    return [_plain(element) for element in tariff.elements]


def price_value(price: Price | None) -> dict[str, Any] | None:
    """``minPrice``/``maxPrice``: {exclVat, inclVat}."""
    return _plain(price) if price is not None else None


def _priced(tariff: Tariff) -> list[tuple[TariffElement, PriceComponent]]:
    """Components a charging session can be billed by (reservation elements price reservations)."""
    return [(e, c) for e in tariff.elements if e.reservation is None for c in e.price_components]


def summary(tariff: Tariff, dimension: Dimension) -> float | int | None:
    """The one price of a dimension, or None when the tariff has several (restrictions) or none.

    Unambiguous means: every component of that dimension has the same price and VAT, and one of
    them sits in an element without restrictions, so that it applies at any moment of any session.
    """
    components = [(e, c) for e, c in _priced(tariff) if c.type == dimension]
    if not components or len({(c.price, c.vat) for _, c in components}) != 1:
        return None
    if not any(e.restrictions is None or not _plain(e.restrictions) for e, _ in components):
        return None
    return _number(components[0][1].price)


def uniform_vat(tariff: Tariff) -> float | int | None:
    """The VAT rate when every component a session is billed by has the same one, else None
    (a summary price times this rate is then its price incl. VAT; mixed rates: see the elements)."""
    rates = {c.vat for _, c in _priced(tariff)}
    if len(rates) != 1:
        return None
    rate = rates.pop()
    return None if rate is None else _number(rate)
