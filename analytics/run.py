"""Entry point of ``cic analytics``."""

from __future__ import annotations

import logging
import signal

import uvicorn

from citiesincharge.settings import Settings

from .service import WORKERS, AnalyticsService

log = logging.getLogger(__name__)


def main(settings: Settings, workers: list[str] | None) -> int:
    service = AnalyticsService(settings, workers or list(WORKERS))
    service.start()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        uvicorn.run(service.app(), host="127.0.0.1", port=settings.analytics_port, log_level="warning",
                    access_log=False)
    finally:
        service.stop()
    return 0
