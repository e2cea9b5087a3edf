"""Run the simulated CPOs (``cic simulate cpo``)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from importlib import resources

import uvicorn

from citiesincharge.settings import Settings

from .app import create_app
from .push import Pusher, Target
from .world import TOWNS, World

log = logging.getLogger(__name__)


def demo_tokens() -> dict[str, str]:
    """The simulated operators' tokens, from the files the demo operators file points at too."""
    folder = resources.files("agents.ocpi").joinpath("demo-tokens")
    return {name: folder.joinpath(f"{name}.token").read_text("utf-8").strip() for name in ("cpoA", "cpoB", "cpoC")}


def push_forever(pusher: Pusher, world: World, receiver: str, every: float, stop: threading.Event) -> None:
    """Push mode: every ``every`` seconds, each operator sends what changed to ``receiver`` with its
    own token. A Receiver that is down costs a round, not the simulator: the next round resends."""
    while not stop.wait(every):
        for name, operator in world.operators.items():
            try:
                pusher.round(name, Target(receiver, operator.spec.token))
            except Exception as error:  # a peer's failure is logged, the town goes on
                log.warning("push of %s to %s failed: %s", name, receiver, error)


def serve(settings: Settings, *, seed: int, speed: float, town: str, history_days: float = 0,
          start: datetime | None = None, host: str = "127.0.0.1", push: str | None = None,
          push_every: float = 5.0) -> None:
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
    app = create_app(world)
    stop = threading.Event()
    if push:
        log.info("push mode: every %g s to %s", push_every, push)
        threading.Thread(target=push_forever, args=(app.state.pusher, world, push, push_every, stop),
                         name="push", daemon=True).start()
    try:
        uvicorn.run(app, host=host, port=settings.simulator_port, log_level="warning", access_log=False)
    finally:
        stop.set()
