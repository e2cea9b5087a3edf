"""The broker's history and entity rows on disk: compact, and a database of the former layout still
opens (moved once, nothing lost), as the demo's data directory of an earlier version must."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from broker.attributes import parse_entity, parse_fragment
from broker.jsonld import ContextResolver
from broker.store import Store

TM = ContextResolver().term_map(None)
KPI = "urn:ngsi-ld:KeyPerformanceIndicator:reliability:EVSE:cpoA:CPA0001-1:daily"


def _kpi_value(day: int) -> dict[str, object]:
    return {"kpiValue": {"type": "Property", "value": 97.5 + day / 10, "observedAt": f"2026-03-{day + 1:02d}T00:00:00Z",
                         "unitCode": "P1", "provisional": {"type": "Property", "value": False},
                         "period": {"type": "Property", "value": {"from": f"2026-03-{day:02d}T00:00:00+00:00",
                                                                  "to": f"2026-03-{day + 1:02d}T00:00:00+00:00"}}}}


def test_a_month_of_kpi_values_costs_a_fraction_of_their_json(tmp_path: Path) -> None:
    store = Store(tmp_path / "broker.sqlite")
    store.create("", parse_entity({"id": KPI, "type": "KeyPerformanceIndicator", **_kpi_value(1)}, TM,
                                  "2026-03-02T00:00:05.000Z"))
    for day in range(2, 29):
        stamp = f"2026-03-{day + 1:02d}T00:00:05.000Z"
        store.update_attrs("", KPI, parse_fragment(_kpi_value(day), TM, stamp), "overwrite", stamp)
    instances = store.history("", KPI, None, None, None, None)
    (iri, values), = instances.items()
    assert iri.endswith("kpiValue") and [v["value"] for v in values] == [97.5 + d / 10 for d in range(1, 29)]
    stored = store._db.execute("SELECT SUM(LENGTH(doc)), COUNT(*) FROM history").fetchone()
    as_json = sum(len(orjson.dumps(v)) for v in values)
    print(f"{stored[1]} instances: {as_json} bytes of JSON stored in {stored[0]}")
    assert stored[1] == 28 and stored[0] * 3 < as_json
    assert store.history("", KPI, None, "2026-03-10T00:00:00.000Z", "2026-03-12T00:00:00.000Z", None)[iri][0][
        "value"] == 97.5 + 0.9  # time windows on the integer columns
    store.close()


def test_a_database_of_the_former_layout_is_moved_once_and_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "broker.sqlite"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE tenants (name TEXT PRIMARY KEY);
        CREATE TABLE entities (tenant TEXT NOT NULL, id TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (tenant, id))
            WITHOUT ROWID;
        CREATE TABLE attr_history (tenant TEXT NOT NULL, entity_id TEXT NOT NULL, attr TEXT NOT NULL,
            ts TEXT NOT NULL, modified_at TEXT NOT NULL, doc BLOB NOT NULL);
        CREATE INDEX attr_history_by_entity ON attr_history (tenant, entity_id, attr, ts);""")
    status = "https://uri.etsi.org/ngsi-ld/status"
    instances = [{"type": "Property", "value": s, "observedAt": f"2026-03-01T0{n}:00:00.000Z",
                  "createdAt": "2026-03-01T00:00:01.000Z", "modifiedAt": f"2026-03-01T0{n}:00:01.000Z"}
                 for n, s in enumerate(["AVAILABLE", "CHARGING", "OUTOFORDER"])]
    entity = {"id": "urn:ngsi-ld:EVSE:cpoA:1", "type": ["https://citiesincharge.org/ns/EVSE"],
              "attrs": {status: [instances[-1]]}, "createdAt": "2026-03-01T00:00:01.000Z",
              "modifiedAt": "2026-03-01T02:00:01.000Z"}
    old.execute("INSERT INTO entities VALUES ('', ?, ?)", (entity["id"], orjson.dumps(entity)))
    old.executemany("INSERT INTO attr_history VALUES ('', ?, ?, ?, ?, ?)",
                    [(entity["id"], status, i["observedAt"], i["modifiedAt"], orjson.dumps(i)) for i in instances])
    old.commit()
    old.close()

    store = Store(path)
    assert store.get("", entity["id"]) == entity
    assert store.history("", entity["id"], None, None, None, None) == {status: instances}
    assert store.history("", entity["id"], [status], None, None, 1) == {status: instances[-1:]}
    tables = {row[0] for row in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "attr_history" not in tables
    store.close()
    again = Store(path)  # moved once: a second start finds the compact layout and the same content
    assert again.history("", entity["id"], None, None, None, None) == {status: instances}
    again.close()


def test_rows_of_the_layout_before_instance_ids_keep_their_number_as_instance_id(tmp_path: Path) -> None:
    """The compact layout without ``history.id`` / ``history_entities.types`` opens once migrated:
    every row's instanceId is its former rowid (nothing renumbered), types are filled from the
    entities that still exist, and the rows read the same."""
    path = tmp_path / "broker.sqlite"
    store = Store(path)
    store.create("", parse_entity({"id": KPI, "type": "KeyPerformanceIndicator", **_kpi_value(1)}, TM,
                                  "2026-03-02T00:00:05.000Z"))
    store.update_attrs("", KPI, parse_fragment(_kpi_value(2), TM, "2026-03-03T00:00:05.000Z"), "overwrite",
                       "2026-03-03T00:00:05.000Z")
    before = store.history("", KPI, None, None, None, None, instance_ids=True)
    store.close()
    old = sqlite3.connect(path)  # back to the former layout, rowids with a gap as deletions leave
    old.executescript("""
        CREATE TABLE old_history (entity INTEGER NOT NULL, attr INTEGER NOT NULL, ts INTEGER NOT NULL,
            modified_at INTEGER NOT NULL, doc BLOB NOT NULL);
        INSERT INTO old_history (rowid, entity, attr, ts, modified_at, doc)
            SELECT id, entity, attr, ts, modified_at, doc FROM history;
        DROP TABLE history;
        ALTER TABLE old_history RENAME TO history;
        CREATE INDEX history_by_entity ON history (entity, attr, ts);
        ALTER TABLE history_entities DROP COLUMN types;""")
    old.commit()
    old.close()

    again = Store(path)
    assert again.history("", KPI, None, None, None, None, instance_ids=True) == before
    recorded = again.temporal.entity("", KPI)
    assert recorded is not None and recorded.types == again.get("", KPI)["type"]
    columns = {row[1] for row in again._db.execute("PRAGMA table_info(history)")}
    assert "id" in columns
    again.close()
