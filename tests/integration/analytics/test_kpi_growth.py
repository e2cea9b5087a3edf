"""How much KPI history a small town costs per simulated day (issue 9 §1: bounded writes).

The health worker runs against the real broker over HTTP, driven by hand: a fixed, seeded town's
status changes are handed to it in event-time order and it ticks every 2 data-minutes (the demo's
2 s tick at 60x), on a clock the test sets. Figures (printed with ``-s``): history rows the broker
stored for KPI entities, and attribute instances upserted (what Orion-LD/TRoE would store: it keeps
a row for every attribute of every upsert, changed or not), per day, throttled (the default pace:
a daily KPI hourly, monthly 6-hourly, yearly daily) against every change written (0).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.base import Context
from analytics.clock import DataClock, Timers, iso
from analytics.health import HealthWorker
from citiesincharge.client import BatchResult, NgsiLdClient
from citiesincharge.settings import Settings

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday in GMT: local days are UTC days
DAYS = 3
TOWN = {"urn:ngsi-ld:EVChargingStation:cpoA:A1": ("cpoA", [("A1-1", 150), ("A1-2", 22)]),
        "urn:ngsi-ld:EVChargingStation:cpoB:B1": ("cpoB", [("B1-1", 50), ("B1-2", 7)])}


class SetClock(DataClock):
    """The data clock, set by the test: no wall time in it."""

    def __init__(self, moment: datetime) -> None:
        super().__init__(1.0)
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def calendar_now(self) -> datetime:
        return self.moment


class CountingClient(NgsiLdClient):
    """A real client that also counts the attribute instances it upserts."""

    upserted = 0

    def batch_upsert(self, entities: list[dict[str, Any]], **kwargs: Any) -> BatchResult:
        self.upserted += sum(1 for e in entities if e.get("type") == "KeyPerformanceIndicator"
                             for k in e if k not in ("id", "type"))
        return super().batch_upsert(entities, **kwargs)


def events(seed: int) -> list[tuple[datetime, dict[str, Any]]]:
    """Each charger changes status every 10-90 min: mostly in use or free, now and then out of order."""
    rng = random.Random(seed)
    out = []
    for station, (operator, chargers) in TOWN.items():
        for uid, power in chargers:
            moment = START
            while moment < START + timedelta(days=DAYS):
                status = rng.choices(["AVAILABLE", "CHARGING", "OUTOFORDER", "UNKNOWN"], [45, 45, 6, 4])[0]
                out.append((moment, {
                    "id": f"urn:ngsi-ld:EVSE:{operator}:{uid}", "type": "EVSE",
                    "status": {"type": "Property", "value": status, "observedAt": iso(moment)},
                    "dataProvider": {"type": "Property", "value": operator},
                    "refEVChargingStation": {"type": "Relationship", "object": station},
                    "maxPower": {"type": "Property", "value": power}}))
                moment += timedelta(minutes=rng.randint(10, 90))
    return sorted(out, key=lambda e: (e[0], e[1]["id"]))


def kpi_rows(client: NgsiLdClient) -> tuple[int, int]:
    """(KPI entities, history rows of all their attributes) as the temporal API returns them."""
    entities = list(client.query_entities(type="KeyPerformanceIndicator", attrs=["process"]))
    rows = 0
    for entity in entities:
        found = client.temporal_entity(entity["id"])
        rows += sum(len(v) if isinstance(v, list) else 1 for k, v in found.items()
                    if k not in ("id", "type", "@context"))
    return len(entities), rows


def play(broker_url: str, tenant: str, minutes: float) -> list[tuple[int, int, int]]:
    settings = Settings(broker_url=broker_url, tenant=tenant, kpi_provisional_minutes=minutes)
    client = CountingClient(settings)
    client.batch_upsert([{"id": s, "type": "EVChargingStation",
                          "name": {"type": "Property", "value": f"Site {s[-2:]}"}} for s in TOWN])
    clock = SetClock(START)
    due: list[Any] = []
    timers = Timers(clock, dispatch=due.append)
    worker = HealthWorker(Context(settings, client, clock, timers))
    queue = events(7)
    per_day = []
    try:
        for day in range(DAYS):
            for tick in range(24 * 30):  # a tick every 2 data-minutes
                clock.moment = START + timedelta(days=day, minutes=2 * (tick + 1))
                while queue and queue[0][0] <= clock.moment:
                    worker.handle(queue.pop(0)[1])
                worker.tick()
            entities, rows = kpi_rows(client)
            per_day.append((entities, rows, client.upserted))
    finally:
        timers.stop()
    return per_day


def test_kpi_history_per_simulated_day_stays_small(broker_url: str, tenant: str) -> None:
    throttled = play(broker_url, tenant, Settings().kpi_provisional_minutes)
    every_change = play(broker_url, tenant + "x", 0)
    for name, figures in (("default pace", throttled), ("every change", every_change)):
        previous = (0, 0, 0)
        for day, (entities, rows, upserted) in enumerate(figures, start=1):
            print(f"{name}: day {day}: {entities} KPI entities, +{rows - previous[1]} history rows, "
                  f"+{upserted - previous[2]} attribute instances upserted")
            previous = (entities, rows, upserted)
    # entities flat once every subject exists: 4 EVSEs x 3, 2 stations x 2, 2 operators + council x 15
    assert [f[0] for f in throttled] == [3 * 4 + 2 * 2 + 3 * 15] * DAYS
    day_rows = [b[1] - a[1] for a, b in zip([(0, 0, 0), *throttled], throttled, strict=False)]
    # each KPI at most: one provisional kpiValue per hour (daily KPIs), per 6 h (monthly) or per day (yearly),
    # plus a final and a new period's first (which also renames it and moves its calculationPeriod: 2 rows);
    # 21 daily KPIs (EVSEs, stations, 5 per operator and council), 25 monthly (incident logs too), 15 yearly
    steady = 21 * (24 + 2 + 2) + 25 * (4 + 2 + 2) + 15 * (1 + 2 + 2)
    created = 61 * 16  # day 1 also creates every KPI with all its attributes (14-16 each)
    print(f"KPI history rows per day: {day_rows} (bound: {steady} a day, +{created} on day 1)")
    assert day_rows[0] <= steady + created and max(day_rows[1:]) <= steady
    assert throttled[-1][1] < every_change[-1][1] / 3 and throttled[-1][2] < every_change[-1][2] / 3
