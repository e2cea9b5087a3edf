"""Entity and attribute shapes: parse any accepted input form into the stored form, render back.

Stored form (expanded, one shape for all formats so that every query and notification reads it
the same way)::

    {"id": URI, "type": [type IRI, ...], "createdAt": ts, "modifiedAt": ts,
     "attrs": {attribute IRI: [instance, ...]}}        # several instances = several datasetIds

An instance keeps NGSI-LD members under their own names (``type``, ``value``, ``object``,
``observedAt``, ``unitCode``, ``datasetId`` ...) and sub-attributes under their expanded IRIs.
Input may be normalized or concise/simplified; the shape is inferred as ETSI GS CIM 009 §4.5
describes, and anything that fits no shape is rejected with the attribute named.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from shapely.geometry import shape

from .errors import BadRequestData
from .jsonld import STRUCTURAL, TermMap
from .timeutil import normalise_iso

NULL = "urn:ngsi-ld:null"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_GEO_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
_ATTR_TYPES = {"Property", "Relationship", "GeoProperty", "LanguageProperty", "ListProperty",
               "ListRelationship", "VocabProperty", "JsonProperty"}
#: which member holds the payload of each attribute type
PAYLOAD_MEMBER = {"Property": "value", "GeoProperty": "value", "Relationship": "object",
                   "LanguageProperty": "languageMap", "ListProperty": "valueList",
                   "ListRelationship": "objectList", "VocabProperty": "vocab", "JsonProperty": "json"}
#: the expanded name of the entity member ``scope`` (§4.18), where writes name what they left alone
SCOPE = "https://uri.etsi.org/ngsi-ld/scope"
_SCOPE_ITEM = re.compile(r"^/[^/\s#+]+(/[^/\s#+]+)*$")
_RESERVED_NAMES = {"id", "type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt"}
_GEO_NAMES = {"location", "observationSpace", "operationSpace"}


#: what RFC 3987 forbids in an IRI although it is neither space nor ASCII punctuation: controls
#: (a NUL cuts C strings and HTTP headers), the bidi formatting marks (an id that reads differently
#: from what it is) and lone surrogates (not encodable as UTF-8, so not storable).
_FORBIDDEN_IN_IRI = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def iri_fault(value: object) -> str | None:
    """Why ``value`` is not an IRI NGSI-LD can store and name in a URL, or None if it is one."""
    if value is None:
        return "is missing; a URI is required"
    if not isinstance(value, str):
        return f"must be a URI string, not {type(value).__name__}"
    bad = _FORBIDDEN_IN_IRI.search(value)
    if bad:
        char = bad.group()
        name = unicodedata.name(char, "a control character")
        return f"contains U+{ord(char):04X} ({name}) at position {bad.start()}, which an IRI must not contain"
    if not _URI.match(value):
        return "is not a URI (scheme ':' then no spaces)"
    return None


def is_uri(value: object) -> bool:
    return iri_fault(value) is None


def check_entity_id(value: object) -> str:
    fault = iri_fault(value)
    if fault is not None:
        shown = ascii(value) if isinstance(value, str) else "(none)" if value is None else repr(value)[:80]
        raise BadRequestData(f"entity id {shown} {fault}")
    return str(value)


def _geojson(value: Any, where: str) -> None:
    if not isinstance(value, dict) or value.get("type") not in _GEO_TYPES:
        raise BadRequestData(f"{where}: GeoProperty value must be a GeoJSON geometry "
                             f"({', '.join(sorted(_GEO_TYPES))})")
    try:
        geometry = shape(value)
    except Exception as error:  # shapely raises several types for malformed coordinates
        raise BadRequestData(f"{where}: invalid GeoJSON coordinates ({error})") from None
    if geometry.is_empty:
        raise BadRequestData(f"{where}: GeoJSON geometry is empty")


def _infer_type(raw: Any, short: str) -> str:
    """The attribute type of a concise / simplified attribute (ETSI GS CIM 009 §4.5.6)."""
    if isinstance(raw, dict):
        if "type" in raw:
            declared = raw["type"]
            if not isinstance(declared, str):
                raise BadRequestData(f"attribute '{short}': 'type' must be a string, not {type(declared).__name__}")
            if declared in _ATTR_TYPES:
                return str(declared)
            if declared in _GEO_TYPES and "coordinates" in raw:
                return "GeoJSON"
            if "value" in raw or "object" in raw:
                raise BadRequestData(f"attribute '{short}' has unknown type {declared!r}")
            return "RawValue"
        for member, attr_type in (("object", "Relationship"), ("languageMap", "LanguageProperty"),
                                  ("valueList", "ListProperty"), ("objectList", "ListRelationship"),
                                  ("vocab", "VocabProperty"), ("json", "JsonProperty")):
            if member in raw:
                return attr_type
        if "value" in raw:
            value = raw["value"]
            is_geo = isinstance(value, dict) and value.get("type") in _GEO_TYPES
            return "GeoProperty" if is_geo and short in _GEO_NAMES else "Property"
    return "RawValue"


def is_null_payload(kind: str, payload: Any) -> bool:
    """Whether a payload is the NGSI-LD Null of its attribute type (§4.5.0): the request deletes
    the attribute (or the instance of its datasetId) instead of storing a value."""
    if payload == NULL:
        return True
    if kind == "LanguageProperty":
        return bool(payload == {"@none": NULL})
    return kind in ("ListProperty", "ListRelationship") and payload == [NULL]


def is_deletion(instance: dict[str, Any]) -> bool:
    """Whether a parsed instance asks for its attribute (instance) to be deleted."""
    member = PAYLOAD_MEMBER.get(instance.get("type", ""))
    return member is not None and is_null_payload(instance["type"], instance.get(member))


def without_deletions(attrs: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The attributes of a new or replacing entity: an NGSI-LD Null there has nothing to delete."""
    kept = {iri: [i for i in instances if not is_deletion(i)] for iri, instances in attrs.items()}
    return {iri: instances for iri, instances in kept.items() if instances}


