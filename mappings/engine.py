"""The mapping engine: applies a declarative mapping file to one source record. Pure, no I/O.

A mapping file (``mappings/files/*.yaml``) names its source (protocol, versions, object), its
target entity type, how to build the entity id, and one rule per attribute: a JMESPath expression
over the *envelope* ``{"record": ..., "parent": ..., "cpo": ..., "now": ...}``, an optional chain
of named transforms (``mappings/transforms.py``), and NGSI-LD details (attribute type, unitCode,
observedAt). Onboarding a new operator dialect or sensor vendor is a new file, not new code.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import jmespath
import yaml
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from citiesincharge import ids

from .transforms import TRANSFORMS, TransformError


class MappingError(ValueError):
    """A record that a mapping cannot turn into an entity: which record, which field, why."""

    def __init__(self, mapping: str, record: str, field: str, reason: str) -> None:
        super().__init__(f"{mapping}: record {record}: {field}: {reason}")
        self.mapping = mapping
        self.record = record
        self.field = field
        self.reason = reason


def _compile(expression: str) -> ParsedResult:
    try:
        return jmespath.compile(expression)
    except JMESPathError as error:
        raise ValueError(f"invalid JMESPath expression {expression!r}: {error}") from None


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
    _value: ParsedResult = PrivateAttr()
    _observed: ParsedResult | None = PrivateAttr(default=None)

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
    _parts: list[ParsedResult] = PrivateAttr()

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
    target: str
    id: IdRule
    attributes: dict[str, AttributeRule]
    _enums: dict[str, dict[str, Any]] = PrivateAttr(default_factory=dict)

    def bind_enums(self, enums: dict[str, dict[str, Any]]) -> Mapping:
        missing = {s.enum for r in self.attributes.values() for s in r.transform if s.enum} - set(enums)
        if missing:
            raise ValueError(f"mapping {self.name} refers to unknown enum tables {sorted(missing)}")
        self._enums = enums
        return self

    # -- applying ----------------------------------------------------------------------------
    def apply(self, envelope: dict[str, Any], secrets: dict[str, str] | None = None) -> dict[str, Any]:
        """One NGSI-LD entity (normalized) from one record, or MappingError."""
        record_key = self._record_key(envelope)
        try:
            parts = [_text(p.search(envelope), f"id part {expr}") for p, expr in zip(
                self.id._parts, self.id.parts, strict=True)]
            entity_id = ids.entity_id(self.id.type, *parts)
        except (ValueError, TransformError) as error:
            raise MappingError(self.name, record_key, "id", str(error)) from None
        entity: dict[str, Any] = {"id": entity_id, "type": self.target}
        for name, rule in self.attributes.items():
            try:
                attribute = self._attribute(rule, envelope, secrets or {})
            except (TransformError, ValueError, TypeError) as error:
                if rule.on_error == "drop":
                    continue
                raise MappingError(self.name, record_key, name, str(error)) from None
            if attribute is None:
                if rule.required:
                    raise MappingError(self.name, record_key, name, f"no value at '{rule.value}'")
                continue
            entity[name] = attribute
        return entity

    def _attribute(self, rule: AttributeRule, envelope: dict[str, Any],
                   secrets: dict[str, str]) -> dict[str, Any] | None:
        value = rule._value.search(envelope)
        for step in rule.transform:
            if value is None:
                break
            options = {k: _secret(v, secrets) for k, v in step.options.items()}
            if step.enum:
                options["table"] = self._enums[step.enum]
            value = TRANSFORMS[step.name](value, options)
        if value is None or value == [] or value == {}:
            if rule.default is None:
                return None
            value = rule.default
        if rule.type == "Relationship":
            attribute: dict[str, Any] = {"type": "Relationship", "object": value}
        else:
            attribute = {"type": rule.type, "value": value}
        if rule.unitCode:
            attribute["unitCode"] = rule.unitCode
        if rule._observed is not None:
            observed = rule._observed.search(envelope)
            if observed is not None:
                attribute["observedAt"] = TRANSFORMS["datetime_utc"](observed, {})
        return attribute

    @staticmethod
    def _record_key(envelope: dict[str, Any]) -> str:
        record = envelope.get("record")
        if isinstance(record, dict):
            for key in ("id", "uid", "evse_uid"):
                if isinstance(record.get(key), str):
                    return str(record[key])
        return "(no id)"


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


@cache
def library() -> dict[str, Mapping]:
    """Every mapping file shipped in mappings/files, validated and compiled, by name."""
    found: dict[str, Mapping] = {}
    for entry in sorted(resources.files("mappings").joinpath("files").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            mapping = Mapping.model_validate(_read_yaml("files", entry.name)).bind_enums(enums())
            found[mapping.name] = mapping
    return found


def mapping_for(protocol: str, version: str, source_object: str) -> Mapping:
    for mapping in library().values():
        source = mapping.source
        if source.protocol == protocol and version in source.versions and source.object == source_object:
            return mapping
    raise LookupError(f"no mapping for {protocol} {version} {source_object}")
