"""``cic dashboard``: serve the dashboard until SIGTERM or Ctrl-C (see dashboard/app.py)."""

from __future__ import annotations

import logging

from citiesincharge.operations import serve as serve_app
from citiesincharge.settings import Settings

from .app import create_app

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    app = create_app(settings)
    log.info("dashboard on http://%s:%d reading %s", settings.dashboard_host, settings.dashboard_port,
             settings.broker_url)
    serve_app(app, settings.dashboard_port, lambda: None, host=settings.dashboard_host)
