"""Alerts that are right (issue 9 §2): written only at their state changes, one open per subject
and kind (also across a restart), severities that mean something, descriptions that say where and
when in local time. Event time comes from an injected, accelerated world clock, so the severity
thresholds (tens of minutes) pass in seconds and nothing depends on when the test runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from analytics.alerts import alert_id
from analytics.clock import iso, parse
from citiesincharge.client import NgsiLdClient
from citiesincharge.sdm import schema_errors
from citiesincharge.worldclock import WorldClock
from tests.integration.analytics.conftest import ServiceFactory, alerts
from tests.support import wait_until

START = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # 12:00 GMT in London
SCALE = 1200.0  # 20 simulated minutes per wall second


def put(ngsi: NgsiLdClient, entity: dict[str, Any]) -> None:
    ngsi.batch_upsert([entity])


def evse(ngsi: NgsiLdClient, uid: str, status: str, when: datetime, *, station: str = "S1", power: float = 22,
         operator: str = "cpoT") -> None:
    put(ngsi, {"id": f"urn:ngsi-ld:EVSE:cpoT:{uid}", "type": "EVSE",
               "status": {"type": "Property", "value": status, "observedAt": iso(when)},
               "dataProvider": {"type": "Property", "value": operator},
               "refEVChargingStation": {"type": "Relationship",
                                        "object": f"urn:ngsi-ld:EVChargingStation:cpoT:{station}"},
               "maxPower": {"type": "Property", "value": power, "unitCode": "KWT"}})


def station(ngsi: NgsiLdClient, uid: str, name: str, street: str) -> None:
    put(ngsi, {"id": f"urn:ngsi-ld:EVChargingStation:cpoT:{uid}", "type": "EVChargingStation",
               "name": {"type": "Property", "value": name},
               "address": {"type": "Property", "value": {"streetAddress": street, "addressLocality": "Perth"}}})


def bay(ngsi: NgsiLdClient, name: str, status: str, when: datetime, evse_uid: str = "E1") -> None:
    put(ngsi, {"id": f"urn:ngsi-ld:ParkingSpot:P1:{name}", "type": "ParkingSpot",
               "name": {"type": "Property", "value": f"Bay {name.removeprefix('b')}"},
               "status": {"type": "Property", "value": status, "observedAt": iso(when)},
               "refParkingSite": {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:P1"},
               "refEVSE": {"type": "Relationship", "object": f"urn:ngsi-ld:EVSE:cpoT:{evse_uid}"}})


def town(ngsi: NgsiLdClient) -> None:
    station(ngsi, "S1", "Broxden Park & Ride", "Station Road")
    put(ngsi, {"id": "urn:ngsi-ld:OffStreetParking:P1", "type": "OffStreetParking",
               "name": {"type": "Property", "value": "Broxden Park & Ride"}})


def open_alerts(ngsi: NgsiLdClient, kind: str) -> list[dict[str, Any]]:
    found = ngsi.query_entities(type="Alert", q="!validTo", options="keyValues")  # the README's "open alerts"
    return [a for a in found if a["data"]["kind"] == kind]


def history(ngsi: NgsiLdClient, alert: str, attribute: str) -> list[Any]:
    """Every value the alert's ``attribute`` has had (the broker records a change, not a repeat)."""
    found = ngsi.temporal_entity(alert, attrs=[attribute], options="temporalValues")
    return [value for value, _at in found[attribute]["values"]]


@pytest.fixture
def clock() -> WorldClock:
    return WorldClock.anchored(START, SCALE)


