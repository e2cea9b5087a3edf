"""The NGSI-LD query language (``q``, ETSI GS CIM 009 §4.9): parser and evaluator.

``;`` is AND and binds tighter than ``|`` (OR); parentheses group. A term is an attribute path
(``attr``, ``attr.subAttr``, ``attr[key][key]`` into a compound value, ``attr.observedAt``) with
an optional operator ``== != < <= > >= ~= !~=`` and a value: number, ``"string"``, boolean,
date-time, URI, a range ``a..b`` or a list ``a,b,c``. A path with no operator tests existence; ``!path`` tests absence.
The parsed query is a tree of small closures, compiled once per request and run per entity,
beside a :data:`Plan` of the same tree that says which parts an index can answer exactly
(comparisons of a path with literals, combined with AND / OR): the planner (``broker/planner.py``)
uses it to avoid running the closures over every entity of a type.
"""

from __future__ import annotations

import operator as operator_module
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .attributes import PAYLOAD_MEMBER
from .errors import BadRequestData
from .jsonld import TermMap
from .patterns import compile_pattern
from .timeutil import format_iso, parse_iso

Predicate = Callable[[dict[str, Any]], bool]
_OPERATORS = ("==", "!=", "<=", ">=", "~=", "!~=", "<", ">")
_MEMBERS = {"observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt", "lang"}
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$")
_MISSING = object()


@dataclass(frozen=True)
class AttrPath:
    attr: str  # expanded attribute IRI
    sub: tuple[str, ...]  # expanded sub-attribute IRIs or member names
    compound: tuple[str, ...]  # keys into the value


@dataclass(frozen=True)
class Term:
    """A comparison an index of ``path``'s values answers exactly: ``op`` is "in" (``==`` with one
    or more literals), "range" (``==`` with ``low..high``) or one of ``< <= > >=`` (one literal)."""

    path: AttrPath
    op: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Combined:
    """AND (``every``) or OR of parts; a part that is None is one no index answers."""

    every: bool
    parts: tuple[Plan, ...]


Plan = Term | Combined | None
_Node = tuple[Predicate, Plan]


class Query:
    """A compiled ``q``: call it on an entity; ``plan`` is what indexes may answer of it."""

    __slots__ = ("plan", "test")

    def __init__(self, test: Predicate, plan: Plan) -> None:
        self.test = test
        self.plan = plan

    def __call__(self, entity: dict[str, Any]) -> bool:
        return self.test(entity)


class _Parser:
    def __init__(self, text: str, tm: TermMap) -> None:
        self.text = text
        self.pos = 0
        self.tm = tm

    def fail(self, why: str) -> BadRequestData:
        return BadRequestData(f"invalid q '{self.text}': {why} at position {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> Query:
        if not self.text.strip():
            raise self.fail("empty query")
        predicate, plan = self.or_expr()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected '{self.peek()}'")
        return Query(predicate, plan)

    def or_expr(self) -> _Node:
        nodes = [self.and_expr()]
        while self.peek() == "|":
            self.pos += 1
            nodes.append(self.and_expr())
        return nodes[0] if len(nodes) == 1 else _combined(nodes, every=False)

    def and_expr(self) -> _Node:
        nodes = [self.term()]
        while self.peek() == ";":
            self.pos += 1
            nodes.append(self.term())
        return nodes[0] if len(nodes) == 1 else _combined(nodes, every=True)

    def term(self) -> _Node:
        if self.peek() == "(":
            self.pos += 1
            inner = self.or_expr()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.pos += 1
            return inner
        if self.peek() == "!":  # '!attr': the attribute does not exist (clause 4.9, NotExistence)
            self.pos += 1
            absent = self.path()
            return (lambda e: _values(e, absent) == []), None
        path = self.path()
        operator = next((op for op in sorted(_OPERATORS, key=len, reverse=True)
                         if self.text.startswith(op, self.pos)), None)
        if operator is None:
            return (lambda e: _values(e, path) != []), None
        self.pos += len(operator)
        raw = self.raw_value()
        if not raw:
            raise self.fail(f"missing value after '{operator}'")
        return _comparison(path, operator, raw, self.fail)

    def path(self) -> AttrPath:
        match = re.compile(r"[A-Za-z0-9_:/#@.\-]+").match(self.text, self.pos)
        if not match:
            raise self.fail("expected an attribute name")
        self.pos = match.end()
        names = match.group(0).split(".")
        compound: list[str] = []
        while self.peek() == "[":
            end = self.text.find("]", self.pos)
            if end < 0:
                raise self.fail("missing ']'")
            compound.append(self.text[self.pos + 1:end])
            self.pos = end + 1
        if any(not n for n in names):
            raise self.fail("empty attribute name")
        subs = tuple(n if n in _MEMBERS else self.tm.expand(n) for n in names[1:])
        return AttrPath(self.tm.expand(names[0]), subs, tuple(compound))

    def raw_value(self) -> str:
        start = self.pos
        in_quotes = False
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                in_quotes = not in_quotes
            elif not in_quotes and char in ";|)":
                break
            self.pos += 1
        if in_quotes:
            raise self.fail("unterminated string")
        return self.text[start:self.pos]


def _literal(token: str) -> Any:
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return token[1:-1]
    if token in ("true", "false"):
        return token == "true"
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        pass
    if _DATE_LIKE.match(token):
        try:
            return format_iso(parse_iso(token, "q value"))
        except BadRequestData:
            return token
    return token


def _split_list(raw: str) -> list[str]:
    items, current, in_quotes = [], "", False
    for char in raw:
        if char == '"':
            in_quotes = not in_quotes
        if char == "," and not in_quotes:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return items


def _comparable(a: Any, b: Any) -> bool:
    numeric = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, numeric) and isinstance(b, numeric)) or (isinstance(a, str) and isinstance(b, str))


