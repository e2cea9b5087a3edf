"""The simulated town's charging network: locations, EVSEs, sessions, CDRs, faults, over time.

Event-driven and seeded: each EVSE has its own stream of arrivals (a non-homogeneous Poisson
process following a daily demand curve, thinned from the peak rate), departures and faults, kept
in one heap per operator. Advancing to a time processes exactly the events before it, so the same
seed, the same start instant and the same sequence of clock readings give the same history. The
world's clock is the only time in the simulator: it starts at the instant the world is given (the
demand curve depends on the hour and the weekday, so a world started "now" behaves differently at
03:00 and at 08:00) and ``speed`` maps real seconds to simulated seconds (0 freezes time; tests
then drive changes through the admin calls).
"""

from __future__ import annotations

import heapq
import math
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

Version = Literal["2.1.1", "2.2.1"]
CENTRE = (52.4081, -1.5106)  # Coventry city centre (lat, lon)
STREETS = ("High St", "Station Rd", "Far Gosford St", "Queens Rd", "Holyhead Rd", "London Rd", "Foleshill Rd",
           "Earlsdon St", "Spon End", "Binley Rd", "Walsgrave Rd", "Radford Rd", "Kenilworth Rd", "Allesley Old Rd")
# share of the daily arrivals in each hour (weekday), from typical public-charging load profiles
DEMAND = (0.010, 0.006, 0.004, 0.004, 0.006, 0.015, 0.035, 0.060, 0.075, 0.070, 0.060, 0.058,
          0.060, 0.058, 0.055, 0.057, 0.062, 0.068, 0.065, 0.055, 0.045, 0.032, 0.022, 0.015)
PEAK = max(DEMAND)


@dataclass
class Connector:
    id: str
    standard: str
    format: str
    power_type: str
    voltage: int
    amperage: int
    max_power_w: int
    tariff_id: str


@dataclass
class Evse:
    uid: str
    evse_id: str
    connectors: list[Connector]
    status: str = "AVAILABLE"
    last_updated: datetime = field(kw_only=True)  # simulated time, never the wall clock's
    session_id: str | None = None
    capabilities: tuple[str, ...] = ("RFID_READER", "REMOTE_START_STOP_CAPABLE")
    parking_restrictions: tuple[str, ...] = ("EV_ONLY",)
    floor_level: str | None = None
    physical_reference: str | None = None

    @property
    def dc(self) -> bool:
        return self.connectors[0].power_type == "DC"


@dataclass
class Location:
    id: str
    name: str | None
    address: str
    postal_code: str | None
    lat: float
    lon: float
    evses: list[Evse]
    last_updated: datetime
    extra: dict[str, object] = field(default_factory=dict)  # odd-but-legal extra fields some CPOs send
    malformed: bool = False  # serve broken coordinates (tests of quarantine)


@dataclass
class Session:
    id: str
    location_id: str
    evse_uid: str
    connector_id: str
    start: datetime
    planned_end: datetime
    charge_kw: float
    charge_hours: float  # time actually drawing power; the rest of the stay is parking
    token_uid: str
    tariff_id: str
    end: datetime | None = None
    status: str = "ACTIVE"
    last_updated: datetime = field(kw_only=True)

    def kwh_at(self, moment: datetime) -> float:
        hours = max(0.0, (min(moment, self.end or moment) - self.start).total_seconds() / 3600)
        return round(self.charge_kw * min(hours, self.charge_hours), 3)


@dataclass
class Tariff:
    id: str
    currency: str
    energy_price: float  # per kWh, excl. VAT
    parking_price: float  # per hour idle, excl. VAT
    vat: float = 20.0
    last_updated: datetime = field(kw_only=True)


@dataclass
class Cdr:
    id: str
    session: Session
    total_energy: float
    total_time_h: float
    parking_time_h: float
    cost_excl: float
    cost_incl: float
    last_updated: datetime


