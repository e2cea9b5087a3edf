"""The simulated network is reproducible and behaves like public charging."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from agents.ocpi.simulator.world import World, default_town

TOKENS = {"cpoA": "a", "cpoB": "b", "cpoC": "c"}
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday


def history(seed: int) -> list[tuple[str, str, int, int]]:
    world = World(default_town(TOKENS), seed=seed, speed=0, start=START)
    world.jump(60 * 24)
    return [(name, ",".join(f"{e.uid}={e.status}" for loc in op.locations for e in loc.evses), len(op.sessions),
             len(op.cdrs)) for name, op in world.operators.items()]


def test_same_seed_same_history_other_seed_other_history() -> None:
    assert history(5) == history(5)
    assert history(5) != history(6)


def state(world: World) -> list[object]:
    """Everything time changes in a world, comparable: statuses, sessions, CDRs and their times."""
    return [(name, [(loc.id, loc.last_updated, [(e.uid, e.status, e.last_updated, e.session_id) for e in loc.evses])
                    for loc in op.locations],
             sorted((s.id, s.start, s.end, s.status, s.last_updated) for s in op.sessions.values()),
             [(c.id, c.total_energy, c.cost_incl, c.last_updated) for c in op.cdrs])
            for name, op in world.operators.items()]


@pytest.mark.parametrize("start", [datetime(2026, 3, 2, 3, 0, tzinfo=UTC), datetime(2026, 3, 7, 17, 30, tzinfo=UTC)])
def test_same_start_and_seed_evolve_identically(start: datetime) -> None:
    worlds = [World(default_town(TOKENS), seed=9, speed=0, start=start, history=timedelta(hours=6))
              for _ in range(2)]
    for minutes in (1, 1, 30, 5 * 60, 0.5):
        assert state(worlds[0]) == state(worlds[1])
        assert [w.jump(minutes) for w in worlds] == [worlds[0].now()] * 2
    assert state(worlds[0]) == state(worlds[1])


def test_every_time_in_a_world_comes_from_its_clock() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=1)))  # 08:00 UTC
    world = World(default_town(TOKENS), seed=4, speed=0, start=start, history=timedelta(days=1))
    assert world.now() == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert world.jump(90) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    begin = world.now() - timedelta(days=1, minutes=90)
    times = [t for op in world.operators.values() for t in (
        [loc.last_updated for loc in op.locations] + [e.last_updated for loc in op.locations for e in loc.evses]
        + [s.last_updated for s in op.sessions.values()] + [c.last_updated for c in op.cdrs]
        + [t.last_updated for t in op.tariffs.values()])]
    assert times and all(begin <= t <= world.now() for t in times)  # not the wall clock's, whatever the day


def test_a_start_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        World(default_town(TOKENS), speed=0, start=datetime(2026, 3, 2, 3, 0))


def test_a_day_of_the_town() -> None:
    world = World(default_town(TOKENS), seed=3, speed=0, start=START)
    world.jump(60 * 24 * 3)
    for operator in world.operators.values():
        evses = [e for loc in operator.locations for e in loc.evses]
        assert 30 <= len(operator.locations) <= 100
        assert any(e.dc for e in evses) and any(not e.dc for e in evses)
        assert all(c.max_power_w >= 50_000 for e in evses if e.dc for c in e.connectors)
        per_evse_day = len(operator.sessions) / len(evses) / 3
        assert 0.5 < per_evse_day < 8  # a few sessions per charger per day
        starts = Counter(s.start.hour for s in operator.sessions.values())
        assert starts[8] + starts[17] > starts[3] + starts[4]  # daily demand curve: rush hours beat the night
        assert all(c.total_energy >= 0 and c.cost_incl >= c.cost_excl for c in operator.cdrs)
    faults = sum(1 for op in world.operators.values() for loc in op.locations for e in loc.evses
                 if e.status in ("OUTOFORDER", "INOPERATIVE"))
    repaired = any(s.status == "COMPLETED" for op in world.operators.values() for s in op.sessions.values())
    assert repaired and faults < 0.2 * sum(len(loc.evses) for op in world.operators.values() for loc in op.locations)
