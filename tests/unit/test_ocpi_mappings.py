"""The OCPI mapping files on payloads written from the OCPI 2.1.1 / 2.2.1 spec texts, and the
entities they produce validated against the Smart Data Models schemas (offline)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from citiesincharge import ids
from citiesincharge.sdm import schema_errors
from mappings.engine import Mapping, MappingError, library, mapping_for
from mappings.transforms import station_status

CONNECTOR_STANDARDS = [
    "CHADEMO", "CHAOJI", *[f"DOMESTIC_{c}" for c in "ABCDEFGHIJKLMNO"], "GBT_AC", "GBT_DC",
    "IEC_60309_2_single_16", "IEC_60309_2_three_16", "IEC_60309_2_three_32", "IEC_60309_2_three_64",
    "IEC_62196_T1", "IEC_62196_T1_COMBO", "IEC_62196_T2", "IEC_62196_T2_COMBO", "IEC_62196_T3A", "IEC_62196_T3C",
    "NEMA_5_20", "NEMA_6_30", "NEMA_6_50", "NEMA_10_30", "NEMA_10_50", "NEMA_14_30", "NEMA_14_50",
    "PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN", "TESLA_R", "TESLA_S"]
SDM_SOCKET = {"CHADEMO": "CHAdeMO", "IEC_62196_T1": "J-1772", "IEC_62196_T1_COMBO": "CCS/SAE",
              "IEC_62196_T2": "Type2", "IEC_62196_T2_COMBO": "CCS/SAE", "IEC_62196_T3A": "Type3",
              "IEC_62196_T3C": "Type3", "DOMESTIC_E": "Wall_Euro", "DOMESTIC_F": "Wall_Euro",
              "IEC_60309_2_single_16": "Caravan_Mains_Socket", "TESLA_R": "Tesla", "TESLA_S": "Tesla"}
EVSE_STATUSES = ["AVAILABLE", "BLOCKED", "CHARGING", "INOPERATIVE", "OUTOFORDER", "PLANNED", "REMOVED",
                 "RESERVED", "UNKNOWN"]


def connector_221(standard: str = "IEC_62196_T2", **extra: Any) -> dict[str, Any]:
    return {"id": "1", "standard": standard, "format": "SOCKET", "power_type": "AC_3_PHASE", "max_voltage": 230,
            "max_amperage": 32, "tariff_ids": ["11"], "last_updated": "2015-03-16T10:10:02Z", **extra}


def location_221(*evses: dict[str, Any]) -> dict[str, Any]:
    """Shaped after the spec's 'Example public charging location' (2.2.1)."""
    return {"country_code": "BE", "party_id": "BEC", "id": "LOC1", "publish": True, "name": "Gent Zuid",
            "address": "F.Rooseveltlaan 3A", "city": "Gent", "postal_code": "9000", "country": "BEL",
            "coordinates": {"latitude": "51.047599", "longitude": "3.729944"}, "parking_type": "ON_STREET",
            "evses": list(evses) or [evse_221()], "operator": {"name": "BeCharged"}, "time_zone": "Europe/Brussels",
            "last_updated": "2015-06-29T20:39:09Z"}


def evse_221(uid: str = "3256", status: str = "AVAILABLE", connectors: list[dict[str, Any]] | None = None,
             **extra: Any) -> dict[str, Any]:
    return {"uid": uid, "evse_id": f"BE*BEC*E04{uid}", "status": status, "capabilities": ["RESERVABLE"],
            "connectors": connectors or [connector_221()], "physical_reference": "1", "floor_level": "-1",
            "last_updated": "2015-06-28T08:12:01Z", **extra}


