"""An impolite OCPI peer: a small real CPO server (http.server on a free port) whose answers a test
bends the way real peers bend them — a wrong ``Link``, ids in another case, a token encoding one
endpoint refuses, an error envelope behind HTTP 200. Polite by default; each quirk is one field.

The simulated CPOs (``agents/ocpi/simulator``) stay polite; this peer holds whatever records a
test gives it, so the test can compute by hand what the agent must make of them.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support import free_port

MODULES = ("locations", "sessions", "cdrs", "tariffs")
Answer = tuple[int, int, str]  # HTTP status, OCPI status_code, status_message
CUT_SHORT = b'{"data": [{"id": "L0'  # what a connection dropped mid-body leaves


@dataclass
class Quirks:
    """How this peer misbehaves. ``link(base, query, next_offset)`` writes the next-page Link (None:
    no Link header); ``encodings`` per endpoint kind ('versions', 'details' or a module) the token
    encodings it accepts; ``answers`` per endpoint kind an answer it gives instead of data."""

    link: Callable[[str, dict[str, str], int], str | None] | None = None
    total_count: bool = True
    encodings: dict[str, set[str]] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    fail_every: int = 0  # every n-th data request gets a body cut short (a flaky peer), 0: never
    ignore_offset: bool = False  # the first page, whatever offset is asked


class ImpolitePeer:
    def __init__(self, *, version: str = "2.2.1", token: str = "peer-token", page_size: int = 10,
                 timestamp: str = "2026-03-02T03:00:00Z") -> None:
        self.version, self.token, self.page_size, self.timestamp = version, token, page_size, timestamp
        self.data: dict[str, list[dict[str, Any]]] = {m: [] for m in MODULES}
        self.quirks = Quirks()
        self.requests: list[tuple[str, str | None]] = []  # (endpoint kind, token encoding it came in)
        self.queries: list[tuple[str, dict[str, str]]] = []  # (module, query) of every data request
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def encoding(self, header: str) -> str | None:
        """'plain' or 'base64' when the header carries our token in that form, else None."""
        sent = header.removeprefix("Token ")
        if sent == self.token:
            return "plain"
        try:
            return "base64" if base64.b64decode(sent, validate=True).decode() == self.token else None
        except ValueError:
            return None

    def answer(self, kind: str, encoding: str | None,
               query: dict[str, str]) -> tuple[int, dict[str, Any] | bytes, dict[str, str]]:
        self.requests.append((kind, encoding))
        if encoding is None or encoding not in self.quirks.encodings.get(kind, {"plain", "base64"}):
            return 401, self._envelope(None, 2000, "Unauthorized"), {}
        if kind in self.quirks.answers:
            http, code, message = self.quirks.answers[kind]
            return http, self._envelope(None, code, message), {}
        if kind == "versions":
            return 200, self._envelope([{"version": self.version, "url": f"{self.url}/ocpi/{self.version}"}]), {}
        if kind == "details":
            endpoints = [{"identifier": m, "role": "SENDER", "url": f"{self.url}/ocpi/{self.version}/{m}"}
                         for m in MODULES]
            return 200, self._envelope({"version": self.version, "endpoints": endpoints}), {}
        self.queries.append((kind, query))
        if self.quirks.fail_every and len(self.queries) % self.quirks.fail_every == 0:
            return 200, CUT_SHORT, {}
        records = self.data[kind]
        offset = 0 if self.quirks.ignore_offset else int(query.get("offset", 0))
        limit = min(int(query.get("limit", self.page_size)), self.page_size)
        page = records[offset:offset + limit]
        headers = {"X-Limit": str(self.page_size)}
        if self.quirks.total_count:
            headers["X-Total-Count"] = str(len(records))
        if self.quirks.link is not None and offset + len(page) < len(records):
            link = self.quirks.link(f"{self.url}/ocpi/{self.version}/{kind}", query, offset + len(page))
            if link:
                headers["Link"] = f'<{link}>; rel="next"'
        return 200, self._envelope(page), headers

    def _envelope(self, data: Any, code: int = 1000, message: str = "Success") -> dict[str, Any]:
        return {"data": data, "status_code": code, "status_message": message, "timestamp": self.timestamp}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                segments = parts.path.strip("/").split("/")
                kind = ("versions" if segments[-1] == "versions" else "details" if len(segments) == 2
                        else segments[-1])
                status, body, headers = peer.answer(kind, peer.encoding(self.headers.get("Authorization", "")),
                                                    query)
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
