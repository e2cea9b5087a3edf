"""From MQTT messages to ParkingSpot writes: decode, map, order, coalesce, queue.

Per batch of messages (gathered for ``CIC_PARKING_BATCH_MS``): the topic names the vendor
mapping; the payload is decoded (JSON or text) and mapped; the sensor id finds the bay in the
registry. A bay's event older than what is already known is stale and dropped (late and duplicate
deliveries are normal in MQTT); an event that repeats the known status only refreshes the bay's
heartbeat; the rest is coalesced per bay (the newest wins) and queued in the outbox in one
transaction together with the bays' new state. Anything that cannot be read is quarantined with
its reason and never holds up the others.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError
from mappings.engine import MappingError

from ..db import AgentDb
from ..outbox import Outbox
from ..quarantine import Quarantine
from .registry import Bay, Registry

log = logging.getLogger(__name__)
MAX_AGE_S = 30 * 24 * 3600  # an event older than a month is not a live observation


@dataclass
class Message:
    topic: str
    payload: bytes
    received: float  # epoch seconds
    mid: int = 0
    qos: int = 0


@dataclass
class BayState:
    status: str
    observed: str  # ISO, UTC, "...Z"
    last_seen: float  # epoch seconds of the last message from the sensor


@dataclass
class BatchResult:
    written: int = 0
    stale: int = 0
    repeated: int = 0
    coalesced: int = 0  # superseded by a newer event of the same bay in the same batch
    quarantined: int = 0
    sites: set[str] = field(default_factory=set)
    queued_seq: int = 0


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _slim(entity: dict[str, Any]) -> dict[str, Any]:
    """Only what changes from one event to the next: the registry-derived attributes (location,
    site, category, device) were written with the bay's first event and stay as they are."""
    return {"id": entity["id"], "type": entity["type"], "status": entity["status"]}


class PipelineMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter("cic_parking_events_total", "sensor events by outcome", ["outcome"], registry=registry)
        self.lag = Gauge("cic_parking_lag_seconds", "now minus the observation time of the last event applied",
                         registry=registry)
        self.site_last_event = Gauge("cic_parking_site_last_event_timestamp", "time of the last event per site",
                                     ["site"], registry=registry)