@dataclass
class OperatorSpec:
    """How one simulated CPO looks: its OCPI version, size, paging and how flaky it is."""

    name: str
    party_id: str
    version: Version
    locations: int
    page_size: int
    token: str
    error_rate: float = 0.0  # share of module requests answered 503
    slow_rate: float = 0.0  # share of module requests that take `slow_seconds`
    slow_seconds: float = 15.0
    malformed_rate: float = 0.0  # share of module requests with a truncated JSON body
    link_header: bool = True  # some older CPOs page with X-Total-Count and offset only
    evses_per_location: tuple[int, int] = (2, 4)
    dc_share: float = 0.3
    fault_rate_per_day: float = 0.03


class Operator:
    """One CPO's network and its event heap; all access under the world's lock."""

    def __init__(self, spec: OperatorSpec, seed: int, start: datetime) -> None:
        self.spec = spec
        self.rng = random.Random(f"{seed}:{spec.name}")
        self.flaky_rng = random.Random(f"{seed}:{spec.name}:flaky")
        self.locations: list[Location] = []
        self.location_by_id: dict[str, Location] = {}
        self.sessions: dict[str, Session] = {}
        self.cdrs: list[Cdr] = []
        self.tariffs = {"AC": Tariff(f"{spec.party_id}-AC", "GBP", round(self.rng.uniform(0.38, 0.55), 2), 0.10,
                                     last_updated=start),
                        "DC": Tariff(f"{spec.party_id}-DC", "GBP", round(self.rng.uniform(0.59, 0.79), 2), 0.0,
                                     last_updated=start)}
        self._events: list[tuple[datetime, int, str, int, int]] = []
        self._seq = 0
        self._build(start)

    # -- construction ------------------------------------------------------------------------
    def _build(self, start: datetime) -> None:
        rng, spec = self.rng, self.spec
        for n in range(spec.locations):
            distance_km = 5 * math.sqrt(rng.random())
            bearing = rng.uniform(0, 2 * math.pi)
            lat = CENTRE[0] + distance_km / 111.0 * math.cos(bearing)
            lon = CENTRE[1] + distance_km / (111.0 * math.cos(math.radians(CENTRE[0]))) * math.sin(bearing)
            location_id = f"{spec.party_id}{n + 1:04d}"
            dc = rng.random() < spec.dc_share
            evses = [self._evse(location_id, k, dc, start) for k in range(rng.randint(*spec.evses_per_location))]
            street = STREETS[n % len(STREETS)]
            letters = "ABDEFGHJLNPQRSTUWXYZ"
            postcode = f"CV{rng.randint(1, 8)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
            location = Location(
                id=location_id, name=None if n % 17 == 5 else f"{street} {'rapid hub' if dc else 'charging'}",
                address=f"{rng.randint(1, 250)} {street}", postal_code=None if n % 23 == 7 else postcode,
                lat=round(lat, 6), lon=round(lon, 6), evses=evses, last_updated=start,
                extra={"x_internal_ref": f"site-{n}"} if n % 11 == 3 else {})
            self.locations.append(location)
            self.location_by_id[location_id] = location
            for index, _evse in enumerate(evses):
                self._schedule(start + timedelta(hours=rng.expovariate(self._peak_rate(evses[index]))),
                               "arrival", n, index)
                self._schedule(start + timedelta(days=rng.expovariate(spec.fault_rate_per_day)), "fault", n, index)

    def _evse(self, location_id: str, k: int, dc: bool, start: datetime) -> Evse:
        if dc:
            power = self.rng.choice((50_000, 100_000, 150_000))
            connectors = [Connector("1", "IEC_62196_T2_COMBO", "CABLE", "DC", 920, power // 920 + 1, power,
                                    self.tariffs["DC"].id)]
            if power == 50_000:
                connectors.append(Connector("2", "CHADEMO", "CABLE", "DC", 500, 125, 50_000, self.tariffs["DC"].id))
        else:
            amps = self.rng.choice((16, 32))
            connectors = [Connector("1", "IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, amps, 230 * amps * 3,
                                    self.tariffs["AC"].id)]
        uid = f"{location_id}-{k + 1}"
        return Evse(uid=uid, evse_id=f"GB*{self.spec.party_id}*E{uid.replace('-', '')}", connectors=connectors,
                    last_updated=start, physical_reference=f"{k + 1:02d}", floor_level=None)

    # -- dynamics ----------------------------------------------------------------------------
    def _peak_rate(self, evse: Evse) -> float:
        """Arrivals per hour at the daily peak (DC bays turn over faster)."""
        daily = 6.0 if evse.dc else 2.6
        return daily * PEAK

    def _rate_share(self, moment: datetime) -> float:
        weekend = 0.8 if moment.weekday() >= 5 else 1.0
        return DEMAND[moment.hour] * weekend / PEAK

    def _schedule(self, moment: datetime, kind: str, location: int, evse: int) -> None:
        self._seq += 1
        heapq.heappush(self._events, (moment, self._seq, kind, location, evse))

    def advance(self, until: datetime) -> None:
        while self._events and self._events[0][0] <= until:
            moment, _seq, kind, li, ei = heapq.heappop(self._events)
            location = self.locations[li]
            evse = location.evses[ei]
            getattr(self, f"_on_{kind}")(moment, location, evse, li, ei)

    def _set_status(self, moment: datetime, location: Location, evse: Evse, status: str) -> None:
        evse.status = status
        evse.last_updated = moment
        location.last_updated = moment

    def _on_arrival(self, moment: datetime, location: Location, evse: Evse, li: int, ei: int) -> None:
        self._schedule(moment + timedelta(hours=self.rng.expovariate(self._peak_rate(evse))), "arrival", li, ei)
        if evse.status != "AVAILABLE" or self.rng.random() > self._rate_share(moment):
            return
        if evse.dc:
            stay_h = min(max(self.rng.lognormvariate(math.log(0.6), 0.35), 0.15), 1.5)
            charge_kw = min(evse.connectors[0].max_power_w / 1000, self.rng.choice((50, 75, 110, 150))) * 0.85
            charge_h = stay_h * 0.95
        else:
            stay_h = min(max(self.rng.lognormvariate(math.log(2.5), 0.6), 0.3), 12.0)
            charge_kw = min(evse.connectors[0].max_power_w / 1000, self.rng.choice((7.4, 11.0)))
            charge_h = stay_h * self.rng.uniform(0.5, 1.0)
        session_id = f"{location.id}-S{self._seq}"
        session = Session(id=session_id, location_id=location.id, evse_uid=evse.uid,
                          connector_id=evse.connectors[0].id, start=moment,
                          planned_end=moment + timedelta(hours=stay_h), charge_kw=round(charge_kw, 2),
                          charge_hours=charge_h, token_uid=f"TOK{self.rng.randint(10_000, 99_999)}",
                          tariff_id=evse.connectors[0].tariff_id, last_updated=moment)
        self.sessions[session_id] = session
        evse.session_id = session_id
        self._set_status(moment, location, evse, "CHARGING")
        self._schedule(session.planned_end, "departure", li, ei)

    def _on_departure(self, moment: datetime, location: Location, evse: Evse, _li: int, _ei: int) -> None:
        if evse.session_id is None:
            return
        session = self.sessions[evse.session_id]
        if session.planned_end != moment:
            return  # the session already ended (a fault cut it short)
        self._end_session(moment, session)
        self._set_status(moment, location, evse, "AVAILABLE")

    def _on_fault(self, moment: datetime, location: Location, evse: Evse, li: int, ei: int) -> None:
        if evse.status in ("OUTOFORDER", "INOPERATIVE"):
            return
        if evse.session_id is not None:
            self._end_session(moment, self.sessions[evse.session_id])
        self._set_status(moment, location, evse, self.rng.choice(("OUTOFORDER", "INOPERATIVE")))
        repair_h = min(max(self.rng.lognormvariate(math.log(3.0), 1.6), 5 / 60), 24 * 5)
        self._schedule(moment + timedelta(hours=repair_h), "repair", li, ei)

    def _on_repair(self, moment: datetime, location: Location, evse: Evse, li: int, ei: int) -> None:
        if evse.status in ("OUTOFORDER", "INOPERATIVE"):
            self._set_status(moment, location, evse, "AVAILABLE")
        self._schedule(moment + timedelta(days=self.rng.expovariate(self.spec.fault_rate_per_day)), "fault", li, ei)

    def _end_session(self, moment: datetime, session: Session) -> None:
        session.end = moment
        session.status = "COMPLETED"
        session.last_updated = moment
        location = self.location_by_id[session.location_id]
        for evse in location.evses:
            if evse.session_id == session.id:
                evse.session_id = None
        tariff = next(t for t in self.tariffs.values() if t.id == session.tariff_id)
        energy = session.kwh_at(moment)
        total_h = (moment - session.start).total_seconds() / 3600
        parking_h = max(0.0, total_h - session.charge_hours)
        cost = round(energy * tariff.energy_price + parking_h * tariff.parking_price, 2)
        self.cdrs.append(Cdr(id=f"CDR-{session.id}", session=session, total_energy=energy,
                             total_time_h=round(total_h, 4), parking_time_h=round(parking_h, 4), cost_excl=cost,
                             cost_incl=round(cost * (1 + tariff.vat / 100), 2), last_updated=moment))

    # -- admin (tests, demos) ----------------------------------------------------------------
    def force_status(self, moment: datetime, evse_uid: str, status: str) -> Evse:
        for location in self.locations:
            for evse in location.evses:
                if evse.uid == evse_uid:
                    self._set_status(moment, location, evse, status)
                    return evse
        raise KeyError(evse_uid)

    def remove_evse(self, moment: datetime, evse_uid: str) -> None:
        """The EVSE disappears from the CPO's data altogether (as some CPOs do instead of REMOVED)."""
        for location in self.locations:
            kept = [e for e in location.evses if e.uid != evse_uid]
            if len(kept) != len(location.evses):
                location.evses = kept
                location.last_updated = moment
                return
        raise KeyError(evse_uid)


