"""``cic demo``: the whole system on embedded defaults, as one process tree.

Starts, as child processes exactly as their own ``cic`` commands would run: the embedded broker,
the simulated CPOs, and the OCPI agent; then places a few sample parking bays beside one
simulated site (placeholders until the parking agent and its sensor simulator take over).
Ctrl-C or SIGTERM stops every child. A child that dies stops the demo with its name.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import requests

from .client import NgsiLdClient
from .settings import Settings

log = logging.getLogger(__name__)


def sample_bays() -> list[dict[str, Any]]:
    text = resources.files("citiesincharge.sample").joinpath("demo-bays.json").read_text("utf-8")
    entities: list[dict[str, Any]] = json.loads(text)
    return entities


def _answers(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return requests.get(url, timeout=1).status_code < 500
        except requests.RequestException:
            return False
    return check


class _Children:
    """The demo's child processes, started in order and stopped in reverse."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], ready: Callable[[], bool], timeout: float = 60.0) -> None:
        process = subprocess.Popen([sys.executable, "-m", "citiesincharge.cli", *args], env=self.env)
        self.running.append((name, process))
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode} (is its port already in use?)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not become ready within {timeout:.0f} s")
            time.sleep(0.1)

    def watch(self) -> None:
        while True:
            for name, process in self.running:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} stopped unexpectedly (exit code {process.returncode})")
            time.sleep(0.5)

    def stop(self) -> None:
        for _name, process in reversed(self.running):
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(self.running):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # unwind through run()'s finally so the child processes stop too


def run(settings: Settings) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    base = f"http://127.0.0.1:{settings.broker_port}"
    simulator = f"http://127.0.0.1:{settings.simulator_port}"
    agent_status = f"http://127.0.0.1:{settings.ocpi_agent_port}"
    env = {**os.environ, "CIC_BROKER_URL": base, "CIC_DATA_DIR": str(settings.data_dir),
           "CIC_SIMULATOR_URL": simulator, "CIC_SIMULATOR_PORT": str(settings.simulator_port),
           "CIC_OCPI_AGENT_PORT": str(settings.ocpi_agent_port)}
    children = _Children(env)
    try:
        children.start("broker", ["broker", "--host", "127.0.0.1", "--port", str(settings.broker_port),
                                  "--data-dir", str(settings.data_dir)], _answers(base + "/version"))
        children.start("CPO simulator", ["simulate", "cpo"], _answers(simulator + "/admin/cpoA/summary"))
        children.start("OCPI agent", ["agent", "ocpi"], _answers(agent_status + "/health"))
        client = NgsiLdClient(settings, broker_url=base)
        result = client.batch_upsert(sample_bays(), mode="update")
        if not result.ok:
            log.error("placing the sample bays failed: %s", result.errors[0].error.detail)
            return 1
        link = f"Link: <{client.context_url}>; rel=\"http://www.w3.org/ns/json-ld#context\""
        print(f"""
CitiesInCharge demo is up (data in {settings.data_dir}/). Simulated time runs 60x real time.
  NGSI-LD broker    : {base}/ngsi-ld/v1   (version: {base}/version, metrics: {base}/metrics)
  project @context  : {client.context_url}
  simulated CPOs    : {simulator}/ocpi/cpoA/versions (2.2.1), cpoB (2.1.1), cpoC (2.2.1, flaky)
  OCPI agent status : {agent_status}/status   (metrics: {agent_status}/metrics)

Try:
  curl -s '{base}/ngsi-ld/v1/entities?type=EVChargingStation&count=true&limit=3&options=keyValues' -H '{link}'
  curl -s '{base}/ngsi-ld/v1/entities?type=EVSE&q=status==%22OUTOFORDER%22&options=keyValues' -H '{link}'
  curl -s '{agent_status}/status'
Press Ctrl-C to stop.""", flush=True)
        children.watch()
        return 0
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        log.error("demo stopped: %s", error)
        return 1
    finally:
        children.stop()
