"""Entry point of ``cic agent ocpi``: load operators, then run once or serve status and poll."""

from __future__ import annotations

import logging

from citiesincharge.operations import serve
from citiesincharge.settings import Settings

from .config import load_operators
from .report import summary
from .service import OcpiAgent

log = logging.getLogger(__name__)


def main(settings: Settings, *, once: bool) -> int:
    try:
        operators = load_operators(settings.ocpi_operators)
    except ValueError as error:
        log.error("%s", error)
        return 2
    agent = OcpiAgent(settings, operators)
    if once:
        ok = agent.run_once()
        for level, line in summary(agent.status()["operators"]):
            log.log(level, "%s", line)
        agent.stop()
        return 0 if ok else 1
    agent.start()
    serve(agent.app(), settings.ocpi_agent_port, agent.stop, settings.service_host)
    return 0
