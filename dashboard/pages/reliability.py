"""Reliability & SLA: per operator and station, this month (or the chosen month / year) and the year
so far, against the UK 99 % target for rapid chargers (Public Charge Point Regulations 2023
counting, as the health worker applies it); incidents with their duration, MTTR/MTBF, the worst
stations and a downtime timeline per charger — "which operators miss 99 % this month"."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from citiesincharge import ids
from citiesincharge.timeutil import parse_utc

from .. import kpi, periods
from ..page import Chart, Page, PageSpec, Segment, Tile, Timeline, TimelineRow
from ..periods import Span
from ..reader import Figure
from ..tables import Column, Table, hours, integer, local_time, number
from . import Ctx

SPEC = PageSpec("reliability", "/reliability", "Reliability & SLA", "month", ("month", "year"))
UK_TARGET = 99.0
OPERATOR_KPIS = ("reliability", "rapidReliability", "mttrHours", "mtbfHours", "incidents")


def _standing(value: float | None) -> str:
    if value is None:
        return "no data"
    return "meets 99 %" if value >= UK_TARGET else "misses 99 %"


def _incidents(figures: list[Figure], window_start: datetime, window_end: datetime) -> list[dict[str, Any]]:
    """Every incident of the EVSEs' monthly logs that overlaps the window (an incident spanning a month
    end is in both months' logs: kept once, by charger and start)."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for figure in figures:
        for item in figure.value if isinstance(figure.value, list) else []:
            try:
                start = parse_utc(item["start"])
                end = parse_utc(item["end"]) if item.get("end") else None
            except (KeyError, TypeError, ValueError):
                continue
            if start >= window_end or (end is not None and end <= window_start):
                continue
            key = (figure.subject, item["start"])
            known = seen.get(key)
            if known is None or (known["end"] is not None and (end is None or end > known["end"])):
                seen[key] = {"evse": figure.subject, "start": start, "end": end, "status": item.get("status")}
    return sorted(seen.values(), key=lambda i: i["start"])


def _incident_logs(ctx: Ctx, station_figs: list[Figure], stations: dict[str, Any]) -> list[Figure]:
    """The monthly incident logs of the chargers that can have one: only at stations whose reliability
    that month is below 100 % (a station at 100 % had no unreliable minute), so a year costs a few
    requests, not one per charger and month."""
    chargers_at: dict[str, list[str]] = defaultdict(list)
    for charger in ctx.directory.chargers.values():
        if charger.station in stations:
            chargers_at[charger.station].append(charger.id)
    ends = {m.end.isoformat(): m for m in ctx.filters.window.months()}
    wanted: dict[str, list[str]] = defaultdict(list)  # month end -> EVSEs
    for figure in station_figs:
        if figure.end.isoformat() in ends and isinstance(figure.value, int | float) and figure.value < 100:
            wanted[figure.end.isoformat()] += chargers_at.get(figure.subject, [])
    reads = [lambda m=month, e=evses: ctx.reader.figures(kpi.kpi_ids(["incidentLog"], e, "monthly"), [ends[m]])
             for month, evses in wanted.items()]
    return [f for found in ctx.reader.in_parallel(*reads) for f in found]