def location_211(*evses: dict[str, Any]) -> dict[str, Any]:
    """Shaped after the 2.1.1 spec's Location example (type, voltage/amperage, tariff_id)."""
    return {"id": "LOC1", "type": "ON_STREET", "name": "Gent Zuid", "address": "F.Rooseveltlaan 3A", "city": "Gent",
            "postal_code": "9000", "country": "BEL", "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
            "evses": list(evses) or [{"uid": "3256", "evse_id": "BE-BEC-E041503001", "status": "AVAILABLE",
                                      "capabilities": ["RESERVABLE"], "connectors": [
                                          {"id": "1", "standard": "IEC_62196_T2", "format": "CABLE",
                                           "power_type": "AC_3_PHASE", "voltage": 220, "amperage": 16,
                                           "tariff_id": "11", "last_updated": "2015-03-16T10:10:02Z"}],
                                      "physical_reference": "1", "floor_level": "-1",
                                      "last_updated": "2015-06-28T08:12:01Z"}],
            "operator": {"name": "BeCharged"}, "last_updated": "2015-06-28T08:12:01Z"}


def apply(mapping: Mapping, record: Any, **envelope: Any) -> dict[str, Any]:
    return mapping.apply({"record": record, "cpo": "becharged", **envelope}, {"pseudonym_salt": "s3cret"})


def key_values(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.get("value", v.get("object")) if isinstance(v, dict) and "type" in v and k not in ("id",) else v)
            for k, v in entity.items()}


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1"])
def test_location_becomes_a_valid_sdm_charging_station(version: str) -> None:
    record = location_221() if version == "2.2.1" else location_211()
    station = apply(mapping_for("ocpi", version, "Location"), record, source="https://cpo.example/locations")
    assert station["id"] == "urn:ngsi-ld:EVChargingStation:becharged:LOC1"
    assert station["location"]["value"] == {"type": "Point", "coordinates": [3.729944, 51.047599]}
    assert station["capacity"]["value"] == 1 and station["availableCapacity"]["value"] == 1
    assert station["availableCapacity"]["observedAt"] == record["last_updated"].replace("Z", ".000Z")
    assert station["socketType"]["value"] == ["Type2"]
    assert station["operator"]["value"] == "BeCharged"
    assert station["status"]["value"] == "empty"
    assert station["address"]["value"]["addressLocality"] == "Gent"
    assert schema_errors(key_values(station)) == []


@pytest.mark.parametrize("standard", CONNECTOR_STANDARDS)
def test_every_connector_standard_maps_to_the_sdm_enum(standard: str) -> None:
    record = location_221(evse_221(connectors=[connector_221(standard)]))
    station = apply(mapping_for("ocpi", "2.2.1", "Location"), record)
    assert station["socketType"]["value"] == [SDM_SOCKET.get(standard, "Other")]
    assert schema_errors(key_values(station)) == []
    evse = apply(mapping_for("ocpi", "2.2.1", "EVSE"), record["evses"][0], parent=record)
    assert evse["connectorStandards"]["value"] == [standard]


def test_unknown_connector_standard_is_other_on_the_station_but_an_error_on_the_evse() -> None:
    record = location_221(evse_221(connectors=[connector_221("IEC_99999_FUTURE")]))
    assert apply(mapping_for("ocpi", "2.2.1", "Location"), record)["socketType"]["value"] == ["Other"]
    with pytest.raises(MappingError) as raised:
        apply(mapping_for("ocpi", "2.2.1", "EVSE"), record["evses"][0], parent=record)
    assert raised.value.field == "connectorStandards" and raised.value.record == "3256"


@pytest.mark.parametrize("status", EVSE_STATUSES)
def test_every_evse_status_keeps_the_ocpi_vocabulary(status: str) -> None:
    record = location_221()
    evse = apply(mapping_for("ocpi", "2.2.1", "EVSE"), evse_221(status=status), parent=record)
    assert evse["status"] == {"type": "Property", "value": status, "observedAt": "2015-06-28T08:12:01.000Z"}
    assert evse["refEVChargingStation"]["object"] == "urn:ngsi-ld:EVChargingStation:becharged:LOC1"
    assert evse["maxPower"] == {"type": "Property", "value": 22.08, "unitCode": "KWT"}


