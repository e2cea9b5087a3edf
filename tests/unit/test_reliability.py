"""Reliability arithmetic against hand-computed cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics.reliability import combined, summarise

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def h(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def test_a_day_with_one_four_hour_fault() -> None:
    # 00-08 AVAILABLE, 08-10 CHARGING, 10-14 OUTOFORDER, 14-24 AVAILABLE
    timeline = [(h(0), "AVAILABLE"), (h(8), "CHARGING"), (h(10), "OUTOFORDER"), (h(14), "AVAILABLE")]
    summary = summarise(timeline, h(0), h(24))
    assert summary.reliable_hours == 20 and summary.unreliable_hours == 4
    assert summary.reliability == pytest.approx(100 * 20 / 24, abs=0.001)  # 83.333 %
    assert len(summary.incidents) == 1 and summary.incidents[0].hours(h(24)) == 4
    assert summary.mttr_hours == 4 and summary.mtbf_hours == 20


def test_unknown_and_blocked_are_not_counted() -> None:
    # 00-06 AVAILABLE, 06-12 UNKNOWN, 12-18 BLOCKED, 18-21 INOPERATIVE, 21-24 AVAILABLE
    timeline = [(h(0), "AVAILABLE"), (h(6), "UNKNOWN"), (h(12), "BLOCKED"), (h(18), "INOPERATIVE"),
                (h(21), "AVAILABLE")]
    summary = summarise(timeline, h(0), h(24))
    assert (summary.reliable_hours, summary.unreliable_hours) == (9, 3)
    assert summary.reliability == 75.0


def test_outoforder_then_inoperative_is_one_incident_and_unknown_does_not_end_it() -> None:
    timeline = [(h(0), "AVAILABLE"), (h(2), "OUTOFORDER"), (h(3), "INOPERATIVE"), (h(4), "UNKNOWN"),
                (h(5), "INOPERATIVE"), (h(6), "AVAILABLE")]
    summary = summarise(timeline, h(0), h(24))
    assert [(i.start, i.end) for i in summary.incidents] == [(h(2), h(6))]
    assert summary.unreliable_hours == 3 and summary.mttr_hours == 4  # 4 h to repair, 1 h of it unknown


def test_window_takes_the_status_in_force_before_it_and_ongoing_incidents() -> None:
    timeline = [(h(-5), "OUTOFORDER"), (h(3), "AVAILABLE"), (h(20), "INOPERATIVE")]
    summary = summarise(timeline, h(0), h(24))
    assert (summary.reliable_hours, summary.unreliable_hours) == (17, 7)
    assert [i.end for i in summary.incidents] == [h(3), None]  # the second still goes on
    assert summary.mttr_hours == 3  # only ended incidents count, and only within the window


def test_rapid_network_average_weights_by_time() -> None:
    perfect = summarise([(h(0), "AVAILABLE")], h(0), h(24))
    half = summarise([(h(0), "AVAILABLE"), (h(12), "OUTOFORDER")], h(0), h(24))
    network = combined([perfect, half])
    assert network.reliability == pytest.approx(100 * 36 / 48)
    assert summarise([], h(0), h(24)).reliability is None  # nothing known: no figure, not 0 or 100