def parse_instance(raw: Any, short: str, tm: TermMap, now: str, *, sub: bool = False) -> dict[str, Any]:
    """One attribute instance from its input form, validated, with timestamps set."""
    if raw is None:
        raise BadRequestData(f"attribute '{short}' is null; use 'urn:ngsi-ld:null' to delete")
    kind = _infer_type(raw, short)
    if kind == "RawValue":
        raw = {"type": "Property", "value": raw}
        kind = "Property"
    elif kind == "GeoJSON":
        raw = {"type": "GeoProperty", "value": raw}
        kind = "GeoProperty"
    member = PAYLOAD_MEMBER[kind]
    if member not in raw or raw[member] is None:
        raise BadRequestData(f"attribute '{short}' of type {kind} needs a non-null '{member}'")
    payload = raw[member]
    instance: dict[str, Any] = {"type": kind, member: payload}
    if is_null_payload(kind, payload):
        pass  # a deletion: nothing to validate, the payload is never stored
    elif kind == "Relationship":
        targets = payload if isinstance(payload, list) else [payload]
        if not targets or not all(is_uri(t) for t in targets):
            raise BadRequestData(f"relationship '{short}' object must be a URI (or list of URIs)")
    elif kind == "GeoProperty":
        _geojson(payload, f"attribute '{short}'")
    elif kind == "LanguageProperty" and not isinstance(payload, dict):
        raise BadRequestData(f"attribute '{short}' languageMap must be an object")
    elif kind in ("ListProperty", "ListRelationship") and not isinstance(payload, list):
        raise BadRequestData(f"attribute '{short}' {member} must be an array")
    if short in _GEO_NAMES and kind != "GeoProperty" and payload != NULL:
        raise BadRequestData(f"attribute '{short}' is reserved for GeoProperty (GeoJSON geometry)")
    for key, item in raw.items():
        if key in ("type", member):
            continue
        if key == "observedAt":
            instance["observedAt"] = normalise_iso(item, f"'{short}'.observedAt")
        elif key == "unitCode":
            if not isinstance(item, str):
                raise BadRequestData(f"'{short}'.unitCode must be a string")
            instance["unitCode"] = item
        elif key == "datasetId":
            if sub or not is_uri(item):
                raise BadRequestData(f"'{short}'.datasetId must be a URI (and only on attributes)")
            instance["datasetId"] = item
        elif key in ("createdAt", "modifiedAt", "instanceId"):
            continue  # system-generated; the client's values are ignored as the spec says
        elif key in ("lang", "objectType"):
            instance[key] = item
        elif key in STRUCTURAL:
            raise BadRequestData(f"'{short}' has member '{key}', which does not belong to a {kind}")
        else:
            instance[tm.expand(key)] = parse_instance(item, f"{short}.{key}", tm, now, sub=True)
    instance["createdAt"] = now
    instance["modifiedAt"] = now
    return instance


def check_attribute_name(short: str) -> str:
    """An attribute name must be a term or IRI, not an entity member or a JSON-LD keyword."""
    if short in _RESERVED_NAMES or not short or short.startswith("@") or any(c.isspace() for c in short):
        raise BadRequestData(f"'{short}' cannot be used as an attribute name")
    return short


def parse_attribute(raw: Any, short: str, tm: TermMap, now: str) -> list[dict[str, Any]]:
    """All instances of one attribute; an array of objects means several datasetIds."""
    check_attribute_name(short)
    if isinstance(raw, list) and raw and all(isinstance(i, dict) and _infer_type(i, short) != "RawValue"
                                             for i in raw):
        instances = [parse_instance(item, short, tm, now) for item in raw]
        dataset_ids = [i.get("datasetId") for i in instances]
        if len(set(dataset_ids)) != len(dataset_ids):
            raise BadRequestData(f"attribute '{short}' repeats a datasetId")
        return instances
    return [parse_instance(raw, short, tm, now)]


def parse_fragment(body: dict[str, Any], tm: TermMap, now: str) -> dict[str, list[dict[str, Any]]]:
    """Attributes of an entity or an attribute fragment: expanded name -> instances."""
    attrs: dict[str, list[dict[str, Any]]] = {}
    for short, raw in body.items():
        if short in _RESERVED_NAMES:
            continue
        attrs[tm.expand(short)] = parse_attribute(raw, short, tm, now)
    return attrs


