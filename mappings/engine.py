"""The mapping engine: applies a declarative mapping file to one source record. Pure, no I/O.

A mapping file (``mappings/files/*.yaml``) names its source (protocol, versions, object), its
target entity type, how to build the entity id, and one rule per attribute: a JMESPath expression
over the *envelope* ``{"record": ..., "parent": ..., "cpo": ..., "now": ...}``, an optional chain
of named transforms (``mappings/transforms.py``), and NGSI-LD details (attribute type, unitCode,
observedAt). Onboarding a new operator dialect or sensor vendor is a new file, not new code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, Protocol

import jmespath
import yaml
from jmespath import functions
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from citiesincharge import ids

from .transforms import TRANSFORMS, Transform, TransformError, datetime_utc


class MappingError(ValueError):
    """A record that a mapping cannot turn into an entity: which record, which field, why."""

    def __init__(self, mapping: str, record: str, field: str, reason: str) -> None:
        super().__init__(f"{mapping}: record {record}: {field}: {reason}")
        self.mapping = mapping
        self.record = record
        self.field = field
        self.reason = reason


class _Path:
    """A plain dotted path (``record.coordinates``): the same result as JMESPath, ten times faster.

    Most rules are such paths; only real expressions (filters, projections, functions) need the
    JMESPath interpreter.
    """

    __slots__ = ("keys",)

    def __init__(self, expression: str) -> None:
        self.keys = tuple(expression.split("."))

    def search(self, data: Any) -> Any:
        for key in self.keys:
            if not isinstance(data, dict):
                return None
            data = data.get(key)
        return data


class Getter(Protocol):
    def search(self, data: Any) -> Any: ...


_PLAIN_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class _Functions(functions.Functions):
    """Functions mapping files may call besides JMESPath's own.

    ``cistring(x)``: a case-insensitive identifier (OCPI CiString) in its one form
    (``ids.case_insensitive``), for ids and references that must not split when a source switches
    case; strings and lists of strings, null stays null.
    """

    @functions.signature({"types": ["string", "array", "null"]})
    def _func_cistring(self, value: Any) -> Any:
        return _cistring(value)


def _cistring(value: Any) -> Any:
    if isinstance(value, list):
        return [ids.case_insensitive(v) if isinstance(v, str) else v for v in value]
    return ids.case_insensitive(value) if isinstance(value, str) else value


_OPTIONS = jmespath.Options(custom_functions=_Functions())


class _Expression:
    """A JMESPath expression that may call the project's functions."""

    __slots__ = ("parsed",)

    def __init__(self, expression: str) -> None:
        self.parsed = jmespath.compile(expression)

    def search(self, data: Any) -> Any:
        return self.parsed.search(data, options=_OPTIONS)


class _CiPath(_Path):
    """``cistring(a.b)`` over a plain path, without the interpreter (ids are built for every record)."""

    __slots__ = ()

    def search(self, data: Any) -> Any:
        return _cistring(super().search(data))


def _compile(expression: str) -> Getter:
    if _PLAIN_PATH.match(expression):
        return _Path(expression)
    if expression.startswith("cistring(") and expression.endswith(")") and _PLAIN_PATH.match(expression[9:-1]):
        return _CiPath(expression[9:-1])
    try:
        return _Expression(expression)
    except JMESPathError as error:
        raise ValueError(f"invalid JMESPath expression {expression!r}: {error}") from None


@dataclass(frozen=True)
class _Plan:
    """An attribute rule compiled for the hot loop: plain attributes, transforms pre-bound."""

    name: str
    value: Getter
    steps: tuple[tuple[Transform, dict[str, Any]], ...]
    kind: str
    unit_code: str | None
    observed: Getter | None
    required: bool
    default: Any
    drop_on_error: bool


class Step(BaseModel):
    """One transform in an attribute's chain; ``enum`` names a shared table in mappings/enums."""

    model_config = ConfigDict(extra="forbid")
    name: str
    enum: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in TRANSFORMS:
            raise ValueError(f"unknown transform '{value}'; known: {', '.join(sorted(TRANSFORMS))}")
        return value


class AttributeRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str
    type: Literal["Property", "Relationship", "GeoProperty"] = "Property"
    transform: list[Step] = Field(default_factory=list)
    required: bool = False
    default: Any = None
    unitCode: str | None = None
    observedAt: str | None = None
    on_error: Literal["quarantine", "drop"] = "quarantine"
    _value: Getter = PrivateAttr()
    _observed: Getter | None = PrivateAttr(default=None)

    @field_validator("transform", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [{"name": value}]
        return [{"name": v} if isinstance(v, str) else v for v in value or []]

    @model_validator(mode="after")
    def _compile_expressions(self) -> AttributeRule:
        self._value = _compile(self.value)
        self._observed = _compile(self.observedAt) if self.observedAt else None
        return self


class IdRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    parts: list[str] = Field(min_length=1)
    _parts: list[Getter] = PrivateAttr()

    @model_validator(mode="after")
    def _compile_parts(self) -> IdRule:
        self._parts = [_compile(p) for p in self.parts]
        return self


class Source(BaseModel):
    protocol: str
    versions: list[str]
    object: str


class Mapping(BaseModel):
    """A mapping file: source format -> Smart Data Model (or project) entity type."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str
    source: Source
    payload: Literal["json", "text"] = "json"
    key: str | None = Field(None, description="expression giving the record's lookup key (e.g. a sensor id)")
    target: str
    id: IdRule
    attributes: dict[str, AttributeRule]
    _key: Getter | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile_key(self) -> Mapping:
        self._key = _compile(self.key) if self.key else None
        return self

    def lookup_key(self, envelope: dict[str, Any]) -> str | None:
        """The record's key (``key:`` in the file), as text, or None when absent."""
        if self._key is None:
            return None
        found = self._key.search(envelope)
        if isinstance(found, int | float) and not isinstance(found, bool):
            return str(found)
        return found if isinstance(found, str) and found else None
    _plan: tuple[_Plan, ...] = PrivateAttr(default=())
    _id_parts: tuple[tuple[Getter, str], ...] = PrivateAttr(default=())

    def bind_enums(self, enums: dict[str, dict[str, Any]]) -> Mapping:
        """Resolve enum tables and compile the rules into the plan ``apply`` runs."""
        missing = {s.enum for r in self.attributes.values() for s in r.transform if s.enum} - set(enums)
        if missing:
            raise ValueError(f"mapping {self.name} refers to unknown enum tables {sorted(missing)}")
        self._plan = tuple(
            _Plan(name, rule._value,
                  tuple((TRANSFORMS[step.name], {**step.options, **({"table": enums[step.enum]} if step.enum else {})})
                        for step in rule.transform),
                  rule.type, rule.unitCode, rule._observed, rule.required, rule.default, rule.on_error == "drop")
            for name, rule in self.attributes.items())
        self._id_parts = tuple(zip(self.id._parts, self.id.parts, strict=True))
        return self

    # -- applying ----------------------------------------------------------------------------
    def apply(self, envelope: dict[str, Any], secrets: dict[str, str] | None = None, *,
              only: frozenset[str] | None = None) -> dict[str, Any]:
        """One NGSI-LD entity (normalized) from one record, or MappingError.

        ``only`` limits the work to some attributes (for updates whose other attributes cannot
        have changed, e.g. a bay's registry-derived location once it has been written).
        """
        if not self._plan:
            raise RuntimeError(f"mapping {self.name} was not bound (use mappings.engine.library())")
        try:
            parts = [_text(getter.search(envelope), f"id part {expr}") for getter, expr in self._id_parts]
            entity_id = ids.entity_id(self.id.type, *parts)
        except (ValueError, TransformError) as error:
            raise MappingError(self.name, self._record_key(envelope), "id", str(error)) from None
        entity: dict[str, Any] = {"id": entity_id, "type": self.target}
        for plan in self._plan:
            if only is not None and plan.name not in only:
                continue
            try:
                attribute = _attribute(plan, envelope, secrets or {})
            except (TransformError, ValueError, TypeError) as error:
                if plan.drop_on_error:
                    continue
                raise MappingError(self.name, self._record_key(envelope), plan.name, str(error)) from None
            if attribute is None:
                if plan.required:
                    raise MappingError(self.name, self._record_key(envelope), plan.name,
                                       f"no value at '{self.attributes[plan.name].value}'")
                continue
            entity[plan.name] = attribute
        return entity

    def attribute(self, name: str, envelope: dict[str, Any], secrets: dict[str, str] | None = None) -> dict[str, Any]:
        """Just one attribute of the entity (the hot path of updates that change only it)."""
        plan = next((p for p in self._plan if p.name == name), None)
        if plan is None:
            raise KeyError(f"mapping {self.name} has no attribute {name}")
        try:
            attribute = _attribute(plan, envelope, secrets or {})
        except (TransformError, ValueError, TypeError) as error:
            raise MappingError(self.name, self._record_key(envelope), name, str(error)) from None
        if attribute is None:
            raise MappingError(self.name, self._record_key(envelope), name,
                               f"no value at '{self.attributes[name].value}'")
        return attribute

    @staticmethod
    def _record_key(envelope: dict[str, Any]) -> str:
        record = envelope.get("record")
        if isinstance(record, dict):
            for key in ("id", "uid", "evse_uid"):
                if isinstance(record.get(key), str):
                    return str(record[key])
        return "(no id)"


def _attribute(plan: _Plan, envelope: dict[str, Any], secrets: dict[str, str]) -> dict[str, Any] | None:
    value = plan.value.search(envelope)
    for transform, options in plan.steps:
        if value is None:
            break
        if any(isinstance(v, str) and v.startswith("$") for v in options.values()):
            options = {k: _secret(v, secrets) for k, v in options.items()}
        value = transform(value, options)
    if value is None or value == [] or value == {}:
        if plan.default is None:
            return None
        value = plan.default
    attribute: dict[str, Any] = ({"type": "Relationship", "object": value} if plan.kind == "Relationship"
                                 else {"type": plan.kind, "value": value})
    if plan.unit_code:
        attribute["unitCode"] = plan.unit_code
    if plan.observed is not None:
        observed = plan.observed.search(envelope)
        if observed is not None:
            attribute["observedAt"] = datetime_utc(observed, {})
    return attribute


def _text(value: Any, what: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise TransformError(f"{what} is missing or not a string")
    return value


def _secret(value: Any, secrets: dict[str, str]) -> Any:
    """Option values written ``$NAME`` come from the caller's secrets (never from the file)."""
    if isinstance(value, str) and value.startswith("$"):
        return secrets.get(value[1:])
    return value


# -- the library ---------------------------------------------------------------------------------
def _read_yaml(folder: str, file_name: str) -> Any:
    return yaml.safe_load(resources.files("mappings").joinpath(folder, file_name).read_text("utf-8"))


@cache
def enums() -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {}
    for entry in sorted(resources.files("mappings").joinpath("enums").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            tables.update(_read_yaml("enums", entry.name))
    return tables


def _with_base(raw: dict[str, Any]) -> dict[str, Any]:
    """``extends: <base>`` takes attributes from mappings/bases/<base>.yaml; the file's own win."""
    base_name = raw.pop("extends", None)
    if base_name is None:
        return raw
    base = _read_yaml("bases", f"{base_name}.yaml")
    return {**raw, "attributes": {**base.get("attributes", {}), **raw.get("attributes", {})}}


@cache
def library() -> dict[str, Mapping]:
    """Every mapping file shipped in mappings/files, validated and compiled, by name."""
    found: dict[str, Mapping] = {}
    for entry in sorted(resources.files("mappings").joinpath("files").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            raw = _with_base(_read_yaml("files", entry.name))
            mapping = Mapping.model_validate(raw).bind_enums(enums())
            found[mapping.name] = mapping
    return found


def mapping_for(protocol: str, version: str, source_object: str) -> Mapping:
    for mapping in library().values():
        source = mapping.source
        if source.protocol == protocol and version in source.versions and source.object == source_object:
            return mapping
    raise LookupError(f"no mapping for {protocol} {version} {source_object}")
