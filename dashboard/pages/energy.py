"""Energy & revenue: kWh, revenue per currency excl./incl. VAT, the average price per kWh per
operator and station, and the operators' tariffs side by side — "what does each operator charge
per kWh, and what did it earn last month". Figures from the energy worker's KPIs (by the CDRs'
end), tariffs from the ChargingTariff entities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import kpi
from ..page import Chart, Page, PageSpec, Tile
from ..reader import Figure, value
from ..tables import Column, Table, integer, number
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
        lambda: reader.entities("ChargingTariff", attrs=["currency", "pricePerKWh", "parkingPricePerHour", "flatFee",
                                                         "vatRate", "dataProvider"]))
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
    tariff_rows = []
    for tariff in tariffs:
        operator = str(value(tariff, "dataProvider") or "")
        if filters.operator and operator != filters.operator:
            continue
        price, vat = value(tariff, "pricePerKWh"), value(tariff, "vatRate")
        tariff_rows.append({"operator": directory.operator_name(operator), "tariff": tariff["id"].rsplit(":", 1)[-1],
                            "currency": value(tariff, "currency"), "kwh": price,
                            "kwh_incl": price * (1 + vat / 100) if isinstance(price, int | float)
                            and isinstance(vat, int | float) else None,
                            "parking": value(tariff, "parkingPricePerHour"), "flat": value(tariff, "flatFee"),
                            "vat": vat})
    tariff_rows.sort(key=lambda r: (r["operator"], r["tariff"]))
    page.sections.append(Table(
        "tariffs", "Tariffs side by side", [
            Column("operator", "Operator"), Column("tariff", "Tariff"), Column("currency", "Currency"),
            Column("kwh", "Per kWh excl. VAT", number(4), numeric=True),
            Column("kwh_incl", "Per kWh incl. VAT", number(4), numeric=True),
            Column("parking", "Parking per hour", number(2), numeric=True),
            Column("flat", "Flat fee", number(2), numeric=True), Column("vat", "VAT (%)", number(1), numeric=True)],
        tariff_rows, caption="As the operators publish them over OCPI (first energy, parking-time and flat price "
                             "components). Tariffs are per operator: the area filter does not apply.",
        empty="No tariff published by the operators of this selection yet."))
    total = [r for r in operator_rows if "network" not in r["operator"]]
    page.tiles = [Tile("kWh delivered", f"{sum(r['kwh'] or 0 for r in total):,.0f}", window.label),
                  Tile("Sessions", f"{sum(r['sessions'] or 0 for r in total):,.0f}", window.label),
                  *(Tile(f"Revenue excl. VAT ({c})", f"{sum(r['excl'] or 0 for r in total if r['currency'] == c):,.2f}",
                         window.label) for c in sorted({r["currency"] for r in total if r["currency"] != "—"}))]
    return page
