"""``cic demo``: the whole system on embedded defaults, as one process tree.

Starts, as child processes exactly as their own ``cic`` commands would run: an MQTT broker (unless
one already listens at ``CIC_MQTT_URL``), the embedded NGSI-LD broker, the simulated CPOs, the
OCPI agent, the parking agent, the simulated bay sensors, the analytics workers, the dashboard and
the open-data feed (see docs/ARCHITECTURE.md). Before starting anything it checks that every port
it will use is free and that no other demo uses its data directory, and says in one line what to
change if not.

Each child runs in its own session, so that a terminal's Ctrl-C reaches only the demo, which then
stops the children in reverse order (the agents before the brokers they write to) and exits 0:
a clean stop, with nothing reported as a failure. A child that dies by itself stops the demo with
its name; a demo killed outright takes its children with it (Linux: parent-death signal).
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import requests
from paho.mqtt.enums import CallbackAPIVersion

from . import demo_clock, ldcontext, ports
from .settings import Settings
from .worldclock import WorldClock

log = logging.getLogger(__name__)


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
        # its own session: the terminal's Ctrl-C goes to the demo alone, which stops the children in order
        process = subprocess.Popen([sys.executable, "-m", "citiesincharge.cli", *args], env=self.env,
                                   start_new_session=True, preexec_fn=_die_with_parent(os.getpid()))
        self.running.append((name, process))
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode} (is its port already in use?)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not become ready within {timeout:.0f} s")
            time.sleep(0.1)

    def watch(self, every_second: Callable[[], None] = lambda: None) -> None:
        while True:
            for name, process in self.running:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} stopped unexpectedly (exit code {process.returncode})")
            every_second()
            time.sleep(1.0)

    def stop(self) -> None:
        """Stop the children one by one: the simulators first (nothing new happens), then the agents
        (their last writes land), then the readers, last started first, and the brokers last. Readers
        stopped while simulated traffic went on made the broker warn of notifications nobody took.
        A second Ctrl-C does not interrupt this (10 s each at most)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)

        def stage(name: str) -> int:
            return 0 if "simulator" in name else 1 if "agent" in name else 3 if "broker" in name.lower() else 2

        order = sorted(reversed(self.running), key=lambda child: stage(child[0]))  # stable: reversed within a stage
        for _name, process in order:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A child set-up that makes the kernel send it SIGTERM when the demo dies (Linux only), so that
    a demo killed with SIGKILL leaves no orphans holding its ports."""
    if not sys.platform.startswith("linux"):
        return None

    def arrange() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the demo died before the line above: go now
            os.kill(os.getpid(), signal.SIGTERM)
    return arrange


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # unwind through run()'s finally so the child processes stop too


def _listening(url: str) -> bool:
    """Whether an MQTT broker answers a CONNECT there (a bare TCP probe makes brokers log errors)."""
    where = urlparse(url)
    probe = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"cic-demo-probe-{os.getpid()}",
                        protocol=mqtt.MQTTv311)
    try:
        probe.connect(where.hostname or "127.0.0.1", where.port or 1883, keepalive=5)
        probe.disconnect()
        return True
    except OSError:
        return False


def _import_demo_areas(settings: Settings, base: str) -> None:
    """The town's synthetic planning areas (docs/PLANNING.md), idempotent on a restart; a failure is
    said and the demo goes on, as nothing else depends on them yet."""
    planning = importlib.import_module("analytics.planning.cli")
    plan = importlib.import_module("analytics.planning.plan")
    with plan.plan_client(settings.model_copy(update={"broker_url": base})) as client:  # a batch: long reads
        options = planning.ImportOptions(planning.DEMO_AREAS, planning.DEMO_REGISTRATIONS)
        if planning.import_main(settings, options, client) != 0:
            log.warning("the demo's planning areas were not imported (see above)")


def run(settings: Settings, *, fresh: bool = False) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGHUP, _stop_on_sigterm)  # the terminal closed: stop the children too
    lock = ports.DataDirLock(settings.data_dir)
    refused = lock.acquire() or ports.problem(ports.demo_ports(settings, mqtt=not _listening(settings.mqtt_url)))
    if refused:  # before the banner, before anything is started
        print(f"cic demo: {refused}", file=sys.stderr, flush=True)
        lock.release()
        return 2
    if fresh:
        removed = demo_clock.forget(settings.data_dir)
        print(f"--fresh: removed {', '.join(p.name for p in removed) or 'nothing'} from {settings.data_dir}/",
              flush=True)
    town, clock_note = demo_clock.begin(settings.data_dir, settings.demo_history_days, fresh=fresh,
                                        now=datetime.now(UTC))
    clock = WorldClock.anchored(town.reached, settings.demo_speed)
    print(clock_note, flush=True)
    base = f"http://127.0.0.1:{settings.broker_port}"
    simulator = f"http://127.0.0.1:{settings.simulator_port}"
    ocpi_status = f"http://127.0.0.1:{settings.ocpi_agent_port}"
    parking_status = f"http://127.0.0.1:{settings.parking_agent_port}"
    analytics_status = f"http://127.0.0.1:{settings.analytics_port}"
    dashboard = f"http://127.0.0.1:{settings.dashboard_port}"
    opendata = f"http://127.0.0.1:{settings.opendata_port}"
    env = {**os.environ, "CIC_BROKER_URL": base, "CIC_DATA_DIR": str(settings.data_dir),
           "CIC_SIMULATOR_URL": simulator, "CIC_SIMULATOR_PORT": str(settings.simulator_port),
           "CIC_OCPI_AGENT_PORT": str(settings.ocpi_agent_port),
           "CIC_PARKING_AGENT_PORT": str(settings.parking_agent_port),
           "CIC_MQTT_URL": settings.mqtt_url, "CIC_MQTT_PROTOCOL": settings.mqtt_protocol,
           "CIC_ANALYTICS_PORT": str(settings.analytics_port), "CIC_DEMAND_RETRAIN_MINUTES": "10",
           "CIC_PLAN_EVERY_HOURS": "6",  # a plan every 6 simulated hours (6 minutes at 60x): the map keeps up
           "CIC_DASHBOARD_PORT": str(settings.dashboard_port), "CIC_DASHBOARD_HOST": "127.0.0.1",
           "CIC_OPENDATA_PORT": str(settings.opendata_port), "CIC_OPENDATA_HOST": "127.0.0.1",
           # the simulators run ahead of the wall clock, all on the one clock of this run
           "CIC_PARKING_MAX_CLOCK_SKEW": "0", "CIC_ANALYTICS_TIME_SCALE": repr(settings.demo_speed),
           **clock.environment()}
    children = _Children(env)
    try:
        mqtt_note = f"{settings.mqtt_url} (already running)"
        if not _listening(settings.mqtt_url):
            protocol = importlib.import_module("agents.mqtt_broker").embedded_protocol()
            env["CIC_MQTT_PROTOCOL"] = protocol
            port = urlparse(settings.mqtt_url).port or 1883
            children.start("MQTT broker", ["mqtt", "--port", str(port), "--data-dir", str(settings.data_dir)],
                           lambda: _listening(settings.mqtt_url))
            mqtt_note = f"{settings.mqtt_url} ({'Mosquitto' if protocol == '5' else 'embedded amqtt, MQTT 3.1.1'})"
        children.start("broker", ["broker", "--host", "127.0.0.1", "--port", str(settings.broker_port),
                                  "--data-dir", str(settings.data_dir)], _answers(base + "/version"))
        _import_demo_areas(settings, base)
        # weeks of simulated past (replayed from the same origin on a restart), so that the forecasts
        # have history from the start
        children.start("CPO simulator", ["simulate", "cpo", "--speed", repr(settings.demo_speed),
                                         "--history-days", repr(town.history.total_seconds() / 86400)],
                       _answers(simulator + "/admin/cpoA/summary"))
        children.start("OCPI agent", ["agent", "ocpi"], _answers(ocpi_status + "/health"))
        children.start("parking agent", ["agent", "parking"], _answers(parking_status + "/status"))
        children.start("bay sensor simulator", ["simulate", "parking", "--speed", repr(settings.demo_speed)],
                       lambda: True)
        children.start("analytics", ["analytics"], _answers(analytics_status + "/status"))
        children.start("dashboard", ["dashboard"], _answers(dashboard + "/health"))
        children.start("open-data feed", ["opendata"], _answers(opendata + "/health"))
        context = ldcontext.project_context_url(base)
        link = f"Link: <{context}>; rel=\"http://www.w3.org/ns/json-ld#context\""
        print(f"""
