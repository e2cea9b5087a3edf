"""The state of the network now: chargers by status, stations by what a driver would find, alerts.

Why here and not in a page: the Overview, Blocked bays and Reliability pages all read the same
live entities (EVSE statuses, open Alerts) and must classify them alike. Status counting follows
the OCPI vocabulary the EVSE entities keep: AVAILABLE is available; CHARGING, RESERVED, BLOCKED
are in use (charging); OUTOFORDER, INOPERATIVE are down; UNKNOWN, PLANNED are unknown; REMOVED
is left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from citiesincharge.timeutil import parse_utc

from .directory import Directory, Station
from .filters import Filters
from .reader import Reader, observed, value

CATEGORY = {"AVAILABLE": "available", "CHARGING": "charging", "RESERVED": "charging", "BLOCKED": "charging",
            "OUTOFORDER": "down", "INOPERATIVE": "down", "UNKNOWN": "unknown", "PLANNED": "unknown"}
KIND_LABELS = {"chargerDown": "charger down", "slaBreach": "SLA breach", "chargingBayBlocked": "bay blocked",
               "overstay": "overstay", "sensorSilent": "bay sensor silent"}
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "informational": 4}


@dataclass(frozen=True)
class Charger:
    id: str
    uid: str
    station: Station | None
    status: str  # OCPI
    category: str
    since: datetime | None  # observedAt of the status: when the charger last reported it
    power_kw: float | None


def chargers(reader: Reader, directory: Directory) -> list[Charger]:
    """Every known charger with its status now (read by id: the directory knows them)."""
    out = []
    for entity in reader.by_ids("EVSE", list(directory.chargers), ["status"]):
        status = str(value(entity, "status") or "UNKNOWN")
        known = directory.chargers.get(entity["id"])
        if status == "REMOVED" or known is None:
            continue
        out.append(Charger(entity["id"], known.uid, directory.stations.get(known.station or ""), status,
                           CATEGORY.get(status, "unknown"), observed(entity, "status"), known.power_kw))
    return out


def station_status(categories: Counter[str]) -> str:
    """What a driver finds at a station: a free charger (available), all in use (charging), none
    that works (down), or nothing known."""
    if categories["available"]:
        return "available"
    if categories["charging"]:
        return "charging"
    if categories["down"]:
        return "down"
    return "unknown"


@dataclass(frozen=True)
class Alert:
    id: str
    kind: str
    severity: str
    since: datetime | None
    until: datetime | None
    description: str
    subject: str
    operator: str | None
    station: Station | None
    site: str | None
    bay: str | None
    data: dict[str, Any]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def _moment(text: object) -> datetime | None:
    try:
        return parse_utc(text) if text else None
    except ValueError:
        return None


def alerts(reader: Reader, directory: Directory, q: str) -> list[Alert]:
    """Alerts matching ``q``, each tied to its station (directly, or through its bay's charger) and operator."""
    out = []
    for entity in reader.entities("Alert", q=q, attrs=["severity", "validFrom", "validTo", "description", "data",
                                                       "alertSource"]):
        data = value(entity, "data")
        data = data if isinstance(data, dict) else {}
        bay = data.get("bay") if isinstance(data.get("bay"), str) else None
        station = directory.stations.get(str(data.get("station") or "")) or directory.station_of_bay(bay)
        operator = data.get("operator") or (station.operator if station else None)
        subject = str(data.get("subject") or value(entity, "alertSource"))
        out.append(Alert(entity["id"], str(data.get("kind") or "alert"), str(value(entity, "severity") or "low"),
                         _moment(value(entity, "validFrom")), _moment(value(entity, "validTo")),
                         str(value(entity, "description") or ""), subject, str(operator) if operator else None,
                         station, str(data.get("site") or "") or None, bay, data))
    out.sort(key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), a.since.timestamp() if a.since else float("inf")))
    return out


def kept(alert: Alert, filters: Filters) -> bool:
    """Whether an alert is in the selection: by its station, or (an operator-wide alert such as an
    SLA breach) by its operator when no area or station is chosen."""
    if alert.station is not None:
        return filters.keeps(alert.station)
    if filters.area is not None or filters.station is not None:
        return False
    return filters.operator is None or alert.operator == filters.operator