class Pipeline:
    def __init__(self, registry: Registry, db: AgentDb, outbox: Outbox, quarantine: Quarantine,
                 metrics: PipelineMetrics, *, broker_check: NgsiLdClient | None = None,
                 max_clock_skew: float = 300) -> None:
        self.registry = registry
        self.db = db
        self.outbox = outbox
        self.quarantine = quarantine
        self.metrics = metrics
        self.broker_check = broker_check  # replicas: also compare with what the broker already holds
        self.max_clock_skew = max_clock_skew  # sensor clocks drift; further ahead is an impossible time
        self.lock = threading.Lock()
        db.execute("CREATE TABLE IF NOT EXISTS bay_state (bay TEXT PRIMARY KEY, status TEXT, observed TEXT, "
                   "last_seen REAL)")
        self.states: dict[str, BayState] = {
            str(bay): BayState(str(status), str(observed), float(seen))
            for bay, status, observed, seen in db.execute("SELECT bay, status, observed, last_seen FROM bay_state")}
        self.started = time.time()
        self.last_event: dict[str, float] = {}

    # -- events ------------------------------------------------------------------------------
    def process(self, messages: list[Message]) -> BatchResult:
        result = BatchResult()
        with self.lock:
            candidates: dict[str, tuple[dict[str, Any], Bay, float]] = {}
            for message in messages:
                read = self._read(message)
                if read is None:
                    result.quarantined += 1
                    continue
                entity, bay = read
                newest = candidates.get(entity["id"])
                if newest is None:
                    candidates[entity["id"]] = (entity, bay, message.received)
                elif entity["status"] == newest[0]["status"]:
                    result.repeated += 1  # the same event delivered twice
                elif entity["status"]["observedAt"] > newest[0]["status"]["observedAt"]:
                    candidates[entity["id"]] = (entity, bay, message.received)
                    result.coalesced += 1
                else:
                    result.stale += 1
            known = self._broker_states(list(candidates)) if self.broker_check and candidates else {}
            changed: list[dict[str, Any]] = []
            updates: list[tuple[str, BayState]] = []
            for entity_id, (entity, bay, received) in candidates.items():
                status, observed = entity["status"]["value"], entity["status"]["observedAt"]
                state = self.states.get(entity_id)
                previous = max([s for s in (state.observed if state else None, known.get(entity_id, (None, None))[1])
                                if s], default=None)
                if previous is not None and observed < previous:
                    result.stale += 1
                    continue
                new_state = BayState(status, observed, max(received, state.last_seen if state else 0.0))
                updates.append((entity_id, new_state))
                same_status = state is not None and state.status == status
                if same_status or (entity_id in known and known[entity_id][0] == status):
                    result.repeated += 1  # a heartbeat or a duplicate: nothing new for the context
                    continue
                known_to_broker = state is not None or entity_id in known
                changed.append(_slim(entity) if known_to_broker else entity)
                result.sites.add(bay.site)
            if updates:
                result.queued_seq = self.outbox.put(changed, also=lambda conn: self._save(conn, updates))
                for entity_id, new_state in updates:
                    self.states[entity_id] = new_state
            result.written = len(changed)
        self._count(result, changed)
        return result

    def _read(self, message: Message) -> tuple[dict[str, Any], Bay] | None:
        """The ParkingSpot update a message means, or None (quarantined with the reason)."""
        where = f"mqtt/{message.topic.split('/')[0]}"
        mapping = self.registry.mapping_for_topic(message.topic)
        if mapping is None:
            self.quarantine.add(where, message.topic, "topic", "no source in the bay registry for this topic")
            return None
        where = f"mqtt/{mapping.name}"
        try:
            record: Any = orjson.loads(message.payload) if mapping.payload == "json" else message.payload.decode()
        except (orjson.JSONDecodeError, UnicodeDecodeError):
            self.quarantine.add(where, message.topic, "payload", f"not {mapping.payload}",
                                message.payload[:500].decode("utf-8", "replace"))
            return None
        envelope: dict[str, Any] = {"record": record, "topic": message.topic.split("/"),
                                    "received": _iso(message.received)}
        sensor = mapping.lookup_key(envelope)
        if sensor is None:
            self.quarantine.add(where, message.topic, "sensor", f"no sensor id at '{mapping.key}'", record)
            return None
        bay = self.registry.by_sensor.get(sensor)
        if bay is None:
            self.quarantine.add(where, sensor, "sensor", "unknown sensor (not in the bay registry)", record)
            return None
        entity_id = self.registry.spot_id(bay)
        try:
            entity: dict[str, Any]
            if entity_id in self.states:  # a bay already written needs only its new status (see _slim)
                entity = {"id": entity_id, "type": mapping.target, "status": mapping.attribute("status", envelope)}
            else:
                envelope.update(self.registry.envelope_parts(bay))
                entity = mapping.apply(envelope)
            observed = entity["status"]["observedAt"]
            age = message.received - _epoch(observed)
        except MappingError as error:
            self.quarantine.add(where, sensor, error.field, error.reason, record)
            return None
        if (self.max_clock_skew and age < -self.max_clock_skew) or age > MAX_AGE_S:
            self.quarantine.add(where, sensor, "time", f"impossible timestamp {observed} "
                                f"({'in the future' if age < 0 else 'too old'})", record)
            return None
        return entity, bay

    def _broker_states(self, entity_ids: list[str]) -> dict[str, tuple[str, str]]:
        """(status, observedAt) the broker already has for these bays (replica mode)."""
        assert self.broker_check is not None
        try:
            found = self.broker_check.entities_by_ids(entity_ids, attrs=["status"])
        except NgsiLdClientError as error:
            log.warning("cannot read current bay states from the broker (%s); using local state", error)
            return {}
        return {i: (str(e["status"]["value"]), str(e["status"].get("observedAt", ""))) for i, e in found.items()
                if isinstance(e.get("status"), dict)}

    @staticmethod
    def _save(conn: sqlite3.Connection, updates: list[tuple[str, BayState]]) -> None:
        conn.executemany("INSERT OR REPLACE INTO bay_state VALUES (?, ?, ?, ?)",
                         [(i, s.status, s.observed, s.last_seen) for i, s in updates])

    def _count(self, result: BatchResult, changed: list[dict[str, Any]]) -> None:
        events = self.metrics.events
        events.labels("applied").inc(result.written)
        events.labels("stale").inc(result.stale)
        events.labels("repeated").inc(result.repeated)
        events.labels("coalesced").inc(result.coalesced)
        events.labels("quarantined").inc(result.quarantined)
        now = time.time()
        if changed:
            newest = max(e["status"]["observedAt"] for e in changed)
            self.metrics.lag.set(max(0.0, now - _epoch(newest)))
        for site in result.sites:
            self.last_event[site] = now
            self.metrics.site_last_event.labels(site).set(now)

    # -- sensor health -----------------------------------------------------------------------
    def silent_bays(self, now: float | None = None) -> BatchResult:
        """Bays whose sensor has been silent longer than its heartbeat become 'unknown'."""
        now = now or time.time()
        result = BatchResult()
        with self.lock:
            changed, updates = [], []
            for bay in self.registry.bays:
                entity_id = self.registry.spot_id(bay)
                state = self.states.get(entity_id)
                last_seen = state.last_seen if state else self.started
                if (state and state.status == "unknown") or now - last_seen <= self.registry.heartbeat_of(bay):
                    continue
                envelope = self.registry.envelope_parts(bay)
                observed = _iso(now)
                changed.append(self._unknown(entity_id, envelope, observed))
                updates.append((entity_id, BayState("unknown", observed, last_seen)))
                result.sites.add(bay.site)
            if updates:
                result.queued_seq = self.outbox.put(changed, also=lambda conn: self._save(conn, updates))
                for entity_id, new_state in updates:
                    self.states[entity_id] = new_state
                log.info("%d bays silent beyond their heartbeat: status unknown", len(updates))
        result.written = len(changed)
        return result

    @staticmethod
    def _unknown(entity_id: str, envelope: dict[str, Any], observed: str) -> dict[str, Any]:
        return {"id": entity_id, "type": "ParkingSpot",
                "status": {"type": "Property", "value": "unknown", "observedAt": observed},
                "refParkingSite": {"type": "Relationship", "object": envelope["site"]["entity_id"]},
                "category": {"type": "Property", "value": envelope["site"]["spot_category"]},
                "location": {"type": "GeoProperty", "value": {"type": "Point",
                                                               "coordinates": envelope["bay"]["location"]}}}
