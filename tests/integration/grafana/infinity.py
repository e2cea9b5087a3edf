"""What Grafana 11.3 and the Infinity data source (2.11, backend parser) do with one of our queries,
re-done in Python so that a test can run every panel's query against a real broker.

Faithful to the parts the boards use, from the plugin's and Grafana's sources:

* **interpolation** (Grafana's template service, in the browser, before the query is sent):
  ``$name``, ``${name}``, ``${name:text}``, ``[[name]]`` of known variables, ``${__from:date:iso}`` /
  ``${__to:date:iso}`` of the time range; any other ``$word`` (a JSONata variable) is left alone;
* **request** (``pkg/infinity/request.go``): data source URL + query URL, ``url_options.params``
  added and encoded as Go's ``url.Values.Encode`` does (keys sorted, ``QueryEscape``); headers: the
  data source's ``httpHeaderNameN`` / ``httpHeaderValueN`` and Infinity's ``Accept`` for JSON;
  ``allowedHosts`` checked as a prefix of the URL;
* **backend parser** (``infinity-libs`` jsonframer + gframer): the root selector is first tried as a
  GJSON path and, when that finds nothing, evaluated as JSONata (``jsonata-python`` here, the Go
  port there: the boards keep to JSONata 1.5 functions, which both have); then each column selector
  is a GJSON path into each row (the boards use plain keys), and values are converted by the
  column's type (``number``: float or null; ``timestamp``: RFC 3339 text -> time; ``string``;
  ``boolean``: ``true`` / ``"true"`` -> True, else null);
* **transformations** the boards use: ``joinByField`` (outer), ``organize``, ``groupingToMatrix``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import jsonata
import requests

ACCEPT_JSON = "application/json;q=0.9,text/plain"  # pkg/infinity/headers.go, for type json
_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# JSONata 1.5 (the Go engine in Infinity: github.com/xiatechs/jsonata-go, a fork of blues/jsonata-go)
JSONATA_15_FUNCTIONS = frozenset((
    "string", "length", "substring", "substringBefore", "substringAfter", "uppercase", "lowercase", "trim", "pad",
    "contains", "split", "join", "match", "replace", "number", "abs", "floor", "ceil", "round", "power", "sqrt",
    "random", "sum", "max", "min", "average", "boolean", "not", "exists", "count", "append", "sort", "reverse",
    "shuffle", "zip", "keys", "lookup", "spread", "merge", "sift", "each", "map", "filter", "reduce", "now",
    "millis", "fromMillis", "toMillis", "formatNumber", "formatBase", "base64encode", "base64decode"))


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime

    @staticmethod
    def iso(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Variable:
    value: str
    text: str | None = None


@dataclass
class Grafana:
    """The state a query is interpolated in: the dashboard's variables and time range."""

    variables: dict[str, Variable]
    time: TimeRange

    def interpolate(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2) or match.group(4)
            fmt = match.group(3) or match.group(5)
            if name in ("__from", "__to"):
                moment = self.time.start if name == "__from" else self.time.end
                if fmt == "date:iso":
                    return TimeRange.iso(moment)
                if fmt is None:
                    return str(int(moment.timestamp() * 1000))
                raise AssertionError(f"time format {fmt!r} not handled by this evaluator")
            variable = self.variables.get(name)
            if variable is None:
                return match.group(0)  # not a dashboard variable (a JSONata one): left as it is
            if fmt == "text":
                return variable.text if variable.text is not None else variable.value
            if fmt is not None:
                raise AssertionError(f"variable format {fmt!r} not handled by this evaluator")
            return variable.value

        return _VARIABLE.sub(one, text)


@dataclass
class DataSource:
    """A provisioned Infinity data source, its ``${ENV}`` references expanded as Grafana does."""

    uid: str
    url: str
    headers: dict[str, str]
    allowed_hosts: list[str]

    @staticmethod
    def from_provisioning(item: dict[str, Any], env: dict[str, str]) -> DataSource:
        def expand(value: str) -> str:
            return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), ""), value)

        json_data, secure = item.get("jsonData", {}), item.get("secureJsonData", {})
        headers = {str(name): expand(str(secure.get(key.replace("httpHeaderName", "httpHeaderValue"), "")))
                   for key, name in json_data.items() if key.startswith("httpHeaderName")}
        return DataSource(item["uid"], expand(item.get("url", "")), headers,
                          [expand(h) for h in json_data.get("allowedHosts", [])])


def go_query_encode(params: list[tuple[str, str]]) -> str:
    """Go's ``url.Values.Encode``: sorted by key (values in order), ``QueryEscape``d."""
    ordered = sorted(params, key=lambda kv: kv[0])
    return "&".join(f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}" for k, v in ordered)


def _gjson_path(row: Any, selector: str) -> Any:
    """A column selector: the boards use plain keys only (a GJSON path of one key)."""
    if not _PLAIN_KEY.match(selector):
        raise AssertionError(f"column selector {selector!r} is not a plain key")
    return row.get(selector) if isinstance(row, dict) else None


def _convert(value: Any, kind: str) -> Any:
    """gframer's conversion of a column by its declared type (lib/go/gframer/field.go)."""
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return f"{value:g}" if isinstance(value, float) else str(value)
        return value if isinstance(value, str) else None
    if kind == "number":
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None
        return None
    if kind == "timestamp":
        if isinstance(value, str) and value:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        return None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        return True if isinstance(value, str) and value.lower() == "true" else None
    raise AssertionError(f"column type {kind!r} not used by the boards")


@dataclass
class Frame:
    """A query's result as Grafana gets it: named, typed columns (rows here, for reading)."""

    columns: dict[str, str]  # name -> type
    rows: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def column(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]


