"""Logging set-up for every ``cic`` command: one line per event, no secrets (tokens are SecretStr).

The console is for people: libraries' bookkeeping (APScheduler's "Running job ..." per run,
urllib3's connection pool) shows only at ``CIC_LOG_LEVEL=DEBUG``; their warnings always show.
"""

from __future__ import annotations

import logging

# libraries whose INFO lines are per-request or per-run bookkeeping, not events a person acts on
_CHATTY = ("apscheduler", "urllib3")


def configure(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
