"""Run the embedded broker with uvicorn (``cic broker``)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from citiesincharge.settings import Settings

from .app import create_app

log = logging.getLogger(__name__)


#: How long a thread may hold the GIL while another waits for it (CPython's default: 5 ms). Queries
#: run in the query pool; a GET by id or /health on the event loop then waits at most this long for
#: each of its turns, instead of 5 ms each.
SWITCH_INTERVAL = 0.001


def serve(settings: Settings) -> None:
    sys.setswitchinterval(SWITCH_INTERVAL)
    app = create_app(settings)
    where = "memory" if settings.broker_memory else f"{settings.data_dir}/broker.sqlite"
    log.info("embedded NGSI-LD broker on http://%s:%d (storage: %s)", settings.broker_host,
             settings.broker_port, where)
    uvicorn.run(app, host=settings.broker_host, port=settings.broker_port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=3, limit_concurrency=settings.broker_max_connections)
