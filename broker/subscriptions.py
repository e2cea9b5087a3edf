"""Subscriptions: the wire model (validated with pydantic), compiled matchers, change matching.

A subscription is validated once, compiled into term-expanded sets and a ``q`` predicate, and
then every write is checked against the compiled form only (no parsing on the write path).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import geo as geo_query
from .attributes import is_uri
from .errors import BadRequestData
from .geo import compile_geo
from .jsonld import TermMap
from .linked import Lookup
from .patterns import Pattern, compile_pattern
from .query import Query, compile_query
from .store import Change
from .timeutil import format_iso, normalise_iso
from .view import EntityView

Trigger = Literal["entityCreated", "entityUpdated", "entityDeleted",
                  "attributeCreated", "attributeUpdated", "attributeDeleted"]
DEFAULT_TRIGGERS: tuple[Trigger, ...] = ("attributeCreated", "attributeUpdated")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class EntitySelector(_Open):
    id: str | None = None
    idPattern: str | None = None
    type: str

    @field_validator("idPattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_pattern(value, "idPattern")
            except BadRequestData as error:
                raise ValueError(error.detail) from None
        return value

    @field_validator("id")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        if value is not None and not is_uri(value):
            raise ValueError("id must be a URI")
        return value


class KeyValue(BaseModel):
    key: str
    value: str


class Endpoint(_Open):
    uri: str
    accept: Literal["application/json", "application/ld+json"] = "application/json"
    receiverInfo: list[KeyValue] | None = None

    @field_validator("uri")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("endpoint.uri must be an http:// or https:// URL")
        return value


class NotificationParams(_Open):
    attributes: list[str] | None = None
    format: Literal["normalized", "keyValues", "simplified", "concise"] = "normalized"
    endpoint: Endpoint
    sysAttrs: bool = False
    pick: list[str] | str | None = None
    omit: list[str] | str | None = None
    join: Literal["inline", "flat"] | None = None
    joinLevel: int | None = None
    showChanges: bool = False


class GeoQuery(BaseModel):
    georel: str
    geometry: str
    coordinates: Any
    geoproperty: str = "location"


class SubscriptionIn(_Open):
    """The body of POST /subscriptions (and, all fields optional, of PATCH)."""

    id: str | None = None
    type: Literal["Subscription"] = "Subscription"
    subscriptionName: str | None = None
    description: str | None = None
    entities: list[EntitySelector] | None = Field(default=None, min_length=1)
    watchedAttributes: list[str] | None = Field(default=None, min_length=1)
    notificationTrigger: list[Trigger] | None = Field(default=None, min_length=1)
    timeInterval: float | None = Field(default=None, gt=0)
    q: str | None = None
    geoQ: GeoQuery | None = None
    notification: NotificationParams
    expiresAt: datetime | None = None
    throttling: float | None = Field(default=None, ge=0)
    isActive: bool = True
    datasetId: list[str] | None = Field(default=None, min_length=1)  # instances notified (§5.2.12; @none: default)

    @model_validator(mode="after")
    def _coherent(self) -> SubscriptionIn:
        if self.id is not None and not is_uri(self.id):
            raise ValueError("id must be a URI")
        if self.datasetId and not all(d == "@none" or is_uri(d) for d in self.datasetId):
            raise ValueError("datasetId must list URIs (or @none for the default instances)")
        if not self.entities and not self.watchedAttributes:
            raise ValueError("a subscription needs 'entities' or 'watchedAttributes'")
        if self.timeInterval is not None and self.watchedAttributes:
            raise ValueError("timeInterval and watchedAttributes cannot be combined")
        if self.timeInterval is not None and self.throttling is not None:
            raise ValueError("timeInterval and throttling cannot be combined")
        return self


def validation_message(error: ValidationError, what: str = "subscription") -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{what} {where}: {first['msg']}"


def parse_subscription(body: dict[str, Any]) -> SubscriptionIn:
    try:
        return SubscriptionIn.model_validate(body)
    except ValidationError as error:
        raise BadRequestData(validation_message(error)) from None


@dataclass
class CompiledSubscription:
    """What the write path needs of a subscription, with every name already expanded."""

    tenant: str
    id: str
    doc: dict[str, Any]  # the stored representation (as the creator wrote it + status)
    context: Any
    tm: TermMap
    selectors: list[tuple[set[str], str | None, Pattern | None]]
    watched: set[str] | None
    triggers: set[str]
    q: Query | None
    geo: geo_query.GeoQuery | None
    view: EntityView  # format, attributes, pick/omit and join of the notification
    show_changes: bool
    endpoint: Endpoint
    throttling: float
    time_interval: float | None
    expires_at: str | None
    is_active: bool
    status_fields: dict[str, Any] = field(default_factory=dict)
    datasets: frozenset[str] | None = None  # only these attribute instances are notified ("@none": the default)

    def active(self, now_iso: str) -> bool:
        return self.is_active and (self.expires_at is None or now_iso < self.expires_at)

    def selects(self, entity: dict[str, Any]) -> bool:
        if not self.selectors:
            return True
        for types, entity_id, pattern in self.selectors:
            if not types.intersection(entity["type"]):
                continue
            if entity_id is not None and entity["id"] != entity_id:
                continue
            if pattern is not None and not pattern.search(entity["id"]):
                continue
            return True
        return False

    def matches(self, change: Change) -> bool:
        if self.time_interval is not None or not self.selects(change.entity):
            return False
        if not _fired_triggers(change) & self.triggers:
            return False
        if self.watched is not None and not (change.touched & self.watched) and not change.created \
                and not change.deleted:
            return False
        if self.q is not None and not self.q(change.entity):
            return False
        return self.geo is None or self.geo(change.entity)

    #: finds a linked entity for ``join`` (set by the broker that installs the subscription)
    lookup: Lookup = field(default=lambda _entity_id: None)

    def render(self, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The ``data`` of a notification about these entities."""
        if self.datasets is not None:
            entities = [_only_datasets(e, self.datasets) for e in entities]
        return self.view.show(entities, self.lookup)


