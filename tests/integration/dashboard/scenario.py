"""A small scripted town for the dashboard's browser tests, written to a real broker.

Two operators, five stations with known statuses and places, their chargers, two parking bays, an
open alert, KPI histories (several periods as instances of ``kpiValue``), tariffs and forecasts.
Entities have the shapes the agents and workers write: KPIs and alerts are built with the
analytics' own helpers (``analytics.kpis.kpi``, ``analytics.alerts.OpenAlert``); stations, EVSEs,
bays and tariffs as the mapping files in ``mappings/files`` produce them. Every figure a test
expects is worked out by hand in the test from the numbers here, never read back from the
dashboard's code.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analytics.alerts import OpenAlert
from analytics.kpis import Frequency, Period, Scope, kpi, period
from citiesincharge import ids

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday, GMT (the clocks change on 29 March)
ZONE = ZoneInfo("Europe/London")
COUNCIL = ids.organization("council")


def _p(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def _rel(target: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


OPERATORS = {"cpoA": "Alpha Charge Ltd", "cpoB": "Beta Power plc"}
# station key -> (operator, name, street, postcode, lon, lat, [(evse uid, status, hours since, kW)])
STATIONS: dict[str, tuple[str, str, str, str, float, float, list[tuple[str, str, float, float]]]] = {
    "A1": ("cpoA", "Alpha Market Sq", "1 Market Sq", "CV1 1AA", -1.510, 52.408,
           [("A1-1", "AVAILABLE", 3, 22), ("A1-2", "CHARGING", 1, 22)]),
    "A2": ("cpoA", "Alpha Rail Station", "2 Station Rd", "CV2 2BB", -1.500, 52.400,
           [("A2-1", "OUTOFORDER", 30, 150), ("A2-2", "INOPERATIVE", 2, 150)]),
    "A3": ("cpoA", "Alpha Park", "3 Park Ave", "CV1 3CC", -1.520, 52.412, [("A3-1", "CHARGING", 2, 7.4)]),
    "B1": ("cpoB", "Beta Leisure Centre", "4 Leisure Way", "CV1 4DD", -1.530, 52.405,
           [("B1-1", "AVAILABLE", 6, 50), ("B1-2", "OUTOFORDER", 5, 50)]),
    "B2": ("cpoB", "Beta Hospital", "5 Hospital Ln", "CV3 5EE", -1.490, 52.395, [("B2-1", "UNKNOWN", 8, 22)]),
}


# what each EVSE's connector names (OCPI tariff_ids, upper case): CPOB-2027 is not published
CONNECTOR_TARIFFS = {"A1-1": ["CPOA-AC"], "A1-2": ["CPOA-AC"], "A2-1": ["CPOA-DC"], "A2-2": ["CPOA-DC"],
                     "A3-1": ["CPOA-AC"], "B1-1": ["CPOB-AC"], "B1-2": ["CPOB-AC", "CPOB-NIGHT"],
                     "B2-1": ["CPOB-NIGHT", "CPOB-2027"]}
SESSIONS = ("ac7-evening", "dc50-morning", "ac11-2h", "ac7-overnight")  # at 18:00, 10:00, 12:00, 22:00
HOURS = {"ac7-evening": 18, "dc50-morning": 10, "ac11-2h": 12, "ac7-overnight": 22}
# operator, tariff id -> (attributes besides the reference prices, last_updated, reference Tuesday,
# prices excl. VAT of the four sessions, prices incl. VAT (None: a billed component has no VAT)).
# cpoA publishes OCPI 2.2.1 with 20 % VAT; cpoB OCPI 2.1.1 (no VAT at all). The prices, by hand:
#   CPOA-AC 0.45/kWh + 1.50/h parked: 7 x 0.45 = 3.15; 30 x 0.45 = 13.50; 11 x 0.45 + 1 h = 6.45;
#           21 x 0.45 + 6 h x 1.50 = 18.45; x 1.2 incl. VAT
#   CPOA-DC 0.69/kWh (20 % VAT) + 6.00/h parked (no VAT given), min price 5.00 / 6.00:
#           7 x 0.69 = 4.83 -> 5.00 (incl. 5.796 -> 6.00); 30 x 0.69 = 20.70 (24.84);
#           7.59 + 6.00 = 13.59 and 14.49 + 36.00 = 50.49 (parking without VAT: no price incl. VAT)
#   CPOA-AC-2025 ended on 1 January 2026: 0.40/kWh + 0.60/h charging + 1.00/h parked: 2.80 + 0.60 = 3.40;
#           12.00 + 0.36 (36 min) = 12.36; 4.40 + 0.60 + 1.00 = 6.00; 8.40 + 1.80 + 6.00 = 16.20
#   CPOB-AC 0.39/kWh + 0.50 per session: 3.23, 12.20, 4.79, 8.69
#   CPOB-NIGHT 0.25/kWh 22:00-07:00, else 0.45/kWh: 3.15, 13.50, 4.95, 21 x 0.25 = 5.25
def _c(kind: str, price: float, vat: float | None = None) -> dict[str, Any]:
    """A price component as tariffElements hold it (no VAT given: no ``vat``)."""
    return {"type": kind, "price": price, **({} if vat is None else {"vat": vat}),
            "stepSize": {"ENERGY": 1, "FLAT": 0}.get(kind, 60)}


TARIFFS: dict[tuple[str, str], tuple[dict[str, Any], str, str, tuple[float, ...], tuple[float | None, ...]]] = {
    ("cpoA", "CPOA-AC"): (
        {"tariffType": "REGULAR", "pricePerKWh": 0.45, "parkingPricePerHour": 1.5, "vatRate": 20.0,
         "tariffElements": [{"priceComponents": [_c("ENERGY", 0.45, 20.0),
                                                 _c("PARKING_TIME", 1.5, 20.0)]}]},
        "2026-02-06T09:00:00.000Z", "2026-02-10", (3.15, 13.50, 6.45, 18.45), (3.78, 16.20, 7.74, 22.14)),
    ("cpoA", "CPOA-DC"): (
        {"tariffType": "AD_HOC_PAYMENT", "pricePerKWh": 0.69, "parkingPricePerHour": 6.0,
         "minPrice": {"exclVat": 5.0, "inclVat": 6.0},
         "tariffElements": [{"priceComponents": [_c("ENERGY", 0.69, 20.0),
                                                 _c("PARKING_TIME", 6.0)]}]},
        "2026-02-06T09:00:00.000Z", "2026-02-10", (5.00, 20.70, 13.59, 50.49), (6.00, 24.84, None, None)),
    ("cpoA", "CPOA-AC-2025"): (
        {"tariffType": "REGULAR", "pricePerKWh": 0.40, "pricePerHour": 0.6, "parkingPricePerHour": 1.0, "vatRate": 20.0,
         "validFrom": "2025-01-01T00:00:00.000Z", "validTo": "2026-01-01T00:00:00.000Z",
         "tariffElements": [{"priceComponents": [_c("ENERGY", 0.40, 20.0), _c("TIME", 0.6, 20.0),
                                                 _c("PARKING_TIME", 1.0, 20.0)]}]},
        "2024-12-15T09:00:00.000Z", "2025-01-07", (3.40, 12.36, 6.00, 16.20), (4.08, 14.832, 7.20, 19.44)),
    ("cpoB", "CPOB-AC"): (
        {"pricePerKWh": 0.39, "flatFee": 0.5,
         "tariffElements": [{"priceComponents": [_c("ENERGY", 0.39),
                                                 _c("FLAT", 0.5)]}]},
        "2026-01-20T09:00:00.000Z", "2026-01-20", (3.23, 12.20, 4.79, 8.69), (None, None, None, None)),
    ("cpoB", "CPOB-NIGHT"): (
        {"tariffElements": [{"priceComponents": [_c("ENERGY", 0.25)],
                             "restrictions": {"startTime": "22:00", "endTime": "07:00"}},
                            {"priceComponents": [_c("ENERGY", 0.45)]}]},
        "2026-01-20T09:00:00.000Z", "2026-01-20", (3.15, 13.50, 4.95, 5.25), (None, None, None, None)),
}


def tariffs() -> list[dict[str, Any]]:
    """ChargingTariff entities as ocpi-tariff.yaml writes them (summary prices and vatRate only where
    unambiguous; no priceInclVat where a billed component has no VAT)."""
    out = []
    for (operator, key), (attributes, updated, tuesday, excl, incl) in TARIFFS.items():
        prices = []
        for session, price_excl, price_incl in zip(SESSIONS, excl, incl, strict=True):
            entry: dict[str, Any] = {"session": session, "startDateTime": f"{tuesday}T{HOURS[session]:02d}:00:00",
                                     "priceExclVat": price_excl, "currency": "GBP"}
            if price_incl is not None:
                entry["priceInclVat"] = price_incl
            prices.append(entry)
        entity = {"id": ids.entity_id("ChargingTariff", operator, key), "type": "ChargingTariff",
                  "currency": _p("GBP"), "referencePrices": _p(prices, observedAt=updated),
                  "dataProvider": _p(operator)}
        for name, found in attributes.items():
            entity[name] = _p(found, observedAt=updated) if name in ("tariffElements", "pricePerKWh") else _p(found)
        out.append(entity)
    return out


def station_id(key: str) -> str:
    return ids.charging_station(STATIONS[key][0], key)


def evse_id(key: str, uid: str) -> str:
    return ids.evse(STATIONS[key][0], uid)


def places() -> list[dict[str, Any]]:
    """Organizations, stations, EVSEs (ocpi-location.yaml / ocpi-evse.yaml shapes), a parking site and
    its bays (the parking agent's shapes)."""
    out: list[dict[str, Any]] = [
        {"id": ids.organization(key), "type": "Organization", "name": _p(name), "cpo": _p(key),
         "partyId": _p(key[-1] * 3), "description": _p(f"Charge point operator {key}")}
        for key, name in OPERATORS.items()]
    out.append({"id": COUNCIL, "type": "Organization", "name": _p("Demo Council"),
                "description": _p("The local authority whose public charging network this is")})
    for key, (operator, name, street, postcode, lon, lat, evses) in STATIONS.items():
        point = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}
        out.append({"id": station_id(key), "type": "EVChargingStation", "name": _p(name),
                    "address": _p({"streetAddress": street, "addressLocality": "Coventry", "postalCode": postcode,
                                   "addressCountry": "GBR"}),
                    "location": point, "capacity": _p(len(evses)), "socketType": _p(["Type2"]),
                    "maxPower": _p(max(e[3] for e in evses), unitCode="KWT"), "operator": _p(OPERATORS[operator]),
                    "dataProvider": _p(operator)})
        for uid, status, hours, kw in evses:
            out.append({"id": evse_id(key, uid), "type": "EVSE",
                        "status": _p(status, observedAt=_iso(NOW - timedelta(hours=hours))),
                        "evseId": _p(f"GB*{operator}*E{uid}"), "evseUid": _p(uid), "maxPower": _p(kw, unitCode="KWT"),
                        "connectors": _p([{"id": "1", "standard": "IEC_62196_T2_COMBO" if kw >= 50 else "IEC_62196_T2",
                                           "format": "CABLE" if kw >= 50 else "SOCKET",
                                           "powerType": "DC" if kw >= 50 else "AC_3_PHASE",
                                           "maxElectricPower": int(kw * 1000), "tariffIds": CONNECTOR_TARIFFS[uid]}]),
                        "location": point, "refEVChargingStation": _rel(station_id(key)), "dataProvider": _p(operator)})
    site = ids.parking_site("P1")
    out.append({"id": site, "type": "OnStreetParking", "name": _p("Market Sq EV bays"),
                "category": _p(["forElectricalCharging"]),
                "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-1.510, 52.408]}},
                "totalSpotNumber": _p(2), "occupiedSpotNumber": _p(1), "availableSpotNumber": _p(1)})
    for bay, status, evse in (("b1", "occupied", evse_id("A1", "A1-1")), ("b2", "free", evse_id("A1", "A1-2"))):
        out.append({"id": ids.parking_spot("P1", bay), "type": "ParkingSpot", "name": _p(f"Bay {bay}"),
                    "status": _p(status, observedAt=_iso(NOW - timedelta(minutes=40))), "refParkingSite": _rel(site),
                    "category": _p(["onStreet"]), "refEVSE": _rel(evse),
                    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-1.510, 52.408]}}})
    out += tariffs()
    for entity in out:  # a Property may not be null
        for name in [n for n, a in entity.items() if isinstance(a, dict) and a.get("value", 0) is None]:
            del entity[name]
    return out