def build(ctx: Ctx) -> Page:
    reader, directory, filters, window = ctx.reader, ctx.directory, ctx.filters, ctx.filters.window
    year = periods.parse(window.first.strftime("%Y"), ctx.now, ctx.zone)
    months_so_far = [m for m in year.months() if m.start < window.end]
    frequency = "monthly" if window.kind == "month" else "yearly"
    stations = {s.id: s for s in filters.stations(directory)}
    operators = [o.id for o in directory.operators.values()] + ([directory.council.id] if directory.council else [])
    (operator_figs, _), (year_figs, _), (station_figs, spans) = reader.in_parallel(
        lambda: kpi.read(reader, kpi.kpi_ids(OPERATOR_KPIS, operators, frequency), [window.whole()]),
        lambda: kpi.read(reader, kpi.kpi_ids(OPERATOR_KPIS, operators, "yearly"), [year.whole()]),
        lambda: kpi.read(reader, kpi.kpi_ids(["reliability"], stations, "monthly"), months_so_far))
    logs = _incident_logs(ctx, station_figs, stations)
    per_station = Counter(c.station for c in directory.chargers.values() if c.station)
    evse_station = {c.id: directory.stations[c.station] for c in directory.chargers.values()
                    if c.station in directory.stations}
    in_window = {s.end.isoformat() for s in window.months()}
    period_rel = kpi.reliability_by_subject([f for f in station_figs if f.end.isoformat() in in_window], spans)
    year_rel = kpi.reliability_by_subject(station_figs, spans)

    page = Page(SPEC.slug, SPEC.title, filters)
    incidents = [i for i in _incidents(logs, window.start, window.end)
                 if (st := evse_station.get(i["evse"])) is not None and st.id in stations]
    for incident in incidents:
        incident["hours"] = ((incident["end"] or min(ctx.now, window.end)) - max(incident["start"], window.start)
                             ).total_seconds() / 3600
    incidents_at = Counter(evse_station[i["evse"]].id for i in incidents)

    # -- operators: the workers' own figures, or pooled from the stations of the chosen area ------
    by = {(f.process, f.subject): f.value for f in operator_figs}
    by_year = {(f.process, f.subject): f.value for f in year_figs}
    rows: list[dict[str, Any]] = []
    keys = [filters.operator] if filters.operator else sorted(directory.operators)
    if filters.area is None:
        subjects = [(directory.operator_name(k), ids.organization(k)) for k in keys]
        if filters.operator is None and directory.council is not None:
            subjects.append(("All operators (network)", directory.council.id))
        for name, subject in subjects:
            rows.append({"operator": name, "reliability": by.get(("reliability", subject)),
                         "rapid": by.get(("rapidReliability", subject)),
                         "standing": _standing(by.get(("rapidReliability", subject))),
                         "year": by_year.get(("reliability", subject)),
                         "rapid_year": by_year.get(("rapidReliability", subject)),
                         "incidents": by.get(("incidents", subject)), "mttr": by.get(("mttrHours", subject)),
                         "mtbf": by.get(("mtbfHours", subject))})
    else:
        group = {s.id: s.operator for s in stations.values()}
        pooled = kpi.reliability_by_subject([f for f in station_figs if f.end.isoformat() in in_window
                                             and f.subject in group], spans, per_station, group)
        pooled_year = kpi.reliability_by_subject([f for f in station_figs if f.subject in group], spans,
                                                 per_station, group)
        for key in keys:
            rows.append({"operator": f"{directory.operator_name(key)} in {filters.area}",
                         "reliability": pooled[key].value if key in pooled else None,
                         "year": pooled_year[key].value if key in pooled_year else None, "standing": "—",
                         "incidents": sum(1 for i in incidents if evse_station[i["evse"]].operator == key)})
        page.notes.append(f"Area {filters.area}: operator figures pooled from its stations (weighted by the "
                          "charger-hours counted). Rapid-charger reliability, MTTR and MTBF exist per operator only: "
                          "clear the area filter to see them.")
    this = "month" if window.kind == "month" else "year"
    page.sections.append(Table(
        "operators", f"Operators, {window.label}", [
            Column("operator", "Operator"), Column("reliability", f"Reliability {window.label} (%)", number(2),
                                                   numeric=True),
            Column("rapid", f"Rapid chargers {window.label} (%)", number(2), numeric=True),
            Column("standing", "Rapid vs UK 99 %", status=True),
            Column("year", f"Reliability {year.label} (%)", number(2), numeric=True),
            Column("rapid_year", f"Rapid chargers {year.label} (%)", number(2), numeric=True),
            Column("incidents", "Incidents", integer, numeric=True), Column("mttr", "MTTR (h)", hours, numeric=True),
            Column("mtbf", "MTBF (h)", hours, numeric=True)], rows,
        caption="Reliability = reliable / (reliable + unreliable) charger time: AVAILABLE, CHARGING, RESERVED "
                "reliable; INOPERATIVE, OUTOFORDER unreliable; UNKNOWN, BLOCKED not counted (UK PCPR 2023). "
                "Rapid = 50 kW and above, against the 99 % the regulations require."))
    missing = [r["operator"] for r in rows if r["standing"] == "misses 99 %" and "network" not in r["operator"]]
    network = next((r for r in rows if "network" in r["operator"]), None)
    page.tiles = [
        Tile(f"Network reliability, {this}", number(2)(network["reliability"]) + " %" if network else "—"),
        Tile(f"Rapid chargers, {this}", number(2)(network["rapid"]) + " %" if network else "—",
             status=("meets" if network["rapid"] >= UK_TARGET else "misses") if network and network["rapid"] is not None
             else None),
        Tile("Operators missing 99 % (rapid)", str(len(missing)), ", ".join(missing) or "none",
             status="misses" if missing else "meets"),
        Tile("Incidents", f"{len(incidents):,d}", f"chargers of the selection, {window.label}")]

    # -- stations, worst first ---------------------------------------------------------------
    station_rows: list[dict[str, Any]] = [
        {"station": s.name, "area": s.area, "operator": directory.operator_name(s.operator),
         "chargers": per_station[s.id], "reliability": period_rel[s.id].value if s.id in period_rel else None,
         "year": year_rel[s.id].value if s.id in year_rel else None,
         "standing": _standing(period_rel[s.id].value if s.id in period_rel else None),
         "incidents": incidents_at[s.id]} for s in stations.values()]
    station_rows.sort(key=lambda r: (r["reliability"] is None, r["reliability"] or 0, r["station"]))
    worst = [r for r in station_rows if r["reliability"] is not None][:10]
    page.sections.append(Chart(
        "worst", "Worst 10 stations", {
            "aria": {"enabled": True}, "grid": {"left": 200, "right": 30, "top": 10, "bottom": 30},
            "xAxis": {"type": "value", "min": 0, "max": 100, "name": "%"},
            "yAxis": {"type": "category", "inverse": True, "data": [r["station"] for r in worst]},
            "series": [{"type": "bar", "data": [round(float(r["reliability"]), 2) for r in worst], "itemStyle": {
                "color": "#b3261e"}, "label": {"show": True, "position": "right"}}],
            "tooltip": {"trigger": "axis"}},
        "Worst stations: " + "; ".join(f"{r['station']} {r['reliability']:.1f} %" for r in worst[:5]),
        height=60 + 28 * max(1, len(worst))))
    page.sections.append(Table(
        "stations", f"Stations, worst first ({window.label})", [
            Column("station", "Station"), Column("area", "Area"), Column("operator", "Operator"),
            Column("chargers", "Chargers", integer, numeric=True),
            Column("reliability", f"Reliability {window.label} (%)", number(2), numeric=True),
            Column("standing", "vs 99 %", status=True),
            Column("year", f"Reliability {year.label} to date (%)", number(2), numeric=True),
            Column("incidents", "Incidents", integer, numeric=True)], station_rows,
        caption="Year to date: the months' figures weighted by the charger-hours each rests on."))

    # -- incidents and the downtime timeline ---------------------------------------------------
    when = local_time(ctx.zone)
    page.sections.append(Table(
        "incidents", f"Incidents, {window.label}", [
            Column("charger", "Charger"), Column("station", "Station"), Column("operator", "Operator"),
            Column("status", "Status (OCPI)"), Column("start", f"Start ({ctx.tz})", when),
            Column("end", f"End ({ctx.tz})", when), Column("hours", "Duration in period (h)", hours, numeric=True)],
        [{"charger": i["evse"].rsplit(":", 1)[-1], "station": evse_station[i["evse"]].name,
          "operator": directory.operator_name(evse_station[i["evse"]].operator), "status": i["status"],
          "start": i["start"], "end": i["end"] or "ongoing", "hours": i["hours"]} for i in incidents],
        empty="No incident in this selection and period."))
    page.sections.append(_timeline(incidents, evse_station, window.whole(), ctx))
    return page


