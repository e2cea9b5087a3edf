"""Energy & revenue: kWh, revenue per currency excl./incl. VAT, the average price per kWh per
operator and station, and what the operators charge — "what does each operator charge, and what
did it earn last month". Figures from the energy worker's KPIs (by the CDRs' end); prices from the
ChargingTariff entities: the reference sessions' prices (docs/TARIFFS.md) per operator (cheapest to
dearest), per tariff and per station (the tariffs its connectors name)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import kpi
from .. import tariffs as tariffs_model
from ..page import Chart, Page, PageSpec, Tile
from ..reader import Figure
from ..tables import Column, Table, integer, number, text
from . import Ctx

SPEC = PageSpec("energy", "/energy", "Energy & revenue", "month", ("days", "month", "year"))
PROCESSES = ("energyDelivered", "sessions", "revenueExclVat", "revenueInclVat", "avgPricePerKWh")


@dataclass
class Money:
    """One subject group's revenue in one currency over the window's periods."""

    excl: float = 0.0
    incl: float = 0.0
    incl_missing: bool = False  # some revenue excl. VAT has none incl. (OCPI 2.1.1 CDRs carry none)
    billed_kwh: float = 0.0  # kWh behind that revenue (revenue / average price, per subject and period)

    @property
    def price(self) -> float | None:
        return self.excl / self.billed_kwh if self.billed_kwh > 0 else None


@dataclass
class Totals:
    kwh: float = 0.0
    sessions: float = 0.0
    money: dict[str, Money] = field(default_factory=dict)


def combine(figures: list[Figure], key: Callable[[str], str | None]) -> dict[str, Totals]:
    """Figures grouped by ``key(subject)`` (None: left out), summed over periods and subjects."""
    out: dict[str, Totals] = defaultdict(Totals)
    billed: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)  # (subject, period, currency)
    for figure in figures:
        group = key(figure.subject)
        if group is None or not isinstance(figure.value, int | float):
            continue
        totals = out[group]
        if figure.process == "energyDelivered":
            totals.kwh += float(figure.value)
        elif figure.process == "sessions":
            totals.sessions += float(figure.value)
        elif figure.currency:
            billed[(figure.subject, figure.end.isoformat(), figure.currency)][figure.process] = float(figure.value)
    for (subject, _period, currency), found in billed.items():
        group = key(subject)
        assert group is not None
        money = out[group].money.setdefault(currency, Money())
        excl = found.get("revenueExclVat", 0.0)
        money.excl += excl
        if "revenueInclVat" in found:
            money.incl += found["revenueInclVat"]
        elif excl:
            money.incl_missing = True
        if found.get("avgPricePerKWh"):
            money.billed_kwh += excl / found["avgPricePerKWh"]
    return out


def _rows(groups: dict[str, Totals], label: Callable[[str], dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per group and currency (one currency per operator is the rule; with several, kWh are
    those billed in each and sessions are not split)."""
    rows = []
    for group, totals in sorted(groups.items()):
        single = len(totals.money) <= 1
        pairs: list[tuple[str, Money | None]] = [*sorted(totals.money.items())] or [("—", None)]
        for currency, money in pairs:
            rows.append({**label(group), "currency": currency,
                         "kwh": totals.kwh if single or money is None else money.billed_kwh,
                         "sessions": totals.sessions if single else None,
                         "excl": money.excl if money else None,
                         "incl": money.incl if money and not money.incl_missing else None,
                         "price": money.price if money else None})
    return rows


def _columns(first: list[Column]) -> list[Column]:
    return [*first, Column("currency", "Currency"), Column("kwh", "kWh", number(1), numeric=True),
            Column("sessions", "Sessions", integer, numeric=True),
            Column("excl", "Revenue excl. VAT", number(2), numeric=True),
            Column("incl", "Revenue incl. VAT", number(2), numeric=True),
            Column("price", "Average price per kWh excl. VAT", number(4), numeric=True)]


