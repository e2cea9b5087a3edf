"""What every long-running ``cic`` service offers operators: /status, /health, Prometheus /metrics
on 127.0.0.1, /docs that work offline, and a clean stop on SIGTERM or Ctrl-C (the service's own stop
runs, so nothing is left half done). See docs/ARCHITECTURE.md."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .apidocs import serve_offline


def status_app(title: str, status: Callable[[], dict[str, Any]], registry: CollectorRegistry,
               healthy: Callable[[], bool] = lambda: True, app: FastAPI | None = None) -> FastAPI:
    """A FastAPI app (or ``app``, extended) with the three operations endpoints."""
    app = serve_offline(app or FastAPI(title=title))

    @app.get("/status")
    def _status() -> dict[str, Any]:
        return status()

    @app.get("/health")
    def _health() -> dict[str, str]:
        return {"status": "ok" if healthy() else "degraded"}

    @app.get("/metrics")
    def _metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def serve(app: FastAPI, port: int, stop: Callable[[], None], host: str = "127.0.0.1") -> None:
    """Serve ``app`` (127.0.0.1 unless told otherwise) until SIGTERM or Ctrl-C, then call ``stop``."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        stop()
