"""PUT and PATCH of OCPI objects applied to the last full object we know. Pure, no I/O.

One mechanism for the four modules: a Receiver URL names an object by its ids after
``/{country_code}/{party_id}``: ``{location_id}[/{evse_uid}[/{connector_id}]]`` for Locations,
``{id}`` for Sessions, CDRs and Tariffs. PUT replaces the object named (an EVSE or connector
inside its Location); PATCH replaces only the fields it carries (OCPI: "other fields are
considered unchanged") and SHALL carry ``last_updated``. A change to an EVSE or connector also
sets its parents' ``last_updated`` (OCPI 2.2.1 Locations, PUT and PATCH). An update older than
what is kept is stale: ignored, as the poll path ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from citiesincharge.ids import case_insensitive

from ..objects import stamp

# the id field of each level of a module's objects; Locations nest EVSEs and connectors
LEVELS: dict[str, tuple[tuple[str, str], ...]] = {
    "locations": (("id", "evses"), ("uid", "connectors"), ("id", "")),
    "sessions": (("id", ""),), "cdrs": (("id", ""),), "tariffs": (("id", ""),),
}
UNKNOWN_CODE = {"locations": 2003}  # OCPI "Unknown Location"; other modules: generic client error


class Unknown(LookupError):
    """A PATCH (or a PUT inside a Location) names an object we do not know."""


class Invalid(ValueError):
    """A request the spec forbids: no ``last_updated`` in a PATCH, a body that is no object, ..."""


@dataclass(frozen=True)
class Applied:
    """The full top-level object after the change, or ``stale`` when the change was older."""

    record: dict[str, Any] | None
    stale: bool = False


def _same(a: Any, b: str) -> bool:
    return isinstance(a, str) and case_insensitive(a) == case_insensitive(b)


def apply(module: str, stored: dict[str, Any] | None, ids: list[str], body: Any, *, partial: bool) -> Applied:
    """``stored`` (the top-level object, or None) after a PUT (``partial`` False) or a PATCH."""
    levels = LEVELS[module]
    if not 1 <= len(ids) <= len(levels):
        raise Invalid(f"{module}: expected 1 to {len(levels)} ids after country_code/party_id, got {len(ids)}")
    if not isinstance(body, dict):
        raise Invalid("the body is not a JSON object")
    when = stamp(body)
    if partial and when is None:
        raise Invalid("a PATCH must carry a valid last_updated")
    if stored is None and (partial or len(ids) > 1):
        raise Unknown(f"unknown {'location' if module == 'locations' else module[:-1]} {ids[0]}")
    chain = _chain(levels, stored, ids) if stored is not None else [None]
    target = chain[-1]
    if target is None and partial:
        raise Unknown(f"unknown object {'/'.join(ids)}")
    if target is not None and when is not None and (kept := stamp(target)) is not None and when < kept:
        return Applied(None, stale=True)
    key = levels[len(ids) - 1][0]
    new = (target | body) if partial and target is not None else body | {key: body.get(key, ids[-1])}
    if len(ids) == 1:
        return Applied(new)
    assert stored is not None
    return Applied(_rebuild(levels, stored, ids, new, when))


def _chain(levels: tuple[tuple[str, str], ...], stored: dict[str, Any], ids: list[str]) -> list[Any]:
    """The objects along ``ids`` (a missing last one is None; a missing parent is Unknown)."""
    chain: list[Any] = [stored]
    for depth in range(1, len(ids)):
        children = chain[-1].get(levels[depth - 1][1]) or []
        found = next((c for c in children if isinstance(c, dict) and _same(c.get(levels[depth][0]), ids[depth])),
                     None)
        if found is None and depth < len(ids) - 1:
            raise Unknown(f"unknown object {'/'.join(ids[:depth + 1])}")
        chain.append(found)
    return chain


def _rebuild(levels: tuple[tuple[str, str], ...], node: dict[str, Any], ids: list[str], new: dict[str, Any],
             when: str | None) -> dict[str, Any]:
    """``node`` with the object at ``ids[1:]`` replaced by ``new`` (appended when new), and the
    ``last_updated`` of every parent set to the change's."""
    field, key = levels[0][1], levels[1][0]
    children = list(node.get(field) or [])
    position = next((n for n, c in enumerate(children) if isinstance(c, dict) and _same(c.get(key), ids[1])), None)
    child = new if len(ids) == 2 else _rebuild(levels[1:], children[position] if position is not None else {},
                                               ids[1:], new, when)
    if position is None:
        children.append(child)
    else:
        children[position] = child
    out = node | {field: children}
    if when is not None:
        out["last_updated"] = new.get("last_updated", when)
    return out


def find(module: str, stored: dict[str, Any], ids: list[str]) -> Any:
    """The object named by ``ids`` inside ``stored`` (for GET), or None."""
    try:
        return _chain(LEVELS[module], stored, ids)[-1]
    except Unknown:
        return None
