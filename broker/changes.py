"""What a notification shows of a change (§4.5.x, 5.8.6): deleted attributes as NGSI-LD Null, a
deleted entity with ``deletedAt``, and with ``showChanges`` the values an update replaced.

The store's :class:`~broker.store.Change` keeps the entity before and after; this module turns
the pair into the one entity a notification carries. Plain updates (no deletion, no
showChanges) take the fast path and notify the stored entity itself.
"""

from __future__ import annotations

from typing import Any

from .attributes import NULL, PAYLOAD_MEMBER
from .store import Change

#: the member that carries a replaced payload, per payload member
PREVIOUS = {"value": "previousValue", "object": "previousObject", "languageMap": "previousLanguageMap",
            "valueList": "previousValueList", "objectList": "previousObjectList", "vocab": "previousVocab",
            "json": "previousJson"}


def _null(instance: dict[str, Any], show_changes: bool, *, whole_entity: bool = False) -> dict[str, Any]:
    member = PAYLOAD_MEMBER[instance["type"]]
    null: Any = {"@none": NULL} if member == "languageMap" and not whole_entity else NULL
    out = {"type": instance["type"], member: null}
    if "datasetId" in instance:
        out["datasetId"] = instance["datasetId"]
    if show_changes:
        out[PREVIOUS[member]] = instance[member]
    return out


def _with_previous(instance: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    member = PAYLOAD_MEMBER[instance["type"]]
    if old is None or PAYLOAD_MEMBER.get(old.get("type", "")) != member or old[member] == instance[member]:
        return instance
    return {**instance, PREVIOUS[member]: old[member]}


def notified_entity(change: Change, *, show_changes: bool, now: str) -> dict[str, Any]:
    """The entity a notification about ``change`` carries."""
    entity = change.entity
    if change.deleted:
        attrs = {iri: [_null(i, show_changes, whole_entity=True) for i in instances]
                 for iri, instances in entity["attrs"].items()}
        return {**entity, "deletedAt": now, "attrs": attrs}
    if not change.attrs_deleted and not (show_changes and change.attrs_updated):
        return entity
    before = (change.before or {}).get("attrs", {})
    attrs = dict(entity["attrs"])
    for iri in change.attrs_deleted:
        kept = {i.get("datasetId") for i in attrs.get(iri, [])}
        gone = [i for i in before.get(iri, []) if i.get("datasetId") not in kept]
        attrs[iri] = attrs.get(iri, []) + [_null(i, show_changes) for i in gone]
    if show_changes:
        for iri in change.attrs_updated:
            old = {i.get("datasetId"): i for i in before.get(iri, [])}
            attrs[iri] = [_with_previous(i, old.get(i.get("datasetId"))) for i in attrs[iri]]
    return {**entity, "attrs": attrs}
