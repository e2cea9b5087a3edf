"""Run the simulated CPOs (``cic simulate cpo``)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from importlib import resources

import uvicorn

from citiesincharge.settings import Settings

from .app import create_app
from .world import TOWNS, World

log = logging.getLogger(__name__)


def demo_tokens() -> dict[str, str]:
    """The simulated operators' tokens, from the files the demo operators file points at too."""
    folder = resources.files("agents.ocpi").joinpath("demo-tokens")
    return {name: folder.joinpath(f"{name}.token").read_text("utf-8").strip() for name in ("cpoA", "cpoB", "cpoC")}


def serve(settings: Settings, *, seed: int, speed: float, town: str, history_days: float = 0,
          start: datetime | None = None, host: str = "127.0.0.1") -> None:
    """``start``: the simulated instant to begin at; by default the wall clock's now (the demo), the
    one place the simulator reads it. Tests pin it: what happens in a minute depends on the hour."""
    history = timedelta(days=history_days)
    if start is None and settings.clock_start is not None:
        # the run's shared clock (the demo's): its history begins at the clock's anchor minus
        # ``history_days`` whenever this process starts, so a restarted demo replays the same past
        start = settings.world_clock().now().replace(microsecond=0)
        history = start - (settings.clock_start - history)
    world = World(TOWNS[town](demo_tokens()), start=start or datetime.now(UTC), seed=seed, speed=speed,
                  history=history)
    log.info("simulated clock starts at %s, %gx real time", world.start.isoformat(), speed)
    for name, operator in world.operators.items():
        evses = sum(len(loc.evses) for loc in operator.locations)
        log.info("simulated %s: OCPI %s, %d locations, %d EVSEs at http://%s:%d/ocpi/%s/versions", name,
                 operator.spec.version, len(operator.locations), evses, host, settings.simulator_port, name)
    uvicorn.run(create_app(world), host=host, port=settings.simulator_port, log_level="warning", access_log=False)
