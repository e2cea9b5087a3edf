"""Temporal payloads (ETSI GS CIM 009 §5.2.20, 5.6.11-5.6.14) parsed into stored instances.

A temporal entity lists, per attribute, the *instances* it had over time; unlike an entity,
several instances may share a datasetId (they differ in time), so each is parsed on its own by
:func:`broker.attributes.parse_instance`, with the same validation as any attribute.
"""

from __future__ import annotations

import re
from typing import Any

from .attributes import check_entity_id, parse_instance
from .errors import BadRequestData, InvalidRequest
from .jsonld import TermMap

_NOT_ATTRIBUTES = {"id", "type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt"}
#: characters an attribute name may not hold (§4.6.2 and the URL rules of §6.3.13): they break
#: q expressions, JSON-LD terms and URLs; whitespace and controls as well
_BAD_NAME = re.compile(r"[\s<>\"'=;()\x00-\x1f\x7f]")


def check_attr_name(name: str) -> str:
    if not name or _BAD_NAME.search(name):
        raise BadRequestData(f"attribute name {name!a} is not a valid name")
    return name


def parse_temporal_attrs(body: dict[str, Any], tm: TermMap, now: str) -> dict[str, list[dict[str, Any]]]:
    """Attribute IRI -> instances of a temporal entity or fragment (a single instance may stand alone)."""
    attrs: dict[str, list[dict[str, Any]]] = {}
    for short, raw in body.items():
        if short in _NOT_ATTRIBUTES:
            continue
        check_attr_name(short)
        items = raw if isinstance(raw, list) else [raw]
        attrs.setdefault(tm.expand(short), []).extend(parse_instance(item, short, tm, now) for item in items)
    return attrs


def parse_temporal_entity(body: Any, tm: TermMap, now: str) -> tuple[str, list[str], dict[str, list[dict[str, Any]]]]:
    """The id, type IRIs and instances of a temporal entity."""
    if not isinstance(body, dict) or not body:
        raise InvalidRequest("a temporal entity must be a non-empty JSON object")
    entity_id = check_entity_id(body.get("id"))
    types = body.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not types or not all(isinstance(t, str) and t for t in types):
        raise BadRequestData(f"temporal entity {entity_id}: 'type' must be a non-empty string or list of strings")
    return entity_id, [tm.expand(t) for t in types], parse_temporal_attrs(body, tm, now)


def parse_fragment_body(body: Any, entity_id: str) -> dict[str, Any]:
    """A temporal fragment (POST .../attrs): a non-empty object whose id, if any, is the URL's."""
    if not isinstance(body, dict) or not body:
        raise InvalidRequest("a temporal attribute fragment must be a non-empty JSON object")
    if body.get("id", entity_id) != entity_id:
        raise BadRequestData(f"body id {body['id']} differs from the URL's {entity_id}")
    return body


def parse_instance_patch(body: Any, attr_name: str, tm: TermMap, now: str) -> dict[str, Any]:
    """The body of PATCH .../attrs/{attrId}/{instanceId}: the instance itself, or {attrId: instance}."""
    if not isinstance(body, dict) or not body:
        raise InvalidRequest("an attribute instance must be a non-empty JSON object")
    if set(body) - {"@context"} == {attr_name}:
        body = body[attr_name]
    if not isinstance(body, dict):
        raise BadRequestData(f"an instance of attribute '{attr_name}' must be a JSON object")
    body = {k: v for k, v in body.items() if k != "@context"}
    instances = parse_temporal_attrs({attr_name: body}, tm, now)
    (instance,) = next(iter(instances.values()))
    return instance
