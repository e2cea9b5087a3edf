"""Entry point of ``cic agent parking``."""

from __future__ import annotations

import logging
import signal

import uvicorn

from citiesincharge.settings import Settings

from .registry import load_registry
from .service import ParkingAgent, status_app

log = logging.getLogger(__name__)


def main(settings: Settings) -> int:
    try:
        registry = load_registry(settings.parking_bays)
    except ValueError as error:
        log.error("%s", error)
        return 2
    agent = ParkingAgent(settings, registry)
    agent.start()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        uvicorn.run(status_app(agent), host="127.0.0.1", port=settings.parking_agent_port, log_level="warning",
                    access_log=False)
    finally:
        agent.stop()
    return 0