def build(ctx: Ctx) -> Page:
    reader, directory, filters, window = ctx.reader, ctx.directory, ctx.filters, ctx.filters.window
    frequency = "daily" if window.kind == "days" else "monthly"
    spans = window.spans()
    stations = {s.id: s for s in filters.stations(directory)}
    operators = [o.id for o in directory.operators.values()] + ([directory.council.id] if directory.council else [])
    currencies = directory.currencies_of
    (station_figs, _), (operator_figs, _), tariffs = reader.in_parallel(
        lambda: kpi.read(reader, kpi.kpi_ids(PROCESSES, stations, frequency, currencies), spans),
        lambda: kpi.read(reader, kpi.kpi_ids(PROCESSES, operators, frequency, currencies), spans),
        lambda: reader.entities("ChargingTariff", attrs=tariffs_model.ATTRS,
                                q=f'dataProvider=="{filters.operator}"' if filters.operator else None))
    page = Page(SPEC.slug, SPEC.title, filters)
    council = directory.council.id if directory.council else None
    operator_keys = {o.id: o.key for o in directory.operators.values()}
    if filters.area is None:  # the workers' operator figures (exact: incl. VAT only where every CDR has it)
        groups = combine(operator_figs, lambda s: operator_keys.get(s) if (
            filters.operator is None or operator_keys.get(s) == filters.operator) else None)
        network = combine(operator_figs, lambda s: "network" if s == council else None) \
            if filters.operator is None else {}
    else:  # an area: its stations' figures, summed per operator
        groups = combine(station_figs, lambda s: stations[s].operator if s in stations else None)
        network = combine(station_figs, lambda s: "network" if s in stations else None)
        page.notes.append(f"Area {filters.area}: operator figures are the sums of its stations.")
    operator_rows = _rows(groups, lambda key: {"operator": directory.operator_name(key)})
    operator_rows += _rows(network, lambda _key: {"operator": "All operators (network)"})
    page.sections.append(Table(
        "operators", f"Per operator, {window.label}", _columns([Column("operator", "Operator")]), operator_rows,
        caption="By the charge detail records' end, in the council's calendar. Incl. VAT only where every CDR carries "
                "it (OCPI 2.1.1 CDRs do not). Average price = revenue excl. VAT / kWh."))
    named = [r for r in operator_rows if "network" not in r["operator"]]
    page.sections.append(Chart("revenue", f"kWh and revenue per operator, {window.label}", {
        "aria": {"enabled": True}, "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 60, "right": 60, "top": 30, "bottom": 40},
        "xAxis": {"type": "category", "data": [f"{r['operator']} ({r['currency']})" for r in named]},
        "yAxis": [{"type": "value", "name": "kWh"}, {"type": "value", "name": "revenue excl. VAT"}],
        "series": [{"type": "bar", "name": "kWh", "data": [round(r["kwh"] or 0, 1) for r in named],
                    "itemStyle": {"color": "#0b4f9c"}},
                   {"type": "bar", "name": "revenue excl. VAT", "yAxisIndex": 1,
                    "data": [round(r["excl"] or 0, 2) for r in named], "itemStyle": {"color": "#8a5a00"}}]},
        "; ".join(f"{r['operator']}: {r['kwh'] or 0:.0f} kWh, {r['excl'] or 0:.2f} {r['currency']}" for r in named)
        or "No charge detail records in this period."))
    station_groups = combine(station_figs, lambda s: s if s in stations else None)
    station_rows = _rows(station_groups, lambda s: {"station": stations[s].name, "area": stations[s].area,
                                                     "operator": directory.operator_name(stations[s].operator)})
    station_rows.sort(key=lambda r: -(r["excl"] or 0))
    page.sections.append(Table(
        "stations", f"Per station, most revenue first, {window.label}",
        _columns([Column("station", "Station"), Column("area", "Area"), Column("operator", "Operator")]), station_rows))
    page.sections += tariff_tables(ctx, [tariffs_model.tariff(t) for t in tariffs])
    total = [r for r in operator_rows if "network" not in r["operator"]]
    page.tiles = [Tile("kWh delivered", f"{sum(r['kwh'] or 0 for r in total):,.0f}", window.label),
                  Tile("Sessions", f"{sum(r['sessions'] or 0 for r in total):,.0f}", window.label),
                  *(Tile(f"Revenue excl. VAT ({c})", f"{sum(r['excl'] or 0 for r in total if r['currency'] == c):,.2f}",
                         window.label) for c in sorted({r["currency"] for r in total if r["currency"] != "—"}))]
    return page


def _session_columns(prefix: str = "") -> list[Column]:
    return [Column(prefix + s.name, s.label, numeric=True) for s in tariffs_model.REFERENCE_SESSIONS]


def _session_notes() -> list[str]:
    return ["Reference sessions (each priced on a Tuesday, docs/TARIFFS.md): " + "; ".join(
        f"{s.label}: {s.description}" for s in tariffs_model.REFERENCE_SESSIONS) + "."]


def _prices(item: tariffs_model.Tariff) -> dict[str, str]:
    return {s.name: tariffs_model.price_cell(item.prices.get(s.name)) for s in tariffs_model.REFERENCE_SESSIONS}


def _words(code: object) -> str | None:
    """An OCPI code as words: AD_HOC_PAYMENT -> ad hoc payment."""
    return code.lower().replace("_", " ") if isinstance(code, str) and code else None


def _in_force(item: tariffs_model.Tariff, ctx: Ctx) -> str:
    """``now`` (``now, until …`` when it ends), ``ended …`` or ``from …``: local times."""
    def show(moment: datetime) -> str:
        return moment.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M")

    if item.valid_to is not None and item.valid_to <= ctx.now:
        return f"ended {show(item.valid_to)}"
    if item.valid_from is not None and item.valid_from > ctx.now:
        return f"from {show(item.valid_from)}" + (f" until {show(item.valid_to)}" if item.valid_to else "")
    return "now" + (f", until {show(item.valid_to)}" if item.valid_to else "")


