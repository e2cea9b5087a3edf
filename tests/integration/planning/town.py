"""A scripted town for planning tests whose ranking is known by construction.

Three areas side by side. Busy's only charger charges every evening 17:00-23:00; Idle's charger is
never used; Bare has none and lies far from both (1.5 km and more).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analytics import kpis
from analytics.clock import iso
from analytics.planning.cli import ImportOptions, import_main
from citiesincharge.client import NgsiLdClient
from citiesincharge.settings import Settings

COUNCIL = "plantown"
ZONE = "Europe/London"
NOW = datetime(2026, 11, 20, tzinfo=UTC)
START = datetime(2026, 11, 1, tzinfo=UTC)


def square(west: float, size: float = 0.01) -> list[list[list[float]]]:
    south = 52.40
    return [[[west, south], [west + size, south], [west + size, south + size], [west, south + size], [west, south]]]


AREAS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"code": code, "name": name, "population": 2000,
                                       "householdsWithoutOffStreetParking": households},
     "geometry": {"type": "Polygon", "coordinates": square(west)}}
    for code, name, west, households in (("BUSY", "Busy", -1.52, 100), ("IDLE", "Idle", -1.50, 100),
                                         ("BARE", "Bare", -1.46, 400))]}
REGISTRATIONS = "area,date,count\n" + "".join(f"{code},{day},{count}\n" for code in ("BUSY", "IDLE", "BARE")
                                              for day, count in (("2025-01-01", 100), ("2025-07-01", 120),
                                                                 ("2026-01-01", 144)))
STATIONS = {"busy": (-1.515, 52.405), "idle": (-1.495, 52.405)}


def station(name: str) -> str:
    return f"urn:ngsi-ld:EVChargingStation:cpo:{name}"


def evse(name: str) -> str:
    return f"urn:ngsi-ld:EVSE:cpo:{name}:1"


def _status(name: str, value: str, moment: datetime) -> dict[str, Any]:
    return {"id": evse(name), "type": "EVSE",
            "status": {"type": "Property", "value": value, "observedAt": iso(moment)}}


def _monthly_energy(name: str, kwh: float, sessions: int, settings: Settings) -> list[list[dict[str, Any]]]:
    """The energy worker's monthly station KPIs, May to November, one upsert per month (its history)."""
    versions = []
    for month in range(5, 12):
        when = kpis.period("monthly", datetime(2026, month, 15, tzinfo=UTC), settings.zone())
        common = {"now": NOW, "subject_name": name, "description": "test", "formula": "test", "aggregated": [],
                  "organization": "cpo"}
        versions.append([kpis.kpi("energyDelivered", station(name), "station", when, kwh, unit="KWH", **common),
                         kpis.kpi("sessions", station(name), "station", when, sessions, **common)])
    return versions


def build_town(settings: Settings, client: NgsiLdClient, tmp_path: Path) -> None:
    """Areas with registrations, two stations with an EVSE each, a month of evenings, monthly energy KPIs."""
    (tmp_path / "areas.geojson").write_text(json.dumps(AREAS), "utf-8")
    (tmp_path / "evs.csv").write_text(REGISTRATIONS, "utf-8")
    assert import_main(settings, ImportOptions(tmp_path / "areas.geojson", tmp_path / "evs.csv"), client) == 0
    client.batch_upsert([{"id": station(name), "type": "EVChargingStation",
                          "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
                          "capacity": {"type": "Property", "value": 1}} for name, (lon, lat) in STATIONS.items()])
    client.batch_upsert([{"id": evse(name), "type": "EVSE",
                          "maxPower": {"type": "Property", "value": 22, "unitCode": "KWT"},
                          "refEVChargingStation": {"type": "Relationship", "object": station(name)},
                          "status": {"type": "Property", "value": "AVAILABLE",
                                     "observedAt": iso(START - timedelta(days=2))}} for name in STATIONS])
    for day in range((NOW - START).days):
        evening = START + timedelta(days=day, hours=17)
        client.batch_update([_status("busy", "CHARGING", evening)])
        client.batch_update([_status("busy", "AVAILABLE", evening + timedelta(hours=6))])
    for busy, idle in zip(_monthly_energy("busy", 300.0, 30, settings), _monthly_energy("idle", 10.0, 1, settings),
                          strict=True):
        assert client.batch_upsert(busy + idle).ok