def parse_scope(raw: Any) -> list[str]:
    """A scope member (one ``/a/b`` path or a list of them) as the list the store keeps."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and _SCOPE_ITEM.match(i)
                                                           for i in items):
        raise BadRequestData(f"scope {raw!r} must be a path like '/Madrid/Gardens' or a list of them")
    return list(dict.fromkeys(items))


def scope_list(stored: Any) -> list[str]:
    """The stored scope as a list (older documents kept a single scope as a string)."""
    if stored is None:
        return []
    return [stored] if isinstance(stored, str) else list(stored)


def parse_types(raw: Any, tm: TermMap, where: str) -> list[str]:
    """Entity type names, expanded; a name that expands to a JSON-LD keyword (``type`` itself) is no type."""
    types = [raw] if isinstance(raw, str) else raw
    if not isinstance(types, list) or not types or not all(isinstance(t, str) and t for t in types):
        raise BadRequestData(f"{where}: 'type' must be a non-empty string or list of strings")
    expanded = [tm.expand(t) for t in types]
    if any(t.startswith("@") for t in expanded):
        raise BadRequestData(f"{where}: type {types!r} names a JSON-LD keyword, not an entity type")
    return list(dict.fromkeys(expanded))


def parse_entity(body: Any, tm: TermMap, now: str) -> dict[str, Any]:
    """A whole entity (create / upsert / replace) in stored form."""
    if not isinstance(body, dict):
        raise BadRequestData("an entity must be a JSON object")
    entity_id = check_entity_id(body.get("id"))
    entity: dict[str, Any] = {"id": entity_id, "type": parse_types(body.get("type"), tm, f"entity {entity_id}"),
                              "createdAt": now, "modifiedAt": now,
                              "attrs": parse_fragment(body, tm, now)}
    if "scope" in body:
        entity["scope"] = parse_scope(body["scope"])
    return entity


# -- rendering -------------------------------------------------------------------------------
def _render_instance(inst: dict[str, Any], tm: TermMap, fmt: str, sys_attrs: bool) -> Any:
    kind = inst["type"]
    member = PAYLOAD_MEMBER[kind]
    if fmt == "keyValues":
        return inst[member]
    out: dict[str, Any] = {}
    if fmt == "normalized":
        out["type"] = kind
    out[member] = inst[member]
    for key, item in inst.items():
        if key in ("type", member):
            continue
        if key in ("createdAt", "modifiedAt"):
            if sys_attrs:
                out[key] = item
        elif key in STRUCTURAL:
            out[key] = item
        else:
            out[tm.compact(key)] = _render_instance(item, tm, fmt, sys_attrs)
    if fmt == "concise" and len(out) == 1 and member == "value":
        return inst[member]  # a bare value is the concise form of a Property without metadata
    return out


def render_attribute(instances: list[dict[str, Any]], tm: TermMap, fmt: str, sys_attrs: bool) -> Any:
    rendered = [_render_instance(i, tm, fmt, sys_attrs) for i in instances]
    if fmt == "keyValues":
        if all("datasetId" not in i for i in instances):
            return rendered[0]
        # instances by datasetId (v1.8 simplified form; the core context's "dataset" is an @index map)
        return {"dataset": {i.get("datasetId", "@none"): r for i, r in zip(instances, rendered, strict=True)}}
    return rendered[0] if len(rendered) == 1 else rendered


def render_entity(entity: dict[str, Any], tm: TermMap, *, fmt: str = "normalized",
                  attrs: set[str] | None = None, sys_attrs: bool = False,
                  pick: set[str] | None = None, omit: set[str] | None = None) -> dict[str, Any]:
    """The entity as a client asked for it: format, attribute projection, pick/omit, context."""
    types = [tm.compact(t) for t in entity["type"]]
    out: dict[str, Any] = {"id": entity["id"], "type": types[0] if len(types) == 1 else types}
    if "scope" in entity:
        scopes = scope_list(entity["scope"])
        out["scope"] = scopes[0] if len(scopes) == 1 else scopes
    if sys_attrs:
        out["createdAt"] = entity["createdAt"]
        out["modifiedAt"] = entity["modifiedAt"]
    if "deletedAt" in entity:  # only in a notification of its deletion
        out["deletedAt"] = entity["deletedAt"]
    for iri, instances in entity["attrs"].items():
        if attrs is not None and iri not in attrs:
            continue
        out[tm.compact(iri)] = render_attribute(instances, tm, fmt, sys_attrs)
    if pick is not None:
        out = {k: v for k, v in out.items() if k in pick}
    if omit:
        out = {k: v for k, v in out.items() if k not in omit}
    return out


def _content(instance: dict[str, Any]) -> dict[str, Any]:
    return {k: (_content(v) if isinstance(v, dict) and k not in STRUCTURAL else v)
            for k, v in instance.items() if k not in ("createdAt", "modifiedAt")}


def same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two instances carry the same data (timestamps aside): an idempotent re-write."""
    return _content(a) == _content(b)