def tariff_tables(ctx: Ctx, tariffs: list[tariffs_model.Tariff]) -> list[Table]:
    """What each operator charges for the reference sessions (cheapest to dearest over its tariffs in
    force now), every tariff side by side, and the tariffs each station's connectors name."""
    directory, filters = ctx.directory, ctx.filters
    mine = sorted((t for t in tariffs if not filters.operator or t.operator == filters.operator),
                  key=lambda t: (directory.operator_name(t.operator), t.key))
    in_force = [t for t in mine if t.valid_at(ctx.now)]
    range_rows = []
    for (operator, currency), sessions in sorted(tariffs_model.operator_ranges(in_force).items(),
                                                 key=lambda kv: (directory.operator_name(kv[0][0]), kv[0][1])):
        range_rows.append({"operator": directory.operator_name(operator), "currency": currency,
                           "tariffs": sum(1 for t in in_force if t.operator == operator and t.currency == currency),
                           **{s.name: tariffs_model.range_cell(sessions.get(s.name, []))
                              for s in tariffs_model.REFERENCE_SESSIONS}})
    ranges = Table(
        "tariff-ranges", f"What each operator charges for a reference session (cheapest {tariffs_model.DASH} dearest)",
        [Column("operator", "Operator"), Column("currency", "Currency"),
         Column("tariffs", "Tariffs in force", integer, numeric=True), *_session_columns()], range_rows,
        caption="The price of the same session under each of the operator's tariffs in force now, from the cheapest "
                "to the dearest, "
                "incl. VAT; \"excl. VAT\" where a tariff gives no VAT for a component it bills (every OCPI 2.1.1 "
                "tariff): then the range is over the prices excl. VAT. Tariffs are per operator: the area filter "
                "does not apply.",
        empty="No tariff in force published by the operators of this selection yet.", notes=_session_notes())
    attrs = ("pricePerKWh", "pricePerHour", "parkingPricePerHour", "flatFee", "vatRate")
    tariff_rows = [{"operator": directory.operator_name(t.operator), "tariff": t.key,
                    "type": _words(t.attributes.get("tariffType")), "currency": t.currency,
                    **{name: t.attributes.get(name) for name in attrs},
                    "min": tariffs_model.limit_cell(t.attributes.get("minPrice")),
                    "max": tariffs_model.limit_cell(t.attributes.get("maxPrice")),
                    "in_force": _in_force(t, ctx), **_prices(t)} for t in mine]
    side_by_side = Table(
        "tariffs", "Tariffs side by side", [
            Column("operator", "Operator"), Column("tariff", "Tariff"), Column("currency", "Currency"),
            *_session_columns(), Column("in_force", f"In force ({ctx.tz})"), Column("type", "Type"),
            Column("pricePerKWh", "Per kWh excl. VAT", number(4), numeric=True),
            Column("pricePerHour", "Per hour charging excl. VAT", number(2), numeric=True),
            Column("parkingPricePerHour", "Parking per hour excl. VAT", number(2), numeric=True),
            Column("flatFee", "Flat fee excl. VAT", number(2), numeric=True),
            Column("vatRate", "VAT (%)", number(1), numeric=True),
            Column("min", "Min price", numeric=True), Column("max", "Max price", numeric=True)],
        tariff_rows,
        caption="Each tariff the operators publish over OCPI: the reference sessions (as above) incl. VAT, else marked "
                "\"excl. VAT\", then its parts. A price per kWh, per hour, for parking or a flat fee only where the "
                "tariff has exactly one (no free first kWh, night rate or price by power): else — and the sessions "
                "compare it. VAT (%) only where every component billed has the same rate. Min/max price per session, "
                "incl. VAT where given.",
        empty="No tariff published by the operators of this selection yet.")
    by_id = {t.id: t for t in tariffs}
    station_rows = []
    for station in sorted(filters.stations(directory), key=lambda s: (s.name, s.id)):
        chargers = [c for c in directory.chargers.values() if c.station == station.id]
        for tariff_id in sorted({t for c in chargers for t in c.tariffs}, key=tariffs_model.key_of):
            found = by_id.get(tariff_id)
            station_rows.append({
                "station": station.name, "area": station.area, "operator": directory.operator_name(station.operator),
                "tariff": tariffs_model.key_of(tariff_id),
                "chargers": f"{sum(1 for c in chargers if tariff_id in c.tariffs)} of {len(chargers)}",
                "published": None if found else "not published",
                **(_prices(found) if found else {})})
    per_station = Table(
        "station-tariffs", "Tariffs per station", [
            Column("station", "Station"), Column("area", "Area"), Column("operator", "Operator"),
            Column("tariff", "Tariff"), Column("chargers", "Chargers naming it"),
            Column("published", "Note", text), *_session_columns()],
        station_rows,
        caption="The tariffs each station's connectors name (OCPI tariff_ids), with the reference sessions' prices "
                "under each (as above), incl. VAT, else marked \"excl. VAT\". \"not published\": the operator has not "
                "sent that tariff.", empty="No station of this selection names a tariff.")
    return [ranges, side_by_side, per_station]
