"""What a session costs under an OCPI tariff, by the OCPI 2.2.1 rules. Pure, no I/O, exact.

Why exact: prices, kWh thresholds and step sizes meet in fractions of hours and of kWh (1 kWh
at 7 kW is 1/7 h); ``Fraction`` keeps every figure exact until a caller rounds the total, so a
test's hand arithmetic and the code agree to the last digit.

The rules, from the 2.2.1 texts (mod_tariffs, mod_cdrs "step_size"), as docs/TARIFFS.md explains:

* A session is cut into segments wherever a restriction could change its answer: charging vs
  parked, a time of day or midnight, a kWh or duration threshold, a change of power or current.
* In each segment, per dimension (FLAT, ENERGY, TIME while charging, PARKING_TIME while parked),
  the first element, in the tariff's order, that has a component of that dimension and whose
  restrictions all hold is the one that prices it; no such element, no cost for that dimension.
* Elements with a ``reservation`` restriction price only the reservation before a session (TIME
  for its duration, FLAT once); an expired reservation prefers RESERVATION_EXPIRES elements.
* FLAT is billed once (per session, and once per reservation).
* ``step_size`` is applied once, at the end, to the total of a dimension: the session's energy
  (step of the last ENERGY component used); the session's total parking time when parking is
  billed (charging time is then not rounded), else its total charging time; the difference is
  billed at the price of the last component used in that dimension.
* VAT per component; without one the price incl. VAT is unknown (2.1.1, or 2.2.1 without vat).
* ``min_price``/``max_price`` bound the total excl. VAT and the total incl. VAT separately.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from .tariff_model import DAYS, Dimension, Price, PriceComponent, Reservation, Restrictions, Tariff, TariffElement

Kind = Literal["reserved", "charging", "parked"]
_DIMENSIONS: dict[Kind, tuple[Dimension, ...]] = {
    "charging": (Dimension.FLAT, Dimension.ENERGY, Dimension.TIME),
    "parked": (Dimension.FLAT, Dimension.PARKING_TIME),
    "reserved": (Dimension.FLAT, Dimension.TIME),
}


@dataclass(frozen=True)
class Phase:
    """A stretch of a session at constant conditions: charging (power > 0) or parked (plugged in,
    not charging). ``current_a`` is the sum over all phases, as OCPI's current restrictions mean."""

    seconds: Fraction
    kwh: Fraction = Fraction(0)
    power_kw: Fraction = Fraction(0)
    current_a: Fraction = Fraction(0)

    @property
    def kind(self) -> Kind:
        return "charging" if self.power_kw > 0 else "parked"


@dataclass(frozen=True)
class Session:
    """A session to price: its start in the Location's local time (restrictions are local times),
    its phases in order, and an optional reservation just before it. ``reservation_expired``: the
    reservation was not followed by charging (then there are no phases)."""

    start: datetime
    phases: tuple[Phase, ...] = ()
    reserved_seconds: Fraction = Fraction(0)
    reservation_expired: bool = False


def charging(start: datetime, kwh: Fraction | int | str, power_kw: Fraction | int | str,
             current_a: Fraction | int | str, *, plugged_seconds: Fraction | int | None = None) -> Session:
    """The common session: ``kwh`` at constant power from ``start``, then parked until
    ``plugged_seconds`` after the start (default: unplugged when charging ends)."""
    energy, power = Fraction(kwh), Fraction(power_kw)
    charge = Phase(energy / power * 3600, energy, power, Fraction(current_a))
    phases = [charge]
    if plugged_seconds is not None:
        if Fraction(plugged_seconds) < charge.seconds:
            raise ValueError("plugged in for less time than charging takes")
        if Fraction(plugged_seconds) > charge.seconds:
            phases.append(Phase(Fraction(plugged_seconds) - charge.seconds))
    return Session(start, tuple(phases))


@dataclass
class Line:
    """What one element's component bills in one stretch: kWh, hours, or 1 (FLAT)."""

    block: Literal["reservation", "session"]
    dimension: Dimension
    element: int  # index in the tariff's elements
    component: PriceComponent
    quantity: Fraction

    @property
    def excl_vat(self) -> Fraction:
        return self.quantity * Fraction(self.component.price)

    @property
    def incl_vat(self) -> Fraction | None:
        if self.component.vat is None:
            return None if self.excl_vat else Fraction(0)  # a free component needs no VAT
        return self.excl_vat * (1 + Fraction(self.component.vat) / 100)


@dataclass(frozen=True)
class Bill:
    lines: tuple[Line, ...]
    excl_vat: Fraction
    incl_vat: Fraction | None  # None: some billed component gives no VAT
    limited_by: Literal["min_price", "max_price"] | None = None


