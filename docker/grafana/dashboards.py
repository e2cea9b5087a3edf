"""Writes the provisioned Grafana boards (docker/grafana/provisioning/dashboards/citiesincharge/*.json).

The five views of the built-in dashboard for production Grafana, read over plain NGSI-LD with the
Infinity data source: entities from the broker (``cic-ngsi-ld``: Orion-LD, or the embedded broker),
periods of KPIs from the temporal API (``cic-ngsi-ld-temporal``: Mintaka, or the embedded broker).

Why a generator rather than hand-written JSON: every query repeats the same Infinity fields, and
the queries themselves (JSONata) are easier to review here, one per panel. Run it after a change
(``python docker/grafana/dashboards.py``); tests/integration/grafana checks the files are up to
date, valid for Grafana 11.3 and that every query answers what its panel reads.

Query conventions (tests/integration/grafana/infinity.py evaluates them as Infinity does):

* ``type: json``, ``source: url``, ``parser: backend``, ``format: table``; the URL is a path under
  the data source's base URL and the query string goes in ``url_options.params``;
* ``root_selector`` is a JSONata expression in parentheses (so Infinity's first try, a GJSON path,
  finds nothing in the broker's array and JSONata runs), using only functions of JSONata 1.5
  (the Go engine Infinity embeds); it returns the rows already shaped, sorted and filtered;
* ``columns`` are the rows' own keys (selector = text) with their types; headings a person reads
  are panel overrides (``displayName``);
* ``$operator`` and ``$station`` are template variables, ``All`` is ``*``; a period is the time
  picker (``${__from:date:iso}``), read in the council's time zone (Europe/London).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "provisioning" / "dashboards" / "citiesincharge"
INFINITY = "yesoreyeram-infinity-datasource"
ENTITIES = {"type": INFINITY, "uid": "cic-ngsi-ld"}
TEMPORAL = {"type": INFINITY, "uid": "cic-ngsi-ld-temporal"}
TIMEZONE = "Europe/London"
LIMIT = ("limit", "1000")  # NGSI-LD's default page is 20; 1000 is Orion-LD's largest
OP = "$op := '$operator';"  # the operator variable inside JSONata ('*' = all)
# instances of a KPI's kpiValue: where a period was written several times, the newest (modifiedAt)
LATEST = ("$latest := function($xs){ $filter($xs, function($x){ $count($xs[observedAt = $x.observedAt and "
          "$toMillis(modifiedAt) > $toMillis($x.modifiedAt)]) = 0 }) };")
CATEGORY = ("$cat := function($s){ $s = 'AVAILABLE' ? 'available' : $s in ['CHARGING','RESERVED','BLOCKED'] ? "
            "'charging' : $s in ['OUTOFORDER','INOPERATIVE'] ? 'down' : 'unknown' };"
            "$worst := function($c){ 'available' in $c ? 'available' : 'charging' in $c ? 'charging' : "
            "'down' in $c ? 'down' : 'unknown' };")


def target(ref: str, source: dict[str, str], url: str, params: list[tuple[str, str]], root: str,
           columns: list[tuple[str, str]]) -> dict[str, Any]:
    """One Infinity query: GET ``url`` with ``params``, rows from the JSONata ``root``."""
    return {"refId": ref, "datasource": source, "type": "json", "source": "url", "parser": "backend",
            "format": "table", "url": url,
            "url_options": {"method": "GET", "data": "", "params": [{"key": k, "value": v} for k, v in params],
                            "headers": []},
            "root_selector": "(" + " ".join(root.split()) + ")",
            "columns": [{"selector": name, "text": name, "type": kind} for name, kind in columns],
            "filters": [], "computed_columns": []}


def names(mapping: dict[str, str], units: dict[str, str] | None = None) -> dict[str, Any]:
    """fieldConfig: a heading per column (and a unit where one applies)."""
    overrides = []
    for column, heading in mapping.items():
        properties: list[dict[str, Any]] = [{"id": "displayName", "value": heading}]
        if units and column in units:
            properties.append({"id": "unit", "value": units[column]})
        overrides.append({"matcher": {"id": "byName", "options": column}, "properties": properties})
    return {"defaults": {}, "overrides": overrides}


def panel(kind: str, title: str, grid: tuple[int, int, int, int], targets: list[dict[str, Any]],
          headings: dict[str, str], *, description: str = "", options: dict[str, Any] | None = None,
          units: dict[str, str] | None = None, transformations: list[dict[str, Any]] | None = None,
          defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    x, y, w, h = grid
    config = names(headings, units)
    config["defaults"] = defaults or {}
    return {"type": kind, "title": title, "description": description, "gridPos": {"x": x, "y": y, "w": w, "h": h},
            "datasource": targets[0]["datasource"], "targets": targets, "fieldConfig": config,
            "options": options or {}, "transformations": transformations or []}


def operator_variable() -> dict[str, Any]:
    query = target("operator", ENTITIES, "/ngsi-ld/v1/entities",
                   [("type", "Organization"), ("options", "keyValues"), ("attrs", "cpo,name"), LIMIT],
                   "$rows := $$[$exists(cpo)].{'__text': name & ' (' & cpo & ')', '__value': cpo}; $rows^(__value)",
                   [("__text", "string"), ("__value", "string")])
    return {"name": "operator", "label": "Operator", "type": "query", "datasource": ENTITIES,
            "query": {"queryType": "infinity", "infinityQuery": query, "query": "", "refId": "variable"},
            "includeAll": True, "allValue": "*", "multi": False, "refresh": 1, "sort": 0,
            "current": {"selected": True, "text": "All", "value": "$__all"}, "options": [], "hide": 0}


def station_variable() -> dict[str, Any]:
    query = target("station", ENTITIES, "/ngsi-ld/v1/entities",
                   [("type", "EVChargingStation"), ("options", "keyValues"), ("attrs", "name,dataProvider"), LIMIT],
                   f"{OP} $rows := $$[$op = '*' or dataProvider = $op].{{'__text': name, '__value': id}};"
                   " $rows^(__text)", [("__text", "string"), ("__value", "string")])
    return {"name": "station", "label": "Station", "type": "query", "datasource": ENTITIES,
            "query": {"queryType": "infinity", "infinityQuery": query, "query": "", "refId": "variable"},
            "includeAll": False, "multi": False, "refresh": 1, "sort": 0, "current": {}, "options": [], "hide": 0}


def dashboard(uid: str, title: str, description: str, panels: list[dict[str, Any]], *, time: tuple[str, str],
              variables: list[dict[str, Any]]) -> dict[str, Any]:
    for number, item in enumerate(panels, start=1):
        item["id"] = number
    return {"uid": uid, "title": title, "description": description, "tags": ["citiesincharge", "ngsi-ld"],
            "timezone": TIMEZONE, "editable": True, "graphTooltip": 0, "refresh": "1m", "schemaVersion": 39,
            "version": 1, "time": {"from": time[0], "to": time[1]}, "timepicker": {},
            "templating": {"list": variables}, "annotations": {"list": []},
            "links": [{"type": "dashboards", "tags": ["citiesincharge"], "asDropdown": False, "title": "Boards"}],
            "panels": panels}


# -- Overview -------------------------------------------------------------------------------------
EVSE_PARAMS = [("type", "EVSE"), ("attrs", "status,refEVChargingStation,dataProvider,evseUid"), LIMIT]


def overview() -> dict[str, Any]:
    by_status = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities", EVSE_PARAMS,
        f"""{OP} {CATEGORY}
        $e := $$[($op = '*' or dataProvider.value = $op) and status.value != 'REMOVED'];
        $c := $e.{{'station': refEVChargingStation.object, 'category': $cat(status.value)}};
        $st := $c{{station: category}};
        $s := $keys($st).$worst($lookup($st, $));
        $map(['available','charging','down','unknown'],
             function($k){{ {{'status': $k, 'stations': $count($s[$ = $k])}} }})""",
        [("status", "string"), ("stations", "number")])
    stations = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities",
        [("type", "EVChargingStation"), ("options", "keyValues"),
         ("attrs", "name,address,location,dataProvider,maxPower"), LIMIT],
        f"""{OP}
        $rows := $$[$op = '*' or dataProvider = $op].{{
          'station': id, 'name': name, 'operator': dataProvider, 'street': address.streetAddress,
          'area': $uppercase($split($trim(address.postalCode), ' ')[0]),
          'longitude': location.coordinates[0], 'latitude': location.coordinates[1], 'maxPowerKW': maxPower}};
        $rows^(name)""",
        [("station", "string"), ("name", "string"), ("operator", "string"), ("street", "string"), ("area", "string"),
         ("longitude", "number"), ("latitude", "number"), ("maxPowerKW", "number")])
    status = target(
        "B", ENTITIES, "/ngsi-ld/v1/entities", EVSE_PARAMS,
        f"""{OP} {CATEGORY}
        $e := $$[($op = '*' or dataProvider.value = $op) and status.value != 'REMOVED'];
        $c := $e.{{'station': refEVChargingStation.object, 'category': $cat(status.value)}};
        $st := $c{{station: category}};
        $rows := $keys($st).( $c := $lookup($st, $); {{
          'station': $, 'status': $worst($c), 'available': $count($c[$ = 'available']),
          'charging': $count($c[$ = 'charging']), 'down': $count($c[$ = 'down']),
          'unknown': $count($c[$ = 'unknown'])}});
        $rows^(station)""",
        [("station", "string"), ("status", "string"), ("available", "number"), ("charging", "number"),
         ("down", "number"), ("unknown", "number")])
    join = [{"id": "joinByField", "options": {"byField": "station", "mode": "outer"}}]
    down = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities", EVSE_PARAMS,
        f"""{OP}
        $rows := $$[($op = '*' or dataProvider.value = $op) and status.value in ['OUTOFORDER','INOPERATIVE']].{{
          'charger': evseUid.value, 'station': $split(refEVChargingStation.object, ':')[4],
          'operator': dataProvider.value, 'status': status.value, 'since': status.observedAt}};
        $rows^(since)""",
        [("charger", "string"), ("station", "string"), ("operator", "string"), ("status", "string"),
         ("since", "timestamp")])
    alerts = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities",
        [("type", "Alert"), ("q", "!validTo"), ("options", "keyValues"),
         ("attrs", "severity,validFrom,description,data,alertSource"), LIMIT],
        f"""{OP}
        $rank := {{'critical': 0, 'high': 1, 'medium': 2, 'low': 3, 'informational': 4}};
        $rows := $$[$op = '*' or data.operator = $op].{{
          'severity': severity, 'rank': $lookup($rank, severity), 'kind': data.kind, 'subject': alertSource,
          'operator': data.operator, 'since': validFrom, 'description': description}};
        $rows^(rank, since)""",
        [("severity", "string"), ("rank", "number"), ("kind", "string"), ("subject", "string"),
         ("operator", "string"), ("since", "timestamp"), ("description", "string")])
    station_headings = {"name": "Station", "operator": "Operator", "street": "Street", "area": "Area",
                        "status": "Status now", "available": "Chargers available", "charging": "Chargers in use",
                        "down": "Chargers down", "unknown": "Chargers unknown", "maxPowerKW": "Max power (kW)"}
    hide = {"id": "organize", "options": {"excludeByName": {"station": True, "longitude": True, "latitude": True},
                                          "renameByName": {}}}
    panels = [
        panel("piechart", "Stations by status now", (0, 0, 8, 9), [by_status],
              {"status": "Status", "stations": "Stations"},
              description="What a driver finds: available = a charger free; charging = all in use; down = none "
                          "works; unknown = nothing known. From the chargers' (EVSE) statuses.",
              options={"reduceOptions": {"values": True, "calcs": [], "fields": "/^stations$/"},
                       "pieType": "donut", "legend": {"displayMode": "table", "placement": "right",
                                                      "values": ["value"]}, "displayLabels": ["value"]}),
        panel("geomap", "Stations by status", (8, 0, 16, 9), [stations, status], station_headings,
              transformations=join,
              options={"view": {"id": "fit", "lat": 0, "lon": 0, "zoom": 12}, "controls": {"showZoom": True},
                       "basemap": {"type": "default", "name": "Basemap"},
                       "layers": [{"type": "markers", "name": "Stations", "tooltip": True,
                                   "location": {"mode": "coords", "latitude": "latitude", "longitude": "longitude"},
                                   "config": {"showLegend": True, "style": {
                                       "size": {"fixed": 8}, "color": {"field": "status", "fixed": "dark-green"}}}}]},
              defaults={"mappings": [{"type": "value", "options": {
                  "available": {"color": "green", "index": 0}, "charging": {"color": "blue", "index": 1},
                  "down": {"color": "red", "index": 2}, "unknown": {"color": "gray", "index": 3}}}]}),
        panel("table", "Chargers down now", (0, 9, 12, 8), [down],
              {"charger": "Charger", "station": "Station", "operator": "Operator", "status": "Status (OCPI)",
               "since": "Down since"},
              description="Since: when the charger reported this status (council time). An alert opens once a "
                          "charger stays down beyond its operator's time to repair."),
        panel("table", "Open alerts", (12, 9, 12, 8), [alerts],
              {"severity": "Severity", "kind": "Kind", "subject": "About", "operator": "Operator", "since": "Since",
               "description": "What"},
              transformations=[{"id": "organize", "options": {"excludeByName": {"rank": True}}}]),
        panel("table", "Stations", (0, 17, 24, 9), [stations, status], station_headings,
              transformations=[*join, hide]),
    ]
    return dashboard("cic-overview", "CitiesInCharge · Overview",
                     "Which chargers are down now, and since when: stations by status, open alerts.", panels,
                     time=("now-24h", "now"), variables=[operator_variable()])


# -- Reliability & SLA ----------------------------------------------------------------------------
OPERATOR_KPIS = "reliability", "rapidReliability", "incidents", "mttrHours", "mtbfHours"


def reliability() -> dict[str, Any]:
    processes = ",".join(f'"{p}"' for p in OPERATOR_KPIS)
    month = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities",
        [("type", "KeyPerformanceIndicator"), ("options", "keyValues"),
         ("q", f'calculationFrequency=="monthly";kpiScope=="operator","council";process=={processes}'),
         ("attrs", "kpiValue,process,kpiScope,organization"), LIMIT],
        f"""{OP}
        $k := $$[$op = '*' ? true : organization = $op];
        $who := function($e){{ $e.kpiScope = 'council' ? 'network' : $e.organization }};
        $rows := $keys($k{{$who($): true}}).( $o := $; $m := $k[$who($) = $o]; {{
          'operator': $o, 'reliability': $m[process = 'reliability'].kpiValue,
          'rapidReliability': $m[process = 'rapidReliability'].kpiValue,
          'standing': $exists($m[process = 'rapidReliability'].kpiValue)
            ? ($m[process = 'rapidReliability'].kpiValue >= 99 ? 'meets 99 %' : 'misses 99 %') : 'no data',
          'incidents': $m[process = 'incidents'].kpiValue, 'mttrHours': $m[process = 'mttrHours'].kpiValue,
          'mtbfHours': $m[process = 'mtbfHours'].kpiValue}});
        $rows^(operator = 'network' ? 1 : 0, operator)""",
        [("operator", "string"), ("reliability", "number"), ("rapidReliability", "number"), ("standing", "string"),
         ("incidents", "number"), ("mttrHours", "number"), ("mtbfHours", "number")])
    stations = target(
        "A", TEMPORAL, "/ngsi-ld/v1/temporal/entities",
        [("type", "KeyPerformanceIndicator"),
         ("q", 'kpiScope=="station";process=="reliability";calculationFrequency=="monthly"'),
         ("attrs", "kpiValue"), ("timerel", "after"), ("timeAt", "${__from:date:iso}"), ("options", "sysAttrs"),
         LIMIT],
        f"""{OP} {LATEST}
        $rows := $$[$op = '*' or $split(id, ':')[5] = $op].( $p := $split(id, ':');
          $latest(kpiValue).{{'month': period.value.from, 'station': $p[6], 'operator': $p[5], 'reliability': value,
                             'coverage': coverage.value, 'provisional': provisional.value}});
        $rows^(reliability, month, station)""",
        [("month", "timestamp"), ("station", "string"), ("operator", "string"), ("reliability", "number"),
         ("coverage", "number"), ("provisional", "boolean")])
    incidents = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities",
        [("type", "KeyPerformanceIndicator"), ("options", "keyValues"),
         ("q", 'process=="incidentLog";calculationFrequency=="monthly"'),
         ("attrs", "kpiValue,organization,refEVSE"), LIMIT],
        f"""{OP}
        $rows := $$[$op = '*' or organization = $op].( $e := $; kpiValue.{{
          'charger': $split($e.refEVSE, ':')[4], 'operator': $e.organization, 'status': status, 'start': start,
          'end': end, 'hours': hours}});
        $rows^(start)""",
        [("charger", "string"), ("operator", "string"), ("status", "string"), ("start", "timestamp"),
         ("end", "timestamp"), ("hours", "number")])
    threshold = {"thresholds": {"mode": "absolute", "steps": [{"color": "red", "value": None},
                                                              {"color": "green", "value": 99}]}}
    panels = [
        panel("table", "Operators this month against the UK 99 %", (0, 0, 24, 7), [month],
              {"operator": "Operator", "reliability": "Reliability (%)", "rapidReliability": "Rapid chargers (%)",
               "standing": "Rapid vs UK 99 %", "incidents": "Incidents", "mttrHours": "MTTR (h)",
               "mtbfHours": "MTBF (h)"},
              description="The health worker's figures for the running month (provisional until it ends): "
                          "AVAILABLE, CHARGING, RESERVED reliable; INOPERATIVE, OUTOFORDER unreliable; UNKNOWN, "
                          "BLOCKED not counted (UK PCPR 2023). Rapid = 50 kW and above.", defaults=threshold),
        panel("bargauge", "Rapid-charger reliability this month", (0, 7, 12, 7), [month],
              {"rapidReliability": "Rapid chargers (%)"},
              options={"reduceOptions": {"values": True, "calcs": [], "fields": "/^rapidReliability$/"},
                       "orientation": "horizontal", "displayMode": "basic", "showUnfilled": True},
              defaults={**threshold, "min": 90, "max": 100, "unit": "percent"}),
        panel("table", "Incidents this month", (12, 7, 12, 7), [incidents],
              {"charger": "Charger", "operator": "Operator", "status": "Status (OCPI)", "start": "Start",
               "end": "End (empty: ongoing)", "hours": "Hours"}),
        panel("table", "Stations per month, worst first", (0, 14, 24, 9), [stations],
              {"month": "Month from", "station": "Station", "operator": "Operator", "reliability": "Reliability (%)",
               "coverage": "Coverage (share of charger-hours counted)", "provisional": "Provisional"},
              description="Each month's newest figure from the temporal API, months ending after the start of the "
                          "time range.", defaults=threshold),
    ]
    return dashboard("cic-reliability", "CitiesInCharge · Reliability & SLA",
                     "Which operators miss 99 % this month: reliability, incidents, MTTR/MTBF.", panels,
                     time=("now-6M/M", "now/M"), variables=[operator_variable()])


# -- Blocked bays ---------------------------------------------------------------------------------
KINDS = '"chargingBayBlocked","overstay"'


def bays() -> dict[str, Any]:
    open_now = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities",
        [("type", "Alert"), ("q", f"!validTo;data[kind]=={KINDS}"), ("options", "keyValues"),
         ("attrs", "severity,validFrom,data"), LIMIT],
        f"""{OP}
        $rows := $$[$op = '*' or data.operator = $op].{{
          'kind': data.kind, 'bay': $split(data.bay, ':')[-1], 'site': $split(data.site, ':')[-1],
          'operator': data.operator, 'charger': data.chargerStatus, 'since': validFrom}};
        $rows^(since)""",
        [("kind", "string"), ("bay", "string"), ("site", "string"), ("operator", "string"), ("charger", "string"),
         ("since", "timestamp")])
    spots = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities",
        [("type", "ParkingSpot"), ("options", "keyValues"), ("attrs", "status,refParkingSite"), LIMIT],
        """$s := $$;
        $rows := $keys($s{refParkingSite: true}).( $site := $; $b := $s[refParkingSite = $site]; {
          'site': $split($site, ':')[-1], 'bays': $count($b), 'occupied': $count($b[status = 'occupied']),
          'free': $count($b[status = 'free'])});
        $rows^(site)""",
        [("site", "string"), ("bays", "number"), ("occupied", "number"), ("free", "number")])
    history = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities",
        [("type", "Alert"), ("options", "keyValues"), ("attrs", "validFrom,validTo,data"),
         ("q", f'data[kind]=={KINDS};validFrom<"${{__to:date:iso}}";(!validTo|validTo>="${{__from:date:iso}}")'),
         LIMIT],
        f"""{OP}
        $rows := $$[$op = '*' or data.operator = $op].{{
          'kind': data.kind, 'bay': $split(data.bay, ':')[-1], 'site': $split(data.site, ':')[-1],
          'operator': data.operator, 'start': validFrom, 'end': validTo}};
        $rows^(start)""",
        [("kind", "string"), ("bay", "string"), ("site", "string"), ("operator", "string"), ("start", "timestamp"),
         ("end", "timestamp")])
    panels = [
        panel("table", "Bays blocked and overstays now", (0, 0, 14, 8), [open_now],
              {"kind": "Kind", "bay": "Bay", "site": "Site", "operator": "Operator", "charger": "Charger status",
               "since": "Since"},
              description="chargingBayBlocked: a charging bay occupied while its charger is not charging beyond "
                          "the grace period; overstay: beyond the longest stay. Open alerts of the violations worker."),
        panel("table", "Charging bays per site now", (14, 0, 10, 8), [spots],
              {"site": "Site", "bays": "Bays", "occupied": "Occupied", "free": "Free"}),
        panel("table", "Blocked-bay and overstay alerts in the time range", (0, 8, 24, 9), [history],
              {"kind": "Kind", "bay": "Bay", "site": "Site", "operator": "Operator", "start": "Start",
               "end": "End (empty: ongoing)"}),
    ]
    return dashboard("cic-blocked-bays", "CitiesInCharge · Blocked bays",
                     "Where are bays blocked now, and where most often.", panels, time=("now-7d", "now"),
                     variables=[operator_variable()])


# -- Demand ---------------------------------------------------------------------------------------
def demand() -> dict[str, Any]:
    def forecast(resolution: str) -> dict[str, Any]:
        return target(
            "A", ENTITIES, "/ngsi-ld/v1/entities",
            [("type", "DemandForecast"), ("options", "keyValues"),
             ("q", f'refEVChargingStation=="$station";resolution=="{resolution}"'),
             ("attrs", "validFrom,resolution,forecastValues,lowerBound,upperBound"), LIMIT],
            """$f := $$[0];
            $step := $f.resolution = 'PT1H' ? 3600000 : 86400000;
            $start := $toMillis($f.validFrom);
            $map($f.forecastValues, function($v, $i){ {'time': $fromMillis($start + $i * $step), 'forecast': $v,
              'low': $f.lowerBound[$i], 'high': $f.upperBound[$i]} })""",
            [("time", "timestamp"), ("forecast", "number"), ("low", "number"), ("high", "number")])
    quality = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities",
        [("type", "DemandForecast"), ("options", "keyValues"),
         ("attrs", "resolution,model,backtest,intervalLevel,refEVChargingStation,dateIssued"), LIMIT],
        f"""{OP}
        $rows := $$[$op = '*' or $split(refEVChargingStation, ':')[3] = $op].( $f := $; {{
          'station': $split($f.refEVChargingStation, ':')[4], 'operator': $split($f.refEVChargingStation, ':')[3],
          'resolution': $f.resolution = 'PT1H' ? 'hourly, 48 h' : 'daily, 8 weeks', 'model': $f.model,
          'mase': $lookup($f.backtest, $f.model).mase, 'smape': $lookup($f.backtest, $f.model).smape,
          'naiveMase': $f.backtest.seasonalNaive.mase, 'interval': $f.intervalLevel, 'issued': $f.dateIssued}});
        $rows^(station, resolution)""",
        [("station", "string"), ("operator", "string"), ("resolution", "string"), ("model", "string"),
         ("mase", "number"), ("smape", "number"), ("naiveMase", "number"), ("interval", "number"),
         ("issued", "timestamp")])
    utilisation = target(
        "A", TEMPORAL, "/ngsi-ld/v1/temporal/entities",
        [("type", "KeyPerformanceIndicator"),
         ("q", 'process=="hourlyUtilisation";calculationFrequency=="daily";kpiScope=="operator","council"'),
         ("attrs", "kpiValue"), ("timerel", "after"), ("timeAt", "${__from:date:iso}"), ("options", "sysAttrs"),
         LIMIT],
        f"""{OP} {LATEST}
        $k := $$[$op = '*' ? $split(id, ':')[4] = 'Organization' and $split(id, ':')[5] = 'council'
                           : $split(id, ':')[5] = $op];
        $rows := $k.$latest(kpiValue).( $day := $toMillis(period.value.from); $map(value, function($u, $h){{
          {{'time': $fromMillis($day + $h * 3600000), 'utilisation': $u}} }}) );
        $rows^(time)""",
        [("time", "timestamp"), ("utilisation", "number")])
    band = {"custom": {"fillOpacity": 0, "lineWidth": 2}, "unit": "short", "min": 0}
    fill_between = [{"matcher": {"id": "byName", "options": "low"},
                     "properties": [{"id": "custom.fillBelowTo", "value": "high"}, {"id": "custom.lineWidth",
                                                                                      "value": 0},
                                    {"id": "custom.fillOpacity", "value": 25}]},
                    {"matcher": {"id": "byName", "options": "high"},
                     "properties": [{"id": "custom.lineWidth", "value": 0}]}]
    daily = panel("timeseries", "Sessions per day at ${station:text}: forecast with its 90 % interval", (0, 0, 24, 8),
                  [forecast("P1D")], {"forecast": "forecast", "low": "90 % low", "high": "90 % high"}, defaults=band)
    hourly = panel("timeseries", "Sessions per hour at ${station:text}, next 48 h", (0, 8, 24, 8), [forecast("PT1H")],
                   {"forecast": "forecast", "low": "90 % low", "high": "90 % high"}, defaults=band)
    for item in (daily, hourly):
        item["fieldConfig"]["overrides"] += fill_between
    panels = [
        daily, hourly,
        panel("table", "Forecast models and back-test", (0, 16, 12, 8), [quality],
              {"station": "Station", "operator": "Operator", "resolution": "Horizon", "model": "Model",
               "mase": "MASE", "smape": "sMAPE (%)", "naiveMase": "Seasonal naive MASE", "interval": "Interval",
               "issued": "Issued"},
              description="Rolling-origin back-test of the chosen model next to the seasonal-naive baseline "
                          "(MASE < 1: better than naive)."),
        panel("timeseries", "Utilisation by hour (share of charger time charging)", (12, 16, 12, 8), [utilisation],
              {"utilisation": "utilisation"}, defaults={"unit": "percentunit", "min": 0, "max": 1},
              description="The daily hourlyUtilisation profiles (all operators: the network's; one operator: its "
                          "own) over the time range, from the temporal API."),
    ]
    return dashboard("cic-demand", "CitiesInCharge · Demand",
                     "How will demand look next week at this station: forecasts with intervals, utilisation.", panels,
                     time=("now-7d", "now+2d"), variables=[operator_variable(), station_variable()])


# -- Energy & revenue -----------------------------------------------------------------------------
TARIFF_ATTRS = ("currency,referencePrices,pricePerKWh,pricePerHour,parkingPricePerHour,flatFee,vatRate,tariffType,"
                "validFrom,validTo,dataProvider")
REFERENCE_SESSIONS = ("ac7-evening", "dc50-morning", "ac11-2h", "ac7-overnight")  # docs/TARIFFS.md
def energy() -> dict[str, Any]:
    monthly = target(
        "A", TEMPORAL, "/ngsi-ld/v1/temporal/entities",
        [("type", "KeyPerformanceIndicator"),
         ("q", 'kpiScope=="operator";calculationFrequency=="monthly";'
               'process=="energyDelivered","sessions","revenueExclVat","revenueInclVat","avgPricePerKWh"'),
         ("attrs", "kpiValue"), ("timerel", "after"), ("timeAt", "${__from:date:iso}"), ("options", "sysAttrs"),
         LIMIT],
        f"""{OP} {LATEST}
        $i := $$[$op = '*' or $split(id, ':')[5] = $op].( $p := $split(id, ':');
          $latest(kpiValue).{{'key': $p[5] & ' ' & period.value.from, 'operator': $p[5], 'month': period.value.from,
                              'process': $p[3], 'currency': $p[7], 'value': value}});
        $rows := $keys($i{{key: true}}).( $k := $; $g := $i[key = $k]; {{
          'month': $g[0].month, 'operator': $g[0].operator, 'kwh': $g[process = 'energyDelivered'].value,
          'sessions': $g[process = 'sessions'].value, 'revenueExclVat': $g[process = 'revenueExclVat'][0].value,
          'revenueInclVat': $g[process = 'revenueInclVat'][0].value,
          'avgPricePerKWh': $g[process = 'avgPricePerKWh'][0].value,
          'currency': $g[process = 'revenueExclVat'][0].currency}});
        $rows^(month, operator)""",
        [("month", "timestamp"), ("operator", "string"), ("kwh", "number"), ("sessions", "number"),
         ("revenueExclVat", "number"), ("revenueInclVat", "number"), ("avgPricePerKWh", "number"),
         ("currency", "string")])
    tariff_params = [("type", "ChargingTariff"), ("options", "keyValues"), ("attrs", TARIFF_ATTRS), LIMIT]
    tariffs = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities", tariff_params,
        f"""{OP}
        $rows := $$[$op = '*' or dataProvider = $op].{{
          'operator': dataProvider, 'tariff': $split(id, ':')[-1], 'tariffType': tariffType, 'currency': currency,
          'pricePerKWh': pricePerKWh, 'pricePerKWhInclVat': $round(pricePerKWh * (1 + vatRate / 100), 4),
          'pricePerHour': pricePerHour, 'parkingPricePerHour': parkingPricePerHour, 'flatFee': flatFee,
          'vatRate': vatRate, 'validFrom': validFrom, 'validTo': validTo}};
        $rows^(operator, tariff)""",
        [("operator", "string"), ("tariff", "string"), ("tariffType", "string"), ("currency", "string"),
         ("pricePerKWh", "number"), ("pricePerKWhInclVat", "number"), ("pricePerHour", "number"),
         ("parkingPricePerHour", "number"), ("flatFee", "number"), ("vatRate", "number"), ("validFrom", "timestamp"),
         ("validTo", "timestamp")])
    # the reference sessions (docs/TARIFFS.md) in their order; a tariff is in force at the range's end
    sessions = "{" + ", ".join(f"'{name}': {n}" for n, name in enumerate(REFERENCE_SESSIONS, start=1)) + "}"
    in_force = ("$at := $toMillis('${__to:date:iso}'); "
                "$force := function($t){ ($not($exists($t.validFrom)) or $toMillis($t.validFrom) <= $at) and "
                "($not($exists($t.validTo)) or $toMillis($t.validTo) > $at) };")
    per_tariff = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities", tariff_params,
        f"""{OP} {in_force} $order := {sessions};
        $rows := $$[$op = '*' or dataProvider = $op].( $t := $; $f := $force($t); referencePrices.{{
          'operator': $t.dataProvider, 'tariff': $split($t.id, ':')[-1], 'session': session,
          'order': $lookup($order, session), 'inForce': $f ? 'yes' : 'no', 'start': startDateTime,
          'priceExclVat': priceExclVat, 'priceInclVat': priceInclVat, 'currency': currency}});
        $rows^(operator, tariff, order)""",
        [("operator", "string"), ("tariff", "string"), ("session", "string"), ("inForce", "string"),
         ("start", "string"), ("priceExclVat", "number"), ("priceInclVat", "number"), ("currency", "string")])
    ranges = target(
        "A", ENTITIES, "/ngsi-ld/v1/entities", tariff_params,
        f"""{OP} {in_force} $order := {sessions};
        $p := $$[($op = '*' or dataProvider = $op) and $force($)].( $t := $; referencePrices.{{
          'key': $t.dataProvider & ' ' & currency & ' ' & session, 'operator': $t.dataProvider, 'currency': currency,
          'session': session, 'excl': priceExclVat, 'incl': priceInclVat}});
        $rows := $keys($p{{key: true}}).( $k := $; $g := $p[key = $k]; $all := $count($g[$exists(incl)]) = $count($g);
          {{'operator': $g[0].operator, 'currency': $g[0].currency, 'session': $g[0].session,
           'order': $lookup($order, $g[0].session), 'tariffs': $count($g),
           'cheapest': $all ? $min($g.incl) : $min($g.excl), 'dearest': $all ? $max($g.incl) : $max($g.excl),
           'prices': $all ? 'incl. VAT' : 'excl. VAT'}});
        $rows^(operator, currency, order)""",
        [("operator", "string"), ("currency", "string"), ("session", "string"), ("tariffs", "number"),
         ("cheapest", "number"), ("dearest", "number"), ("prices", "string")])
    headings = {"month": "Month from", "operator": "Operator", "kwh": "kWh", "sessions": "Sessions",
                "revenueExclVat": "Revenue excl. VAT", "revenueInclVat": "Revenue incl. VAT",
                "avgPricePerKWh": "Average price per kWh", "currency": "Currency"}
    panels = [
        panel("table", "kWh and revenue per operator per month", (0, 0, 24, 8), [monthly], headings,
              description="The energy worker's monthly operator figures (by the CDRs' end, council calendar), each "
                          "month's newest figure from the temporal API. Incl. VAT only where every CDR carries it "
                          "(OCPI 2.1.1 CDRs do not)."),
        panel("barchart", "kWh per operator per month", (0, 8, 12, 8), [monthly], headings,
              transformations=[{"id": "groupingToMatrix", "options": {"columnField": "operator", "rowField": "month",
                                                                      "valueField": "kwh"}}],
              options={"xField": "month\\operator", "orientation": "auto", "showValue": "auto", "stacking": "none",
                       "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"}},
              defaults={"unit": "kwatth"}),
        panel("barchart", "Revenue excl. VAT per operator per month", (12, 8, 12, 8), [monthly], headings,
              transformations=[{"id": "groupingToMatrix", "options": {"columnField": "operator", "rowField": "month",
                                                                      "valueField": "revenueExclVat"}}],
              options={"xField": "month\\operator", "orientation": "auto", "showValue": "auto", "stacking": "none",
                       "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"}}),
        panel("table", "What each operator charges for a reference session", (0, 16, 24, 8), [ranges],
              {"operator": "Operator", "currency": "Currency", "session": "Reference session",
               "tariffs": "Tariffs in force", "cheapest": "Cheapest", "dearest": "Dearest", "prices": "Prices"},
              description="The price of the same session (docs/TARIFFS.md: ac7-evening 7 kWh AC from 18:00, "
                          "dc50-morning 30 kWh DC from 10:00, ac11-2h 11 kWh AC plugged in 2 h, ac7-overnight 21 kWh "
                          "AC 22:00-07:00) under each of the operator's tariffs in force at the end of the time "
                          "range, cheapest and dearest: incl. VAT when every tariff gives it, else excl. VAT (OCPI "
                          "2.1.1 tariffs give none)."),
        panel("table", "Reference session prices per tariff", (0, 24, 24, 8), [per_tariff],
              {"operator": "Operator", "tariff": "Tariff", "session": "Reference session", "inForce": "In force",
               "start": "Priced from (local)", "priceExclVat": "Price excl. VAT", "priceInclVat": "Price incl. VAT",
               "currency": "Currency"},
              description="referencePrices of each ChargingTariff; no price incl. VAT where a component the session "
                          "is billed by has no VAT."),
        panel("table", "Tariffs side by side", (0, 32, 24, 7), [tariffs],
              {"operator": "Operator", "tariff": "Tariff", "tariffType": "Type", "currency": "Currency",
               "pricePerKWh": "Per kWh excl. VAT", "pricePerKWhInclVat": "Per kWh incl. VAT",
               "pricePerHour": "Per hour charging excl. VAT", "parkingPricePerHour": "Parking per hour excl. VAT",
               "flatFee": "Flat fee excl. VAT", "vatRate": "VAT (%)", "validFrom": "Valid from",
               "validTo": "Valid to"},
              description="Summary prices only where the tariff has exactly one (no night rate, free first kWh or "
                          "price by power); VAT (%) only where every component has the same rate: compare the "
                          "reference sessions above."),
    ]
    return dashboard("cic-energy-revenue", "CitiesInCharge · Energy & revenue",
                     "kWh, sessions and revenue per operator and month; what each operator charges for the "
                     "reference sessions; tariffs side by side.", panels,
                     time=("now-6M/M", "now/M"), variables=[operator_variable()])


BOARDS = {"overview": overview, "reliability": reliability, "blocked-bays": bays, "demand": demand,
          "energy-revenue": energy}


def render() -> dict[str, str]:
    """File name -> JSON text of every board."""
    return {f"{name}.json": json.dumps(build(), indent=2, ensure_ascii=False) + "\n" for name, build in BOARDS.items()}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
