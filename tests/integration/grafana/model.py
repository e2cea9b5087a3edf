"""The part of Grafana 11.3's dashboard model the CitiesInCharge boards use, as pydantic models.

Grafana validates little when it provisions a file: a wrong field is silently ignored and the panel
shows "No data". So this model is strict where a mistake would go unseen: required fields, known
panel types, grid within 24 columns and no overlap, unique panel ids, data source references to
the provisioned Infinity uids, the Infinity fields the backend parser reads, and variables that
exist wherever ``$name`` is used.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

INFINITY = "yesoreyeram-infinity-datasource"
PANEL_TYPES = {"table", "stat", "timeseries", "barchart", "bargauge", "piechart", "geomap", "text", "gauge"}
TRANSFORMATIONS = {"joinByField", "organize", "groupingToMatrix"}
BUILTIN = {"__from", "__to", "__interval", "__interval_ms", "__range", "__dashboard", "__org", "__user", "timeFilter"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="allow")


class DataSourceRef(Strict):
    type: Literal["yesoreyeram-infinity-datasource"]
    uid: str


class GridPos(Strict):
    x: int = Field(ge=0, lt=24)
    y: int = Field(ge=0)
    w: int = Field(ge=1, le=24)
    h: int = Field(ge=1)

    @model_validator(mode="after")
    def fits(self) -> GridPos:
        if self.x + self.w > 24:
            raise ValueError(f"gridPos x {self.x} + w {self.w} is wider than Grafana's 24 columns")
        return self


class Param(Strict):
    key: str = Field(min_length=1)
    value: str


class UrlOptions(Strict):
    method: Literal["GET"]
    params: list[Param]
    headers: list[Param]
    data: str = ""


class Column(Strict):
    selector: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    text: str
    type: Literal["string", "number", "timestamp", "boolean"]

    @model_validator(mode="after")
    def alias_is_selector(self) -> Column:
        if self.text != self.selector:
            raise ValueError("column text must equal its selector (headings are panel overrides)")
        return self


class InfinityTarget(Strict):
    refId: str = Field(min_length=1)
    datasource: DataSourceRef
    type: Literal["json"]
    source: Literal["url"]
    parser: Literal["backend"]
    format: Literal["table", "timeseries", "dataframe"]
    url: str = Field(pattern=r"^/ngsi-ld/v1/(entities|temporal/entities)(/|$)")
    url_options: UrlOptions
    root_selector: str = Field(min_length=1)
    columns: list[Column] = Field(min_length=1)

    @model_validator(mode="after")
    def temporal_on_temporal(self) -> InfinityTarget:
        temporal = self.url.startswith("/ngsi-ld/v1/temporal/")
        if temporal != (self.datasource.uid == "cic-ngsi-ld-temporal"):
            raise ValueError(f"{self.url} must go to the {'temporal' if temporal else 'entities'} data source")
        return self


class Transformation(Strict):
    id: str
    options: dict[str, Any]

    @field_validator("id")
    @classmethod
    def known(cls, value: str) -> str:
        if value not in TRANSFORMATIONS:
            raise ValueError(f"transformation {value!r} is not one the tests evaluate")
        return value


class Override(Strict):
    matcher: dict[str, Any]
    properties: list[dict[str, Any]]


class FieldConfig(Strict):
    defaults: dict[str, Any]
    overrides: list[Override]


class Panel(Strict):
    id: int = Field(ge=1)
    type: str
    title: str = Field(min_length=1)
    gridPos: GridPos
    datasource: DataSourceRef
    targets: list[InfinityTarget] = Field(min_length=1)
    fieldConfig: FieldConfig
    options: dict[str, Any]
    transformations: list[Transformation]

    @field_validator("type")
    @classmethod
    def builtin(cls, value: str) -> str:
        if value not in PANEL_TYPES:
            raise ValueError(f"panel type {value!r} is not a Grafana 11 built-in panel the boards use")
        return value

    @model_validator(mode="after")
    def unique_refs(self) -> Panel:
        refs = [t.refId for t in self.targets]
        if len(set(refs)) != len(refs):
            raise ValueError(f"panel {self.title!r}: refIds repeat: {refs}")
        return self


class VariableQuery(Strict):
    queryType: Literal["infinity"]
    infinityQuery: InfinityTarget
    refId: str


class Variable(Strict):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    type: Literal["query"]
    datasource: DataSourceRef
    query: VariableQuery
    includeAll: bool
    multi: Literal[False]
    refresh: Literal[1, 2]
    allValue: str | None = None

    @model_validator(mode="after")
    def text_value(self) -> Variable:
        names = {c.selector for c in self.query.infinityQuery.columns}
        if names != {"__text", "__value"}:
            raise ValueError(f"variable {self.name}: columns must be __text and __value, not {sorted(names)}")
        if self.includeAll and not self.allValue:
            raise ValueError(f"variable {self.name}: includeAll needs an allValue the queries understand")
        return self


class Templating(Strict):
    list: list[Variable]


class TimeSpec(Strict):
    from_: str = Field(alias="from")
    to: str


class Dashboard(Strict):
    uid: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    title: str = Field(min_length=1)
    schemaVersion: int = Field(ge=39)
    timezone: str
    time: TimeSpec
    templating: Templating
    panels: list[Panel] = Field(min_length=1)
    editable: bool
    tags: list[str]

    @model_validator(mode="after")
    def consistent(self) -> Dashboard:
        ids = [p.id for p in self.panels]
        if len(set(ids)) != len(ids):
            raise ValueError(f"panel ids repeat: {ids}")
        cells: dict[tuple[int, int], str] = {}
        for item in self.panels:
            g = item.gridPos
            for x in range(g.x, g.x + g.w):
                for y in range(g.y, g.y + g.h):
                    if (x, y) in cells:
                        raise ValueError(f"panels {cells[(x, y)]!r} and {item.title!r} overlap")
                    cells[(x, y)] = item.title
        known = {v.name for v in self.templating.list} | BUILTIN
        for text in _texts(self.model_dump(by_alias=True, exclude={"templating"})) + _texts(
                [v.query.model_dump() for v in self.templating.list]):
            for name in _references(text):
                if name not in known and not _jsonata_variable(text, name):
                    raise ValueError(f"${name} is used but no such variable exists")
        return self


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _references(text: str) -> set[str]:
    return {a or b or c for a, b, c in re.findall(r"\$(\w+)|\[\[(\w+?)(?::\w+)?\]\]|\$\{(\w+)(?::[^}]+)?\}", text)}


def _jsonata_variable(text: str, name: str) -> bool:
    """In a root selector, ``$name`` may be a JSONata variable or function: bound with ``:=``, or a
    built-in function (called), or ``$$``/``$`` forms."""
    return text.startswith("(") and (re.search(rf"\${name}\s*:=", text) is not None
                                      or re.search(rf"\${name}\s*\(", text) is not None
                                      or re.search(rf"function\s*\([^)]*\${name}\b", text) is not None)