def test_unknown_evse_status_is_reported_precisely() -> None:
    with pytest.raises(MappingError) as raised:
        apply(mapping_for("ocpi", "2.2.1", "EVSE"), evse_221(status="SLEEPING"), parent=location_221())
    assert raised.value.field == "status" and "SLEEPING" in raised.value.reason
    assert str(raised.value).startswith("ocpi-evse: record 3256: status:")


def test_211_evse_power_from_voltage_and_amperage() -> None:
    record = location_211()
    evse = apply(mapping_for("ocpi", "2.1.1", "EVSE"), record["evses"][0], parent=record)
    assert evse["maxPower"]["value"] == pytest.approx(220 * 16 * 3 / 1000, abs=0.01)
    assert evse["connectors"]["value"][0]["tariffIds"] == ["11"]


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda r: r.update(coordinates={"latitude": "north", "longitude": "3.7"}), "location"),
    (lambda r: r.update(coordinates={"latitude": "95.0", "longitude": "3.7"}), "location"),
    (lambda r: r.pop("coordinates"), "location"),
    (lambda r: r.pop("id"), "id"),
])
def test_bad_locations_name_record_and_field(mutate: Any, field: str) -> None:
    record = copy.deepcopy(location_221())
    mutate(record)
    with pytest.raises(MappingError) as raised:
        apply(mapping_for("ocpi", "2.2.1", "Location"), record)
    assert raised.value.field == field


@pytest.mark.parametrize(("statuses", "expected"), [
    (["AVAILABLE"] * 4, "empty"), (["AVAILABLE", "AVAILABLE", "AVAILABLE", "CHARGING"], "almostEmpty"),
    (["AVAILABLE", "CHARGING"], "working"), (["AVAILABLE", "CHARGING", "CHARGING", "CHARGING"], "almostFull"),
    (["CHARGING", "BLOCKED"], "full"), (["OUTOFORDER", "AVAILABLE"], "withIncidence"),
    (["OUTOFORDER", "INOPERATIVE", "REMOVED"], "outOfService"), ([], "outOfService"), (["REMOVED"], "outOfService"),
])
def test_station_status_from_evses(statuses: list[str], expected: str) -> None:
    assert station_status(statuses, {}) == expected


SESSION_221 = {"country_code": "NL", "party_id": "STK", "id": "101", "start_date_time": "2020-03-09T10:17:09Z",
               "end_date_time": "2020-03-09T11:17:09Z", "kwh": 15.342,
               "cdr_token": {"uid": "123abc", "type": "RFID", "contract_id": "NL-TST-C12345678-S"},
               "auth_method": "WHITELIST", "location_id": "LOC1", "evse_uid": "3256", "connector_id": "1",
               "currency": "EUR", "total_cost": {"excl_vat": 8.50, "incl_vat": 9.35}, "status": "COMPLETED",
               "last_updated": "2020-03-09T11:17:11Z"}
SESSION_211 = {"id": "101", "start_datetime": "2015-06-29T22:39:09Z", "end_datetime": "2015-06-29T23:50:16Z",
               "kwh": 0.00, "auth_id": "DE8ACC12E46L89", "auth_method": "WHITELIST", "location": location_211(),
               "currency": "EUR", "total_cost": 2.50, "status": "PENDING", "last_updated": "2015-06-29T22:39:09Z"}


@pytest.mark.parametrize(("version", "record"), [("2.2.1", SESSION_221), ("2.1.1", SESSION_211)])
def test_sessions_keep_no_personal_data(version: str, record: dict[str, Any]) -> None:
    session = apply(mapping_for("ocpi", version, "Session"), record)
    assert session["type"] == "ChargingSession" and session["id"] == "urn:ngsi-ld:ChargingSession:becharged:101"
    text = str(session)
    assert "123abc" not in text and "DE8ACC12E46L89" not in text and "NL-TST" not in text
    assert len(session["authHash"]["value"]) == 32
    assert session["refEVSE"]["object"] == "urn:ngsi-ld:EVSE:becharged:3256"
    assert session["refEVChargingStation"]["object"] == "urn:ngsi-ld:EVChargingStation:becharged:LOC1"
    assert session["energyDelivered"]["unitCode"] == "KWH"