@dataclass(frozen=True)
class _Segment:
    kind: Kind
    offset: Fraction  # seconds since the block began (duration restrictions)
    seconds: Fraction
    kwh_before: Fraction  # energy delivered in the block before this segment
    kwh: Fraction
    power_kw: Fraction
    current_a: Fraction
    at: datetime  # local wall clock at the segment's start


@dataclass
class _Block:
    name: Literal["reservation", "session"]
    segments: list[_Segment] = field(default_factory=list)


def price(tariff: Tariff, session: Session) -> Bill:
    """The bill of ``session`` under ``tariff``."""
    lines: list[Line] = []
    if session.reserved_seconds > 0 or session.reservation_expired:
        reserved = Phase(Fraction(session.reserved_seconds))
        start = session.start - _delta(Fraction(session.reserved_seconds))
        block = _Block("reservation", list(_segments(tariff, start, [("reserved", reserved)])))
        lines += _bill(tariff, block, _reservation_elements(tariff, session.reservation_expired))
    if session.phases:
        block = _Block("session", list(_segments(tariff, session.start, [(p.kind, p) for p in session.phases])))
        lines += _bill(tariff, block, [(i, e) for i, e in enumerate(tariff.elements) if e.reservation is None])
    excl = sum((line.excl_vat for line in lines), Fraction(0))
    parts = [line.incl_vat for line in lines]
    incl = None if any(p is None for p in parts) else sum((p for p in parts if p is not None), Fraction(0))
    return _limited(tariff, Bill(tuple(lines), excl, incl)) if session.phases else Bill(tuple(lines), excl, incl)


# -- segments ---------------------------------------------------------------------------------------
def _delta(seconds: Fraction) -> timedelta:
    return timedelta(microseconds=math.floor(seconds * 1_000_000))


def _segments(tariff: Tariff, start: datetime, phases: list[tuple[Kind, Phase]]) -> Iterator[_Segment]:
    """The block cut at every moment a restriction could change its answer."""
    total = sum((p.seconds for _, p in phases), Fraction(0))
    restrictions = [e.restrictions for e in tariff.elements if e.restrictions is not None]
    cuts = set(_clock_cuts(restrictions, start, total))
    cuts |= {Fraction(d) for r in restrictions for d in (r.min_duration, r.max_duration)
             if d is not None and 0 < d < total}
    offset, kwh = Fraction(0), Fraction(0)
    thresholds = sorted({Fraction(k) for r in restrictions for k in (r.min_kwh, r.max_kwh) if k is not None})
    for _, phase in phases:
        cuts.add(offset)
        if phase.kwh > 0:
            cuts |= {offset + (k - kwh) / phase.kwh * phase.seconds for k in thresholds
                     if kwh < k < kwh + phase.kwh}
        offset, kwh = offset + phase.seconds, kwh + phase.kwh
    bounds = [*sorted(c for c in cuts if 0 <= c < total), total]
    phase_index, phase_start, kwh_start = 0, Fraction(0), Fraction(0)
    for begin, end in itertools.pairwise(bounds):
        while begin >= phase_start + phases[phase_index][1].seconds:
            phase_start += phases[phase_index][1].seconds
            kwh_start += phases[phase_index][1].kwh
            phase_index += 1
        kind, phase = phases[phase_index]
        share = (end - begin) / phase.seconds
        done = (begin - phase_start) / phase.seconds
        yield _Segment(kind, begin, end - begin, kwh_start + phase.kwh * done, phase.kwh * share,
                       phase.power_kw, phase.current_a, start + _delta(begin))


