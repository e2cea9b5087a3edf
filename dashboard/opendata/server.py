"""``cic opendata``: serve the open-data feed until SIGTERM or Ctrl-C (see app.py)."""

from __future__ import annotations

import logging

from citiesincharge.operations import serve as serve_app
from citiesincharge.settings import Settings

from .app import create_app

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    app = create_app(settings)
    log.info("open data on http://%s:%d reading %s", settings.opendata_host, settings.opendata_port,
             settings.broker_url)
    serve_app(app, settings.opendata_port, lambda: None, host=settings.opendata_host)
