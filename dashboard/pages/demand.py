"""Demand: when chargers are used (a utilisation heat map, hour x weekday), sessions and kWh per day,
and the demand worker's forecasts with their 90 % intervals and back-test scores, per station, area
and operator — "how will demand look next week at this station"."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from typing import Any

from citiesincharge.timeutil import parse_utc

from .. import kpi
from ..page import Chart, Page, PageSpec, Tile
from ..reader import value
from ..tables import Column, Table, integer, number
from . import Ctx

SPEC = PageSpec("demand", "/demand", "Demand", "30d", ("days", "month"), station_filter=True)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAILY_PROFILE = ("hourlyUtilisation", "energyDelivered", "sessions")
FORECAST_ATTRS = ["validFrom", "resolution", "forecastValues", "lowerBound", "upperBound", "intervalLevel", "model",
                  "backtest", "refEVChargingStation", "refOrganization"]


def selection(ctx: Ctx) -> tuple[list[str], str]:
    """The subjects of the selection's KPIs: one station, the stations of an area, an operator, or the
    network. Returns (subject ids, what it is, for people)."""
    filters, directory = ctx.filters, ctx.directory
    if filters.station or filters.area:
        what = directory.station_name(filters.station) if filters.station else f"stations in {filters.area}"
        return [s.id for s in filters.stations(directory)], what
    if filters.operator:
        return [directory.operators[filters.operator].id], directory.operator_name(filters.operator)
    return [directory.council.id] if directory.council else [], "the whole network"


def _band_chart(chart_id: str, title: str, labels: list[str], mean: list[float], low: list[float],
                high: list[float], unit: str, summary: str) -> Chart:
    """A forecast: its mean as a line and its interval as a shaded band (stacked low + width)."""
    return Chart(chart_id, title, {
        "aria": {"enabled": True}, "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 50, "right": 20, "top": 30, "bottom": 50},
        "xAxis": {"type": "category", "data": labels, "boundaryGap": False},
        "yAxis": {"type": "value", "name": unit, "min": 0},
        "series": [
            {"name": "90 % low", "type": "line", "data": low, "stack": "band", "symbol": "none",
             "lineStyle": {"opacity": 0}},
            {"name": "90 % interval", "type": "line",
             "data": [round(h - lo, 4) for h, lo in zip(high, low, strict=True)],
             "stack": "band", "symbol": "none", "lineStyle": {"opacity": 0}, "areaStyle": {"color": "#9ec5f0"}},
            {"name": "forecast", "type": "line", "data": mean, "symbol": "none", "lineStyle": {"color": "#0b4f9c",
                                                                                              "width": 2}}]},
        summary)


def _forecast_rows(forecast: dict[str, Any], ctx: Ctx) -> list[dict[str, Any]]:
    start = parse_utc(value(forecast, "validFrom"))
    hourly = value(forecast, "resolution") == "PT1H"
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    mean, low, high = (value(forecast, n) or [] for n in ("forecastValues", "lowerBound", "upperBound"))
    fmt = "%a %d %b %H:%M" if hourly else "%a %d %b %Y"
    return [{"when": (start + step * i).astimezone(ctx.zone).strftime(fmt), "mean": m, "low": lo, "high": hi}
            for i, (m, lo, hi) in enumerate(zip(mean, low, high, strict=False))]


def _scores(forecast: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(MASE of the chosen model, its sMAPE, MASE of the seasonal-naive baseline) from the back-test."""
    backtest = value(forecast, "backtest") or {}
    chosen = backtest.get(value(forecast, "model")) or {}
    baseline = backtest.get("seasonalNaive") or {}
    return chosen.get("mase"), chosen.get("smape"), baseline.get("mase")