def charger_down_alert() -> dict[str, Any]:
    evse = evse_id("A2", "A2-1")
    since = NOW - timedelta(hours=30)
    return OpenAlert("chargerDown", evse, since, since + timedelta(hours=24), "high", evse,
                     "Rapid charger A2-1 (150 kW) at Alpha Rail Station (2 Station Rd) of cpoA out of service since "
                     "17 Mar 2026 06:00 GMT, beyond the 24 h to repair",
                     {"evse": evse, "operator": "cpoA", "organization": ids.organization("cpoA"),
                      "station": station_id("A2"), "rapid": True, "powerKW": 150.0, "chargerStatus": "OUTOFORDER",
                      "maxRepairHours": 24.0}).entity()


def bay_blocked_alert() -> dict[str, Any]:
    """The alert a test writes while a page is open: bay b1 blocked for 20 minutes."""
    bay = ids.parking_spot("P1", "b1")
    since = NOW - timedelta(minutes=20)
    return OpenAlert("chargingBayBlocked", bay, since, NOW, "low", bay,
                     "Bay b1 at Market Sq EV bays (1 Market Sq) occupied while its charger is not charging since "
                     "11:40 GMT",
                     {"bay": bay, "site": ids.parking_site("P1"), "evse": evse_id("A1", "A1-1"),
                      "station": station_id("A1"), "operator": "cpoA", "chargerStatus": "AVAILABLE"}).entity()


