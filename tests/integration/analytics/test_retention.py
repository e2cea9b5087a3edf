"""Retention: ended sessions, CDRs and closed alerts older than the window are deleted through
plain NGSI-LD; open and recent ones stay. The broker prunes attribute history older than its window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from analytics.clock import iso
from analytics.retention import sweep
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings
from tests.support import BrokerProcess, wait_until

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # event time of the data clock, injected


def _record(kind: str, name: str, **times: datetime) -> dict[str, Any]:
    entity: dict[str, Any] = {"id": f"urn:ngsi-ld:{kind}:t:{name}", "type": kind}
    for attribute, moment in times.items():
        entity[attribute] = {"type": "Property", "value": iso(moment)}  # as the OCPI mappings write them
    return entity


def test_sweep_deletes_what_ended_before_the_window(ngsi: NgsiLdClient) -> None:
    old, recent = NOW - timedelta(days=401), NOW - timedelta(days=399)
    entities = [_record("ChargingSession", "old", startDateTime=old, endDateTime=old),
                _record("ChargingSession", "recent", startDateTime=recent, endDateTime=recent),
                _record("ChargingSession", "active", startDateTime=old),  # never ended: kept
                _record("ChargeDetailRecord", "old", endDateTime=old),
                _record("ChargeDetailRecord", "recent", endDateTime=recent),
                _record("Alert", "closed", validFrom=old, validTo=old),
                _record("Alert", "open", validFrom=old)]
    assert ngsi.batch_upsert(entities).ok
    assert sweep(ngsi, NOW, 400) == {"ChargingSession": 1, "ChargeDetailRecord": 1, "Alert": 1}
    left = {e["id"].split(":", 2)[2] for t in ("ChargingSession", "ChargeDetailRecord", "Alert")
            for e in ngsi.query_entities(type=t)}
    assert left == {"ChargingSession:t:recent", "ChargingSession:t:active", "ChargeDetailRecord:t:recent",
                    "Alert:t:open"}
    assert sweep(ngsi, NOW, 400) == {"ChargingSession": 0, "ChargeDetailRecord": 0, "Alert": 0}  # idempotent


def test_the_broker_prunes_history_older_than_its_window(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path, CIC_HISTORY_RETENTION_DAYS="30", CIC_HISTORY_PRUNE_SECONDS="0.2")
    try:
        client = NgsiLdClient(Settings(broker_url=broker.url))
        wall = datetime.now(UTC)  # the broker's window is on its wall clock: instances relative to it
        for moment in (wall - timedelta(days=45), wall - timedelta(days=31), wall - timedelta(days=1)):
            client.batch_upsert([{"id": "urn:ngsi-ld:EVSE:t:1", "type": "EVSE",
                                  "status": {"type": "Property", "value": "AVAILABLE", "observedAt": iso(moment)}}])

        def kept() -> list[str]:
            body = requests.get(f"{broker.url}/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:EVSE:t:1",
                                params={"options": "temporalValues"}, timeout=5).json()
            return [stamp for _value, stamp in body.get("status", {}).get("values", [])]

        wait_until(lambda: len(kept()) == 1, timeout=20, interval=0.2)
        assert kept()[0] == iso(wall - timedelta(days=1))
    finally:
        broker.stop()
