"""Test helpers: free ports, a real broker process, a real notification receiver."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

LINK_REL = "http://www.w3.org/ns/json-ld#context"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll a condition that depends on another process (no sleep-and-hope in tests)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


class Process:
    """A ``cic`` sub-command in a subprocess, ready once ``ready()`` holds; stopped with SIGTERM."""

    def __init__(self, args: list[str], ready: Callable[[], bool], *, env: dict[str, str] | None = None,
                 timeout: float = 20.0) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "citiesincharge.cli", *args],
                                        env={**os.environ, "CIC_LOG_LEVEL": "WARNING", **(env or {})},
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"cic {' '.join(args)} exited: {self.output()}")
            return ready()

        try:
            wait_until(up, timeout=timeout)
        except AssertionError:
            self.stop()
            raise

    def output(self) -> str:
        return self.process.stdout.read().decode() if self.process.stdout and self.process.poll() is not None else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class BrokerProcess(Process):
    """``cic broker`` in a subprocess on a free port: the real thing, over a real socket."""

    def __init__(self, tmp: Path | None = None, *, port: int | None = None, **env: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["broker", "--port", str(self.port), *(["--data-dir", str(tmp)] if tmp else ["--memory"])]
        super().__init__(args, lambda: http_ok(self.url + "/version"),
                         env={"CIC_CONTEXT_FETCH_TIMEOUT": "1", "CIC_NOTIFY_TIMEOUT": "2", **env})


class DemoProcess:
    """``cic demo`` on free ports with its own data directory, up once its banner is printed.

    Its console goes to ``console.log`` in ``folder`` (a pipe nobody reads would stall the demo
    once full); ``env`` adds ``CIC_*`` settings. Stopped as a terminal's Ctrl-C would stop it.
    """

    SERVICES = ("broker", "simulator", "ocpi", "parking", "analytics", "dashboard", "opendata", "mqtt")

    def __init__(self, folder: Path, env: dict[str, str] | None = None, *, ports: dict[str, int] | None = None,
                 timeout: float = 90.0) -> None:
        self.ports = ports or {name: free_port() for name in self.SERVICES}
        self.data = folder / "data"
        self.console = folder / "console.log"
        self.broker_url = f"http://127.0.0.1:{self.ports['broker']}"
        self.simulator_url = f"http://127.0.0.1:{self.ports['simulator']}"
        settings = {"CIC_SIMULATOR_PORT": self.ports["simulator"], "CIC_OCPI_AGENT_PORT": self.ports["ocpi"],
                    "CIC_PARKING_AGENT_PORT": self.ports["parking"], "CIC_ANALYTICS_PORT": self.ports["analytics"],
                    "CIC_DASHBOARD_PORT": self.ports["dashboard"], "CIC_OPENDATA_PORT": self.ports["opendata"],
                    "CIC_MQTT_URL": f"mqtt://127.0.0.1:{self.ports['mqtt']}"}
        environment = {**os.environ, "CIC_LOG_LEVEL": "WARNING", **{k: str(v) for k, v in settings.items()},
                       **(env or {})}
        self._from = self.console.stat().st_size if self.console.exists() else 0
        with self.console.open("a") as console:  # appended: a restarted demo keeps the first one's lines
            self.process = subprocess.Popen(
                [sys.executable, "-m", "citiesincharge.cli", "demo", "--port", str(self.ports["broker"]),
                 "--data-dir", str(self.data)], stdout=console, stderr=subprocess.STDOUT, env=environment,
                start_new_session=True)

        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"cic demo exited with code {self.process.returncode}: {self.text()}")
            return "Press Ctrl-C" in self.text()

        try:
            wait_until(up, timeout=timeout, interval=0.2)
        except AssertionError:
            self.stop()
            raise

    def text(self) -> str:
        """What this start of the demo has printed so far."""
        with self.console.open("rb") as console:
            console.seek(self._from)
            return console.read().decode("utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class ServedApp:
    """An ASGI app served by uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=0.5).status_code < 500
    except requests.RequestException:
        return False


class Receiver:
    """A local HTTP endpoint that records notifications; can go down and come back on its port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/notify"
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self.start()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.status
                if status < 300:
                    with receiver._cond:
                        receiver.received.append(json.loads(body))
                        receiver.headers.append(dict(self.headers))
                        receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def entities(self) -> list[dict[str, Any]]:
        with self._cond:
            return [e for n in self.received for e in n["data"]]

    def wait_for(self, condition: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0) -> None:
        """Block until the received notifications satisfy ``condition`` (woken on each arrival)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition(self.received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"notifications not as expected within {timeout} s: {self.received}")
                self._cond.wait(remaining)


class Api:
    """Raw HTTP against a broker for one tenant: tests see exactly what goes over the wire."""

    def __init__(self, base: str, tenant: str | None, context: str | None = None) -> None:
        self.base = base.rstrip("/") + "/ngsi-ld/v1"
        self.root = base.rstrip("/")
        self.tenant = tenant
        self.context = context
        self.http = requests.Session()

    def headers(self, extra: dict[str, str] | None = None, *, body: bool = False) -> dict[str, str]:
        headers: dict[str, str] = {}
        if body:
            headers["Content-Type"] = "application/json"
        if self.tenant:
            headers["NGSILD-Tenant"] = self.tenant
        if self.context:
            headers["Link"] = f'<{self.context}>; rel="{LINK_REL}"; type="application/ld+json"'
        headers.update(extra or {})
        return headers

    def get(self, path: str, params: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
        return self.http.get(self.base + path, params=params, headers=self.headers(headers), timeout=15)

    def delete(self, path: str, params: Any = None) -> requests.Response:
        return self.http.delete(self.base + path, params=params, headers=self.headers(), timeout=15)

    def send(self, method: str, path: str, body: Any, params: Any = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return self.http.request(method, self.base + path, data=data, params=params,
                                 headers=self.headers(headers, body=True), timeout=15)

    def post(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.send("POST", path, body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.send("PATCH", path, body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.send("PUT", path, body, **kw)

    def create(self, entity: dict[str, Any]) -> None:
        response = self.post("/entities", entity)
        assert response.status_code == 201, response.text


def problem_type(response: requests.Response) -> str:
    body = response.json()
    assert body["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/"), body
    assert body["detail"], body
    return str(body["type"].rsplit("/", 1)[-1])


class Mosquitto:
    """A Mosquitto on a free port with persistence, which tests may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                             f"persistence_location {folder}/\nmax_queued_messages 0\nmax_inflight_messages 0\n"
                             f"autosave_interval 1\n")
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until(self._listening, timeout=10)

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
