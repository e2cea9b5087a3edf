"""Blocked bays: charging bays occupied by a car that is not charging, and overstays — live with
their duration, per parking site, and their history by day, hour and site — "where are bays blocked
now, and where most often". Read from the violations worker's Alerts and the bays' own state."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from ..live import Alert, alerts, kept
from ..page import Chart, Page, PageSpec, Tile
from ..reader import iso, value
from ..tables import Column, Table, hours, integer, local_time
from . import Ctx

SPEC = PageSpec("bays", "/bays", "Blocked bays", "7d", ("days", "month", "year"))
KINDS = '"chargingBayBlocked","overstay"'


def _bar(chart_id: str, title: str, labels: list[str], series: dict[str, list[int]], summary: str,
         horizontal: bool = False) -> Chart:
    """Counts per category as bars, one series per kind (the same figures are in a table)."""
    category = {"type": "category", "data": labels}
    amount = {"type": "value", "minInterval": 1}
    return Chart(chart_id, title, {
        "aria": {"enabled": True}, "legend": {"top": 0}, "tooltip": {"trigger": "axis"},
        "grid": {"left": 180 if horizontal else 50, "right": 20, "top": 30, "bottom": 40},
        "xAxis": amount if horizontal else category, "yAxis": {**category, "inverse": True} if horizontal else amount,
        "series": [{"type": "bar", "name": name, "stack": "all", "data": data} for name, data in series.items()],
        "color": ["#b3261e", "#8a5a00"]}, summary, height=60 + 26 * len(labels) if horizontal else 300)


def build(ctx: Ctx) -> Page:
    reader, directory, filters, window = ctx.reader, ctx.directory, ctx.filters, ctx.filters.window
    until = min(window.end, ctx.now)
    history_q = f'data[kind]=={KINDS};validFrom<"{iso(until)}";(!validTo|validTo>="{iso(window.start)}")'
    mine = [b for b in directory.bays.values() if filters.keeps(directory.station_of_bay(b.id))]
    spots, found = reader.in_parallel(lambda: reader.by_ids("ParkingSpot", [b.id for b in mine], ["status"]),
                                      lambda: alerts(reader, directory, history_q))
    status = {s["id"]: value(s, "status") for s in spots}
    found = [a for a in found if kept(a, filters)]
    site_names = directory.sites

    def site_of(alert: Alert) -> str:
        return site_names.get(alert.site or "", (alert.site or "—").rsplit(":", 1)[-1])

    def duration(alert: Alert) -> float:
        """Hours of the alert inside the window (so far)."""
        start, end = max(alert.since or window.start, window.start), min(alert.until or ctx.now, until)
        return max(0.0, (end - start).total_seconds() / 3600)

    open_now = [a for a in found if a.until is None]
    page = Page(SPEC.slug, SPEC.title, filters)
    occupied = sum(1 for b in mine if status.get(b.id) == "occupied")
    blocked_now = sum(1 for a in open_now if a.kind == "chargingBayBlocked")
    blocked = [a for a in found if a.kind == "chargingBayBlocked"]
    page.tiles = [Tile("Bays blocked now", str(blocked_now), status="down" if blocked_now else None),
                  Tile("Overstays now", str(len(open_now) - blocked_now)),
                  Tile("Bays occupied now", f"{occupied} of {len(mine)}"),
                  Tile(f"Blocked-bay alerts, {window.label}", str(len(blocked)),
                       f"{sum(duration(a) for a in blocked):.1f} h blocked in all")]
    when = local_time(ctx.zone)
    page.sections.append(Table(
        "now", "Blocked bays and overstays now", [
            Column("kind", "Kind"), Column("bay", "Bay"), Column("site", "Site"), Column("station", "Station"),
            Column("operator", "Operator"), Column("since", f"Since ({ctx.tz})", when),
            Column("hours", "For (h)", hours, numeric=True), Column("severity", "Severity", status=True),
            Column("charger", "Charger status")],
        [{"kind": a.kind_label, "bay": (a.bay or a.subject).rsplit(":", 1)[-1], "site": site_of(a),
          "station": a.station.name if a.station else "—", "operator": directory.operator_name(a.operator),
          "since": a.since, "hours": (ctx.now - a.since).total_seconds() / 3600 if a.since else None,
          "severity": a.severity, "charger": a.data.get("chargerStatus")}
         for a in sorted(open_now, key=lambda a: a.since or ctx.now)],
        empty="No bay is blocked and nothing overstays in this selection."))

    # -- per site ----------------------------------------------------------------------------
    per_site: dict[str, dict[str, Any]] = {}
    for bay in mine:
        site = bay.site or ""
        row = per_site.setdefault(site, {"site": site_names.get(site, site.rsplit(":", 1)[-1]), "bays": 0,
                                         "occupied": 0, "blocked_now": 0, "overstay_now": 0, "blocked": 0,
                                         "overstays": 0, "hours": 0.0})
        row["bays"] += 1
        row["occupied"] += status.get(bay.id) == "occupied"
    for alert in found:
        if (site_row := per_site.get(alert.site or "")) is None:
            continue
        is_blocked = alert.kind == "chargingBayBlocked"
        site_row["blocked" if is_blocked else "overstays"] += 1
        site_row["hours"] += duration(alert) if is_blocked else 0.0
        if alert.until is None:
            site_row["blocked_now" if is_blocked else "overstay_now"] += 1
    site_rows = sorted(per_site.values(), key=lambda r: (-r["blocked"], -r["hours"], r["site"]))
    page.sections.append(Table(
        "sites", f"Per parking site, most often blocked first ({window.label})", [
            Column("site", "Site"), Column("bays", "Bays", integer, numeric=True),
            Column("occupied", "Occupied now", integer, numeric=True),
            Column("blocked_now", "Blocked now", integer, numeric=True),
            Column("overstay_now", "Overstays now", integer, numeric=True),
            Column("blocked", "Blocked (alerts)", integer, numeric=True),
            Column("hours", "Hours blocked", hours, numeric=True),
            Column("overstays", "Overstays (alerts)", integer, numeric=True)], site_rows))

    # -- history by day, hour and site ---------------------------------------------------------
    in_window = [a for a in found if a.since is not None]
    days = [d.label for d in window.days()]
    by_day: dict[str, Counter[str]] = defaultdict(Counter)
    by_hour: dict[str, Counter[int]] = defaultdict(Counter)
    for alert in in_window:
        assert alert.since is not None
        local = max(alert.since, window.start).astimezone(ctx.zone)
        by_day[alert.kind_label][local.date().isoformat()] += 1
        by_hour[alert.kind_label][alert.since.astimezone(ctx.zone).hour] += 1
    labels = ("bay blocked", "overstay")
    page.sections.append(_bar("by-day", "By day", days, {k: [by_day[k][d] for d in days] for k in labels},
                              f"Blocked-bay and overstay alerts per day, {window.label}: "
                              f"{sum(by_day['bay blocked'].values())} blocked, {sum(by_day['overstay'].values())} "
                              "overstays."))
    page.sections.append(_bar("by-hour", f"By hour of the day ({ctx.tz})", [f"{h:02d}" for h in range(24)],
                              {k: [by_hour[k][h] for h in range(24)] for k in labels},
                              "Alerts by the local hour they began."))
    top = site_rows[:10]
    page.sections.append(_bar("by-site", "Most often blocked sites", [r["site"] for r in top],
                              {"bay blocked": [r["blocked"] for r in top], "overstay": [r["overstays"] for r in top]},
                              "Sites with the most blocked-bay alerts: " + ", ".join(
                                  f"{r['site']} ({r['blocked']})" for r in top[:5]), horizontal=True))
    page.sections.append(Table(
        "history", f"Blocked-bay and overstay alerts, {window.label}", [
            Column("kind", "Kind"), Column("bay", "Bay"), Column("site", "Site"), Column("operator", "Operator"),
            Column("start", f"Start ({ctx.tz})", when), Column("end", f"End ({ctx.tz})", when),
            Column("hours", "Hours in period", hours, numeric=True)],
        [{"kind": a.kind_label, "bay": (a.bay or a.subject).rsplit(":", 1)[-1], "site": site_of(a),
          "operator": directory.operator_name(a.operator), "start": a.since, "end": a.until or "ongoing",
          "hours": duration(a)} for a in sorted(in_window, key=lambda a: a.since or datetime.min)]))
    return page
