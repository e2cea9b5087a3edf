"""Reference sessions: the few typical sessions every tariff is priced for, so that a council can
compare operators whose tariffs are built differently (per kWh, per hour, start fees, night rates,
parking fees). Pure, no settings: the same tariff always gives the same figures.

Each session starts on a Tuesday at a local time of day (OCPI restrictions are local times); the
Tuesday is the first one on or after the day the tariff took effect (its ``start_date_time`` when
later than ``last_updated``), so that date-restricted elements are priced as the operator published
them, and a tariff record always maps to the same entity. Tuesdays are never a clock change day in
Europe or North America, so a wall-clock session is as long as it says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from .pricing import Session, charging, price
from .tariff_model import Tariff

TUESDAY = 1
_WITHOUT_DATE = date(2026, 1, 6)  # a Tuesday, for tariffs that carry no date at all


@dataclass(frozen=True)
class ReferenceSession:
    name: str
    description: str
    start: time
    kwh: Fraction
    power_kw: Fraction
    current_a: Fraction  # sum over the phases, as OCPI's current restrictions count it
    plugged_hours: Fraction | None = None  # None: unplugged when charging ends

    def on(self, day: date) -> Session:
        plugged = None if self.plugged_hours is None else self.plugged_hours * 3600
        return charging(datetime.combine(day, self.start), self.kwh, self.power_kw, self.current_a,
                        plugged_seconds=plugged)


REFERENCE_SESSIONS: tuple[ReferenceSession, ...] = (
    ReferenceSession("ac7-evening", "7 kWh at 7 kW (AC, 30 A) from 18:00 on a weekday, unplugged when charged",
                     time(18, 0), Fraction(7), Fraction(7), Fraction(30)),
    ReferenceSession("dc50-morning", "30 kWh at 50 kW (DC, 125 A) from 10:00 on a weekday (36 min)",
                     time(10, 0), Fraction(30), Fraction(50), Fraction(125)),
    ReferenceSession("ac11-2h", "11 kWh at 11 kW (AC three-phase, 48 A) from 12:00 on a weekday, plugged in 2 h "
                     "(1 h charging, 1 h parked)", time(12, 0), Fraction(11), Fraction(11), Fraction(48), Fraction(2)),
    ReferenceSession("ac7-overnight", "21 kWh at 7 kW (AC, 30 A) plugged in from 22:00 on a weekday to 07:00 "
                     "(3 h charging, 6 h parked)", time(22, 0), Fraction(21), Fraction(7), Fraction(30), Fraction(9)),
)


def reference_day(tariff: Tariff) -> date:
    """The first Tuesday on or after the tariff took effect (UTC date of its newest time stamp)."""
    stamps = [s[:10] for s in (tariff.last_updated, tariff.start_date_time) if s and len(s) >= 10]
    try:
        since = max(date.fromisoformat(s) for s in stamps) if stamps else _WITHOUT_DATE
    except ValueError:
        since = _WITHOUT_DATE
    return since + timedelta(days=(TUESDAY - since.weekday()) % 7)


def money(amount: Fraction) -> float:
    """4 decimals, half up (prices per kWh are quoted to 4; a total is then exact to the cent)."""
    exact = Decimal(amount.numerator) / Decimal(amount.denominator)
    return float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def reference_prices(tariff: Tariff) -> list[dict[str, Any]]:
    """``referencePrices``: per reference session, its local start and its price excl. VAT and
    (where every billed component gives a VAT) incl. VAT, in the tariff's currency."""
    day = reference_day(tariff)
    out = []
    for reference in REFERENCE_SESSIONS:
        session = reference.on(day)
        bill = price(tariff, session)
        entry: dict[str, Any] = {"session": reference.name, "startDateTime": session.start.isoformat(),
                                 "priceExclVat": money(bill.excl_vat), "currency": tariff.currency}
        if bill.incl_vat is not None:
            entry["priceInclVat"] = money(bill.incl_vat)
        out.append(entry)
    return out
