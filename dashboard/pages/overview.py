"""Overview: where every station is and what a driver finds there now, per operator, and the open
alerts with where and since when — "which chargers are down now, and since when"."""

from __future__ import annotations

from collections import Counter, defaultdict

from ..live import Charger, alerts, chargers, kept, station_status
from ..page import MapView, Marker, Page, PageSpec, Tile
from ..reader import iso
from ..tables import Column, Table, hours, integer, local_time
from . import Ctx

SPEC = PageSpec("overview", "/", "Overview", "today", ("days", "month", "year"))
STATUSES = ("available", "charging", "down", "unknown")
WORST_FIRST = ("down", "unknown", "charging", "available")


def _hours_since(ctx: Ctx, charger: Charger) -> float | None:
    return (ctx.now - charger.since).total_seconds() / 3600 if charger.since else None


def build(ctx: Ctx) -> Page:
    reader, directory, filters = ctx.reader, ctx.directory, ctx.filters
    window = filters.window
    until = min(window.end, ctx.now)
    # open now, or closed in the period: one query
    found, relevant = reader.in_parallel(lambda: chargers(reader, directory), lambda: alerts(
        reader, directory, f'!validTo|(validTo>="{iso(window.start)}";validTo<"{iso(until)}")'))
    open_alerts = [a for a in relevant if a.until is None]
    closed = [a for a in relevant if a.until is not None and window.start <= a.until < until]
    mine = [c for c in found if c.station is not None and filters.keeps(c.station)]
    open_alerts = [a for a in open_alerts if kept(a, filters)]
    closed = [a for a in closed if kept(a, filters)]

    by_station: dict[str, Counter[str]] = defaultdict(Counter)
    for charger in mine:
        assert charger.station is not None
        by_station[charger.station.id][charger.category] += 1
    stations = filters.stations(directory)
    status_of = {s.id: station_status(by_station[s.id]) for s in stations}
    legend = Counter(status_of.values())

    markers = [Marker(s.id, s.name, s.lat, s.lon, status_of[s.id],
                      "\n".join([s.name, f"{directory.operator_name(s.operator)} · area {s.area}",
                                 f"status: {status_of[s.id]}",
                                 " · ".join(f"{by_station[s.id][k]} {k}" for k in STATUSES if by_station[s.id][k])
                                 or "no chargers reported"]))
               for s in stations if s.lat is not None and s.lon is not None]

    page = Page(SPEC.slug, SPEC.title, filters)
    down = [c for c in mine if c.category == "down"]
    page.tiles = [Tile("Stations", f"{len(stations):,d}", f"{len(mine):,d} chargers"),
                  *(Tile(f"Stations {k}", f"{legend[k]:,d}", status=k) for k in STATUSES),
                  Tile("Chargers down now", f"{len(down):,d}", status="down" if down else None),
                  Tile("Open alerts", f"{len(open_alerts):,d}", f"{len(closed):,d} closed in {window.label}")]
    page.sections.append(MapView("map", "Stations by status", markers, {k: legend[k] for k in STATUSES}))

    alerts_by_operator = Counter(a.operator for a in open_alerts)
    charger_counts: dict[str, Counter[str]] = defaultdict(Counter)
    station_counts: dict[str, int] = Counter(s.operator for s in stations)
    for charger in mine:
        assert charger.station is not None
        charger_counts[charger.station.operator][charger.category] += 1
    operator_rows = [{"operator": directory.operator_name(key), "stations": station_counts[key],
                      "chargers": sum(charger_counts[key].values()),
                      **{k: charger_counts[key][k] for k in STATUSES}, "alerts": alerts_by_operator[key]}
                     for key in sorted(station_counts)]
    page.sections.append(Table(
        "operators", "Per operator", [
            Column("operator", "Operator"), Column("stations", "Stations", integer, numeric=True),
            Column("chargers", "Chargers", integer, numeric=True),
            *(Column(k, f"Chargers {k}", integer, numeric=True) for k in STATUSES),
            Column("alerts", "Open alerts", integer, numeric=True)], operator_rows,
        caption="Chargers by their status now; all operators together is the consolidated view."))

    when = local_time(ctx.zone)
    down_alerts = {a.subject: a for a in open_alerts if a.kind == "chargerDown"}
    down_rows = sorted(({"charger": c.uid, "station": c.station.name if c.station else "—",
                         "area": c.station.area if c.station else "—",
                         "operator": directory.operator_name(c.station.operator if c.station else None),
                         "status": c.status, "since": c.since, "hours": _hours_since(ctx, c),
                         "alert": down_alerts[c.id].severity if c.id in down_alerts else "—"} for c in down),
                       key=lambda r: -(r["hours"] or 0))
    page.sections.append(Table(
        "down", "Chargers down now", [
            Column("charger", "Charger"), Column("station", "Station"), Column("area", "Area"),
            Column("operator", "Operator"), Column("status", "Status (OCPI)"),
            Column("since", f"Down since ({ctx.tz})", when), Column("hours", "Down for (h)", hours, numeric=True),
            Column("alert", "Alert (severity)")], down_rows,
        caption="Since: when the charger reported this status. An alert opens once a charger stays down beyond "
                "its operator's time to repair.", empty="No charger is down in this selection."))

    page.sections.append(Table(
        "alerts", "Open alerts", [
            Column("severity", "Severity", status=True), Column("kind", "Kind"), Column("where", "Where"),
            Column("operator", "Operator"), Column("since", f"Since ({ctx.tz})", when),
            Column("hours", "Open for (h)", hours, numeric=True), Column("description", "What")],
        [{"severity": a.severity, "kind": a.kind_label,
          "where": f"{a.station.name} ({a.station.area})" if a.station else directory.sites.get(a.site or "")
          or directory.operator_name(a.operator),
          "operator": directory.operator_name(a.operator), "since": a.since,
          "hours": (ctx.now - a.since).total_seconds() / 3600 if a.since else None, "description": a.description}
         for a in open_alerts], empty="No open alert in this selection."))

    page.sections.append(Table(
        "stations", "Stations", [
            Column("station", "Station"), Column("street", "Street"), Column("area", "Area"),
            Column("operator", "Operator"), Column("status", "Status", status=True),
            *(Column(k, f"Chargers {k}", integer, numeric=True) for k in STATUSES)],
        [{"station": s.name, "street": s.street, "area": s.area, "operator": directory.operator_name(s.operator),
          "status": status_of[s.id], **{k: by_station[s.id][k] for k in STATUSES}}
         for s in sorted(stations, key=lambda s: (WORST_FIRST.index(status_of[s.id]), s.name))],
        caption="The map's stations as a list: available = a charger free; charging = all in use; down = none works."))
    return page
