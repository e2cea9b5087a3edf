"""Typed errors of the NGSI-LD client: a ProblemDetails answer becomes an exception carrying it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ProblemDetails(BaseModel):
    """RFC 7807 body as NGSI-LD brokers send it (Orion-LD adds members; they are kept)."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str = ""
    status: int | None = None
    detail: str | None = None

    @property
    def short_type(self) -> str:
        return self.type.rsplit("/", 1)[-1]


class NgsiLdClientError(Exception):
    """Any failed NGSI-LD call; ``problem`` says what the broker reported."""

    def __init__(self, problem: ProblemDetails, status: int) -> None:
        if status == 0:  # no HTTP answer at all: the title says which broker, the detail why
            message = f"{problem.title}: {problem.detail}" if problem.detail else problem.title
        else:
            message = f"{status} {problem.short_type}: {problem.title} - {problem.detail or ''}".rstrip(" -")
        super().__init__(message)
        self.problem = problem
        self.status = status


class BadRequest(NgsiLdClientError):
    pass


class NotFound(NgsiLdClientError):
    pass


class AlreadyExists(NgsiLdClientError):
    pass


class ContextNotAvailable(NgsiLdClientError):
    pass


class BrokerUnavailable(NgsiLdClientError):
    """The broker could not be reached or answered 5xx: the caller may retry (outboxes do)."""


_BY_TYPE: dict[str, type[NgsiLdClientError]] = {
    "BadRequestData": BadRequest, "InvalidRequest": BadRequest, "ResourceNotFound": NotFound,
    "NonexistentTenant": NotFound, "AlreadyExists": AlreadyExists, "LdContextNotAvailable": ContextNotAvailable,
}


def error_from_response(status: int, body: Any) -> NgsiLdClientError:
    try:
        problem = ProblemDetails.model_validate(body) if isinstance(body, dict) else ProblemDetails(
            title=str(body)[:200], status=status)
    except ValueError:
        problem = ProblemDetails(title="unparseable error body", status=status)
    if status >= 500 and problem.short_type != "LdContextNotAvailable":
        return BrokerUnavailable(problem, status)
    return _BY_TYPE.get(problem.short_type, NgsiLdClientError)(problem, status)