def test_session_costs_per_version() -> None:
    new = apply(mapping_for("ocpi", "2.2.1", "Session"), SESSION_221)
    assert new["totalCostExclVat"]["value"] == 8.5 and new["totalCostInclVat"]["value"] == 9.35
    old = apply(mapping_for("ocpi", "2.1.1", "Session"), SESSION_211)
    assert old["totalCostExclVat"]["value"] == 2.5 and "totalCostInclVat" not in old


def test_without_salt_the_token_hash_is_dropped_not_the_record() -> None:
    session = mapping_for("ocpi", "2.2.1", "Session").apply({"record": SESSION_221, "cpo": "x"}, {})
    assert "authHash" not in session and session["status"]["value"] == "COMPLETED"


@pytest.mark.parametrize("status", ["ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION"])
def test_every_session_status(status: str) -> None:
    session = apply(mapping_for("ocpi", "2.2.1", "Session"), SESSION_221 | {"status": status})
    assert session["status"]["value"] == status


CDR_221 = {"country_code": "BE", "party_id": "BEC", "id": "12345", "start_date_time": "2015-06-29T21:39:09Z",
           "end_date_time": "2015-06-29T23:37:32Z", "session_id": "101",
           "cdr_token": {"uid": "012345678", "type": "RFID", "contract_id": "DE8ACC12E46L89"},
           "auth_method": "WHITELIST", "cdr_location": {"id": "LOC1", "name": "Gent Zuid", "address": "F.Roosevelt",
                                                        "city": "Gent", "postal_code": "9000", "country": "BEL",
                                                        "coordinates": {"latitude": "3.729944",
                                                                        "longitude": "51.047599"},
                                                        "evse_uid": "3256", "evse_id": "BE*BEC*E041503003",
                                                        "connector_id": "1", "connector_standard": "IEC_62196_T2",
                                                        "connector_format": "SOCKET",
                                                        "connector_power_type": "AC_1_PHASE"},
           "currency": "EUR", "tariffs": [{"id": "12"}], "charging_periods": [],
           "total_cost": {"excl_vat": 4.00, "incl_vat": 4.40}, "total_energy": 15.342, "total_time": 1.973,
           "total_parking_time": 0.5, "last_updated": "2015-06-29T22:01:13Z"}
CDR_211 = {"id": "12345", "start_date_time": "2015-06-29T21:39:09Z", "stop_date_time": "2015-06-29T23:37:32Z",
           "auth_id": "DE8ACC12E46L89", "auth_method": "WHITELIST", "location": location_211(), "currency": "EUR",
           "tariffs": [{"id": "12"}], "charging_periods": [], "total_cost": 4.00, "total_energy": 15.342,
           "total_time": 1.973, "last_updated": "2015-06-29T22:01:13Z"}


@pytest.mark.parametrize(("version", "record"), [("2.2.1", CDR_221), ("2.1.1", CDR_211)])
def test_cdrs(version: str, record: dict[str, Any]) -> None:
    cdr = apply(mapping_for("ocpi", version, "CDR"), record)
    assert cdr["type"] == "ChargeDetailRecord"
    assert cdr["energyDelivered"] == {"type": "Property", "value": 15.342, "unitCode": "KWH",
                                      "observedAt": "2015-06-29T23:37:32.000Z"}
    assert cdr["totalCostExclVat"]["value"] == 4.0 and cdr["totalTime"]["unitCode"] == "HUR"
    assert cdr["tariffIds"]["value"] == ["12"]
    assert "DE8ACC12E46L89" not in str(cdr) and "012345678" not in str(cdr)