def build(ctx: Ctx) -> Page:
    reader, directory, filters, window = ctx.reader, ctx.directory, ctx.filters, ctx.filters.window
    subjects, what = selection(ctx)
    days = window.days()
    stations = {s.id: s for s in filters.stations(directory)}
    (figures, _), forecasts = reader.in_parallel(
        lambda: kpi.read(reader, kpi.kpi_ids(DAILY_PROFILE, subjects, "daily"), days),
        lambda: reader.entities("DemandForecast", attrs=FORECAST_ATTRS))
    page = Page(SPEC.slug, SPEC.title, filters)
    page.stations_in_filter = sorted(((s.id, s.name) for s in replace(filters, station=None).stations(directory)),
                                     key=lambda pair: pair[1])

    # -- heat map: mean utilisation per weekday and local hour ---------------------------------
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    per_day: dict[str, dict[str, float]] = defaultdict(lambda: {"sessions": 0.0, "kwh": 0.0})
    day_label = {d.end.isoformat(): d for d in days}
    for figure in figures:
        span = day_label.get(figure.end.isoformat())
        if span is None:
            continue
        if figure.process == "hourlyUtilisation" and isinstance(figure.value, list):
            weekday = span.start.astimezone(ctx.zone).weekday()
            for hour, share in enumerate(figure.value[:24]):
                if isinstance(share, int | float):
                    cells[(weekday, hour)].append(float(share))
        elif figure.process == "energyDelivered" and isinstance(figure.value, int | float):
            per_day[span.label]["kwh"] += float(figure.value)
        elif figure.process == "sessions" and isinstance(figure.value, int | float):
            per_day[span.label]["sessions"] += float(figure.value)
    heat: list[tuple[int, int, float]] = [(hour, weekday, round(100 * sum(v) / len(v), 1))
                                          for (weekday, hour), v in sorted(cells.items())]
    busiest = max(heat, key=lambda c: c[2]) if heat else None
    page.sections.append(Chart(
        "heatmap", f"Utilisation by hour and weekday, {what} ({ctx.tz})", {
            "aria": {"enabled": True}, "tooltip": {"position": "top"},
            "grid": {"left": 50, "right": 20, "top": 10, "bottom": 80},
            "xAxis": {"type": "category", "data": [f"{h:02d}" for h in range(24)], "name": "hour"},
            "yAxis": {"type": "category", "data": list(WEEKDAYS), "inverse": True},
            "visualMap": {"min": 0, "max": max([c[2] for c in heat] + [1]), "calculable": True, "orient": "horizontal",
                          "left": "center", "bottom": 0, "text": ["% of charger time charging", ""],
                          "inRange": {"color": ["#f4f8fc", "#0b4f9c"]}},
            "series": [{"type": "heatmap", "data": heat, "name": "utilisation %", "label": {"show": False}}]},
        (f"Share of charger time spent charging, mean over the {window.label}; busiest: "
         f"{WEEKDAYS[busiest[1]]} {busiest[0]:02d}:00 at {busiest[2]} %" if busiest
         else "No utilisation profile in this period yet (the demand worker writes one per day)."), height=330))

    # -- sessions and kWh per day ---------------------------------------------------------------
    day_rows: list[dict[str, Any]] = [
        {"day": d.label, "sessions": per_day[d.label]["sessions"] if d.label in per_day else None,
         "kwh": per_day[d.label]["kwh"] if d.label in per_day else None} for d in days]
    page.sections.append(Chart(
        "per-day", f"Sessions and kWh per day, {what}", {
            "aria": {"enabled": True}, "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
            "grid": {"left": 60, "right": 60, "top": 30, "bottom": 40},
            "xAxis": {"type": "category", "data": [r["day"] for r in day_rows]},
            "yAxis": [{"type": "value", "name": "sessions", "minInterval": 1}, {"type": "value", "name": "kWh"}],
            "series": [{"type": "bar", "name": "sessions", "data": [r["sessions"] for r in day_rows],
                        "itemStyle": {"color": "#0b4f9c"}},
                       {"type": "line", "name": "kWh", "yAxisIndex": 1, "data": [r["kwh"] for r in day_rows],
                        "itemStyle": {"color": "#8a5a00"}}]},
        "Sessions (charge detail records, by their end) and kWh delivered per local day; the same figures are in "
        "the table below."))
    page.sections.append(Table("days", f"Per day, {what}", [
        Column("day", "Day"), Column("sessions", "Sessions", integer, numeric=True),
        Column("kwh", "kWh", number(1), numeric=True)], day_rows))
    page.tiles = [Tile("Sessions", f"{sum(r['sessions'] or 0 for r in day_rows):,.0f}", window.label),
                  Tile("kWh delivered", f"{sum(r['kwh'] or 0 for r in day_rows):,.0f}", window.label),
                  Tile("Busiest hour", f"{WEEKDAYS[busiest[1]]} {busiest[0]:02d}:00" if busiest else "—",
                       f"{busiest[2]} % of charger time" if busiest else "")]

    # -- forecasts ----------------------------------------------------------------------------------
    by_station = {(str(value(f, "refEVChargingStation")), str(value(f, "resolution"))): f for f in forecasts
                  if value(f, "refEVChargingStation")}
    by_area = {str(value(f, "refOrganization")).rsplit(":", 1)[-1]: f for f in forecasts
               if value(f, "refOrganization") and value(f, "resolution") == "P1D"}
    if filters.station:
        for resolution, title in (("P1D", "next 8 weeks, daily"), ("PT1H", "next 48 hours, hourly")):
            forecast = by_station.get((filters.station, resolution))
            if forecast is not None:
                page.sections.append(_forecast_chart(f"forecast-{resolution.lower()}", forecast,
                                                     f"Forecast sessions at {what}, {title}", ctx))
        daily = by_station.get((filters.station, "P1D"))
        if daily is not None:
            page.sections.append(Table("next-week", f"Next 7 days at {what} (sessions started)", [
                Column("when", "Day"), Column("mean", "Forecast", number(1), numeric=True),
                Column("low", "90 % low", number(1), numeric=True),
                Column("high", "90 % high", number(1), numeric=True)], _forecast_rows(daily, ctx)[:7]))
    else:
        for key in ([filters.operator] if filters.operator else sorted(by_area)):
            if key in by_area and filters.area is None:
                page.sections.append(_forecast_chart(
                    f"forecast-{key}", by_area[key],
                    f"Forecast sessions, {directory.operator_name(key)} (all its stations), daily", ctx))
    rows = []
    for station in sorted(stations.values(), key=lambda s: s.name):
        forecast = by_station.get((station.id, "P1D"))
        if forecast is None:
            continue
        mase, smape, naive = _scores(forecast)
        week = _forecast_rows(forecast, ctx)[:7]
        rows.append({"station": station.name, "area": station.area,
                     "operator": directory.operator_name(station.operator),
                     "week": sum(r["mean"] for r in week), "low": sum(r["low"] for r in week),
                     "high": sum(r["high"] for r in week), "model": value(forecast, "model"), "mase": mase,
                     "naive": naive, "smape": smape})
    page.sections.append(Table("forecasts", "Station forecasts for the next 7 days, with back-test scores", [
        Column("station", "Station"), Column("area", "Area"), Column("operator", "Operator"),
        Column("week", "Sessions next 7 days", number(1), numeric=True),
        Column("low", "Sum of 90 % lows", number(1), numeric=True),
        Column("high", "Sum of 90 % highs", number(1), numeric=True), Column("model", "Model"),
        Column("mase", "MASE", number(3), numeric=True), Column("naive", "MASE of seasonal naive", number(3),
                                                                numeric=True),
        Column("smape", "sMAPE (%)", number(1), numeric=True)], rows,
        caption="Back-test: rolling-origin folds; MASE below 1 beats the seasonal-naive baseline. Choose a station "
                "above to see its forecast with the 90 % interval.",
        empty="No forecast yet: the demand worker forecasts once it holds enough history to back-test."))
    return page


def _forecast_chart(chart_id: str, forecast: dict[str, Any], title: str, ctx: Ctx) -> Chart:
    rows = _forecast_rows(forecast, ctx)
    mase, _smape, naive = _scores(forecast)
    first = rows[0] if rows else None
    summary = (f"{title}: model {value(forecast, 'model')}, back-test MASE {mase} (seasonal naive {naive}); "
               f"first step {first['when']}: {first['mean']:.2f} (90 % {first['low']:.2f} to {first['high']:.2f})"
               if first else f"{title}: no values")
    return _band_chart(chart_id, title, [r["when"] for r in rows],
                       [r["mean"] for r in rows], [r["low"] for r in rows], [r["high"] for r in rows], "sessions",
                       summary)