class World:
    """All simulated operators and the simulated clock."""

    def __init__(self, specs: list[OperatorSpec], *, start: datetime, seed: int = 42, speed: float = 60.0,
                 history: timedelta = timedelta(0)) -> None:
        """``start``: the simulated instant the world's clock reads when it is built (callers that
        want "now" pass the wall clock's; nothing here reads it). ``history``: that much simulated
        past before ``start``, already played, so that sessions, CDRs and faults exist from the first
        request on."""
        if start.tzinfo is None:
            raise ValueError(f"start {start.isoformat()} has no UTC offset: an instant is needed")
        self.start = start.astimezone(UTC).replace(microsecond=0)
        self.speed = speed
        self._mono0 = time.monotonic()
        self._offset = timedelta(0)
        self.lock = threading.RLock()
        self.operators = {spec.name: Operator(spec, seed, self.start - history) for spec in specs}
        self.advance()

    def now(self) -> datetime:
        """The simulated time: ``start``, plus the jumps, plus the real time elapsed times ``speed``."""
        elapsed = (time.monotonic() - self._mono0) * self.speed
        return self.start + self._offset + timedelta(seconds=elapsed)

    def advance(self) -> datetime:
        """Bring every operator up to the simulated now; returns it."""
        with self.lock:
            moment = self.now()
            for operator in self.operators.values():
                operator.advance(moment)
            return moment

    def jump(self, minutes: float) -> datetime:
        with self.lock:
            self._offset += timedelta(minutes=minutes)
            return self.advance()


def default_town(tokens: dict[str, str]) -> list[OperatorSpec]:
    """The demo town: two operators on OCPI 2.2.1, one on 2.1.1, one of them flaky."""
    return [
        OperatorSpec("cpoA", "CPA", "2.2.1", locations=60, page_size=50, token=tokens["cpoA"]),
        OperatorSpec("cpoB", "CPB", "2.1.1", locations=40, page_size=20, token=tokens["cpoB"], link_header=False),
        OperatorSpec("cpoC", "CPC", "2.2.1", locations=80, page_size=100, token=tokens["cpoC"],
                     error_rate=0.05, slow_rate=0.01, malformed_rate=0.01),
    ]


def bench_town(tokens: dict[str, str]) -> list[OperatorSpec]:
    """One large operator for benchmarks: ~3,000 locations, ~10,000 EVSEs, big pages."""
    return [OperatorSpec("cpoA", "CPA", "2.2.1", locations=3000, page_size=500, token=tokens["cpoA"],
                         evses_per_location=(2, 5))]


TOWNS = {"default": default_town, "bench": bench_town}