def test_tariff() -> None:
    record = {"id": "12", "currency": "EUR", "elements": [{"price_components": [
        {"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1},
        {"type": "PARKING_TIME", "price": 2.0, "vat": 20.0, "step_size": 900}]}],
        "last_updated": "2015-06-29T20:39:09Z"}
    tariff = apply(mapping_for("ocpi", "2.2.1", "Tariff"), record)
    assert tariff["pricePerKWh"]["value"] == 0.25 and tariff["parkingPricePerHour"]["value"] == 2.0
    assert "vatRate" not in tariff and "flatFee" not in tariff  # 10 % and 20 %: one rate would be wrong


def test_every_mapping_file_loads_and_targets_a_known_type() -> None:
    names = set(library())
    assert {"ocpi-location", "ocpi-evse", "ocpi-2.2.1-session", "ocpi-2.1.1-session", "ocpi-2.2.1-cdr",
            "ocpi-2.1.1-cdr", "ocpi-tariff"} <= names


def test_a_mapping_with_an_unknown_transform_is_rejected_when_loaded() -> None:
    with pytest.raises(ValueError, match="unknown transform"):
        Mapping.model_validate({"name": "x", "description": "x", "source": {"protocol": "p", "versions": ["1"],
                                                                             "object": "O"},
                                "target": "T", "id": {"type": "T", "parts": ["record.id"]},
                                "attributes": {"a": {"value": "record.a", "transform": "teleport"}}})


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00.000Z"),
    ("2026-03-01T10:00:00.123456+01:00", "2026-03-01T09:00:00.123Z"),
    ("2026-03-01T10:00:00", "2026-03-01T10:00:00.000Z"),
    (1772359200, "2026-03-01T10:00:00.000Z"),
    (1772359200250, "2026-03-01T10:00:00.250Z"),
])
def test_times_keep_milliseconds_and_become_utc(raw: object, expected: str) -> None:
    from mappings.transforms import datetime_utc

    assert datetime_utc(raw, {}) == expected


def _ids_in_other_case(value: Any, keys: frozenset[str]) -> Any:
    """The record as a peer sends it after switching the case of its ids (CiStrings)."""
    if isinstance(value, dict):
        return {k: (v.swapcase() if k in keys and isinstance(v, str) else
                    [t.swapcase() for t in v] if k in keys and isinstance(v, list) else
                    _ids_in_other_case(v, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [_ids_in_other_case(v, keys) for v in value]
    return value


CI_KEYS = frozenset({"id", "uid", "evse_uid", "location_id", "session_id", "country_code", "party_id", "evse_id",
                     "tariff_id", "tariff_ids"})


@pytest.mark.parametrize(("object_name", "version", "record"), [
    ("Location", "2.2.1", location_221(evse_221(uid="Evse-a1"))), ("Location", "2.1.1", location_211()),
    ("Session", "2.2.1", SESSION_221 | {"id": "Sess-x", "location_id": "Loc-b", "evse_uid": "Evse-b1"}),
    ("Session", "2.1.1", SESSION_211), ("CDR", "2.2.1", CDR_221 | {"id": "cdr-q", "session_id": "s-1"}),
    ("CDR", "2.1.1", CDR_211)])
def test_ids_and_references_do_not_depend_on_case(object_name: str, version: str, record: dict[str, Any]) -> None:
    mapping = mapping_for("ocpi", version, object_name)
    first = apply(mapping, record)
    assert apply(mapping, _ids_in_other_case(record, CI_KEYS)) == first  # same ids, refs, fingerprint
    operator, source_id = ids.parse(first["id"]).parts
    assert operator == "becharged" and source_id == source_id.upper()  # the one form: upper case


def test_evses_do_not_depend_on_the_case_of_ids() -> None:
    record = location_221(evse_221(uid="Evse-a1"))
    mapping = mapping_for("ocpi", "2.2.1", "EVSE")
    evse = apply(mapping, record["evses"][0], parent=record)
    other = _ids_in_other_case(record, CI_KEYS)
    assert apply(mapping, other["evses"][0], parent=other) == evse
    assert evse["id"] == "urn:ngsi-ld:EVSE:becharged:EVSE-A1" and evse["evseUid"]["value"] == "EVSE-A1"
    assert evse["refEVChargingStation"]["object"] == "urn:ngsi-ld:EVChargingStation:becharged:LOC1"
