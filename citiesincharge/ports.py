"""What ``cic demo`` checks before it starts anything: that its ports are free and its data
directory is not another demo's (see docs/ARCHITECTURE.md, "Running it").

A second ``make demo`` would otherwise print its banner, start half a system beside the first one
and die; each check here gives one line saying what to change instead.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from .settings import Settings


@dataclass(frozen=True)
class Port:
    number: int
    what: str  # who would listen there, for people
    option: str  # the ``cic demo`` option that moves it
    setting: str  # the CIC_ variable that moves it


def demo_ports(settings: Settings, *, mqtt: bool) -> list[Port]:
    """Every port the demo will listen on; the MQTT broker's only if the demo is to start one."""
    ports = [Port(settings.broker_port, "NGSI-LD broker", "--port", "CIC_BROKER_PORT"),
             Port(settings.simulator_port, "CPO simulator", "--simulator-port", "CIC_SIMULATOR_PORT"),
             Port(settings.ocpi_agent_port, "OCPI agent", "--ocpi-agent-port", "CIC_OCPI_AGENT_PORT"),
             Port(settings.parking_agent_port, "parking agent", "--parking-agent-port", "CIC_PARKING_AGENT_PORT"),
             Port(settings.analytics_port, "analytics", "--analytics-port", "CIC_ANALYTICS_PORT"),
             Port(settings.dashboard_port, "dashboard", "--dashboard-port", "CIC_DASHBOARD_PORT"),
             Port(settings.opendata_port, "open-data feed", "--opendata-port", "CIC_OPENDATA_PORT")]
    if mqtt:
        ports.append(Port(urlparse(settings.mqtt_url).port or 1883, "MQTT broker", "--mqtt-url", "CIC_MQTT_URL"))
    return ports


def in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could not bind ``host:port`` now (something listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def problem(ports: list[Port]) -> str | None:
    """One line about what stops the demo from listening where it would, or None."""
    seen: dict[int, Port] = {}
    for port in ports:
        if not 0 < port.number < 65536:
            return f"port {port.number} for the {port.what} is not a port number; use {port.option} or {port.setting}"
        if port.number in seen:
            return (f"port {port.number} is given to both the {seen[port.number].what} and the {port.what}; "
                    f"use {port.option} or {port.setting}")
        seen[port.number] = port
    busy = [p for p in ports if in_use(p.number)]
    if not busy:
        return None
    first = busy[0]
    line = f"port {first.number} is in use — another demo? use {first.option} or {first.setting}"
    if busy[1:]:
        line += " (also in use: " + ", ".join(f"{p.number} for the {p.what}, {p.option}" for p in busy[1:]) + ")"
    return line


class DataDirLock:
    """An exclusive lock on ``<data dir>/demo.lock`` for as long as this process runs the demo, so
    that two demos never share one broker database, agent state or MQTT client id."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "demo.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> str | None:
        """Take the lock; a line saying whose it is when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            return (f"data directory {self.path.parent}/ is in use by another demo"
                    f"{f' (pid {holder})' if holder else ''}; use --data-dir or CIC_DATA_DIR")
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock; the file stays (another demo may be opening it)
            self._file = None
