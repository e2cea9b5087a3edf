"""``cic agent parking``: MQTT in, ParkingSpot and site counts out, status and metrics aside.

Threads: paho's network loop only appends messages to a list (it never waits on anything); the
worker takes that list every ``CIC_PARKING_BATCH_MS``, runs the pipeline, and then acknowledges
the messages to the MQTT broker, so a message is acknowledged only after it is stored durably (or
quarantined): killed at any moment, the agent loses nothing, the MQTT broker redelivers. The
outbox flusher writes to the NGSI-LD broker; the site counter recounts occupancy from it.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import CollectorRegistry, Counter

from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings

from .. import mqtt as mqtt_setup
from ..db import AgentDb
from ..outbox import Outbox
from ..quarantine import Quarantine
from .pipeline import Message, Pipeline, PipelineMetrics
from .registry import Registry
from .sites import SiteCounter

log = logging.getLogger(__name__)


class ParkingAgent:
    def __init__(self, settings: Settings, registry: Registry, *, db_path: Path | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.client_id = settings.mqtt_client_id or f"cic-parking-{socket.gethostname()}"
        self.db = AgentDb(db_path or Path(settings.data_dir) / f"agent-parking-{self.client_id}.sqlite")
        self.metrics_registry = CollectorRegistry()
        self.quarantine = Quarantine(self.db, self.metrics_registry)
        self.client = NgsiLdClient(settings)
        self.outbox = Outbox(self.db, self.client, self.quarantine, self.metrics_registry, source="parking",
                             batch_size=1000)
        self.pipeline = Pipeline(registry, self.db, self.outbox, self.quarantine,
                                 PipelineMetrics(self.metrics_registry),
                                 broker_check=self.client if settings.mqtt_share_group else None,
                                 max_clock_skew=settings.parking_max_clock_skew)
        self.sites = SiteCounter(registry, self.client, self.outbox)
        self.received = Counter("cic_parking_mqtt_messages_total", "MQTT messages received",
                                registry=self.metrics_registry)
        self.connected = False
        self._inbox: list[Message] = []
        self._inbox_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.mqtt = mqtt_setup.client(settings, self.client_id, persistent=True, manual_ack=True)
        self.mqtt.on_connect = self._on_connect
        self.mqtt.on_disconnect = self._on_disconnect
        self.mqtt.on_message = self._on_message

    # -- MQTT callbacks (paho's thread: keep them short) -------------------------------------
    def topics(self) -> list[str]:
        group = self.settings.mqtt_share_group
        return [f"$share/{group}/{s.topic}" if group else s.topic for s in self.registry.sources]

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode,
                    _properties: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connection refused: %s", reason)
            return
        self.connected = True
        client.subscribe([(topic, 1) for topic in self.topics()])
        log.info("MQTT connected as %s, subscribed to %s", self.client_id, ", ".join(self.topics()))

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode,
                       _properties: Any) -> None:
        self.connected = False
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._inbox_lock:
            self._inbox.append(Message(message.topic, bytes(message.payload), time.time(), message.mid, message.qos))

    # -- worker ------------------------------------------------------------------------------
    def _work(self) -> None:
        pause = self.settings.parking_batch_ms / 1000
        next_heartbeat = time.monotonic() + 1.0
        while not self._stop.is_set():
            time.sleep(pause)
            with self._inbox_lock:
                batch, self._inbox = self._inbox, []
            if batch:
                self.received.inc(len(batch))
                try:
                    result = self.pipeline.process(batch)
                except Exception:  # keep the messages unacknowledged: the MQTT broker redelivers them
                    log.exception("batch of %d messages failed; not acknowledged", len(batch))
                    continue
                self.sites.touch(result.sites, result.queued_seq)
                for message in batch:
                    if message.qos:
                        self.mqtt.ack(message.mid, message.qos)
            if time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + 1.0
                silent = self.pipeline.silent_bays()
                self.sites.touch(silent.sites, silent.queued_seq)

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
                "outbox": {"depth": self.outbox.depth(), "lastError": self.outbox.last_error},
                "quarantine": {"total": self.quarantine.count(), "recent": self.quarantine.recent(20)},
                "lastEventPerSite": {site: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
                                     for site, at in sorted(self.pipeline.last_event.items())}}
