"""Start, stop and mistakes as people make them (issue 9 §6): every check runs the real ``cic``
command in a subprocess over real sockets, and waits by polling with deadlines."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import requests

from citiesincharge import __version__
from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import BrokerUnavailable
from citiesincharge.settings import Settings
from tests.support import BrokerProcess, Mosquitto, free_port, wait_until

CIC = [sys.executable, "-m", "citiesincharge.cli"]
PORT_OPTIONS = {"--simulator-port": "CIC_SIMULATOR_PORT", "--ocpi-agent-port": "CIC_OCPI_AGENT_PORT",
                "--parking-agent-port": "CIC_PARKING_AGENT_PORT", "--analytics-port": "CIC_ANALYTICS_PORT",
                "--dashboard-port": "CIC_DASHBOARD_PORT", "--opendata-port": "CIC_OPENDATA_PORT"}


def cic(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CIC, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


class Lines:
    """A process's merged output, read as it comes (a thread), for polling with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        assert process.stdout is not None
        stream = process.stdout
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._lock:
                self.lines.append(line)

    def text(self) -> str:
        with self._lock:
            return "".join(self.lines)

    def matching(self, pattern: str) -> list[str]:
        with self._lock:
            return [line for line in self.lines if re.search(pattern, line)]

    def finish(self, timeout: float = 10) -> str:
        self._thread.join(timeout)
        return self.text()


def demo_ports() -> dict[str, str]:
    """A free port for every service, all different (the OS may hand the same free port out twice)."""
    ports: list[int] = []
    while len(ports) < len(PORT_OPTIONS) + 2:
        port = free_port()
        if port not in ports:
            ports.append(port)
    services = dict(zip(PORT_OPTIONS, map(str, ports[1:-1]), strict=True))
    return {"--port": str(ports[0]), **services, "--mqtt-url": f"mqtt://127.0.0.1:{ports[-1]}"}


def as_args(options: dict[str, str]) -> list[str]:
    return [word for option, value in options.items() for word in (option, value)]


# -- one line, not a traceback ---------------------------------------------------------------------
def test_version() -> None:
    result = cic("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"cic {__version__}"


def test_demo_help_lists_an_option_for_every_port() -> None:
    text = cic("demo", "--help").stdout
    for option in ["--port", *PORT_OPTIONS, "--mqtt-url", "--data-dir"]:
        assert option in text, option


@pytest.mark.parametrize(("name", "value"), [("CIC_BROKER_PORT", "abc"), ("CIC_LOG_LEVEL", "LOUD"),
                                             ("CIC_TIMEZONE", "Mars/Olympus_Mons")])
def test_a_bad_setting_is_one_line_naming_it(name: str, value: str, tmp_path: Path) -> None:
    result = cic("demo", "--data-dir", str(tmp_path), env={name: value})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cic: {name}={value!r}: "), result.stderr
    assert result.stdout == ""


def test_a_closed_pipe_ends_quietly() -> None:
    """``cic context --clashes | head``: the reader is gone before cic writes; no BrokenPipe traceback."""
    read, write = os.pipe()
    os.close(read)  # the reader went away: every write now fails with EPIPE
    try:
        process = subprocess.run([*CIC, "context", "--clashes"], stdout=write, stderr=subprocess.PIPE, text=True,
                                 timeout=60)
    finally:
        os.close(write)
    assert process.returncode == 0
    assert process.stderr == ""


def test_context_clashes_piped_to_head() -> None:
    result = subprocess.run(f"{sys.executable} -m citiesincharge.cli context --clashes | head -n 2", shell=True,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[0] == "{"
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_an_unreachable_broker_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    with pytest.raises(BrokerUnavailable) as caught, NgsiLdClient(Settings(broker_url=url)) as client:
        client.version()
    assert str(caught.value).startswith(f"broker {url} unreachable: connection refused")
    assert "about:blank" not in str(caught.value) and "ConnectionError" not in str(caught.value)


# -- ports and data directories, checked before anything starts ------------------------------------
@pytest.mark.parametrize("option", ["--port", *PORT_OPTIONS])
def test_a_port_in_use_stops_the_demo_before_it_starts_anything(option: str, tmp_path: Path) -> None:
    ports = demo_ports()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(ports[option])))
        taken.listen()
        result = cic("demo", *as_args(ports), "--data-dir", str(tmp_path))
    assert result.returncode == 2
    setting = PORT_OPTIONS.get(option, "CIC_BROKER_PORT")
    assert result.stderr == (f"cic demo: port {ports[option]} is in use — another demo? "
                             f"use {option} or {setting}\n")
    assert result.stdout == ""  # no banner
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.lock"]  # nothing started, nothing written
    for other, value in ports.items():
        if other != option and other != "--mqtt-url":
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", int(value)))  # still free: nothing was started on it