def _clock_cuts(restrictions: Iterable[Restrictions], start: datetime, total: Fraction) -> Iterator[Fraction]:
    """Offsets of every midnight and every start_time/end_time within the block (local clock)."""
    minutes = {0} | {m for r in restrictions for m in r.minutes if m is not None}
    day = datetime(start.year, start.month, start.day)
    end = start + _delta(total)
    while day <= end:
        for minute in minutes:
            moment = day + timedelta(minutes=minute)
            offset = Fraction((moment - start) // timedelta(microseconds=1), 1_000_000)
            if 0 < offset < total:
                yield offset
        day += timedelta(days=1)


# -- which element prices a segment ----------------------------------------------------------------
def _reservation_elements(tariff: Tariff, expired: bool) -> list[tuple[int, TariffElement]]:
    """RESERVATION elements price a reservation; an expired one looks at RESERVATION_EXPIRES first
    (the spec's note: its TIME wins over RESERVATION's)."""
    indexed = list(enumerate(tariff.elements))
    kinds = [Reservation.RESERVATION_EXPIRES, Reservation.RESERVATION] if expired else [Reservation.RESERVATION]
    return [(i, e) for kind in kinds for i, e in indexed if e.reservation == kind]


def _outside(value: Fraction, low: Decimal | int | None, high: Decimal | int | None) -> bool:
    """Not in [low, high): OCPI's minimums are inclusive, its maximums exclusive."""
    return (low is not None and value < Fraction(low)) or (high is not None and value >= Fraction(high))


def _holds(r: Restrictions | None, s: _Segment) -> bool:
    if r is None:
        return True
    start, end = r.minutes
    if start is not None or end is not None:
        low, high, now = start or 0, 1440 if end is None else end, s.at.hour * 60 + s.at.minute
        if (low < high and not low <= now < high) or (low > high and high <= now < low):
            return False  # end < start wraps past midnight
    day = s.at.date().isoformat()
    return not (
        (r.start_date is not None and day < r.start_date) or (r.end_date is not None and day >= r.end_date)
        or (r.day_of_week and DAYS[s.at.weekday()] not in r.day_of_week)
        or _outside(s.kwh_before, r.min_kwh, r.max_kwh) or _outside(s.current_a, r.min_current, r.max_current)
        or _outside(s.power_kw, r.min_power, r.max_power) or _outside(s.offset, r.min_duration, r.max_duration))


def _choose(elements: list[tuple[int, TariffElement]], dimension: Dimension,
            segment: _Segment) -> tuple[int, PriceComponent] | None:
    for index, element in elements:
        component = element.component(dimension)
        if component is not None and _holds(element.restrictions, segment):
            return index, component
    return None


# -- billing a block ---------------------------------------------------------------------------------
def _quantity(dimension: Dimension, segment: _Segment) -> Fraction:
    return segment.kwh if dimension == Dimension.ENERGY else segment.seconds / 3600


def _bill(tariff: Tariff, block: _Block, elements: list[tuple[int, TariffElement]]) -> list[Line]:
    flat: Line | None = None
    lines: dict[Dimension, list[Line]] = {d: [] for d in (Dimension.ENERGY, Dimension.TIME, Dimension.PARKING_TIME)}
    for segment in block.segments:
        for dimension in _DIMENSIONS[segment.kind]:
            chosen = _choose(elements, dimension, segment)
            if chosen is None:
                continue
            index, component = chosen
            if dimension == Dimension.FLAT:
                flat = flat or Line(block.name, dimension, index, component, Fraction(1))
                continue
            same = lines[dimension]
            if same and same[-1].element == index and same[-1].component is component:
                same[-1].quantity += _quantity(dimension, segment)
            else:
                same.append(Line(block.name, dimension, index, component, _quantity(dimension, segment)))
    _step(lines[Dimension.ENERGY], sum((s.kwh for s in block.segments), Fraction(0)) * 1000, Fraction(1, 1000))
    parked = [s.seconds for s in block.segments if s.kind == "parked"]
    if lines[Dimension.PARKING_TIME]:  # charging time followed by billed parking is not rounded
        _step(lines[Dimension.PARKING_TIME], sum(parked, Fraction(0)), Fraction(1, 3600))
    else:
        time = sum((s.seconds for s in block.segments if s.kind != "parked"), Fraction(0))
        _step(lines[Dimension.TIME], time, Fraction(1, 3600))
    ordered = ([flat] if flat else []) + [line for d in lines.values() for line in d]
    return [line for line in ordered if line.quantity > 0]


def _step(lines: list[Line], total_units: Fraction, unit: Fraction) -> None:
    """Round the dimension's total up to the step of its last component used; the difference is
    billed by that last line. ``unit``: one step unit (Wh or s) in the line's quantity (kWh or h)."""
    if not lines or lines[-1].component.step_size <= 0:
        return
    step = lines[-1].component.step_size
    rounded = math.ceil(total_units / step) * step
    lines[-1].quantity += (rounded - total_units) * unit


def _limited(tariff: Tariff, bill: Bill) -> Bill:
    """min_price and max_price bound excl. VAT and incl. VAT each on its own (2.2.1 notes)."""
    excl, incl, by = bill.excl_vat, bill.incl_vat, bill.limited_by
    bounds: tuple[tuple[Price | None, Literal["min_price", "max_price"]], ...] = (
        (tariff.min_price, "min_price"), (tariff.max_price, "max_price"))
    for bound, name in bounds:
        if bound is None:
            continue
        beyond = max if name == "min_price" else min
        limited = beyond(excl, Fraction(bound.excl_vat))
        if bound.incl_vat is not None and incl is not None:
            limited_incl = beyond(incl, Fraction(bound.incl_vat))
            by = name if limited_incl != incl else by
            incl = limited_incl
        by = name if limited != excl else by
        excl = limited
    return Bill(bill.lines, excl, incl, by)