def test_blocked_bay_is_written_at_open_each_severity_change_and_close_only(
        start_analytics: ServiceFactory, ngsi: NgsiLdClient, clock: WorldClock) -> None:
    town(ngsi)
    start_analytics(["violations"], analytics_time_scale=SCALE, violations_max_stay_minutes=24 * 60)
    evse(ngsi, "E1", "AVAILABLE", clock.now() - timedelta(hours=1))
    occupied = clock.now()
    bay(ngsi, "b2", "occupied", occupied)
    wait_until(lambda: alerts(ngsi, "chargingBayBlocked"), timeout=10, interval=0.02)
    [opened] = alerts(ngsi, "chargingBayBlocked")
    assert opened["id"] == alert_id("chargingBayBlocked", "urn:ngsi-ld:ParkingSpot:P1:b2", parse(opened["validFrom"]))
    assert "%" not in opened["id"] and opened["id"].endswith(parse(opened["validFrom"]).strftime("%Y%m%dT%H%M%SZ"))
    assert schema_errors(opened) == [] and opened["category"] == "traffic" and opened["subCategory"] == "carStopped"
    assert "durationMinutes" not in opened["data"] and opened["severity"] == "low"
    local = parse(opened["validFrom"]).strftime("%H:%M")  # November: London is on GMT
    assert opened["description"] == (f"Bay 2 at Broxden Park & Ride (Station Road) occupied while its charger is "
                                     f"not charging since {local} GMT")
    wait_until(lambda: alerts(ngsi, "chargingBayBlocked")[0]["severity"] == "high", timeout=20, interval=0.05)
    bay(ngsi, "b2", "free", clock.now())
    wait_until(lambda: alerts(ngsi, "chargingBayBlocked")[0]["data"]["status"] == "closed", timeout=10)
    [closed] = alerts(ngsi, "chargingBayBlocked")
    assert closed["id"] == opened["id"] and closed["dateIssued"] == opened["dateIssued"]
    assert closed["data"]["durationMinutes"] > 120  # the final duration, only once closed
    assert history(ngsi, closed["id"], "severity") == ["low", "medium", "high"]  # changed at thresholds only
    assert [d["status"] for d in history(ngsi, closed["id"], "data")] == ["open", "closed"]  # no duration ticking


def test_back_fill_adopts_the_open_alert_closes_duplicates_and_stale_ones_and_never_raises_a_second(
        start_analytics: ServiceFactory, ngsi: NgsiLdClient, clock: WorldClock) -> None:
    town(ngsi)
    now = clock.now()
    evse(ngsi, "E1", "AVAILABLE", now - timedelta(hours=3))
    bay(ngsi, "b1", "occupied", now - timedelta(hours=2))  # still blocked
    bay(ngsi, "b2", "free", now - timedelta(minutes=5), evse_uid="E1")  # its overstay's cause is gone
    older = now - timedelta(hours=2) + timedelta(minutes=10)

    def stored(kind: str, bay_name: str, since: datetime) -> dict[str, Any]:
        subject = f"urn:ngsi-ld:ParkingSpot:P1:{bay_name}"
        return {"id": alert_id(kind, subject, since), "type": "Alert",
                "category": {"type": "Property", "value": "traffic"},
                "alertSource": {"type": "Property", "value": subject},
                "dateIssued": {"type": "Property", "value": iso(since)},
                "validFrom": {"type": "Property", "value": iso(since)},
                "severity": {"type": "Property", "value": "low"},
                "description": {"type": "Property", "value": "left by an earlier run"},
                "data": {"type": "Property", "value": {"kind": kind, "subject": subject, "since": iso(since),
                                                       "status": "open", "bay": subject}}}

    kept = stored("chargingBayBlocked", "b1", older)
    duplicate = stored("chargingBayBlocked", "b1", older + timedelta(minutes=7))  # what older versions could leave
    stale = stored("overstay", "b2", now - timedelta(hours=6))
    ngsi.batch_upsert([kept, duplicate, stale])
    start_analytics(["violations"], analytics_time_scale=SCALE, violations_max_stay_minutes=24 * 60)
    wait_until(lambda: not open_alerts(ngsi, "overstay") and len(open_alerts(ngsi, "chargingBayBlocked")) == 1,
               timeout=10)
    bay(ngsi, "b3", "occupied", clock.now())  # a later event: its alert comes after any timer of the back-fill
    wait_until(lambda: any(a["alertSource"].endswith(":b3") for a in open_alerts(ngsi, "chargingBayBlocked")),
               timeout=10)
    b1 = [a for a in alerts(ngsi, "chargingBayBlocked") if a["alertSource"].endswith(":b1")]
    assert sorted((a["id"], a["data"]["status"]) for a in b1) == sorted(
        [(kept["id"], "open"), (duplicate["id"], "closed")])  # adopted: same id; never a second one
    [adopted] = [a for a in b1 if a["id"] == kept["id"]]
    assert adopted["validFrom"] == iso(older) and adopted["severity"] in ("medium", "high")  # re-judged: >= 110 min
    [closed] = alerts(ngsi, "overstay")
    assert closed["id"] == stale["id"] and closed["data"]["closedBecause"].startswith("the cause was gone")


