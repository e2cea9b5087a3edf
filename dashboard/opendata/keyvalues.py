"""The open entities as a plain NGSI-LD consumer reads them: ``GET /ngsi-ld/v1/entities?type=…``
in keyValues form, paged with ``limit``/``offset`` (``count=true`` adds ``NGSILD-Results-Count``),
and ``GET /ngsi-ld/v1/entities/{id}``; short names under the project @context, sent as a ``Link``
header (``application/json``) or inline (``Accept: application/ld+json``), as NGSI-LD says.

Only the attributes the snapshot read (source.py lists them) and never the system attributes; a
connector's tariff ids are kept only where the tariff itself is open.
"""

from __future__ import annotations

from typing import Any

from .entities import value
from .prices import tariff_entity
from .source import Snapshot

TYPES = ("EVChargingStation", "EVSE", "ChargingTariff")
_SYSTEM = ("createdAt", "modifiedAt")


def key_values(entity: dict[str, Any], snapshot: Snapshot) -> dict[str, Any]:
    out: dict[str, Any] = {"id": entity["id"], "type": entity["type"]}
    for name, attribute in entity.items():
        if name in ("id", "type", *_SYSTEM) or not isinstance(attribute, dict):
            continue
        out[name] = value(entity, name)
    if entity["type"] == "EVSE" and isinstance(out.get("connectors"), list):
        out["connectors"] = [_open_tariffs(c, entity, snapshot) for c in out["connectors"]]
    return out


def _open_tariffs(connector: Any, evse: dict[str, Any], snapshot: Snapshot) -> Any:
    if not isinstance(connector, dict) or not isinstance(connector.get("tariffIds"), list):
        return connector
    provider = str(value(evse, "dataProvider"))
    kept = [t for t in connector["tariffIds"]
            if (found := tariff_entity(provider, t)) is not None and snapshot.tariff(found) is not None]
    return connector | {"tariffIds": kept}


def of_type(snapshot: Snapshot, entity_type: str) -> list[dict[str, Any]]:
    return {"EVChargingStation": snapshot.stations, "EVSE": snapshot.evses,
            "ChargingTariff": snapshot.tariffs}[entity_type]


def by_id(snapshot: Snapshot, entity_id: str) -> dict[str, Any] | None:
    return next((e for t in TYPES for e in of_type(snapshot, t) if e["id"] == entity_id), None)