def test_one_port_for_two_services_is_refused(tmp_path: Path) -> None:
    ports = demo_ports()
    ports["--analytics-port"] = ports["--port"]
    result = cic("demo", *as_args(ports), "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "is given to both the NGSI-LD broker and the analytics" in result.stderr


# -- a demo, a second demo, and Ctrl-C -------------------------------------------------------------
@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Lines, dict[str, str], Path]]:
    if shutil.which("mosquitto") is None:
        pytest.skip("the mosquitto binary is missing (.ci/run installs it)")
    ports = demo_ports()
    data = tmp_path / "demo"
    env = {**os.environ, "CIC_DEMO_HISTORY_DAYS": "0.2", "PYTHONUNBUFFERED": "1"}
    env.pop("CIC_MQTT_CLIENT_ID", None)  # the default id, unique per instance
    # its own session, as a shell's job: SIGINT to its process group is what a terminal's Ctrl-C sends
    process = subprocess.Popen([*CIC, "demo", *as_args(ports), "--data-dir", str(data)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    lines = Lines(process)
    try:
        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(lines.finish())
            return bool(lines.matching("Press Ctrl-C to stop"))

        wait_until(up, timeout=120, interval=0.2)
        yield process, lines, ports, data
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


def test_second_demo_is_refused_and_ctrl_c_is_a_clean_stop(
        demo: tuple[subprocess.Popen[str], Lines, dict[str, str], Path], tmp_path: Path) -> None:
    process, lines, ports, data = demo
    status = f"http://127.0.0.1:{ports['--parking-agent-port']}/status"
    wait_until(lambda: requests.get(status, timeout=2).json()["mqttConnected"], timeout=30, interval=0.2)
    client_id = requests.get(status, timeout=2).json()["clientId"]
    assert re.fullmatch(rf"cic-parking-{re.escape(socket.gethostname())}-[0-9a-f]{{8}}", client_id)

    # a second demo on the same ports: one line, nothing started, the first one undisturbed
    second = cic("demo", *as_args(ports), "--data-dir", str(tmp_path / "second"))
    assert second.returncode == 2 and second.stdout == ""
    assert second.stderr == (f"cic demo: port {ports['--port']} is in use — another demo? use --port or "
                             f"CIC_BROKER_PORT (also in use: " + ", ".join(
                                 f"{ports[o]} for the {w}, {o}" for o, w in (
                                     ("--simulator-port", "CPO simulator"), ("--ocpi-agent-port", "OCPI agent"),
                                     ("--parking-agent-port", "parking agent"),
                                     ("--analytics-port", "analytics"), ("--dashboard-port", "dashboard"),
                                     ("--opendata-port", "open-data feed"))) + ")\n")
    # ... and one on other ports but the same data directory
    same_dir = cic("demo", *as_args(demo_ports()), "--data-dir", str(data))
    assert same_dir.returncode == 2
    assert same_dir.stderr == (f"cic demo: data directory {data}/ is in use by another demo (pid {process.pid}); "
                               "use --data-dir or CIC_DATA_DIR\n")
    after = requests.get(status, timeout=2).json()
    assert after["mqttConnected"] and after["clientId"] == client_id

    before = len(lines.lines)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=90) == 0
    text = lines.finish()
    assert "unexpectedly" not in text and "Traceback" not in text, text
    stopping = lines.lines[before:]
    assert not [line for line in stopping if " ERROR " in line or "Error" in line], "".join(stopping)
    for value in ports.values():  # every child is gone: its port is free again
        port = int(urlparse(value).port or 0) if value.startswith("mqtt") else int(value)
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))


