"""OCPI JSON of the simulated objects, in the shape of each version (2.1.1 and 2.2.1 differ in
field names, cost objects and what a Session embeds). Pure functions of the world's objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .world import Cdr, Evse, Location, Operator, Session, Tariff, Version


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def connector(c: Any, version: Version, updated: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {"id": c.id, "standard": c.standard, "format": c.format, "power_type": c.power_type,
                            "last_updated": ts(updated)}
    if version == "2.2.1":
        body |= {"max_voltage": c.voltage, "max_amperage": c.amperage, "max_electric_power": c.max_power_w,
                 "tariff_ids": [c.tariff_id]}
    else:
        body |= {"voltage": c.voltage, "amperage": c.amperage, "tariff_id": c.tariff_id}
    return body


def evse(e: Evse, version: Version) -> dict[str, Any]:
    return {"uid": e.uid, "evse_id": e.evse_id, "status": e.status, "capabilities": list(e.capabilities),
            "connectors": [connector(c, version, e.last_updated) for c in e.connectors],
            "floor_level": e.floor_level, "physical_reference": e.physical_reference,
            "parking_restrictions": list(e.parking_restrictions), "last_updated": ts(e.last_updated)}


def location(op: Operator, loc: Location, version: Version) -> dict[str, Any]:
    coordinates: dict[str, Any] = {"latitude": f"{loc.lat:.6f}", "longitude": f"{loc.lon:.6f}"}
    if loc.malformed:
        coordinates = {"latitude": "fifty-two", "longitude": None}
    body: dict[str, Any] = {
        "id": loc.id, "name": loc.name, "address": loc.address, "city": "Coventry", "postal_code": loc.postal_code,
        "country": "GBR", "coordinates": coordinates, "evses": [evse(e, version) for e in loc.evses],
        "operator": {"name": f"{op.spec.name} Charging Ltd"}, "time_zone": "Europe/London",
        "opening_times": {"twentyfourseven": True}, "last_updated": ts(loc.last_updated), **loc.extra}
    if version == "2.2.1":
        body |= {"country_code": "GB", "party_id": op.spec.party_id, "publish": True, "parking_type": "ON_STREET"}
    else:
        body["type"] = "ON_STREET"
    return body


def _price(op: Operator, excl: float, tariff_id: str, version: Version) -> Any:
    if version == "2.1.1":
        return round(excl, 2)
    vat = next(t.vat for t in op.tariffs.values() if t.id == tariff_id)
    return {"excl_vat": round(excl, 2), "incl_vat": round(excl * (1 + vat / 100), 2)}


def session(op: Operator, s: Session, version: Version, now: datetime) -> dict[str, Any]:
    tariff = next(t for t in op.tariffs.values() if t.id == s.tariff_id)
    kwh = s.kwh_at(now)
    body: dict[str, Any] = {"id": s.id, "kwh": kwh, "auth_method": "AUTH_REQUEST", "currency": tariff.currency,
                            "total_cost": _price(op, kwh * tariff.energy_price, s.tariff_id, version),
                            "status": s.status, "last_updated": ts(s.last_updated)}
    if version == "2.2.1":
        body |= {"country_code": "GB", "party_id": op.spec.party_id, "start_date_time": ts(s.start),
                 "end_date_time": ts(s.end) if s.end else None, "location_id": s.location_id,
                 "evse_uid": s.evse_uid, "connector_id": s.connector_id,
                 "cdr_token": {"uid": s.token_uid, "type": "RFID", "contract_id": f"GB-EMP-{s.token_uid}"}}
    else:
        loc = op.location_by_id[s.location_id]
        used = [e for e in loc.evses if e.uid == s.evse_uid]
        body |= {"start_datetime": ts(s.start), "end_datetime": ts(s.end) if s.end else None,
                 "auth_id": s.token_uid, "location": location(op, loc, version) | {
                     "evses": [evse(e, version) for e in used]}}
    return body


def cdr(op: Operator, c: Cdr, version: Version) -> dict[str, Any]:
    s = c.session
    assert s.end is not None
    tariff = next(t for t in op.tariffs.values() if t.id == s.tariff_id)
    body: dict[str, Any] = {
        "id": c.id, "start_date_time": ts(s.start), "auth_method": "AUTH_REQUEST", "currency": tariff.currency,
        "tariffs": [tariff_object(op, tariff, version)],
        "charging_periods": [{"start_date_time": ts(s.start), "dimensions": [
            {"type": "ENERGY", "volume": c.total_energy}]}],
        "total_cost": _price(op, c.cost_excl, s.tariff_id, version), "total_energy": c.total_energy,
        "total_time": c.total_time_h, "total_parking_time": c.parking_time_h, "last_updated": ts(c.last_updated)}
    loc = op.location_by_id[s.location_id]
    if version == "2.2.1":
        used = next((e for e in loc.evses if e.uid == s.evse_uid), None)
        body |= {"country_code": "GB", "party_id": op.spec.party_id, "end_date_time": ts(s.end),
                 "session_id": s.id,
                 "cdr_token": {"uid": s.token_uid, "type": "RFID", "contract_id": f"GB-EMP-{s.token_uid}"},
                 "cdr_location": {"id": loc.id, "name": loc.name, "address": loc.address, "city": "Coventry",
                                  "postal_code": loc.postal_code, "country": "GBR",
                                  "coordinates": {"latitude": f"{loc.lat:.6f}", "longitude": f"{loc.lon:.6f}"},
                                  "evse_uid": s.evse_uid, "evse_id": used.evse_id if used else None,
                                  "connector_id": s.connector_id}}
    else:
        body |= {"stop_date_time": ts(s.end), "auth_id": s.token_uid,
                 "location": location(op, loc, version) | {
                     "evses": [evse(e, version) for e in loc.evses if e.uid == s.evse_uid]}}
    return body


def tariff_object(op: Operator, t: Tariff, version: Version) -> dict[str, Any]:
    components = [{"type": "ENERGY", "price": t.energy_price, "step_size": 1}]
    if t.parking_price:
        components.append({"type": "PARKING_TIME", "price": t.parking_price, "step_size": 60})
    if version == "2.2.1":
        for component in components:
            component["vat"] = t.vat
    body: dict[str, Any] = {"id": t.id, "currency": t.currency, "elements": [{"price_components": components}],
                            "last_updated": ts(t.last_updated)}
    if version == "2.2.1":
        body |= {"country_code": "GB", "party_id": op.spec.party_id}
    return body
