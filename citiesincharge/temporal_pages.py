"""Following the instance pages of a temporal response (ETSI GS CIM 009 v1.x §6.3.10).

Why: a broker may answer a temporal request with only part of the instances (``206 Partial
Content``) and a ``Content-Range: date-time <start>-<end>/<size>`` naming the time range it covered
completely; the embedded broker does so past ``CIC_TEMPORAL_INSTANCE_LIMIT`` instances of an
attribute, Mintaka past its own limit. The analytics need every instance of their window, so the
client asks for the rest of the window, page after page, and merges the pages into one temporal
entity per id, as if the broker had answered at once.

Forwards (no ``lastN``) the rest of the window begins one millisecond after ``<end>`` (the
broker's instants have milliseconds, and the range holds every instance up to ``<end>``);
backwards (``lastN``) it ends at ``<end>`` (exclusive), and each attribute keeps its ``lastN``
newest instances at most.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

_RANGE = re.compile(r"date-time\s+(?P<start>.+?)-(?P<end>\d{4}-\S+?)/(?P<size>\S+)$")
_CORE = {"id", "type", "@context"}
#: the list member of each simplified (temporalValues) attribute form
_LISTS = ("values", "objects", "languageMaps", "jsons", "vocabs", "valueLists", "objectLists")


def range_end(content_range: str) -> str:
    """The ``<end>`` instant of a ``date-time`` Content-Range; ValueError if it is not one."""
    found = _RANGE.match(content_range.strip())
    if found is None:
        raise ValueError(f"Content-Range {content_range!r} is not a date-time range")
    return found["end"]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _text(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def next_window(params: dict[str, Any], content_range: str) -> dict[str, Any]:
    """The request parameters of the page after the one whose Content-Range is given."""
    end = _instant(range_end(content_range))
    timerel, time_at, end_time_at = params.get("timerel"), params.get("timeAt"), params.get("endTimeAt")
    if params.get("lastN") is None:  # forwards: what is after <end>, up to the window's end
        upper = end_time_at if timerel == "between" else time_at if timerel == "before" else None
        window = ({"timerel": "after", "timeAt": _text(end)} if upper is None else
                  {"timerel": "between", "timeAt": _text(end + timedelta(milliseconds=1)), "endTimeAt": upper})
    else:  # backwards: what is before <end>, down to the window's start
        lower = time_at if timerel in ("between", "after") else None
        if lower is not None and timerel == "after":
            lower = _text(_instant(lower) + timedelta(milliseconds=1))
        window = ({"timerel": "before", "timeAt": _text(end)} if lower is None else
                  {"timerel": "between", "timeAt": lower, "endTimeAt": _text(end)})
    return {**params, "timerel": None, "timeAt": None, "endTimeAt": None, **window}


def _instances(value: Any) -> tuple[list[Any], str | None]:
    """An attribute's instances as a list, and the member holding them (None: the attribute is the list)."""
    if isinstance(value, list):
        return value, None
    if isinstance(value, dict):
        for member in _LISTS:
            if isinstance(value.get(member), list):
                return value[member], member
        return [value], None
    return [], None


def merge(entity: dict[str, Any], page: dict[str, Any], *, older: bool, last_n: int | None) -> dict[str, Any]:
    """``entity`` with the instances of a further page of it (``older``: the page lies before it)."""
    merged = dict(entity)
    for name, value in page.items():
        if name in _CORE:
            continue
        if name not in merged:
            merged[name] = value
            continue
        mine, member = _instances(merged[name])
        theirs, their_member = _instances(value)
        together = theirs + mine if older else mine + theirs
        if last_n is not None:
            together = together[-last_n:]
        shape, key = (merged[name], member) if member else (value, their_member)
        merged[name] = dict(shape, **{key: together}) if key else together
    return merged
