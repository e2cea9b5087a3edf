"""``cic demo``: the system on embedded defaults, seeded so a newcomer can query it at once.

At this stage of the product the demo is the embedded broker plus a sample of the demo town's
charging sites, charge points and bays (``sample/demo-entities.json``); later components join
the same process tree. The broker runs as a child process, exactly as ``cic broker`` would.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from importlib import resources
from typing import Any

import requests

from .client import NgsiLdClient
from .settings import Settings

log = logging.getLogger(__name__)


def sample_entities() -> list[dict[str, Any]]:
    text = resources.files("citiesincharge.sample").joinpath("demo-entities.json").read_text("utf-8")
    entities: list[dict[str, Any]] = json.loads(text)
    return entities


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the broker exited with code {process.returncode} (is port already in use?)")
        try:
            if requests.get(url + "/version", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the broker did not answer on {url} within {timeout:.0f} s")


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # unwind through run()'s finally so the child processes stop too


def run(settings: Settings) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    base = f"http://127.0.0.1:{settings.broker_port}"
    command = [sys.executable, "-m", "citiesincharge.cli", "broker", "--host", "127.0.0.1",
               "--port", str(settings.broker_port), "--data-dir", str(settings.data_dir)]
    broker = subprocess.Popen(command)
    try:
        _wait_for(base, broker)
        client = NgsiLdClient(settings, broker_url=base)
        result = client.batch_upsert(sample_entities(), mode="update")
        if not result.ok:
            log.error("seeding failed for %d entities: %s", len(result.errors), result.errors[0].error.detail)
            return 1
        ctx = f"<{client.context_url}>; rel=\"http://www.w3.org/ns/json-ld#context\""
        print(f"""
CitiesInCharge demo is up (data in {settings.data_dir}/).
  NGSI-LD broker : {base}/ngsi-ld/v1   (version: {base}/version, metrics: {base}/metrics)
  project context: {client.context_url}
  seeded         : {len(result.success)} entities (charging stations, EVSEs, parking bays)

Try:
  curl -s '{base}/ngsi-ld/v1/entities?type=EVChargingStation&options=keyValues' -H '{'Link: ' + ctx}'
  curl -s '{base}/ngsi-ld/v1/entities?type=EVSE&q=status==%22OUTOFORDER%22' -H '{'Link: ' + ctx}'
Press Ctrl-C to stop.""", flush=True)
        broker.wait()
        return broker.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        if broker.poll() is None:
            broker.terminate()
            try:
                broker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                broker.kill()
