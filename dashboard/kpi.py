"""Reading the analytics' KeyPerformanceIndicator figures for a window, and combining them.

Why: pages ask "reliability of cpoA in November" or "kWh per day over 30 days"; the workers store
one entity per KPI, subject and frequency with each period an instance of ``kpiValue``
(docs/KPIS.md). This module builds the ``q`` that selects them and combines periods honestly:
additive figures (kWh, sessions, revenue) are summed; a reliability is weighted by the charger-
hours it rests on (its ``coverage`` times the period's hours), never averaged plainly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from citiesincharge import ids

from .periods import Span
from .reader import Figure, Reader

PER_CURRENCY = {"revenueExclVat", "revenueInclVat", "avgPricePerKWh"}  # one KPI entity per currency


def kpi_ids(processes: Iterable[str], subjects: Iterable[str], frequency: str,
            currencies: Callable[[str], Iterable[str]] | None = None) -> list[str]:
    """The ids of ``processes`` x ``subjects`` at ``frequency``, as docs/KPIS.md fixes them
    (``ids.derived``, the helper the workers use); currency KPIs once per currency of the subject."""
    out = []
    for subject in subjects:
        for process in processes:
            if process in PER_CURRENCY:
                out += [ids.derived("KeyPerformanceIndicator", process, subject, frequency, c)
                        for c in (currencies(subject) if currencies else ())]
            else:
                out.append(ids.derived("KeyPerformanceIndicator", process, subject, frequency))
    return out


@dataclass
class Weighted:
    """A ratio combined over periods or subjects by the hours it rests on."""

    numerator: float = 0.0
    weight: float = 0.0

    def add(self, value: float, weight: float) -> None:
        self.numerator += value * weight
        self.weight += weight

    @property
    def value(self) -> float | None:
        return self.numerator / self.weight if self.weight > 0 else None

    @property
    def hours(self) -> float:
        return self.weight


def span_hours(figure: Figure, spans: dict[str, Span]) -> float:
    span = spans.get(figure.end.isoformat())
    return (span.end - span.start).total_seconds() / 3600 if span else 0.0


def read(reader: Reader, kpis: list[str], spans: list[Span]) -> tuple[list[Figure], dict[str, Span]]:
    """Figures for ``spans`` and the spans by their end (to know each figure's period length)."""
    return reader.figures(kpis, spans), {s.end.isoformat(): s for s in spans}


def reliability_by_subject(figures: Iterable[Figure], spans: dict[str, Span], chargers: dict[str, int] | None = None,
                           group: dict[str, str] | None = None) -> dict[str, Weighted]:
    """Reliability per subject (or per ``group[subject]``) over the figures' periods, weighted by
    coverage x hours (x the subject's ``chargers`` when subjects of different sizes are pooled)."""
    out: dict[str, Weighted] = defaultdict(Weighted)
    for figure in figures:
        if not isinstance(figure.value, int | float) or figure.coverage is None:
            continue
        key = (group or {}).get(figure.subject, figure.subject) if group is not None else figure.subject
        weight = figure.coverage * span_hours(figure, spans) * ((chargers or {}).get(figure.subject, 1))
        out[key].add(float(figure.value), weight)
    return out


def summed(figures: Iterable[Figure]) -> dict[tuple[str, str, str | None], float]:
    """Additive figures summed over their periods: (process, subject, currency) -> total."""
    out: dict[tuple[str, str, str | None], float] = defaultdict(float)
    for figure in figures:
        if isinstance(figure.value, int | float):
            out[(figure.process, figure.subject, figure.currency)] += float(figure.value)
    return out