def _timeline(incidents: list[dict[str, Any]], evse_station: dict[str, Any], span: Span, ctx: Ctx) -> Timeline:
    """One row per charger with downtime, its incidents as segments across the period."""
    total = (span.end - span.start).total_seconds()
    rows: dict[str, list[Segment]] = defaultdict(list)
    when = local_time(ctx.zone)
    for incident in incidents:
        start = max(incident["start"], span.start)
        end = min(incident["end"] or ctx.now, span.end)
        if end <= start:
            end = start + timedelta(seconds=total / 500)  # too short to see: a sliver
        label = f"{incident['evse'].rsplit(':', 1)[-1]} · {evse_station[incident['evse']].name}"
        rows[label].append(Segment(100 * (start - span.start).total_seconds() / total,
                                   max(0.3, 100 * (end - start).total_seconds() / total),
                                   f"{incident['status']} from {when(incident['start'])} to "
                                   f"{when(incident['end']) if incident['end'] else 'now'} ({incident['hours']:.1f} h)",
                                   "down"))
    ordered = sorted(rows.items(), key=lambda item: -sum(s.width for s in item[1]))
    return Timeline("timeline", "Downtime per charger", when(span.start), when(span.end - timedelta(seconds=1)),
                    [TimelineRow(label, segments) for label, segments in ordered])