# -- the parking agent says when MQTT is gone, once, and when it is back ---------------------------
def test_parking_agent_says_when_mqtt_is_unreachable_and_back(tmp_path: Path) -> None:
    if shutil.which("mosquitto") is None:
        pytest.skip("the mosquitto binary is missing (.ci/run installs it)")
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.stop()  # not there when the agent starts
    broker = BrokerProcess()
    status_port = free_port()
    agent = subprocess.Popen([*CIC, "agent", "parking"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env={**os.environ, "CIC_BROKER_URL": broker.url,
                                             "CIC_MQTT_URL": mosquitto.url, "CIC_DATA_DIR": str(tmp_path),
                                             "CIC_PARKING_AGENT_PORT": str(status_port),
                                             "CIC_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    lines = Lines(agent)
    status = f"http://127.0.0.1:{status_port}"
    where = f"MQTT broker mqtt://127.0.0.1:{mosquitto.port}"

    def connected() -> bool:
        try:
            return bool(requests.get(status + "/status", timeout=1).json()["mqttConnected"])
        except requests.RequestException:
            return False

    try:
        wait_until(lambda: lines.matching(f"WARNING .*{where} unreachable; retrying"), timeout=30)
        mosquitto.start()
        wait_until(lambda: lines.matching(f"WARNING .*{where} reachable again after"), timeout=60)
        wait_until(connected, timeout=10)
        assert len(lines.matching(where)) == 2, lines.text()  # unreachable once (not per retry), back once
        assert_docs_offline(status, "/docs")  # the agent's own API page, offline too

        mosquitto.stop()
        wait_until(lambda: lines.matching(f"WARNING .*{where} connection lost"), timeout=30)
        wait_until(lambda: not connected(), timeout=10)
        mosquitto.start()
        wait_until(lambda: len(lines.matching(f"WARNING .*{where} reachable again after")) == 2, timeout=60)
        wait_until(connected, timeout=10)
        assert len(lines.matching(where)) == 4, lines.text()
    finally:
        agent.terminate()
        agent.wait(timeout=30)
        broker.stop()
        mosquitto.stop()
    assert "Traceback" not in lines.finish()


# -- /docs without the internet ------------------------------------------------------------------
def assert_docs_offline(base: str, page: str) -> None:
    """``page`` and every asset it references come from ``base`` itself, and each loads."""
    html = requests.get(base + page, timeout=5)
    assert html.status_code == 200
    referenced = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
    referenced += re.findall(r"""(?:url|spec-url)\s*[:=]\s*["']([^"']+)["']""", html.text)
    assert any(r.endswith(".js") for r in referenced), html.text
    absolute = re.findall(r"https?://[^\s\"'<>)]+", html.text)
    assert absolute == [], absolute  # nothing off-host, not even a link
    for reference in referenced:
        url = urljoin(base + page, reference)
        assert urlparse(url).netloc == urlparse(base).netloc, url
        answer = requests.get(url, timeout=5)
        assert answer.status_code == 200 and answer.content, url
        if url.endswith(".css"):
            assert not re.search(r"@import|url\(\s*['\"]?https?:", answer.text), url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_everything_from_the_broker_itself(page: str) -> None:
    broker = BrokerProcess()
    try:
        assert_docs_offline(broker.url, page)
    finally:
        broker.stop()