def _kpi(name: str, subject: str, scope: Scope, frequency: Frequency, moment: datetime, value: Any, *,
         operator: str | None, coverage: float | None = None, unit: str | None = None, currency: str | None = None,
         refs: dict[str, str] | None = None) -> dict[str, Any]:
    when: Period = period(frequency, moment, ZONE)
    return kpi(name, subject, scope, when, value, now=NOW, subject_name=subject.rsplit(":", 1)[-1], unit=unit,
               description=f"{name} of {subject}", formula="as docs/KPIS.md", aggregated=[], organization=operator,
               coverage=coverage, currency=currency, refs=refs)


FEB, MAR = datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)
# operator KPIs of March and of 2026: (reliability, rapid reliability, incidents, MTTR h, MTBF h)
OPERATOR_MARCH = {"cpoA": (97.5, 98.2, 3, 12.5, 410.0), "cpoB": (99.1, 99.6, 1, 4.0, 900.0)}
OPERATOR_YEAR = {"cpoA": (98.0, 98.6, 7, 10.0, 500.0), "cpoB": (99.3, 99.5, 2, 3.5, 950.0)}
COUNCIL_MARCH = (98.1, 98.9, 4, 10.4, 520.0)
# station monthly reliability: key -> ((February value, coverage), (March value, coverage))
STATION_MONTHS = {"A1": ((100.0, 1.0), (100.0, 0.55)), "A2": ((90.0, 1.0), (80.0, 0.5)),
                  "A3": ((99.0, 0.8), (100.0, 0.55)), "B1": ((98.0, 1.0), (95.0, 0.55)),
                  "B2": ((100.0, 0.5), (100.0, 0.2))}
