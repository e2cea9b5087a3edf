"""``cic agent parking``: MQTT in, ParkingSpot and site counts out, status and metrics aside.

Threads: paho's network loop only appends messages to a list (it never waits on anything); the
worker takes that list every ``CIC_PARKING_BATCH_MS``, runs the pipeline, and then acknowledges
the messages whose outcome is stored (in the outbox, or in quarantine): killed at any moment, the
agent loses nothing, the MQTT broker redelivers. Messages without an outcome yet (the batch met a
transient failure, or one message keeps failing) stay in this process and are tried again: the
MQTT broker would redeliver them only after a reconnect. The outbox flusher writes to the NGSI-LD
broker; the site counter recounts occupancy from it.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import CollectorRegistry, Counter

from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings

from .. import mqtt as mqtt_setup
from ..db import AgentDb
from ..outbox import Outbox
from ..quarantine import Quarantine
from .pipeline import TRANSIENT, Message, Pipeline, PipelineMetrics
from .registry import Registry
from .sites import SiteCounter

log = logging.getLogger(__name__)
RETRY_PAUSE_S = 1.0  # wait after a transient failure (the agent's store busy) before trying a batch again


def default_client_id(data_dir: Path) -> str:
    """``cic-parking-<host>-<8 hex digits of the data directory>``: unique per agent instance (two
    demos on one machine no longer take each other's MQTT session), and the same on every restart of
    that instance, which a persistent session needs (the MQTT broker keeps our QoS 1 messages under
    this id while we are down). A data directory that already holds the agent state of the old
    default, ``cic-parking-<host>``, keeps that id, and so its session and its outbox."""
    host = socket.gethostname()
    legacy = f"cic-parking-{host}"
    if (data_dir / f"agent-parking-{legacy}.sqlite").exists():
        return legacy
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]
    return f"{legacy}-{digest}"


class ParkingAgent:
    def __init__(self, settings: Settings, registry: Registry, *, db_path: Path | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.client_id = settings.mqtt_client_id or default_client_id(Path(settings.data_dir))
        self.db = AgentDb(db_path or Path(settings.data_dir) / f"agent-parking-{self.client_id}.sqlite")
        self.metrics_registry = CollectorRegistry()
        self.quarantine = Quarantine(self.db, self.metrics_registry)
        self.client = NgsiLdClient(settings)
        self.outbox = Outbox(self.db, self.client, self.quarantine, self.metrics_registry, source="parking",
                             batch_size=1000)
        self.pipeline = Pipeline(registry, self.db, self.outbox, self.quarantine,
                                 PipelineMetrics(self.metrics_registry),
                                 broker_check=self.client if settings.mqtt_share_group else None,
                                 max_clock_skew=settings.parking_max_clock_skew,
                                 max_attempts=settings.parking_max_attempts,
                                 clock=settings.world_clock())  # one clock for event time (the demo's)
        self.sites = SiteCounter(registry, self.client, self.outbox)
        self.received = Counter("cic_parking_mqtt_messages_total", "MQTT messages received",
                                registry=self.metrics_registry)
        self.connected = False
        self._outage_since: float | None = None  # when MQTT became unreachable, while it is (paho's thread)
        self._inbox: list[Message] = []
        self._held: list[Message] = []  # received, no outcome yet: tried again (worker thread only)
        self._arrived = 0  # messages received (paho's thread only)
        self._settled = 0  # messages with their outcome stored, or redelivered anew (worker thread only)
        self.postponed: str | None = None  # why the last batch had to wait, while it waits
        self._connection = (0, True)  # (how many connects so far, whether the last one resumed our session)
        self._inbox_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.mqtt = mqtt_setup.client(settings, self.client_id, persistent=True, manual_ack=True)
        self.mqtt.on_connect = self._on_connect
        self.mqtt.on_connect_fail = self._on_connect_fail
        self.mqtt.on_disconnect = self._on_disconnect
        self.mqtt.on_message = self._on_message

    # -- MQTT callbacks (paho's thread: keep them short) -------------------------------------
    def topics(self) -> list[str]:
        group = self.settings.mqtt_share_group
        return [f"$share/{group}/{s.topic}" if group else s.topic for s in self.registry.sources]

    def _where(self) -> str:
        """The MQTT broker's address for people (never its credentials)."""
        url = urlparse(self.settings.mqtt_url)
        return f"{url.scheme}://{url.hostname}:{url.port or (8883 if url.scheme == 'mqtts' else 1883)}"

    def _unreachable(self, why: str, *, refused: bool = False) -> None:
        """Say so once per outage (paho retries every 1-30 s by itself); the next connect says it is back."""
        if self._outage_since is not None or self._stop.is_set():
            return
        self._outage_since = time.monotonic()
        (log.error if refused else log.warning)(
            "MQTT broker %s %s; retrying (sensor events wait there, in our session)", self._where(), why)

    def _on_connect(self, client: mqtt.Client, _userdata: Any, flags: mqtt.ConnectFlags, reason: ReasonCode,
                    _properties: Any) -> None:
        if reason.is_failure:
            self._unreachable(f"refused the connection: {reason}", refused=True)
            return
        with self._inbox_lock:
            self._connection = (self._connection[0] + 1, flags.session_present)
        self.connected = True
        client.subscribe([(topic, 1) for topic in self.topics()])
        if self._outage_since is not None:
            log.warning("MQTT broker %s reachable again after %.0f s; connected as %s", self._where(),
                        time.monotonic() - self._outage_since, self.client_id)
            self._outage_since = None
        log.info("MQTT connected as %s, subscribed to %s", self.client_id, ", ".join(self.topics()))

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        self._unreachable("unreachable")

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode,
                       _properties: Any) -> None:
        self.connected = False
        self._unreachable(f"connection lost ({reason})")

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.received.inc()
        self._arrived += 1
        with self._inbox_lock:
            self._inbox.append(Message(message.topic, bytes(message.payload), time.time(), message.mid, message.qos,
                                       connection=self._connection[0]))

    # -- worker ------------------------------------------------------------------------------
    def _work(self) -> None:
        pause = self.settings.parking_batch_ms / 1000
        next_heartbeat = time.monotonic() + 1.0
        while not self._stop.is_set():
            time.sleep(pause)
            batch = self._take()
            if batch:
                self._handle(batch)
            if time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + 1.0
                self._check_heartbeats()

    def _check_heartbeats(self) -> None:
        try:
            silent = self.pipeline.silent_bays()
        except TRANSIENT as error:  # the agent's store busy: the next round looks again
            log.warning("sensor heartbeat check postponed: %s", error)
            return
        self.sites.touch(silent.sites, silent.queued_seq)

    def _take(self) -> list[Message]:
        """Held messages due for another try (oldest first), then what arrived since."""
        with self._inbox_lock:
            arrived, self._inbox = self._inbox, []
            connection, resumed = self._connection
        waiting = [m for m in self._held + arrived if self._still_ours(m, connection, resumed)]
        self._settled += len(self._held) + len(arrived) - len(waiting)
        now = time.monotonic()
        self._held = [m for m in waiting if m.retry_at > now]
        return [m for m in waiting if m.retry_at <= now]

    @staticmethod
    def _still_ours(message: Message, connection: int, resumed: bool) -> bool:
        """Whether to process a message that arrived before the current connection: not when the
        resumed session redelivers it anyway (that copy is processed), and without acknowledging it
        when the session was lost (its packet id now means another message)."""
        if message.connection == connection:
            return True
        if resumed:
            return False
        message.qos = 0
        return True

    def _handle(self, batch: list[Message]) -> None:
        """Process a batch; acknowledge what has its outcome stored, hold the rest for another try."""
        try:
            result = self.pipeline.process(batch)
        except Exception:  # a fault outside any one message (the pipeline's own): keep them all
            log.exception("batch of %d messages failed; held for another try", len(batch))
            self._hold(batch, RETRY_PAUSE_S)
            return
        self.postponed = result.postponed
        self._settled += len(result.done)
        self.sites.touch(result.sites, result.queued_seq)
        for message in result.done:
            if message.qos:
                self.mqtt.ack(message.mid, message.qos)
        self._hold(result.retry, RETRY_PAUSE_S if result.postponed else 0.0)

    def _hold(self, messages: list[Message], pause: float) -> None:
        not_before = time.monotonic() + pause
        for message in messages:
            message.retry_at = max(message.retry_at, not_before)
        self._held.extend(messages)

    def _count_sites(self) -> None:
        while not self._stop.wait(self.settings.parking_site_interval):
            self.sites.recount()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Register the sites, then connect and process until stop()."""
        self.outbox.put([self.sites.site_entity(site, None) for site in self.registry.sites])
        self.outbox.start()
        for target, name in ((self._work, "parking-worker"), (self._count_sites, "parking-sites")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        mqtt_setup.connect(self.mqtt, self.settings, persistent=True)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.mqtt.disconnect()
        self.mqtt.loop_stop()
        self.outbox.stop()
        self.db.close()

    def status(self) -> dict[str, Any]:
        metric = self.pipeline.metrics
        events = next(iter(metric.events.collect()))
        samples = {s.labels["outcome"]: s.value for s in events.samples if s.name.endswith("_total")}
        lag = next(iter(metric.lag.collect())).samples[0].value
        return {"clientId": self.client_id, "mqttConnected": self.connected, "topics": self.topics(),
                "events": samples, "lagSeconds": round(lag, 3),
                "unacknowledged": self._arrived - self._settled, "postponed": self.postponed,
                "outbox": {"depth": self.outbox.depth(), "lastError": self.outbox.last_error},
                "quarantine": {"total": self.quarantine.count(), "recent": self.quarantine.recent(20)},
                "lastEventPerSite": {site: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
                                     for site, at in sorted(self.pipeline.last_event.items())}}