def _combined(nodes: list[_Node], *, every: bool) -> _Node:
    parts = [predicate for predicate, _plan in nodes]
    test: Predicate = (lambda e: all(p(e) for p in parts)) if every else (lambda e: any(p(e) for p in parts))
    return test, Combined(every, tuple(plan for _predicate, plan in nodes))


def _comparison(path: AttrPath, operator: str, raw: str, fail: Callable[[str], BadRequestData]) -> _Node:
    if operator in ("~=", "!~="):
        pattern_text = raw[1:-1] if raw.startswith('"') and raw.endswith('"') else raw
        try:
            pattern = compile_pattern(pattern_text, "the pattern")
        except BadRequestData as error:
            raise fail(error.detail) from None
        want = operator == "~="

        def regex(entity: dict[str, Any]) -> bool:
            hit = any(isinstance(v, str) and pattern.search(v) for v in _values(entity, path))
            return hit if want else not hit
        return regex, None

    items = _split_list(raw)
    if len(items) == 1 and ".." in raw and not raw.startswith('"'):
        low_text, _, high_text = raw.partition("..")
        if operator not in ("==", "!="):
            raise fail("a range needs == or !=")
        low, high = _literal(low_text), _literal(high_text)

        def in_range(entity: dict[str, Any]) -> bool:
            hit = any(_comparable(v, low) and _comparable(v, high) and low <= v <= high
                      for v in _values(entity, path))
            return hit if operator == "==" else not hit
        return in_range, (Term(path, "range", (low, high)) if operator == "==" else None)
    literals = [_literal(i) for i in items]
    if len(literals) > 1 and operator not in ("==", "!="):
        raise fail("a value list needs == or !=")
    if operator in ("==", "!="):
        def equality(entity: dict[str, Any]) -> bool:
            hit = any(v == lit and _comparable(v, lit) for v in _values(entity, path) for lit in literals)
            return hit if operator == "==" else not hit
        return equality, (Term(path, "in", tuple(literals)) if operator == "==" else None)
    literal = literals[0]
    compare: Callable[[Any, Any], bool] = {"<": operator_module.lt, "<=": operator_module.le,
                                           ">": operator_module.gt, ">=": operator_module.ge}[operator]
    return ((lambda entity: any(_comparable(v, literal) and compare(v, literal) for v in _values(entity, path))),
            Term(path, operator, (literal,)))


def _values(entity: dict[str, Any], path: AttrPath) -> list[Any]:
    """Every value the path reaches (several datasetIds and arrays each contribute)."""
    found: list[Any] = []
    for instance in entity["attrs"].get(path.attr, ()):
        node: Any = instance
        for sub in path.sub:
            node = node.get(sub, _MISSING) if isinstance(node, dict) else _MISSING
            if node is _MISSING:
                break
        if node is _MISSING:
            continue
        if isinstance(node, dict):
            member = PAYLOAD_MEMBER.get(node.get("type", ""))
            node = node.get(member, _MISSING) if member else _MISSING
        for key in path.compound:
            node = node.get(key, _MISSING) if isinstance(node, dict) else _MISSING
        if node is _MISSING:
            continue
        if isinstance(node, list):
            found.extend(node)
        else:
            found.append(node)
    return found


def values_at(entity: dict[str, Any], path: AttrPath) -> list[Any]:
    """What ``q`` compares at a path of an entity: the values an index of that path keeps."""
    return _values(entity, path)


def compile_query(text: str, tm: TermMap) -> Query:
    """Compile a ``q`` expression against a term map; raises BadRequestData naming the fault."""
    return _Parser(text, tm).parse()


def attribute_paths(text: str) -> set[str]:
    """The attribute names a query mentions (un-expanded), e.g. for watchedAttributes defaults."""
    return {m.split(".")[0] for m in re.findall(r"(?:^|[;|(])\s*([A-Za-z0-9_:/#@.\-]+)", text)}
