"""Alert arithmetic: severities, ids and local times; the SLA verdict from partial months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from analytics.alerts import alert_id, at_least, local, raised, severity_for
from analytics.health import sla_verdict
from analytics.reliability import summarise

MONTH = datetime(2026, 12, 1, tzinfo=UTC)
MONTH_END = datetime(2027, 1, 1, tzinfo=UTC)


def test_severity_levels() -> None:
    assert severity_for(5, (0, 30, 120)) == "low" and severity_for(130, (0, 30, 120)) == "high"
    assert raised("high", 5) == "critical" and at_least("low", "high") == "high"
    assert at_least("critical", "high") == "critical"


def test_ids_paste_and_times_are_local() -> None:
    since = datetime(2026, 12, 1, 12, 29, 12, 345000, tzinfo=UTC)
    assert alert_id("chargerDown", "urn:ngsi-ld:EVSE:cpoB:CPB0001-1", since) == \
        "urn:ngsi-ld:Alert:chargerDown:EVSE:cpoB:CPB0001-1:20261201T122912Z"
    london = ZoneInfo("Europe/London")
    assert local(since, london) == "12:29 GMT"
    assert local(datetime(2026, 7, 1, 12, 29, tzinfo=UTC), london, date=True) == "1 Jul 2026 13:29 BST"


def test_a_day_of_data_on_day_two_is_no_verdict() -> None:
    now = MONTH + timedelta(days=1, hours=6)
    timeline = [(MONTH, "AVAILABLE"), (MONTH + timedelta(hours=20), "OUTOFORDER"), (MONTH + timedelta(hours=21),
                                                                                    "AVAILABLE")]
    summary = summarise(timeline, MONTH, now)
    assert summary.reliability is not None and summary.reliability < 99  # below target so far ...
    assert sla_verdict(summary, 1, MONTH, MONTH_END, now, 99.0) is None  # ... but that is no verdict yet


def test_projected_after_a_week_certain_when_the_month_cannot_recover() -> None:
    timeline = [(MONTH, "AVAILABLE"), (MONTH + timedelta(days=3), "OUTOFORDER"),
                (MONTH + timedelta(days=3, hours=4), "AVAILABLE")]  # 4 h of 744: recoverable
    week = MONTH + timedelta(days=8)
    verdict = sla_verdict(summarise(timeline, MONTH, week), 1, MONTH, MONTH_END, week, 99.0)
    assert verdict is not None and verdict[0] == "projected"
    assert verdict[1]["projected"] is True and 0.25 < verdict[1]["coverage"] < 0.27
    down = [(MONTH, "AVAILABLE"), (MONTH + timedelta(days=1), "OUTOFORDER")]
    late = MONTH + timedelta(days=30)
    certain = sla_verdict(summarise(down, MONTH, late), 1, MONTH, MONTH_END, late, 99.0)
    assert certain is not None and certain[0] == "certain" and certain[1]["bestPossible"] < 99
    assert sla_verdict(summarise([(MONTH, "AVAILABLE")], MONTH, late), 1, MONTH, MONTH_END, late, 99.0) is None
