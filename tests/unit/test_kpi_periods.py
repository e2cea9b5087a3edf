"""KPI periods are the council's local calendar: days of 23/25 h at clock changes, local month starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analytics.kpis import Period, Publisher, kpi, period

LONDON = ZoneInfo("Europe/London")


def test_days_months_and_years_in_local_time() -> None:
    late_evening = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London (BST)
    day = period("daily", late_evening, LONDON)
    assert day.instants() == {"from": "2026-07-02T00:00:00+01:00", "to": "2026-07-03T00:00:00+01:00"}
    assert day.label == "2 July 2026" and day.previous().label == "1 July 2026"
    autumn = period("daily", datetime(2026, 10, 25, 12, tzinfo=UTC), LONDON)  # clocks go back
    spring = period("daily", datetime(2026, 3, 29, 12, tzinfo=UTC), LONDON)  # clocks go forward
    assert (autumn.hours(), spring.hours()) == (25, 23)
    month = period("monthly", datetime(2026, 11, 30, 23, 59, tzinfo=UTC), LONDON)
    assert month.label == "November 2026" and month.dates() == {"from": "2026-11-01", "to": "2026-11-30"}
    year = period("yearly", datetime(2026, 12, 31, 23, 30, tzinfo=UTC), ZoneInfo("Europe/Berlin"))
    assert year.label == "2027" and year.instants()["from"] == "2027-01-01T00:00:00+01:00"


def test_provisional_figures_are_throttled_finals_and_corrections_are_not() -> None:
    day = period("daily", datetime(2026, 3, 2, 8, tzinfo=UTC), LONDON)
    publisher = Publisher(timedelta(minutes=15))

    def figure(value: float, now: datetime, when: Period = day) -> dict[str, Any]:
        return kpi("sessions", "urn:ngsi-ld:EVChargingStation:cpoT:L1", "station", when, value, now=now,
                   subject_name="L1", description="", formula="", aggregated=[{"entityType": "ChargeDetailRecord"}])

    t0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert len(publisher.offer([figure(1, t0)], t0)) == 1  # the first figure of a period: at once
    assert publisher.offer([figure(2, t0 + timedelta(minutes=5))], t0 + timedelta(minutes=5)) == []  # held
    assert [e["kpiValue"]["value"] for e in publisher.release(t0 + timedelta(minutes=15))] == [2]
    assert publisher.offer([figure(2, t0 + timedelta(minutes=20))], t0 + timedelta(minutes=20)) == []  # unchanged
    after = day.end + timedelta(minutes=1)
    written = publisher.offer([figure(3, after), figure(0, after, day.previous().previous())], after)
    assert [e["kpiValue"]["provisional"]["value"] for e in written[:1]] == [False]  # final at once
    nxt = period("daily", after, LONDON)
    written = publisher.offer([figure(5, after, nxt)], after)
    assert len(written) == 1 and publisher.expired(after) == []  # the new day's first figure: at once
    late = publisher.offer([figure(4, after, day)], after)  # a correction of the ended day, then today again
    assert [e["kpiValue"]["value"] for e in late] == [4, 5]
