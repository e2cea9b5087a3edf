"""How a read request shows entities: format, sysAttrs, attrs, pick/omit and linked entities.

Built once per request from its parameters (all validated here, before any entity is read) and
then applied to the page of entities the request selected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .attributes import render_entity
from .jsonld import TermMap
from .linked import Join, Lookup, join_options
from .projection import Projection, check_projections, omitted, parse_projection


@dataclass
class EntityView:
    tm: TermMap
    fmt: str
    sys_attrs: bool
    attrs: set[str] | None
    pick: Projection | None
    omit: Projection | None
    join: Literal["inline", "flat"] | None
    join_level: int

    @classmethod
    def parse(cls, tm: TermMap, fmt: str, sys_attrs: bool, attrs: set[str] | None, *, attrs_param: str | None,
              pick: str | None, omit: str | None, join: str | None, join_level: str | None) -> EntityView:
        picked, left_out = parse_projection(pick, "pick"), parse_projection(omit, "omit")
        check_projections(picked, left_out, attrs_param)
        mode, level = join_options(join, join_level)
        return cls(tm, fmt, sys_attrs, attrs, picked, left_out, mode, level)

    def render(self, entity: dict[str, Any], pick: Projection | None = None,
               omit: Projection | None = None) -> dict[str, Any]:
        return render_entity(entity, self.tm, fmt=self.fmt, attrs=self.attrs, sys_attrs=self.sys_attrs,
                             pick=None if pick is None else set(pick), omit=omitted(omit))

    def show(self, entities: list[dict[str, Any]], lookup: Lookup) -> list[dict[str, Any]]:
        """The entities as the request asked; one the projection left empty is not shown."""
        shown = [(e, self.render(e, self.pick, self.omit)) for e in entities]
        shown = [(e, r) for e, r in shown if r]
        rendered = [r for _e, r in shown]
        if self.join is None:
            return rendered
        join = Join(self.join, self.join_level, lookup, lambda e, p, o: self.render(e, p, o), self.tm,
                    self.fmt == "keyValues")
        return join.apply([e for e, _r in shown], rendered, self.pick, self.omit)
