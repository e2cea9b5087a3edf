"""The temporal API's view of history: time filters, lastN, temporalValues and aggregations.

History rows are written by the store on every attribute change; this module only reads them
and shapes the temporal representation (ETSI GS CIM 009 §4.5.7-4.5.19).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import isodate

from .attributes import PAYLOAD_MEMBER, render_attribute
from .errors import BadRequestData
from .jsonld import TermMap
from .timeutil import format_iso, parse_iso

AGGREGATIONS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")


@dataclass(frozen=True)
class TimeFilter:
    """``timerel`` + ``timeAt`` / ``endTimeAt`` as a half-open interval on the time property."""

    start: str | None
    end: str | None
    strict_start: bool  # 'after' excludes timeAt itself
    column: str  # "ts" (observedAt, else modifiedAt) or "modified_at"

    @classmethod
    def from_params(cls, timerel: str | None, time_at: str | None, end_time_at: str | None,
                    timeproperty: str | None) -> TimeFilter:
        column = {"observedAt": "ts", None: "ts", "modifiedAt": "modified_at", "createdAt": "modified_at"}
        if timeproperty not in column:
            raise BadRequestData(f"timeproperty '{timeproperty}' must be observedAt, createdAt or modifiedAt")
        if timerel is None:
            if time_at is not None:
                raise BadRequestData("timeAt needs timerel (before, after or between)")
            return cls(None, None, False, column[timeproperty])
        if timerel not in ("before", "after", "between"):
            raise BadRequestData(f"timerel '{timerel}' must be before, after or between")
        if time_at is None:
            raise BadRequestData(f"timerel={timerel} needs timeAt")
        at = format_iso(parse_iso(time_at, "timeAt"))
        if timerel == "before":
            return cls(None, at, False, column[timeproperty])
        if timerel == "after":
            return cls(at, None, True, column[timeproperty])
        if end_time_at is None:
            raise BadRequestData("timerel=between needs endTimeAt")
        end = format_iso(parse_iso(end_time_at, "endTimeAt"))
        if end <= at:
            raise BadRequestData("endTimeAt must be later than timeAt")
        return cls(at, end, False, column[timeproperty])


MAX_PERIOD = timedelta(days=100 * 366)  # aggrPeriodDuration at most P100Y: beyond it, one bucket says it all
_MEAN_YEAR, _MEAN_MONTH = timedelta(days=365.2425), timedelta(days=365.2425 / 12)


def _approximate_length(period: timedelta | isodate.Duration) -> timedelta:
    """A period's mean length (calendar months and years vary), to find a bucket without stepping."""
    if isinstance(period, timedelta):
        return period
    length: timedelta = _MEAN_YEAR * float(period.years) + _MEAN_MONTH * float(period.months) + period.tdelta
    return length


def parse_period(text: str | None) -> timedelta | isodate.Duration | None:
    if text is None:
        return None
    try:
        period = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError, OverflowError):
        raise BadRequestData(f"aggrPeriodDuration '{text}' is not an ISO 8601 duration") from None
    try:
        length = _approximate_length(period)
    except OverflowError:
        length = timedelta.max
    if length.total_seconds() <= 0:
        raise BadRequestData("aggrPeriodDuration must be positive")
    if length > MAX_PERIOD:
        raise BadRequestData(f"aggrPeriodDuration '{text}' is longer than the limit of P100Y")
    return period


def parse_aggr_methods(text: str | None) -> list[str]:
    if not text:
        raise BadRequestData("options=aggregatedValues needs aggrMethods")
    methods = text.split(",")
    unknown = [m for m in methods if m not in AGGREGATIONS]
    if unknown:
        raise BadRequestData(f"aggrMethods {unknown} unknown; use {', '.join(AGGREGATIONS)}")
    return methods


def _value(instance: dict[str, Any]) -> Any:
    return instance[PAYLOAD_MEMBER[instance["type"]]]


def instance_time(instance: dict[str, Any], column: str) -> str:
    """The instant an instance is placed at on the time property ``column`` ("ts" or "modified_at")."""
    if column == "modified_at":
        return str(instance["modifiedAt"])
    return str(instance.get("observedAt") or instance["modifiedAt"])


def _aggregate(method: str, values: list[Any]) -> Any:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if method == "totalCount":
        return len(values)
    if method == "distinctCount":
        return len({repr(v) for v in values})
    if not numbers:
        return None
    if method == "sum":
        return sum(numbers)
    if method == "avg":
        return sum(numbers) / len(numbers)
    if method == "min":
        return min(numbers)
    if method == "max":
        return max(numbers)
    if method == "sumsq":
        return sum(n * n for n in numbers)
    return statistics.pstdev(numbers) if len(numbers) > 1 else 0.0


