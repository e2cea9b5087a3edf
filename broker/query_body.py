"""The body of ``POST /entityOperations/query`` (a ``Query`` object, ETSI GS CIM 009 §5.2.23),
validated at the boundary so that a wrong shape (``"q": 42``, an id given as an array) is a 400
naming the member, not an exception deep in the query code."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError

from .errors import BadRequestData
from .subscriptions import EntitySelector, GeoQuery, _Open, validation_message


class QuerySelector(EntitySelector):
    """An entity selector of a query; unlike a subscription's, it may leave the type open."""

    type: str | None = None  # type: ignore[assignment]


class QueryIn(_Open):
    type: Literal["Query"]
    entities: list[QuerySelector] | None = Field(default=None, min_length=1)
    attrs: list[str] | None = None
    q: str | None = None
    geoQ: GeoQuery | None = None


def parse_query_body(body: object) -> QueryIn:
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a Query object ({\"type\": \"Query\", ...})")
    try:
        return QueryIn.model_validate(body)
    except ValidationError as error:
        raise BadRequestData(validation_message(error, "query")) from None
