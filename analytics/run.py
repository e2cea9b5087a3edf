"""Entry point of ``cic analytics``."""

from __future__ import annotations

import logging

from citiesincharge.operations import serve
from citiesincharge.settings import Settings

from .service import WORKERS, AnalyticsService

log = logging.getLogger(__name__)


def main(settings: Settings, workers: list[str] | None) -> int:
    service = AnalyticsService(settings, workers or list(WORKERS))
    service.start()
    serve(service.app(), settings.analytics_port, service.stop, settings.service_host)
    return 0
