"""Aggregation periods are found by arithmetic, and agree with walking the calendar period by period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import isodate
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.temporal import _bucket_of

PERIODS = ["PT1H", "PT15M", "P1D", "P7D", "P1M", "P3M", "P1Y", "P1Y2M", "P1MT12H", "P29D"]


def _walked(moment: datetime, start: datetime, period: timedelta | isodate.Duration) -> int:
    k = 0
    while start + period * (k + 1) <= moment:
        k += 1
    return k


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
       st.integers(0, 400 * 24 * 3600), st.sampled_from(PERIODS))
def test_bucket_index_matches_walking(start: datetime, offset_seconds: int, text: str) -> None:
    period = isodate.parse_duration(text)
    moment = start + timedelta(seconds=offset_seconds)
    if isinstance(period, timedelta) and period < timedelta(days=1) and offset_seconds > 40 * 24 * 3600:
        moment = start + timedelta(seconds=offset_seconds % (40 * 24 * 3600))  # keep the walk short
    k = _bucket_of(moment, start, period)
    assert k == _walked(moment, start, period)
    assert start + period * k <= moment < start + period * (k + 1)
