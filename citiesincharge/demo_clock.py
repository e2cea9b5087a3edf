"""The demo's simulated clock across restarts: where it starts, and where it got to.

The simulated town runs ahead of the wall clock (60x). Restarting ``make demo`` on the same data
directory must go on from where the stored data is, not from the wall clock (which would put the
simulators ~a day behind their own data: the agents then mark every record stale). So the demo
keeps ``demo-clock.json`` in its data directory: the town's origin (the simulated instant its
history begins at, so the simulators replay the same past) and the instant it reached.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ValidationError

CLOCK_FILE = "demo-clock.json"


class DemoClock(BaseModel):
    origin: AwareDatetime  # where the simulated history begins (the simulators replay from here)
    reached: AwareDatetime  # the simulated instant the last run got to

    @property
    def history(self) -> timedelta:
        return self.reached - self.origin


def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def begin(data_dir: Path, history_days: float, *, fresh: bool, now: datetime) -> tuple[DemoClock, str]:
    """The clock this run starts on, and a line for the console that says which it is.

    ``now``: the instant a new town starts at (the wall clock's, from the caller). A stored clock
    that cannot be read is not guessed around: the run starts a new town and says so.
    """
    path = data_dir / CLOCK_FILE
    if not fresh and path.exists():
        try:
            stored = DemoClock.model_validate_json(path.read_bytes())
            return stored, (f"continuing the simulated clock at {stored.reached:%Y-%m-%d %H:%M} UTC from "
                            f"{path} (the data there runs to then; --fresh starts a new town)")
        except (ValidationError, OSError) as error:
            note = f"{path} unreadable ({error.__class__.__name__}): starting a new simulated town"
    else:
        note = "--fresh: starting a new simulated town" if fresh else "starting a new simulated town"
    start = _whole_seconds(now)
    return DemoClock(origin=start - timedelta(days=history_days), reached=start), note


def save(data_dir: Path, clock: DemoClock) -> None:
    """Record how far the town got (atomically: a demo killed mid-write keeps the previous file)."""
    path = data_dir / CLOCK_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(clock.model_dump_json(), "utf-8")
    os.replace(partial, path)


def advanced(clock: DemoClock, reached: datetime) -> DemoClock:
    return DemoClock(origin=clock.origin, reached=max(clock.reached, _whole_seconds(reached)))


STATE_FILES = ("broker.sqlite*", "agent-*.sqlite*", "mqtt", CLOCK_FILE)  # what a demo run leaves in its data dir


def forget(data_dir: Path) -> list[Path]:
    """What ``--fresh`` removes: the previous town's data (broker, agents' state, MQTT sessions)."""
    removed = sorted({found for pattern in STATE_FILES for found in data_dir.glob(pattern)})
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return removed
