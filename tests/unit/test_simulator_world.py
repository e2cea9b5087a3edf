"""The simulated network is reproducible and behaves like public charging."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

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
