"""A local @context server for the fetch-policy tests: real HTTP on 127.0.0.1 that records every
request it receives, so a test can prove that a refused fetch never even connected."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support import free_port

CONTEXT = {"@context": {"Bin": "https://city.example/Bin", "fill": "https://city.example/fill"}}
Reply = Callable[[BaseHTTPRequestHandler], None]


def _json(handler: BaseHTTPRequestHandler, document: Any) -> None:
    body = json.dumps(document).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/ld+json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _padded(size: int) -> dict[str, Any]:
    """A valid context document of at least ``size`` bytes."""
    return {"@context": {**CONTEXT["@context"], "padding": "https://city.example/" + "p" * size}}


def _stream(handler: BaseHTTPRequestHandler, size: int) -> None:
    """``size`` bytes without a Content-Length (ended by closing): the cap must count, not trust."""
    handler.send_response(200)
    handler.end_headers()
    body = json.dumps(_padded(size)).encode()
    for start in range(0, len(body), 16 * 1024):
        handler.wfile.write(body[start:start + 16 * 1024])


def _drip(handler: BaseHTTPRequestHandler) -> None:
    """Headers at once, then one byte every 0.2 s: never trips a per-read socket timeout."""
    handler.send_response(200)
    handler.end_headers()
    for _ in range(100):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.2)


def _status(code: int, headers: dict[str, str] | None = None) -> Reply:
    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(code)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return reply


class ContextServer:
    """Serves ``/ctx.jsonld`` and the misbehaving variants the policy must survive."""

    def __init__(self, big: int = 2 * 1024 * 1024) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.routes: dict[str, Reply] = {
            "/ctx.jsonld": lambda h: _json(h, CONTEXT),
            "/big.jsonld": lambda h: _json(h, _padded(big)),
            "/big-stream.jsonld": lambda h: _stream(h, big),
            "/drip.jsonld": _drip,
            "/missing.jsonld": _status(404),
        }
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers)))
                reply = server.routes.get(self.path.split("?")[0], _status(404))
                # the broker hanging up (a cap reached) is what some tests are about
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    reply(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str = "/ctx.jsonld") -> str:
        return self.base + path

    def redirect(self, path: str, to: str) -> str:
        self.routes[path] = _status(302, {"Location": to})
        return self.url(path)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
