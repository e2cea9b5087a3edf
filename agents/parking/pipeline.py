"""From MQTT messages to ParkingSpot writes: judge each message, order, queue every change.

Per batch of messages (gathered for ``CIC_PARKING_BATCH_MS``) each message is judged on its own
(``agents/parking/reading.py``): the topic names the vendor mapping; the payload is decoded and
checked; the sensor id finds the bay in the registry. A message that cannot be read is quarantined
with a reason a person understands. A bay's event older than what is already known is stale and
dropped (late and duplicate deliveries are normal in MQTT); an event that repeats the known status
only refreshes the bay's heartbeat; every remaining change of a bay is queued, in event order (not
only its newest: the history is what the analytics read stays from), in the outbox in one
transaction together with the bays' new state and the batch's quarantined
messages, so every message of the batch has its outcome stored at once (and only then is
acknowledged).

One bad message never blocks the others: see ``Pipeline.process`` for what happens when storing
fails.

Event time comes from the run's one clock (``Settings.world_clock()``): a payload without a time of
its own (compact sensors) is stamped with the world clock's instant at its arrival, and so is a
bay found silent, so that in an accelerated demo they sit on the same time line as every other
event (wall-clock stamps there put alerts hours off and made a 240 min overstay last 0.3 min).
Each sensor is a ``Device`` entity (battery, last report), the target of the bay's ``refDevice``:
written in the same outbox batch as the bay updates, when its bay changes, its battery changes or
its last report is older than the bay's heartbeat, so a heartbeat does not cost a write each.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from citiesincharge import ids
from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError
from citiesincharge.worldclock import WorldClock
from mappings.engine import Mapping, MappingError

from ..db import AgentDb
from ..outbox import Outbox
from ..quarantine import Quarantine, Rejection
from . import reading
from .reading import Unreadable
from .registry import Bay, Registry

log = logging.getLogger(__name__)
MAX_AGE_S = 30 * 24 * 3600  # an event older than a month is not a live observation
RETRY_BASE_S = 0.5  # first wait before a failed message is tried again; doubles with each attempt
RETRY_MAX_S = 30.0
# Failures that say nothing about the messages: the agent's own store is locked, full or gone for a
# moment, or the broker could not be asked. The batch waits and is tried again as it is.
TRANSIENT: tuple[type[Exception], ...] = (sqlite3.OperationalError, NgsiLdClientError)


@dataclass
class Message:
    topic: str
    payload: bytes
    received: float  # epoch seconds
    mid: int = 0
    qos: int = 0
    connection: int = 0  # which MQTT connection it came in on (its packet id means something on that one)
    attempts: int = 0  # times processing it failed for a reason nobody foresaw
    retry_at: float = 0.0  # time.monotonic() before which it is not tried again


@dataclass(frozen=True)
class Reading:
    """A message read: the ParkingSpot update it means."""

    message: Message
    entity: dict[str, Any]
    bay: Bay
    observed: str  # ISO, UTC, "...Z"
    battery: float | None = None  # 0..1, as SDM Device batteryLevel


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
    quarantined: int = 0
    sites: set[str] = field(default_factory=set)
    queued_seq: int = 0
    newest: str | None = None  # observedAt of the newest event written
    done: list[Message] = field(default_factory=list)  # outcome stored: acknowledge them
    retry: list[Message] = field(default_factory=list)  # no outcome yet: to be processed again
    postponed: str | None = None  # why the whole batch waits (a transient failure)

    def merge(self, other: BatchResult) -> BatchResult:
        """The two results as one (for a batch stored one message at a time)."""
        for name in ("written", "stale", "repeated", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.sites |= other.sites
        self.queued_seq = max(self.queued_seq, other.queued_seq)
        self.newest = max(filter(None, (self.newest, other.newest)), default=None)
        self.done += other.done
        self.retry += other.retry
        self.postponed = self.postponed or other.postponed
        return self


@dataclass
class _Trace:
    """What is known so far of a message, for its quarantine row: which source, which record."""

    mapping: Mapping | None
    source: str
    record: str
    payload: Any

    def rejection(self, field: str, reason: str) -> Rejection:
        return Rejection(self.source, self.record, field, reason, self.payload)


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
                 max_clock_skew: float = 300, max_attempts: int = 5, clock: WorldClock | None = None) -> None:
        self.registry = registry
        self.db = db
        self.outbox = outbox
        self.quarantine = quarantine
        self.metrics = metrics
        self.broker_check = broker_check  # replicas: also compare with what the broker already holds
        self.max_clock_skew = max_clock_skew  # sensor clocks drift; further ahead is an impossible time
        self.max_attempts = max_attempts  # failures of one message, for unforeseen reasons, before quarantine
        self.clock = clock or WorldClock()  # event time of payloads that carry none (real time unless a demo)
        self.devices: dict[str, tuple[float | None, float]] = {}  # sensor -> (battery, wall time) last written
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
        """Judge every message and store all their outcomes; never fails for one message's sake.

        * A message that cannot be read is quarantined with its reason, in the batch's transaction.
        * A transient failure (``TRANSIENT``) postpones the whole batch as it is: nothing is
          quarantined for it and nothing acknowledged; the caller tries the batch again.
        * Any other failure is narrowed down by storing the batch one message at a time. The
          message that still fails is tried again later (with backoff) and quarantined after
          ``max_attempts`` failures, so it never holds back the others.
        """
        with self.lock:
            result = self._process(messages)
        self._count(result)
        return result

    def _process(self, messages: list[Message]) -> BatchResult:
        try:
            return self._store(messages)
        except TRANSIENT as error:
            log.warning("batch of %d messages postponed, to be tried again: %s", len(messages), error)
            return BatchResult(retry=list(messages), postponed=str(error))
        except Exception as error:
            if len(messages) == 1:
                return self._failed(messages[0], error)
            log.warning("storing a batch of %d messages failed (%s: %s); storing them one by one", len(messages),
                        type(error).__name__, error)
            result = BatchResult()
            for message in messages:
                result.merge(self._process([message]))
            return result

    def _store(self, messages: list[Message]) -> BatchResult:
        """Judge the messages, then store the changes and the rejections in one transaction."""
        result = BatchResult()
        readings: list[Reading] = []
        rejections: list[Rejection] = []
        for message in messages:
            verdict = self._judge(message)
            if verdict is None:
                result.retry.append(message)
                continue
            result.done.append(message)
            if isinstance(verdict, Reading):
                readings.append(verdict)
            else:
                rejections.append(verdict)
        per_bay = self._per_bay(readings, result)
        changed, updates = self._changes(per_bay, result)
        devices = self._devices([events[-1] for events in per_bay.values()], {e["id"] for e in changed})
        if updates or rejections or devices:
            def keep(conn: sqlite3.Connection) -> None:
                self._save(conn, updates)
                self.quarantine.insert(conn, rejections)

            result.queued_seq = self.outbox.put(changed + devices, also=keep)
            self.devices.update({d["serialNumber"]["value"]: (d.get("batteryLevel", {}).get("value"), time.time())
                                 for d in devices})
            self.states.update(updates)
            self.quarantine.announce(rejections)
        result.written = len(changed)
        result.quarantined = len(rejections)
        result.newest = max((e["status"]["observedAt"] for e in changed), default=None)
        return result

    def _judge(self, message: Message) -> Reading | Rejection | None:
        """What a message means, why it is rejected, or None: to be tried again later."""
        trace = self._trace(message)
        try:
            return self._read(message, trace)
        except Unreadable as error:
            return trace.rejection(error.field, error.reason)
        except Exception as error:  # nobody foresaw this one: tried again, quarantined after max_attempts
            return self._attempt_failed(message, trace, error)

    def _trace(self, message: Message) -> _Trace:
        mapping = self.registry.mapping_for_topic(message.topic)
        source = f"mqtt/{mapping.name}" if mapping else f"mqtt/{message.topic.split('/')[0]}"
        return _Trace(mapping, source, message.topic, message.payload[:500].decode("utf-8", "replace"))

    def _read(self, message: Message, trace: _Trace) -> Reading:
        """The ParkingSpot update a message means, or Unreadable with the reason."""
        mapping = trace.mapping
        if mapping is None:
            raise Unreadable("topic", "no source in the bay registry for this topic")
        record = reading.decode(message.payload, mapping)
        trace.payload = record
        envelope: dict[str, Any] = {"record": record, "topic": message.topic.split("/"),
                                    "received": _iso(self.event_time(message.received))}
        sensor = reading.sensor_id(mapping, envelope)
        trace.record = sensor
        bay = self.registry.by_sensor.get(sensor)
        if bay is None:
            raise Unreadable("sensor", "unknown sensor (not in the bay registry)")
        reading.check_state(mapping, envelope)
        observed = reading.observed_at(mapping, envelope)
        self._check_time(observed, self.event_time(message.received))
        return Reading(message, self._entity(mapping, bay, envelope), bay, observed,
                       reading.battery(mapping, envelope))

    def event_time(self, wall: float) -> float:
        """The run's event time (epoch seconds) at wall epoch second ``wall``."""
        return self.clock.at(wall).timestamp()

    def _devices(self, readings: Iterable[Reading], changed: set[str]) -> list[dict[str, Any]]:
        """Device entities due a write: their bay changed, their battery changed, or the last one
        written is older than the bay's heartbeat (so "last seen" stays within a heartbeat)."""
        out = []
        now = time.time()
        for current in readings:
            sensor = current.bay.sensor
            written = self.devices.get(sensor)
            spot = self.registry.spot_id(current.bay)
            if (written is not None and spot not in changed and written[0] == current.battery
                    and now - written[1] < self.registry.heartbeat_of(current.bay)):
                continue
            out.append(device(current.bay, spot, current.observed, current.battery))
        return out

    def _check_time(self, observed: str, received: float) -> None:
        """A sensor time far ahead of the message's arrival, or months behind, is not a live event."""
        age = received - _epoch(observed)
        if self.max_clock_skew and age < -self.max_clock_skew:
            raise Unreadable("time", f"impossible timestamp {observed} (in the future: {-age:.0f} s after the "
                                     f"message arrived)")
        if age > MAX_AGE_S:
            raise Unreadable("time", f"impossible timestamp {observed} (too old: {age / 86400:.0f} days before "
                                     f"the message arrived)")

    def _entity(self, mapping: Mapping, bay: Bay, envelope: dict[str, Any]) -> dict[str, Any]:
        entity_id = self.registry.spot_id(bay)
        try:
            if entity_id in self.states:  # a bay already written needs only its new status (see _slim)
                return {"id": entity_id, "type": mapping.target, "status": mapping.attribute(reading.STATE, envelope)}
            envelope.update(self.registry.envelope_parts(bay))
            return mapping.apply(envelope)
        except MappingError as error:
            raise Unreadable(error.field, reading.mapping_reason(mapping, error.field, error.reason)) from None

    def _attempt_failed(self, message: Message, trace: _Trace, error: Exception) -> Rejection | None:
        """Count a failure of the message; its rejection once it has failed ``max_attempts`` times."""
        message.attempts += 1
        what = f"{type(error).__name__}: {error}"
        if message.attempts >= self.max_attempts:
            return trace.rejection("processing", f"failed {message.attempts} times, the last time with {what}")
        message.retry_at = time.monotonic() + min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (message.attempts - 1))
        log.warning("message on %s failed (%s), attempt %d of %d; to be tried again", message.topic, what,
                    message.attempts, self.max_attempts, exc_info=message.attempts == 1)
        return None

    def _failed(self, message: Message, error: Exception) -> BatchResult:
        """A message whose outcome could not be stored: tried again, or quarantined on its own."""
        rejection = self._attempt_failed(message, self._trace(message), error)
        if rejection is None:
            return BatchResult(retry=[message])
        self.quarantine.add_all([rejection])
        return BatchResult(quarantined=1, done=[message])

    @staticmethod
    def _per_bay(readings: Iterable[Reading], result: BatchResult) -> dict[str, list[Reading]]:
        """A batch's events per bay, oldest first (ties: arrival order); the same status delivered twice
        in a row is one event."""
        per_bay: dict[str, list[Reading]] = {}
        for current in readings:
            per_bay.setdefault(current.entity["id"], []).append(current)
        for entity_id, events in per_bay.items():
            events.sort(key=lambda r: r.observed)  # stable: equal instants keep their arrival order
            kept = [events[0]]
            for current in events[1:]:
                if current.entity["status"]["value"] == kept[-1].entity["status"]["value"]:
                    result.repeated += 1
                else:
                    kept.append(current)
            per_bay[entity_id] = kept
        return per_bay

    def _changes(self, candidates: dict[str, list[Reading]], result: BatchResult
                 ) -> tuple[list[dict[str, Any]], dict[str, BayState]]:
        """The entities to write, in rounds, and the bays' new states (stale events and heartbeats sorted out).

        Every change of a bay goes on, not only its newest: under a burst a bay's occupied-then-free
        within one batch is a stay the analytics must see in the history (merging them lost a third of
        the changes). Round *k* holds each bay's *k*-th change, so the outbox can send each round as
        one batch in which no entity appears twice (brokers differ on a batch naming an entity twice).
        """
        known = self._broker_states(list(candidates)) if self.broker_check and candidates else {}
        rounds: list[list[dict[str, Any]]] = []
        updates: dict[str, BayState] = {}
        for entity_id, events in candidates.items():
            state = self.states.get(entity_id)
            status = state.status if state else known.get(entity_id, (None, None))[0]
            previous = max([s for s in (state.observed if state else None, known.get(entity_id, (None, None))[1])
                            if s], default=None)
            known_to_broker = state is not None or entity_id in known
            last_seen = state.last_seen if state else 0.0
            written = 0
            for current in events:
                if previous is not None and current.observed < previous:
                    result.stale += 1
                    continue
                previous = current.observed
                last_seen = max(current.message.received, last_seen)
                updates[entity_id] = BayState(current.entity["status"]["value"], current.observed, last_seen)
                if current.entity["status"]["value"] == status:
                    result.repeated += 1  # a heartbeat or a duplicate: nothing new for the context
                    continue
                status = current.entity["status"]["value"]
                if written == len(rounds):
                    rounds.append([])
                rounds[written].append(_slim(current.entity) if known_to_broker else current.entity)
                known_to_broker = True
                written += 1
                result.sites.add(current.bay.site)
        return [entity for batch in rounds for entity in batch], updates

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
    def _save(conn: sqlite3.Connection, updates: dict[str, BayState]) -> None:
        conn.executemany("INSERT OR REPLACE INTO bay_state VALUES (?, ?, ?, ?)",
                         [(i, s.status, s.observed, s.last_seen) for i, s in updates.items()])

    def _count(self, result: BatchResult) -> None:
        events = self.metrics.events
        events.labels("applied").inc(result.written)
        events.labels("stale").inc(result.stale)
        events.labels("repeated").inc(result.repeated)
        events.labels("quarantined").inc(result.quarantined)
        now = time.time()
        if result.newest is not None:
            self.metrics.lag.set(max(0.0, self.event_time(now) - _epoch(result.newest)))
        for site in result.sites:
            self.last_event[site] = now
            self.metrics.site_last_event.labels(site).set(now)

    # -- sensor health -----------------------------------------------------------------------
    def silent_bays(self, now: float | None = None) -> BatchResult:
        """Bays whose sensor has been silent longer than its heartbeat become 'unknown'."""
        now = now or time.time()
        result = BatchResult()
        with self.lock:
            changed: list[dict[str, Any]] = []
            updates: dict[str, BayState] = {}
            for bay in self.registry.bays:
                entity_id = self.registry.spot_id(bay)
                state = self.states.get(entity_id)
                last_seen = state.last_seen if state else self.started
                if (state and state.status == "unknown") or now - last_seen <= self.registry.heartbeat_of(bay):
                    continue
                envelope = self.registry.envelope_parts(bay)
                observed = _iso(self.event_time(now))
                changed.append(self._unknown(entity_id, envelope, observed))
                updates[entity_id] = BayState("unknown", observed, last_seen)
                result.sites.add(bay.site)
            if updates:
                result.queued_seq = self.outbox.put(changed, also=lambda conn: self._save(conn, updates))
                self.states.update(updates)
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


def device(bay: Bay, spot: str, observed: str, battery: float | None) -> dict[str, Any]:
    """The SDM Device of a bay's sensor: what it measures, for which bay, its last report and battery."""
    entity: dict[str, Any] = {
        "id": ids.entity_id("Device", bay.sensor), "type": "Device",
        "serialNumber": {"type": "Property", "value": bay.sensor},
        "deviceCategory": {"type": "Property", "value": ["sensor"]},
        "controlledProperty": {"type": "Property", "value": ["occupancy"]},
        "controlledAsset": {"type": "Relationship", "object": spot},
        "dateLastValueReported": {"type": "Property", "value": observed},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": list(bay.location)}}}
    if battery is not None:
        entity["batteryLevel"] = {"type": "Property", "value": battery}
    return entity
