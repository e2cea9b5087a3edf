"""Run the embedded broker with uvicorn (``cic broker``)."""

from __future__ import annotations

import logging

import uvicorn

from citiesincharge.settings import Settings

from .app import create_app

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    app = create_app(settings)
    where = "memory" if settings.broker_memory else f"{settings.data_dir}/broker.sqlite"
    log.info("embedded NGSI-LD broker on http://%s:%d (storage: %s)", settings.broker_host,
             settings.broker_port, where)
    uvicorn.run(app, host=settings.broker_host, port=settings.broker_port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=3, limit_concurrency=settings.broker_max_connections)