# energy, March, per station: (kWh, sessions, revenue excl. VAT GBP, incl. VAT)
STATION_ENERGY = {"A1": (250.0, 20, 112.5, 135.0), "A2": (400.0, 16, 180.0, 216.0),
                  "B1": (300.0, 25, 117.0, 140.4), "B2": (100.0, 8, 39.0, 46.8)}


def kpis() -> list[list[dict[str, Any]]]:
    """KPI entities in write order: February's figures first, then March's (each write another
    instance of ``kpiValue``), so the current value is the newest period's, as the workers leave it."""
    february: list[dict[str, Any]] = []
    march: list[dict[str, Any]] = []
    for key, ((feb, feb_cov), (mar, mar_cov)) in STATION_MONTHS.items():
        for batch, moment, value, coverage in ((february, FEB, feb, feb_cov), (march, MAR, mar, mar_cov)):
            batch.append(_kpi("reliability", station_id(key), "station", "monthly", moment, value,
                              operator=STATIONS[key][0], coverage=coverage, unit="P1"))
    subjects: list[tuple[str, Scope, str | None, tuple[float, ...], tuple[float, ...]]] = [
        (ids.organization(k), "operator", k, OPERATOR_MARCH[k], OPERATOR_YEAR[k]) for k in OPERATORS]
    subjects.append((COUNCIL, "council", None, COUNCIL_MARCH, COUNCIL_MARCH))
    for subject, scope, operator, month, year in subjects:
        periods: tuple[tuple[Frequency, tuple[float, ...]], ...] = (("monthly", month), ("yearly", year))
        for frequency, figures in periods:
            for name, value, unit in zip(("reliability", "rapidReliability", "incidents", "mttrHours", "mtbfHours"),
                                         figures, ("P1", "P1", None, "HUR", "HUR"), strict=True):
                march.append(_kpi(name, subject, scope, frequency, MAR, value, operator=operator, coverage=0.55,
                                  unit=unit))
    down_since = NOW - timedelta(hours=30)
    march.append(_kpi("incidentLog", evse_id("A2", "A2-1"), "evse", "monthly", MAR,
                      [{"start": _iso(down_since), "end": None, "hours": 30.0, "status": "OUTOFORDER"}],
                      operator="cpoA", coverage=0.55, refs={"refEVChargingStation": station_id("A2")}))
    totals: dict[tuple[str, Scope, str | None], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for key, figures in STATION_ENERGY.items():
        operator = STATIONS[key][0]
        for group in ((station_id(key), "station", operator), (ids.organization(operator), "operator", operator),
                      (COUNCIL, "council", None)):
            for index, figure in enumerate(figures):
                totals[group][index] += figure
    for (subject, scope, operator), (kwh, sessions, excl, incl) in totals.items():
        march += [_kpi("energyDelivered", subject, scope, "monthly", MAR, kwh, operator=operator, unit="KWH"),
                  _kpi("sessions", subject, scope, "monthly", MAR, sessions, operator=operator),
                  _kpi("revenueExclVat", subject, scope, "monthly", MAR, round(excl, 2), operator=operator,
                       unit="GBP", currency="GBP"),
                  _kpi("revenueInclVat", subject, scope, "monthly", MAR, round(incl, 2), operator=operator,
                       unit="GBP", currency="GBP"),
                  _kpi("avgPricePerKWh", subject, scope, "monthly", MAR, round(excl / kwh, 4), operator=operator,
                       unit="GBP", currency="GBP")]
    return [february, march]


# daily utilisation profile of the whole network for the seven days before today (busiest: 18:00)
def utilisation() -> list[list[dict[str, Any]]]:
    days = []
    for back in range(7, 0, -1):
        moment = NOW - timedelta(days=back)
        profile = [0.1] * 24
        profile[18] = 0.9 if moment.weekday() == 4 else 0.5  # Fridays at 18:00 the busiest
        days.append([_kpi("hourlyUtilisation", COUNCIL, "council", "daily", moment, profile, operator=None)])
    return days


FORECAST_DAILY = [4.0, 5.0, 6.0, 5.5, 7.0, 3.0, 2.5, 4.5]  # sessions per day at Alpha Market Sq from tomorrow


def forecasts() -> list[dict[str, Any]]:
    """DemandForecast entities as the demand worker writes them (analytics/demand.py ``_entity``)."""
    station = station_id("A1")
    tomorrow = datetime(2026, 3, 19, tzinfo=UTC)
    hourly = [0.2 + 0.1 * (h % 12) for h in range(48)]
    out = []
    for resolution, start, values, step in (("P1D", tomorrow, FORECAST_DAILY, timedelta(days=1)),
                                            ("PT1H", NOW, hourly, timedelta(hours=1))):
        out.append({"id": ids.derived("DemandForecast", "daily" if resolution == "P1D" else "hourly", station),
                    "type": "DemandForecast", "measure": _p("sessionsStarted"), "resolution": _p(resolution),
                    "validFrom": _p(_iso(start)), "validTo": _p(_iso(start + step * len(values))),
                    "forecastValues": _p(values), "lowerBound": _p([round(v * 0.5, 3) for v in values]),
                    "upperBound": _p([round(v * 1.5, 3) for v in values]), "intervalLevel": _p(0.9),
                    "model": _p("autoregression"),
                    "backtest": _p({"seasonalNaive": {"mase": 1.1, "smape": 40.0, "folds": 3},
                                    "autoregression": {"mase": 0.8, "smape": 30.0, "folds": 3}}),
                    "dateIssued": _p(_iso(NOW)), "refEVChargingStation": _rel(station)})
    return out


# -- roll-out planning: PlanningArea entities as docs/PLANNING.md and cic plan's contract write them --
PLAN_COMPUTED = datetime(2026, 3, 18, 6, 30, tzinfo=UTC)
PLAN_PERIOD = {"start": "2026-02-01T00:00:00Z", "end": "2026-03-01T00:00:00Z", "label": "February 2026"}


def _box(west: float, south: float, east: float, north: float) -> list[list[float]]:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


# code -> (name, geometry, population, households without off-street parking, plug-in vehicles,
#          stations, chargers (the scenario's stations inside), plan or None (imported after the plan run))
# The plan: (score, rank, kind, kind's reason, reasons [(indicator, label, value, unit, points)],
#            contributions, indicators besides the station counts), with the criteria, labels and
#            sentences analytics/planning/scoring.py writes (its figures chosen here by hand)
Plan = tuple[float, int, str, str, list[tuple[str, str, float | None, str, float]], dict[str, float],
             dict[str, float | None]]
AREAS: dict[str, tuple[str, dict[str, Any], int, int, int, int, int, Plan | None]] = {
    # A1 (2 chargers at 22 kW): busy every evening
    "MQ": ("Market Quarter", {"type": "Polygon", "coordinates": [_box(-1.515, 52.403, -1.495, 52.420)]},
           6200, 2150, 410, 1, 2,
           (86.0, 1, "rapidHub", "A rapid hub (50 kW or more): Saturation (no free charger within a walk) 41 %.",
            [("saturation", "Saturation (no free charger within a walk)", 41.0, "%", 36.0),
             ("householdsWithoutOffStreetParking", "Households without off-street parking", 2150, "households",
              24.5),
             ("projectedKWhPerCharger", "Projected demand per charger, next year", 9800, "kWh", 16.1)],
            {"saturation": 36.0, "householdsWithoutOffStreetParking": 24.5, "projectedKWhPerCharger": 16.1,
             "coverageGapShare": 9.4, "unreliability": 0.0},
            {"powerKW": 44.0, "chargersPer1000Residents": 0.32, "chargersPer100PlugInVehicles": 0.49,
             "kWPer1000Residents": 7.1, "rapidShare": 0.0, "meanDistanceM": 380.0, "coverageGapShare": 0.18,
             "utilisation": 0.46, "saturation": 0.41, "saturationHours": 672, "reliability": 1.0,
             "sessionsPerCharger": 40.0, "kWhPerCharger": 520.0, "projectedKWh1y": 19600.0,
             "projectedKWh3y": 33100.0, "projectedKWhPerCharger": 9800.0})),
    # no charger at all: a gap
    "NB": ("Northbrook", {"type": "Polygon", "coordinates": [_box(-1.495, 52.403, -1.470, 52.420)]},
           4800, 1300, 260, 0, 0,
           (64.2, 2, "onStreetResidential",
            "On-street AC chargers (7-22 kW) for residents: Area farther than 500 m from a charger 100 %.",
            [("coverageGapShare", "Area farther than 500 m from a charger", 100.0, "%", 38.0),
             ("householdsWithoutOffStreetParking", "Households without off-street parking", 1300, "households",
              18.2),
             ("projectedKWhPerCharger", "Projected demand per charger, next year", 8200, "kWh", 8.0)],
            {"coverageGapShare": 38.0, "householdsWithoutOffStreetParking": 18.2, "projectedKWhPerCharger": 8.0,
             "saturation": 0.0, "unreliability": 0.0},
            {"powerKW": 0.0, "chargersPer1000Residents": 0.0, "chargersPer100PlugInVehicles": 0.0,
             "kWPer1000Residents": 0.0, "rapidShare": None, "meanDistanceM": 1240.0, "coverageGapShare": 1.0,
             "utilisation": None, "saturation": None, "saturationHours": 0, "reliability": None,
             "sessionsPerCharger": None, "kWhPerCharger": None, "projectedKWh1y": 8200.0,
             "projectedKWh3y": 14900.0, "projectedKWhPerCharger": 8200.0})),
    # B2 (one 22 kW charger, often UNKNOWN) by the hospital; two parts
    "HH": ("Hospital Hill", {"type": "MultiPolygon", "coordinates": [[_box(-1.495, 52.388, -1.470, 52.403)],
                                                                      [_box(-1.520, 52.380, -1.505, 52.388)]]},
           3100, 400, 150, 1, 1,
           (41.5, 3, "rapidHub", "A rapid hub (50 kW or more): Time the area's chargers were down 38 %.",
            [("unreliability", "Time the area's chargers were down", 38.0, "%", 17.5),
             ("projectedKWhPerCharger", "Projected demand per charger, next year", 7400, "kWh", 14.0),
             ("saturation", "Saturation (no free charger within a walk)", 12.0, "%", 10.0)],
            {"unreliability": 17.5, "projectedKWhPerCharger": 14.0, "saturation": 10.0, "coverageGapShare": 0.0,
             "householdsWithoutOffStreetParking": 0.0},
            {"powerKW": 22.0, "chargersPer1000Residents": 0.32, "chargersPer100PlugInVehicles": 0.67,
             "kWPer1000Residents": 7.1, "rapidShare": 0.0, "meanDistanceM": 610.0, "coverageGapShare": 0.35,
             "utilisation": 0.21, "saturation": 0.12, "saturationHours": 410, "reliability": 0.62,
             "sessionsPerCharger": 8.0, "kWhPerCharger": 100.0, "projectedKWh1y": 7400.0, "projectedKWh3y": 11800.0,
             "projectedKWhPerCharger": 7400.0})),
    # A3, B1: three chargers, one of them rapid, seldom all busy
    "WF": ("Westfield", {"type": "Polygon", "coordinates": [_box(-1.545, 52.403, -1.515, 52.420)]},
           5400, 700, 330, 2, 3,
           (22.0, 4, "onStreetResidential",
            "On-street AC chargers (7-22 kW) for residents: Households without off-street parking 700 households.",
            [("householdsWithoutOffStreetParking", "Households without off-street parking", 700, "households",
              9.5),
             ("coverageGapShare", "Area farther than 500 m from a charger", 22.0, "%", 7.5),
             ("saturation", "Saturation (no free charger within a walk)", 4.0, "%", 5.0)],
            {"householdsWithoutOffStreetParking": 9.5, "coverageGapShare": 7.5, "saturation": 5.0,
             "projectedKWhPerCharger": 0.0, "unreliability": 0.0},
            {"powerKW": 57.4, "chargersPer1000Residents": 0.56, "chargersPer100PlugInVehicles": 0.91,
             "kWPer1000Residents": 10.6, "rapidShare": 0.33, "meanDistanceM": 420.0, "coverageGapShare": 0.22,
             "utilisation": 0.18, "saturation": 0.04, "saturationHours": 672, "reliability": 0.97,
             "sessionsPerCharger": 9.0, "kWhPerCharger": 110.0, "projectedKWh1y": 9300.0, "projectedKWh3y": 15200.0,
             "projectedKWhPerCharger": 3100.0})),
    # A2 (two rapid chargers): imported after the last plan run
    "SV": ("Station Vale", {"type": "Polygon", "coordinates": [_box(-1.545, 52.388, -1.495, 52.403)]},
           2900, 300, 120, 1, 2, None),
}


def planning_areas(*, planned: bool = True) -> list[dict[str, Any]]:
    """The areas (as cic areas import and cic areas stations write them) and, when ``planned``, the
    plan cic plan writes on the four that were there at its run (SV came later: no plan attributes)."""
    out = []
    for code, (name, geometry, people, without, evs, stations, chargers, plan) in AREAS.items():
        counted = _iso(NOW - timedelta(hours=2))
        entity: dict[str, Any] = {
            "id": ids.planning_area("council", code), "type": "PlanningArea", "name": _p(name), "areaCode": _p(code),
            "location": {"type": "GeoProperty", "value": geometry}, "areaKm2": _p(2.5, unitCode="KMK"),
            "population": _p(people), "householdsWithoutOffStreetParking": _p(without),
            "plugInVehicles": _p(evs, observedAt="2025-12-31T00:00:00Z"),
            "stations": _p(stations, observedAt=counted), "chargers": _p(chargers, observedAt=counted),
            "refOrganization": _rel(COUNCIL)}
        if planned and plan is not None:
            score, rank, kind, why, reasons, contributions, indicators = plan
            entity.update({
                "planScore": _p(score, observedAt=_iso(PLAN_COMPUTED)), "planRank": _p(rank),
                "recommendedChargerKind": _p(kind, reason=_p(why)),
                "planReasons": _p([{"indicator": i, "label": label, "value": v, "unit": u, "points": pts}
                                   for i, label, v, u, pts in reasons]),
                "planContributions": _p(contributions),
                "planIndicators": _p({"stations": stations, "chargers": chargers, **indicators}),
                "planPeriod": _p(PLAN_PERIOD), "distanceMethod": _p("straightLine")})
        out.append(entity)
    return out