def root_rows(document: Any, selector: str) -> Any:
    """jsonframer.GetRootData: a GJSON path first, JSONata when that finds nothing."""
    if not selector:
        return document
    if isinstance(document, dict) and selector in document:
        raise AssertionError(f"root selector {selector[:40]!r}… would be read as a GJSON path")
    if not selector.startswith("("):
        raise AssertionError("root selectors start with '(': a GJSON path cannot match them on the broker's answer")
    used = set(re.findall(r"\$(\w+)\s*\(", selector)) - set(re.findall(r"\$(\w+)\s*:=\s*function", selector))
    unknown = used - JSONATA_15_FUNCTIONS
    if unknown:
        raise AssertionError(f"JSONata functions outside JSONata 1.5: {sorted(unknown)}")
    return jsonata.Jsonata(selector).evaluate(document)


def frame(target: dict[str, Any], document: Any) -> Frame:
    """The backend parser on ``document`` (the broker's JSON answer)."""
    result = root_rows(document, target.get("root_selector", ""))
    if result is None:
        rows: list[Any] = []
    elif isinstance(result, list):
        rows = result
    else:
        rows = [result]
    columns = {c["text"] or c["selector"]: c["type"] for c in target["columns"]}
    out = Frame(columns)
    for row in rows:
        out.rows.append({(c["text"] or c["selector"]): _convert(_gjson_path(row, c["selector"]), c["type"])
                         for c in target["columns"]})
    return out


class Infinity:
    """Runs a board's queries against real HTTP endpoints, as Grafana + Infinity would."""

    def __init__(self, sources: dict[str, DataSource], grafana: Grafana) -> None:
        self.sources = sources
        self.grafana = grafana
        self.http = requests.Session()

    def request(self, target: dict[str, Any]) -> tuple[str, dict[str, str]]:
        source = self.sources[target["datasource"]["uid"]]
        assert target["type"] == "json" and target["source"] == "url" and target["parser"] == "backend", target
        options = target["url_options"]
        assert options.get("method", "GET") == "GET", options
        url = self.grafana.interpolate(target["url"])
        if not url.startswith(source.url):
            url = source.url + url
        params = [(p["key"], self.grafana.interpolate(p["value"])) for p in options.get("params", [])]
        if params:
            url += ("&" if "?" in url else "?") + go_query_encode(params)
        if source.allowed_hosts:
            assert any(url.startswith(h) for h in source.allowed_hosts), (url, source.allowed_hosts)
        headers = {"Accept": ACCEPT_JSON, **source.headers}
        for header in options.get("headers", []):
            headers[header["key"]] = self.grafana.interpolate(header["value"])
        return url, headers

    def run(self, target: dict[str, Any]) -> Frame:
        url, headers = self.request(target)
        response = self.http.get(url, headers=headers, timeout=30)
        assert response.status_code < 400, f"{url}: {response.status_code} {response.text[:300]}"
        interpolated = {**target, "root_selector": self.grafana.interpolate(target.get("root_selector", ""))}
        result = frame(interpolated, response.json())
        result.url = url
        return result

    def panel(self, panel: dict[str, Any]) -> Frame:
        """A panel's data after its queries and transformations (one frame)."""
        frames = [self.run(t) for t in panel["targets"]]
        return transform(frames, panel.get("transformations", []))


def transform(frames: list[Frame], steps: list[dict[str, Any]]) -> Frame:
    current = frames
    for step in steps:
        kind, options = step["id"], step.get("options", {})
        if kind == "joinByField":
            assert options.get("mode", "outer") == "outer", options
            current = [_outer_join(current, options["byField"])]
        elif kind == "organize":
            hidden = {k for k, v in options.get("excludeByName", {}).items() if v}
            renamed = options.get("renameByName", {})
            organized = []
            for item in current:
                columns = {renamed.get(k, k): v for k, v in item.columns.items() if k not in hidden}
                rows = [{renamed.get(k, k): v for k, v in row.items() if k not in hidden} for row in item.rows]
                organized.append(Frame(columns, rows, item.url))
            current = organized
        elif kind == "groupingToMatrix":
            current = [_matrix(current[0], options["columnField"], options["rowField"], options["valueField"])]
        else:
            raise AssertionError(f"transformation {kind!r} not handled by this evaluator")
    assert len(current) == 1, "a panel reads one frame here"
    return current[0]


def _outer_join(frames: list[Frame], key: str) -> Frame:
    columns: dict[str, str] = {}
    rows: dict[Any, dict[str, Any]] = {}
    for item in frames:
        assert key in item.columns, f"joinByField: no field {key!r} in {list(item.columns)}"
        columns.update(item.columns)
        for row in item.rows:
            rows.setdefault(row[key], {}).update(row)
    return Frame(columns, [{name: row.get(name) for name in columns} for row in rows.values()])


def _matrix(item: Frame, column: str, row: str, value: str) -> Frame:
    for name in (column, row, value):
        assert name in item.columns, f"groupingToMatrix: no field {name!r}"
    keys = list(dict.fromkeys(r[column] for r in item.rows))
    first = f"{row}\\{column}"
    out: dict[Any, dict[str, Any]] = {}
    for record in item.rows:
        out.setdefault(record[row], {first: record[row]})[str(record[column])] = record[value]
    columns = {first: item.columns[row], **{str(k): item.columns[value] for k in keys}}
    return Frame(columns, [{c: r.get(c) for c in columns} for r in out.values()])


def environment(broker_url: str) -> dict[str, str]:
    """compose.yaml's Grafana environment, pointed at a test broker (which serves both APIs)."""
    return {**os.environ, "CIC_BROKER_URL": broker_url, "CIC_TEMPORAL_URL": broker_url,
            "CIC_CONTEXT_URL": f"{broker_url}/ngsi-ld/contexts/citiesincharge.jsonld"}
