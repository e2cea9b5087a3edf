"""OCPI 2.2.1 / 2.1.1 records for the impolite peer, shaped after the spec texts' examples; each test
changes what its reproducer needs and computes the expected entities from these by hand."""

from __future__ import annotations

from typing import Any

STAMP = "2026-03-01T12:00:00Z"


def connector(connector_id: str = "1", **extra: Any) -> dict[str, Any]:
    return {"id": connector_id, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
            "max_voltage": 230, "max_amperage": 32, "tariff_ids": ["AC-1"], "last_updated": STAMP, **extra}


def evse(uid: str, status: str = "AVAILABLE", connectors: list[dict[str, Any]] | None = None,
         **extra: Any) -> dict[str, Any]:
    return {"uid": uid, "evse_id": f"NL*IMP*E{uid.replace('-', '')}", "status": status,
            "connectors": connectors if connectors is not None else [connector()], "last_updated": STAMP, **extra}


def location(location_id: str, *evses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A public 2.2.1 Location in Utrecht; EVSEs ``<id>-1`` (one) unless given."""
    return {"country_code": "NL", "party_id": "IMP", "id": location_id, "publish": True,
            "name": f"Station {location_id}", "address": "Stationsplein 1", "city": "Utrecht",
            "postal_code": "3511 ED", "country": "NLD",
            "coordinates": {"latitude": "52.089444", "longitude": "5.110278"}, "parking_type": "ON_STREET",
            "evses": list(evses) or [evse(f"{location_id}-1")], "operator": {"name": "Impolite Charging"},
            "time_zone": "Europe/Amsterdam", "opening_times": {"twentyfourseven": True}, "last_updated": STAMP,
            **extra}


def cdr_211(cdr_id: str, location_record: dict[str, Any], evse_uid: str, **extra: Any) -> dict[str, Any]:
    """A 2.1.1 CDR (2.1.1 names its end ``stop_date_time`` and embeds the Location)."""
    used = [e for e in location_record["evses"] if e["uid"] == evse_uid]
    return {"id": cdr_id, "start_date_time": "2026-03-01T08:00:00Z", "stop_date_time": "2026-03-01T09:30:00Z",
            "auth_id": "DE8ACC12E46L89", "auth_method": "WHITELIST", "location": location_record | {"evses": used},
            "currency": "EUR", "tariffs": [], "charging_periods": [], "total_cost": 6.5, "total_energy": 20.0,
            "total_time": 1.5, "last_updated": "2026-03-01T09:31:00Z", **extra}


def cdr_221(cdr_id: str, location_id: str, evse_uid: str | None, **extra: Any) -> dict[str, Any]:
    """A 2.2.1 CDR at an EVSE of one of these locations (``evse_uid`` None: the peer left it out)."""
    where: dict[str, Any] = {"id": location_id, "address": "Stationsplein 1", "city": "Utrecht", "country": "NLD",
                             "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
                             "connector_id": "1", "connector_standard": "IEC_62196_T2",
                             "connector_format": "SOCKET", "connector_power_type": "AC_3_PHASE"}
    if evse_uid is not None:
        where |= {"evse_uid": evse_uid, "evse_id": f"NL*IMP*E{evse_uid.replace('-', '')}"}
    return {"country_code": "NL", "party_id": "IMP", "id": cdr_id, "start_date_time": "2026-03-01T08:00:00Z",
            "end_date_time": "2026-03-01T09:30:00Z", "session_id": f"S-{cdr_id}",
            "cdr_token": {"country_code": "DE", "party_id": "TNM", "uid": "012345678", "type": "RFID",
                          "contract_id": "DE8ACC12E46L89"},
            "auth_method": "WHITELIST", "cdr_location": where, "currency": "EUR", "tariffs": [],
            "charging_periods": [], "total_cost": {"excl_vat": 6.5, "incl_vat": 7.87}, "total_energy": 20.0,
            "total_time": 1.5, "last_updated": "2026-03-01T09:31:00Z", **extra}