CitiesInCharge demo is up (data in {settings.data_dir}/). Simulated time runs {settings.demo_speed:g}x real time,
after {town.history.days} simulated days of history (the first OCPI sync takes a few minutes to bring them in).
  dashboard          : {dashboard}/   (Overview, Reliability & SLA, Blocked bays, Demand, Energy & revenue,
                       Where next)
  open data          : {opendata}/stations.geojson, {opendata}/ocpi/2.2.1/locations,
                       {opendata}/ngsi-ld/v1/entities?type=EVChargingStation  (public data only, licences:
                       {opendata}/licences)
  NGSI-LD broker     : {base}/ngsi-ld/v1   (version: {base}/version, metrics: {base}/metrics)
  API docs (offline) : {base}/docs
  project @context   : {context}
  simulated CPOs     : {simulator}/ocpi/cpoA/versions (2.2.1), cpoB (2.1.1), cpoC (2.2.1, flaky)
  MQTT               : {mqtt_note}, bay sensors of three vendors
  OCPI agent status  : {ocpi_status}/status     (metrics: {ocpi_status}/metrics)
  parking agent      : {parking_status}/status  (metrics: {parking_status}/metrics)
  analytics workers  : {analytics_status}/status (health & SLA, blocked bays, energy & revenue, demand,
                       roll-out planning: cic plan --help)

Try:
  curl -s '{base}/ngsi-ld/v1/entities?type=EVChargingStation&count=true&limit=3&options=keyValues' -H '{link}'
  curl -s '{base}/ngsi-ld/v1/entities?type=EVSE&q=status==%22OUTOFORDER%22&options=keyValues' -H '{link}'
  curl -s '{base}/ngsi-ld/v1/entities?type=ParkingSpot&q=status==%22occupied%22&options=keyValues' -H '{link}'
  curl -s '{base}/ngsi-ld/v1/entities?type=Alert&q=data%5Bstatus%5D==%22open%22&options=keyValues' -H '{link}'
  curl -s '{base}/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&q=process==%22rapidReliability%22\
&options=keyValues' -H '{link}'
Press Ctrl-C to stop.""", flush=True)
        # every second (a few bytes): a killed demo loses at most that much of its clock
        children.watch(lambda: demo_clock.save(settings.data_dir, demo_clock.advanced(town, clock.now())))
        return 0
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        log.error("demo stopped: %s", error)
        return 1
    finally:
        children.stop()
        demo_clock.save(settings.data_dir, demo_clock.advanced(town, clock.now()))
