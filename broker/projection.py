"""``pick`` and ``omit`` (ETSI GS CIM 009 §4.21): which entity members a response keeps.

A projection is a comma-separated list of member names (``id``, ``type``, attribute names); a
name may carry a nested projection in braces that applies to the entity its Relationship links
to when linked entities are joined (§4.5.23): ``id,locatedAt{name,isInCountry{description}}``.
In ``omit``, ``locatedAt{name}`` omits ``name`` from the linked entity, not ``locatedAt`` itself.
Parsed once per request into a tree of dicts: name -> nested projection (or None).
"""

from __future__ import annotations

import re

from .errors import BadRequestData

Projection = dict[str, "Projection | None"]
_NAME = re.compile(r"[^,{}\s;|()'\"=<>!~]+")


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.pos = 0

    def fail(self, why: str) -> BadRequestData:
        return BadRequestData(f"invalid {self.what} '{self.text}': {why} at position {self.pos}")

    def parse(self) -> Projection:
        projection = self.members()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected '{self.text[self.pos]}'")
        return projection

    def members(self) -> Projection:
        projection: Projection = {}
        while True:
            match = _NAME.match(self.text, self.pos)
            if match is None:
                raise self.fail("expected a member name")
            self.pos = match.end()
            nested: Projection | None = None
            if self.text.startswith("{", self.pos):
                self.pos += 1
                nested = self.members()
                if not self.text.startswith("}", self.pos):
                    raise self.fail("missing '}'")
                self.pos += 1
            projection[match.group()] = nested
            if not self.text.startswith(",", self.pos):
                return projection
            self.pos += 1


def parse_projection(text: str | None, what: str) -> Projection | None:
    """The projection of a ``pick`` or ``omit`` parameter (None when absent)."""
    if text is None:
        return None
    return _Parser(text, what).parse()


def check_projections(pick: Projection | None, omit: Projection | None, attrs: str | None) -> None:
    """§4.21: pick and omit exclude ``attrs``, and no member may be both picked and omitted."""
    if attrs is not None and (pick is not None or omit is not None):
        raise BadRequestData("pick and omit cannot be combined with attrs")
    if pick is not None and omit is not None:
        both = set(pick) & {name for name, nested in omit.items() if nested is None}
        if both:
            raise BadRequestData(f"{sorted(both)} are both picked and omitted")


def omitted(omit: Projection | None) -> set[str]:
    """The members an omit removes from this entity (``rel{...}`` only reaches into the linked one)."""
    return {name for name, nested in (omit or {}).items() if nested is None}

