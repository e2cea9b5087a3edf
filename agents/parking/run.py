"""Entry point of ``cic agent parking``."""

from __future__ import annotations

import logging

from citiesincharge.operations import serve, status_app
from citiesincharge.settings import Settings

from .registry import load_registry
from .service import ParkingAgent

log = logging.getLogger(__name__)


def main(settings: Settings) -> int:
    try:
        registry = load_registry(settings.parking_bays)
    except ValueError as error:
        log.error("%s", error)
        return 2
    agent = ParkingAgent(settings, registry)
    agent.start()
    serve(status_app("CitiesInCharge parking agent", agent.status, agent.metrics_registry, lambda: agent.connected),
          settings.parking_agent_port, agent.stop, settings.service_host)
    return 0