@pytest.fixture
def sla(tmp_path: Path) -> Path:
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump({"default": {"availability": 99.0, "max_repair_hours": 1.0}}))
    return path


def test_charger_down_severity_follows_time_class_and_share_of_the_site(
        start_analytics: ServiceFactory, ngsi: NgsiLdClient, clock: WorldClock, sla: Path) -> None:
    town(ngsi)
    station(ngsi, "S2", "Riverside Rapid Hub", "Shore Road")
    start_analytics(["health"], analytics_time_scale=SCALE, sla_file=sla)
    before = clock.now() - timedelta(hours=1)
    for uid, site, power in (("A", "S1", 22), ("B", "S1", 22), ("C", "S1", 22), ("R", "S2", 150), ("D", "S2", 22)):
        evse(ngsi, uid, "AVAILABLE", before, station=site, power=power)
    down = clock.now()
    evse(ngsi, "A", "OUTOFORDER", down)
    evse(ngsi, "R", "OUTOFORDER", down, station="S2", power=150)
    wait_until(lambda: len(open_alerts(ngsi, "chargerDown")) == 2, timeout=15, interval=0.05)
    found = {a["data"]["evse"].rsplit(":", 1)[-1]: a for a in open_alerts(ngsi, "chargerDown")}
    assert found["A"]["severity"] == "medium"  # at its repair time; one of three chargers of its site
    assert found["R"]["severity"] == "critical"  # rapid (+1) and half of its site down (+1)
    assert found["A"]["category"] == "environment" and schema_errors(found["A"]) == []
    assert found["A"]["description"].startswith("Charger A at Broxden Park & Ride (Station Road) of cpoT out of "
                                                "service since 10 Nov 2026 ")
    assert found["A"]["description"].endswith(" GMT, beyond the 1 h to repair")
    assert found["A"]["data"]["organization"] == "urn:ngsi-ld:Organization:cpoT"
    evse(ngsi, "B", "OUTOFORDER", clock.now())
    evse(ngsi, "C", "OUTOFORDER", clock.now())  # the whole site is down now: nobody can charge there
    wait_until(lambda: {a["data"]["evse"][-1]: a["severity"] for a in open_alerts(ngsi, "chargerDown")
                        }.get("A") in ("high", "critical"), timeout=15, interval=0.05)
    evse(ngsi, "A", "AVAILABLE", clock.now())
    wait_until(lambda: not any(a["data"]["evse"].endswith(":A") for a in open_alerts(ngsi, "chargerDown")),
               timeout=10)
    [a_closed] = [a for a in alerts(ngsi, "chargerDown") if a["data"]["evse"].endswith(":A")]
    assert a_closed["data"]["closedBecause"] == "back in service" and a_closed["data"]["durationMinutes"] > 60


def test_sla_breach_only_when_certain_said_so_with_its_coverage(start_analytics: ServiceFactory,
                                                                 ngsi: NgsiLdClient, sla: Path) -> None:
    """A network down most of November, observed from the 1st to the 27th: the breach is certain."""
    late = WorldClock.anchored(datetime(2026, 11, 27, 12, 0, tzinfo=UTC), SCALE)
    start_analytics(["health"], analytics_time_scale=SCALE, sla_file=sla)
    month = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    evse(ngsi, "A", "AVAILABLE", month)
    evse(ngsi, "A", "OUTOFORDER", month + timedelta(days=2))
    evse(ngsi, "A", "AVAILABLE", late.now())
    wait_until(lambda: open_alerts(ngsi, "slaBreach"), timeout=15, interval=0.1)
    [breach] = open_alerts(ngsi, "slaBreach")
    data = breach["data"]
    assert data["verdict"] == "certain" and breach["severity"] == "critical" and schema_errors(breach) == []
    assert 0.8 < data["coverage"] < 0.9 and data["reliability"] < 10 and data["bestPossible"] < 99
    assert breach["alertSource"] == "urn:ngsi-ld:Organization:cpoT" and "cannot reach" in breach["description"]