def _only_datasets(entity: dict[str, Any], datasets: frozenset[str]) -> dict[str, Any]:
    """The entity with only the attribute instances of these datasetIds; attributes left empty go."""
    attrs = {}
    for name, instances in entity.get("attrs", {}).items():
        kept = [i for i in instances if i.get("datasetId", "@none") in datasets]
        if kept:
            attrs[name] = kept
    return {**entity, "attrs": attrs}


def _fired_triggers(change: Change) -> set[str]:
    if change.created:
        return {"entityCreated", "attributeCreated"}
    if change.deleted:
        return {"entityDeleted", "attributeDeleted"}
    fired = {"entityUpdated"}
    if change.attrs_created:
        fired.add("attributeCreated")
    if change.attrs_updated:
        fired.add("attributeUpdated")
    if change.attrs_deleted:
        fired.add("attributeDeleted")
    return fired


def compile_subscription(tenant: str, doc: dict[str, Any], context: Any, tm: TermMap,
                         notify: tuple[str, TermMap] | None = None) -> CompiledSubscription:
    """``notify``: the subscription's ``jsonldContext`` and its term map, which notifications use
    (their names compacted with it, their Link naming it) instead of the creator's @context."""
    sub = parse_subscription(doc)
    selectors = [({tm.expand(s.type)}, s.id, compile_pattern(s.idPattern, "idPattern") if s.idPattern else None)
                 for s in sub.entities or []]
    q = compile_query(sub.q, tm) if sub.q else None
    geo = None
    if sub.geoQ is not None:
        coords = sub.geoQ.coordinates
        geo = compile_geo(sub.geoQ.georel, sub.geoQ.geometry,
                          coords if isinstance(coords, str) else json.dumps(coords),
                          tm.expand(sub.geoQ.geoproperty))
    return CompiledSubscription(
        tenant=tenant, id=str(doc["id"]), doc=doc, context=notify[0] if notify else context, tm=tm,
        selectors=selectors,
        watched={tm.expand(a) for a in sub.watchedAttributes} if sub.watchedAttributes else None,
        triggers=set(sub.notificationTrigger or DEFAULT_TRIGGERS), q=q, geo=geo,
        view=_notification_view(sub.notification, notify[1] if notify else tm),
        show_changes=sub.notification.showChanges,
        endpoint=sub.notification.endpoint, throttling=sub.throttling or 0.0,
        time_interval=sub.timeInterval,
        expires_at=format_iso(sub.expiresAt.replace(tzinfo=sub.expiresAt.tzinfo or UTC))
        if sub.expiresAt else None,
        is_active=sub.isActive, datasets=frozenset(sub.datasetId) if sub.datasetId else None)


def _csv(value: list[str] | str | None) -> str | None:
    return ",".join(value) if isinstance(value, list) else value


def _notification_view(params: NotificationParams, tm: TermMap) -> EntityView:
    names = params.attributes
    fmt = "keyValues" if params.format == "simplified" else params.format
    return EntityView.parse(tm, fmt, params.sysAttrs, {tm.expand(a) for a in names} if names else None,
                            attrs_param=",".join(names) if names else None, pick=_csv(params.pick),
                            omit=_csv(params.omit), join=params.join,
                            join_level=None if params.joinLevel is None else str(params.joinLevel))


def check_new_subscription(doc: dict[str, Any], now: str) -> None:
    """What a client may not ask for (§5.8.1-2), though a stored subscription may come to it:
    an ``expiresAt`` already past, a ``jsonldContext`` that is no URI."""
    expires = doc.get("expiresAt")
    if isinstance(expires, str) and normalise_iso(expires, "expiresAt") <= now:
        raise BadRequestData(f"expiresAt {expires} is in the past")
    context = doc.get("jsonldContext")
    if context is not None and not is_uri(context):
        raise BadRequestData(f"jsonldContext {context!r} must be the URI of an @context")


def new_subscription_id() -> str:
    return f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
