"""Planning indicators and ranking on scripted towns whose right answers are known by construction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import box

from analytics.planning.growth import VehicleTrend, monthly_rate, project
from analytics.planning.indicators import AreaInput, ChargerInput, PlanInputs, compute
from analytics.planning.occupancy import Intervals, StatusChanges, occupancy, saturated_hours
from analytics.planning.scoring import assess, criteria_values

START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30
END = START + timedelta(days=DAYS)
M_LAT = 1 / 110_574  # degrees of latitude per metre


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def evenings(hours: range = range(17, 23)) -> list[tuple[datetime, str]]:
    """Free all day, charging in the given hours, every day of the period."""
    timeline = [(START - timedelta(days=1), "AVAILABLE")]
    for day in range(DAYS):
        timeline += [(at(24 * day + hours.start), "CHARGING"), (at(24 * day + hours.stop), "AVAILABLE")]
    return timeline


def cell(west: float, south: float, size: float = 0.01) -> AreaInput:
    return AreaInput(f"urn:ngsi-ld:PlanningArea:t:{west}", f"cell {west}", box(west, south, west + size, south + size))


# -- occupancy ---------------------------------------------------------------------------------
def test_hours_are_cut_exactly_and_unknown_time_is_not_counted() -> None:
    timelines = [[(at(-5), "AVAILABLE"), (at(1.25), "CHARGING"), (at(4.5), "AVAILABLE")],
                 [(at(2), "OUTOFORDER"), (at(3.6), "UNKNOWN"), (at(5), "AVAILABLE")], []]
    use = occupancy(Intervals.from_changes(StatusChanges.from_timelines(timelines), START, at(8)), 3, START, 8,
                    block=2)
    assert use.busy.astype(int).tolist() == [[0, 1, 1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0, 0], [0] * 8]
    assert use.known[1].astype(int).tolist() == [0, 0, 1, 1, 0, 1, 1, 1]  # nothing before 02:00, UNKNOWN 3.6-5
    assert use.occupied_seconds.tolist() == [3.25 * 3600, 0, 0]
    assert use.down_seconds.tolist() == pytest.approx([0, 1.6 * 3600, 0])
    assert use.known_seconds.tolist() == pytest.approx([8 * 3600, 4.6 * 3600, 0])
    # both known in hours 2, 3, 5, 6, 7; both busy in 2 and 3. Hours 1 and 4 (charger 0 busy, charger 1
    # unknown) are not judged: one busy charger among unknowns is no evidence of saturation
    assert saturated_hours(use, [[0, 1], [2], [], [0]]) == [(2, 5), (0, 0), (0, 0), (4, 8)]


def test_occupancy_blocks_give_the_same_answer_as_one_block() -> None:
    rng = np.random.default_rng(7)
    timelines = []
    for _ in range(37):
        moments = sorted(rng.uniform(-10, 200, 40))
        timelines.append([(at(float(m)), str(rng.choice(["AVAILABLE", "CHARGING", "OUTOFORDER", "UNKNOWN"])))
                          for m in moments])
    intervals = Intervals.from_changes(StatusChanges.from_timelines(timelines), START, at(192))
    one, blocks = occupancy(intervals, 37, START, 192, block=1000), occupancy(intervals, 37, START, 192, block=5)
    assert (one.busy == blocks.busy).all() and (one.known == blocks.known).all()
    assert one.busy.any() and not one.busy.all()


# -- the scripted town ------------------------------------------------------------------------
def town() -> PlanInputs:
    """Three areas side by side: Busy's only charger charges every evening 17-23, Idle's is never used,
    Bare has no charger and lies 1.5 km or more from both."""
    busy, idle, bare = cell(-1.52, 52.40), cell(-1.50, 52.40), cell(-1.46, 52.40)
    for area in (busy, idle, bare):
        area.population = 2000
        area.vehicles = [(date(2025, 1, 1), 100), (date(2025, 7, 1), 120), (date(2026, 1, 1), 144)]
    chargers = [ChargerInput("evse-busy", 0, 22.0, evenings(), (-1.515, 52.405)),
                ChargerInput("evse-idle", 1, 22.0, [(START - timedelta(days=3), "AVAILABLE")], (-1.495, 52.405))]
    months = [date(2026, m, 1) for m in range(5, 11)]
    return PlanInputs(
        areas=[busy, idle, bare], chargers=chargers,
        stations_lonlat=np.array([[-1.515, 52.405], [-1.495, 52.405]]), stations_per_area=[1, 1, 0],
        start=START, end=END, now=END,
        energy=[[(m, 300.0, 30) for m in months], [(m, 10.0, 1) for m in months], []],
        period_month=date(2026, 11, 1))


def test_the_saturated_area_ranks_above_the_idle_one_and_the_bare_one_shows_a_gap() -> None:
    inputs = town()
    figures = compute(inputs)
    busy, idle, bare = (f.values for f in figures)
    assert busy["saturation"] == pytest.approx(6 / 24)  # every evening hour, every day
    assert busy["utilisation"] == pytest.approx(6 / 24)
    assert idle["saturation"] == 0 and idle["utilisation"] == 0
    assert busy["reliability"] == idle["reliability"] == 1
    assert bare["saturation"] is None and bare["chargers"] == 0
    assert bare["coverageGapShare"] == 1.0 and bare["meanDistanceM"] > 1500
    assert busy["chargersPer1000Residents"] == 0.5 and busy["rapidShare"] == 0
    # the busy cell's charger sits inside it: its centre is within 500 m, its far corners are not
    assert 0 < busy["coverageGapShare"] < 0.5
    ranking = assess([a.id for a in inputs.areas], [criteria_values(f.values) for f in figures])
    rank = {a.area: a.rank for a in ranking}
    assert rank[inputs.areas[0].id] < rank[inputs.areas[1].id]
    top_busy = next(a for a in ranking if a.area == inputs.areas[0].id)
    assert top_busy.reasons[0].indicator == "saturation" and top_busy.reasons[0].value == 25.0
    assert top_busy.kind == "rapidHub"
    bare_assessment = next(a for a in ranking if a.area == inputs.areas[2].id)
    assert "coverageGapShare" in [r.indicator for r in bare_assessment.reasons]
    assert sum(top_busy.contributions.values()) == pytest.approx(top_busy.score, abs=0.1)


def test_growth_uses_the_area_rate_where_it_has_history_and_the_council_rate_elsewhere() -> None:
    figures = compute(town())
    busy, idle, bare = (f.projection for f in figures)
    assert busy is not None and idle is not None and bare is not None
    assert busy.rate_source == "area" and bare.rate_source == "council"
    assert busy.growth_per_year == pytest.approx(0.44, abs=0.01)  # 100 -> 144 in a year, log-linear
    assert busy.kwh[0] < busy.kwh[1] < busy.kwh[2]
    assert all(low < mid < high for low, mid, high in zip(busy.lower, busy.kwh, busy.upper, strict=True))
    # same vehicles everywhere: the council's rate is the mean of Busy's and Idle's, so Bare lies between
    assert idle.kwh[0] < bare.kwh[0] < busy.kwh[0]


def test_projection_from_a_known_trend_and_rate() -> None:
    trend = VehicleTrend.fit([(date(2023, 1, 1), 100), (date(2024, 1, 1), 200), (date(2025, 1, 1), 400)])
    assert trend is not None and trend.growth == pytest.approx(1.0, abs=0.01)
    rate = monthly_rate([50.0, 50.0], [100.0, 100.0])
    assert rate == (0.5, 0.0)
    result = project(trend, datetime(2025, 1, 1, tzinfo=UTC), rate, "area")
    assert result is not None
    # vehicles at mid-year 1: 400·2^0.5 ≈ 566; 12 months x 0.5 kWh
    assert result.kwh[0] == pytest.approx(12 * 0.5 * 400 * 2 ** 0.5, rel=0.01)
    assert result.vehicles[0] == pytest.approx(800, rel=0.01)


def test_a_flat_history_of_one_date_is_held_and_no_registrations_give_no_projection() -> None:
    trend = VehicleTrend.fit([(date(2025, 1, 1), 50)])
    assert trend is not None and trend.growth is None
    result = project(trend, datetime(2026, 1, 1, tzinfo=UTC), (1.0, 0.0), "council")
    assert result is not None and result.kwh == [600.0, 600.0, 600.0] and result.lower == result.upper == result.kwh
    assert VehicleTrend.fit([]) is None


def test_weights_change_the_order_as_the_council_sets_them() -> None:
    inputs = town()
    criteria = [criteria_values(f.values) for f in compute(inputs)]
    names = [a.id for a in inputs.areas]
    only_gap = assess(names, criteria, {"coverageGapShare": 1.0})
    assert only_gap[0].area == inputs.areas[2].id and only_gap[0].score == 100.0
    assert only_gap[0].kind == "onStreetResidential"
    only_saturation = assess(names, criteria, {"saturation": 1.0})
    assert only_saturation[0].area == inputs.areas[0].id
    assert [a.rank for a in only_saturation] == [1, 2, 3]


def test_saturation_counts_a_full_station_unless_a_free_charger_is_a_short_walk_away() -> None:
    """One area, a station busy every evening and an idle one: 100 m apart the idle one takes the
    drivers (nothing turned away), 1 km apart the busy one turns them away on its own evenings."""
    def area_saturation(idle_lon: float) -> float | None:
        inputs = town()
        inputs.areas = [cell(-1.53, 52.40, size=0.04)]
        inputs.chargers = [ChargerInput("busy", 0, 22.0, evenings(), (-1.515, 52.405)),
                           ChargerInput("idle", 0, 22.0, [(START - timedelta(days=3), "AVAILABLE")],
                                        (idle_lon, 52.405))]
        inputs.stations_per_area, inputs.energy = [2], [[]]
        return compute(inputs)[0].values["saturation"]

    assert area_saturation(-1.5135) == 0  # ~100 m: a free charger within the walk every evening
    assert area_saturation(-1.500) == pytest.approx(6 / 24 / 2)  # ~1 km: the busy station's evenings, of two
