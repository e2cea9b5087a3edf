"""Linked entities (ETSI GS CIM 009 §4.5.23): ``join=inline|flat`` up to ``joinLevel``.

The entities a response's Relationships point at are looked up and rendered like the response's
own (same format, same @context, the nested ``pick``/``omit`` of that Relationship): ``inline``
puts each under its Relationship (``entity`` member, or in place of the object in keyValues),
``flat`` appends each once after the response's entities. Relationships the projection left out
are not followed, nor targets that do not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import BadRequestData
from .jsonld import TermMap
from .projection import Projection

Lookup = Callable[[str], dict[str, Any] | None]
Render = Callable[[dict[str, Any], Projection | None, Projection | None], dict[str, Any]]


def join_options(join: str | None, join_level: str | None) -> tuple[Literal["inline", "flat"] | None, int]:
    """The join mode and level of a request (level 1 by default; a level without a join is ignored)."""
    if join is not None and join not in ("inline", "flat"):
        raise BadRequestData(f"join '{join}' must be inline or flat")
    try:
        level = 1 if join_level is None else int(join_level)
    except ValueError:
        raise BadRequestData(f"joinLevel '{join_level}' must be a positive integer") from None
    if level < 1:
        raise BadRequestData(f"joinLevel '{join_level}' must be a positive integer")
    return (None if join is None else "inline" if join == "inline" else "flat"), level


def _targets(instance: dict[str, Any]) -> list[str]:
    if instance.get("type") == "Relationship":
        found = instance.get("object")
    elif instance.get("type") == "ListRelationship":
        found = [item.get("object") if isinstance(item, dict) else item for item in instance.get("objectList", [])]
    else:
        return []
    return [t for t in (found if isinstance(found, list) else [found]) if isinstance(t, str)]


@dataclass
class Join:
    """One request's join: how to find and render a linked entity, and where linked ones go."""

    mode: Literal["inline", "flat"]
    level: int
    lookup: Lookup
    render: Render
    tm: TermMap
    key_values: bool
    _flat: dict[str, dict[str, Any]] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)

    def apply(self, entities: list[dict[str, Any]], rendered: list[dict[str, Any]], pick: Projection | None,
              omit: Projection | None) -> list[dict[str, Any]]:
        """The rendered entities with their linked entities inline, or followed by them (flat)."""
        self._seen.update(e["id"] for e in entities)
        for entity, out in zip(entities, rendered, strict=True):
            self._link(entity, out, pick, omit, 1)
        return rendered + list(self._flat.values())

    def _link(self, entity: dict[str, Any], out: dict[str, Any], pick: Projection | None,
              omit: Projection | None, depth: int) -> None:
        if depth > self.level:
            return
        for iri, instances in entity["attrs"].items():
            name = self.tm.compact(iri)
            if name not in out:
                continue
            sub_pick, sub_omit = (pick or {}).get(name), (omit or {}).get(name)
            for position, instance in enumerate(instances):
                linked = []
                for target_id in _targets(instance):
                    target = self.lookup(target_id)
                    if target is None:
                        continue
                    shown = self.render(target, sub_pick, sub_omit)
                    if self.mode == "flat" and target_id not in self._seen:
                        self._seen.add(target_id)
                        self._flat[target_id] = shown  # before its own links: nearer entities first
                    self._link(target, shown, sub_pick, sub_omit, depth + 1)
                    linked.append(shown)
                if linked and self.mode == "inline":
                    self._embed(out, name, position, len(instances), linked)

    def _embed(self, out: dict[str, Any], name: str, position: int, count: int, linked: list[dict[str, Any]]) -> None:
        value: Any = linked[0] if len(linked) == 1 else linked
        if self.key_values:
            if count == 1:
                out[name] = value  # keyValues: the linked entity in place of its id
            return
        node = out[name] if isinstance(out[name], dict) else out[name][position]
        node["entity"] = value