def _bucket_of(moment: datetime, start: datetime, period: timedelta | isodate.Duration) -> int:
    """Index k of the period [start + k·period, start + (k+1)·period) holding ``moment``, in O(1)."""
    if isinstance(period, timedelta):
        return (moment - start) // period
    k = max(0, int((moment - start) / _approximate_length(period)))
    while k > 0 and start + period * k > moment:  # calendar lengths differ from the mean: adjust
        k -= 1
    while start + period * (k + 1) <= moment:
        k += 1
    return k


def _buckets(instances: list[dict[str, Any]], column: str, period: timedelta | isodate.Duration | None,
             origin: str | None) -> list[tuple[datetime, datetime, list[Any]]]:
    """The non-empty aggregation periods, in time order, found from the data (not by walking time).

    A period that starts in 1970 and steps by PT1H must not count a million empty hours to reach
    the instances of today: each instance's period is computed directly, so the work is linear
    in the instances whatever the origin and the duration.
    """
    if not instances:
        return []
    times = [parse_iso(instance_time(i, column), "instance time") for i in instances]
    start = parse_iso(origin, "timeAt") if origin else times[0]
    if period is None:
        return [(start, times[-1], [_value(i) for i in instances])]
    buckets: list[tuple[datetime, datetime, list[Any]]] = []
    current = None
    try:
        for moment, instance in zip(times, instances, strict=True):
            k = _bucket_of(moment, start, period)
            if k != current:
                current = k
                buckets.append((start + period * k, start + period * (k + 1), []))
            buckets[-1][2].append(_value(instance))
    except (OverflowError, ValueError):
        raise BadRequestData("aggregation periods reach beyond the year 9999; use a shorter "
                             "aggrPeriodDuration or a later timeAt") from None
    return buckets


_SHOWN_TIMES = ("observedAt", "createdAt", "modifiedAt")
#: the simplified temporal representation per attribute type (§4.5.9): the member listing the
#: pairs, and the member each value is wrapped in (None: the bare value)
_SIMPLIFIED: dict[str, tuple[str, str | None]] = {
    "Relationship": ("objects", None), "LanguageProperty": ("languageMaps", "languageMap"),
    "JsonProperty": ("jsons", "json"), "VocabProperty": ("vocabs", "vocab"),
    "ListProperty": ("valueLists", "valueList"), "ListRelationship": ("objectLists", "objectList")}


def shown_instant(text: str) -> str:
    """An instant as the temporal API shows it: the stored form (always with milliseconds, so that
    stored strings sort in time order) without ``.000`` when the milliseconds are zero. The same
    instant in ISO 8601, as clients most often write it, so an instance reads back as it was sent."""
    return text[:-5] + "Z" if text.endswith(".000Z") else text


def _shown_times(rendered: dict[str, Any]) -> dict[str, Any]:
    for key in _SHOWN_TIMES:
        if isinstance(rendered.get(key), str):
            rendered[key] = shown_instant(rendered[key])
    return rendered


def render_temporal(entity_id: str, types: list[str], history: dict[str, list[dict[str, Any]]],
                    tm: TermMap, *, mode: str, column: str, aggr_methods: list[str] | None = None,
                    period: Any = None, origin: str | None = None, sys_attrs: bool = False,
                    kinds: dict[str, str] | None = None) -> dict[str, Any]:
    """Temporal representation: normalized instances, temporalValues pairs, or aggregations.

    An attribute without instances (all on another page) is an empty list, or in temporalValues an
    empty list of pairs under the attribute's type as ``kinds`` gives it."""
    short_types = [tm.compact(t) for t in types]
    out: dict[str, Any] = {"id": entity_id, "type": short_types[0] if len(short_types) == 1 else short_types}
    for iri, instances in history.items():
        name = tm.compact(iri)
        kind = instances[-1]["type"] if instances else (kinds or {}).get(iri, "Property")
        if not instances and mode != "temporalValues":
            out[name] = []
            continue
        if mode == "temporalValues":
            key, wrap = _SIMPLIFIED.get(kind, ("values", None))
            out[name] = {"type": kind, key: [[_value(i) if wrap is None else {wrap: _value(i)},
                                              shown_instant(instance_time(i, column))] for i in instances]}
        elif mode == "aggregatedValues":
            assert aggr_methods is not None
            attr: dict[str, Any] = {"type": kind}
            buckets = _buckets(instances, column, period, origin)
            for method in aggr_methods:
                attr[method] = [[_clean(_aggregate(method, values)), shown_instant(format_iso(low)),
                                 shown_instant(format_iso(high))]
                                for low, high, values in buckets]
            out[name] = attr
        else:
            rendered = [render_attribute([i], tm, "normalized", sys_attrs) for i in instances]
            if column == "modified_at":
                for item, instance in zip(rendered, instances, strict=True):
                    item["modifiedAt"] = instance["modifiedAt"]
            out[name] = [_shown_times(item) for item in rendered]
    return out


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value
