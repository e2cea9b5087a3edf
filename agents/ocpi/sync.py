"""One operator's synchronisation: fetch pages, map records, write only what changed.

Per module: pages since the module's ``date_from`` cursor (everything on a full sync), each
record mapped by the mapping library (a bad record is quarantined, the rest of the page goes
on), changed entities queued in the outbox together with their fingerprints, and the cursor
advanced last, so a sync cut short is simply repeated. A full Locations sync also reconciles
EVSEs that vanished from the operator's data: they are written as status REMOVED.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from mappings.engine import Mapping, MappingError, mapping_for
from mappings.transforms import TransformError, datetime_utc

from ..outbox import Outbox
from ..quarantine import Quarantine, Rejection
from .client import OcpiClient, OcpiError
from .config import Module, OperatorConfig
from .locations import LocationMapper, Mapped, Part
from .objects import ObjectStore
from .state import SyncState

log = logging.getLogger(__name__)
_OBJECT = {"locations": "Location", "sessions": "Session", "cdrs": "CDR", "tariffs": "Tariff"}


@dataclass
class ModuleOutcome:
    """What the last sync of one module did with the records it fetched: how many gave entities
    (delivered), and what was quarantined (records or, for Locations, EVSEs and connectors), by
    reason, so that a person sees a module that delivers nothing even when no request failed."""

    fetched: int = 0
    delivered: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # "field: reason" -> how many
    notes: dict[str, int] = field(default_factory=dict)  # delivered, with a caveat -> how many

    def quarantine(self, field_name: str, reason: str) -> None:
        self.quarantined += 1
        key = f"{field_name}: {reason}"
        self.reasons[key] = self.reasons.get(key, 0) + 1

    def note(self, text: str) -> None:
        self.notes[text] = self.notes.get(text, 0) + 1

    @property
    def empty_handed(self) -> bool:
        """Records came and none of them could be used."""
        return self.fetched > 0 and self.delivered == 0


@dataclass
class OperatorStatus:
    """What the status endpoint shows about one operator. ``errors`` holds each failing module's
    current error; ``last_error`` is the one that matters most (a refused token before a server
    error a later request met: see ``_RANK``), not simply the latest."""

    name: str
    version: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    consecutive_failures: int = 0
    records: dict[str, int] = field(default_factory=dict)
    entities_written: int = 0
    stale_skipped: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    modules: dict[str, ModuleOutcome] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# what a person must fix first: our token or version, our request, reaching them, then their side
_RANK: dict[str, int] = {"auth": 0, "version": 1, "client": 2, "unreachable": 3, "timeout": 4, "malformed": 5,
                         "server": 6}


class SyncMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter("cic_ocpi_records_total", "OCPI records fetched", ["operator", "module"],
                               registry=registry)
        self.queued = Counter("cic_ocpi_entities_queued_total", "changed entities queued for the broker",
                              ["operator", "module"], registry=registry)
        self.errors = Counter("cic_ocpi_sync_errors_total", "failed syncs by kind", ["operator", "kind"],
                              registry=registry)
        self.duration = Histogram("cic_ocpi_sync_seconds", "duration of one module sync", ["operator", "module"],
                                  registry=registry)
        self.last_success = Gauge("cic_ocpi_last_success_timestamp", "time of the last successful sync",
                                  ["operator"], registry=registry)


def _normalised(stamp: str) -> str | None:
    try:
        return datetime_utc(stamp, {})
    except TransformError:
        return None


def _degraded(entity: dict[str, Any]) -> list[str]:
    """Caveats of an entity that was written anyway: a session or CDR without its EVSE (OCPI
    requires the EVSE uid; a peer that leaves it out still says which station) is attributed to
    its station only, and says so."""
    if entity["type"] in ("ChargingSession", "ChargeDetailRecord") and "refEVSE" not in entity:
        return ["no EVSE uid: attributed to its station only (refEVChargingStation, no refEVSE)"]
    return []


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OperatorSync:
    def __init__(self, operator: OperatorConfig, state: SyncState, outbox: Outbox, quarantine: Quarantine,
                 metrics: SyncMetrics, *, secrets: dict[str, str], timeout: float, retries: int,
                 objects: ObjectStore | None = None) -> None:
        self.operator = operator
        self.state = state
        self.objects = objects or ObjectStore(state.db)
        self.outbox = outbox
        self.quarantine = quarantine
        self.metrics = metrics
        self.secrets = secrets
        self.client = OcpiClient(operator, timeout=timeout, retries=retries)
        self.status = OperatorStatus(operator.name)
        self.lock = threading.RLock()  # one sync or push at a time per operator
        self._errors: dict[str, OcpiError] = {}  # current error per module

    def sync(self, module: Module, *, full: bool = False) -> bool:
        """One sync of one module; False (and the error on the status) when it failed."""
        with self.lock:
            started = time.perf_counter()
            try:
                if self.client.version is None:
                    self.status.version = self.client.negotiate()
                queued = self._sync(module, full)
            except OcpiError as error:
                self._failed(module, error)
                return False
            except LookupError as error:  # no token configured, no mapping for the version
                self._failed(module, OcpiError(self.operator.name, "client", str(error)))
                return False
            self.metrics.duration.labels(self.operator.name, module).observe(time.perf_counter() - started)
            self.metrics.last_success.labels(self.operator.name).set(time.time())
            self.status.last_success = _now()
            self.status.consecutive_failures = 0
            self._errors.pop(module, None)
            self._report_errors()
            log.info("%s %s%s: %d changed entities queued", self.operator.name, module,
                     " (full)" if full else "", queued)
            return True

    def _failed(self, module: Module, error: OcpiError) -> None:
        self.metrics.errors.labels(self.operator.name, error.kind).inc()
        self._errors[module] = error
        self._report_errors()
        self.status.last_error_at = _now()
        self.status.consecutive_failures += 1
        if error.kind in ("auth", "version", "client"):
            self.client.version = None  # renegotiate next time: endpoints or versions may have moved
        log.warning("operator %s: %s", self.operator.name, error)

    def _report_errors(self) -> None:
        """Each failing module's error, and the one that matters most as ``last_error``."""
        self.status.errors = {module: str(error) for module, error in self._errors.items()}
        ranked = sorted(self._errors.values(), key=lambda e: _RANK.get(e.kind, len(_RANK)))
        self.status.last_error = str(ranked[0]) if ranked else None

    def _mappers(self, module: Module, version: str, source: str) -> tuple[Mapping, LocationMapper | None]:
        mapping = mapping_for("ocpi", version, _OBJECT[module])
        locations = LocationMapper(mapping, mapping_for("ocpi", version, "EVSE"), cpo=self.operator.name,
                                   source=source, party_id=self.operator.party_id,
                                   country_code=self.operator.country_code, secrets=self.secrets,
                                   known=self.state.known) if module == "locations" else None
        return mapping, locations

    def receive(self, module: Module, version: str, record: dict[str, Any]) -> Mapped:
        """A full object a CPO pushed (a PUT, or a PATCH merged with the last full object): mapped,
        quarantined and queued exactly as a polled record, under the same lock as the polls."""
        with self.lock:
            source = self.client.endpoints.get(module, "")
            mapping, locations = self._mappers(module, version, source)
            mapped, _ = self._map(module, record, mapping, locations, source)
            self.objects.keep(self.operator.name, module, [record])
            queued = self._queue(module, mapped.entities)
            log.info("%s %s pushed %s: %d changed entities queued", self.operator.name, module,
                     record.get("id"), queued)
            return mapped

    def learn_endpoints(self) -> None:
        """Negotiate once if not done yet, so that pushed records name the same ``source`` (the
        operator's module endpoint) as polled ones; a CPO that cannot be reached now is no reason
        to refuse its push (``source`` is then empty, and set by the next poll)."""
        if self.client.version is not None:
            return
        with self.lock:
            try:
                self.status.version = self.client.negotiate()
            except (OcpiError, LookupError) as error:
                log.info("operator %s: endpoints not learnt before its push: %s", self.operator.name, error)

    def _sync(self, module: Module, full: bool) -> int:
        name = self.operator.name
        version = self.client.version or ""
        source = self.client.endpoints.get(module, "")
        mapping, locations = self._mappers(module, version, source)
        cursor = None if full else self.state.cursor(name, module)
        newest = cursor
        crawl_started: str | None = None
        seen_evses: set[str] | None = set() if full and module == "locations" else None
        queued = 0
        outcome = self.status.modules[module] = ModuleOutcome()
        for page in self.client.pages(module, {"date_from": cursor} if cursor else {}):
            if crawl_started is None and page.server_time:
                crawl_started = _normalised(page.server_time)
            self.metrics.records.labels(name, module).inc(len(page.records))
            self.status.records[module] = self.status.records.get(module, 0) + len(page.records)
            outcome.fetched += len(page.records)
            self.objects.keep(name, module, page.records)  # what a later PATCH is merged with
            entities: list[dict[str, Any]] = []
            for record in page.records:
                mapped, updated = self._map(module, record, mapping, locations, source)
                outcome.delivered += bool(mapped.entities)
                entities += mapped.entities
                if seen_evses is not None:
                    seen_evses.update(e["id"] for e in mapped.entities if e["type"] == "EVSE")
                    seen_evses.update(mapped.kept)
                if updated and (newest is None or updated > newest):
                    newest = updated
            queued += self._queue(module, entities)
        if seen_evses is not None:
            queued += self._queue(module, self._removed(seen_evses))
        # Next time ask for what changed since this crawl began, by the operator's own clock; without
        # a server timestamp, since the newest record seen (re-fetching that second is harmless).
        following = crawl_started or newest
        if following is not None and following != cursor:
            self.outbox.put([], also=lambda conn: SyncState.save_cursor(conn, name, module, following))
        return queued

    def _map(self, module: Module, record: Any, mapping: Mapping, locations: LocationMapper | None,
             source: str) -> tuple[Mapped, str | None]:
        """Entities of one record (a Location gives its station and its EVSEs); what cannot be mapped
        is quarantined, for a Location at the grain of the bad part (see ``locations``)."""
        key = str(record.get("id") or record.get("uid") or "(no id)") if isinstance(record, dict) else "(not an object)"
        try:
            if not isinstance(record, dict):
                raise MappingError(mapping.name, key, "record", "not a JSON object")
            updated = datetime_utc(record.get("last_updated"), {})
            if locations is not None:
                mapped = locations.map(record)
            else:
                envelope = {"record": record, "cpo": self.operator.name, "source": source,
                            "party_id": self.operator.party_id, "country_code": self.operator.country_code}
                mapped = Mapped([mapping.apply(envelope, self.secrets)])
        except MappingError as error:
            mapped = Mapped(rejected=[Part(error.record if error.record != "(no id)" else key, error.field,
                                           error.reason, record)])
            updated = None
        except TransformError as error:
            mapped, updated = Mapped(rejected=[Part(key, "last_updated", str(error), record)]), None
        for entity in mapped.entities:
            mapped.notes += _degraded(entity)
        self._account(module, key, mapped)
        return mapped, updated

    def _account(self, module: Module, key: str, mapped: Mapped) -> None:
        """Quarantine the rejected parts; log and count what was kept with a note."""
        where = f"{self.operator.name}/{module}"
        if mapped.rejected:
            self.quarantine.add_all([Rejection(where, p.record, p.field, p.reason, p.payload) for p in mapped.rejected])
        outcome = self.status.modules.setdefault(module, ModuleOutcome())
        for part in mapped.rejected:
            outcome.quarantine(part.field, part.reason)
        for note in mapped.notes:
            outcome.note(note)
            log.info("%s record %s: %s", where, key, note)

    def _queue(self, module: Module, entities: list[dict[str, Any]]) -> int:
        """Queue what changed, each entity with its licence and sharing level (issue 15 §1)."""
        policy = self.operator.policy
        changes = self.state.changed(self.operator.name, [policy.stamp(e, module) for e in entities])
        self.status.stale_skipped += changes.stale
        if changes.entities:
            self.outbox.put(changes.entities, also=lambda conn: SyncState.remember(conn, changes.rows))
            self.metrics.queued.labels(self.operator.name, module).inc(len(changes.entities))
            self.status.entities_written += len(changes.entities)
        return len(changes.entities)

    def _removed(self, seen: set[str]) -> list[dict[str, Any]]:
        gone = self.state.active_ids(self.operator.name, "EVSE") - seen
        now = _now()
        if gone:
            log.info("%s: %d EVSEs no longer in the operator's data, marked REMOVED", self.operator.name, len(gone))
        return [{"id": entity_id, "type": "EVSE", "status": {"type": "Property", "value": "REMOVED", "observedAt": now}}
                for entity_id in sorted(gone)]
