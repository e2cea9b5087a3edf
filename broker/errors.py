"""NGSI-LD ProblemDetails errors (ETSI GS CIM 009, clause 5.5.2 / 6.3.x).

Every handler raises one of these; the app turns it into an ``application/json`` problem body
with the ETSI error type URI, so a client always learns *what* was wrong, never just "400".
"""

from __future__ import annotations

_BASE = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiLdError(Exception):
    """A ProblemDetails-shaped failure: ``type`` (ETSI URI), ``title``, ``status``, ``detail``."""

    error_type = "InternalError"
    title = "Internal error"
    status = 500

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status

    def body(self) -> dict[str, object]:
        return {"type": _BASE + self.error_type, "title": self.title, "status": self.status,
                "detail": self.detail}


class BadRequestData(NgsiLdError):
    error_type, title, status = "BadRequestData", "Bad request data", 400


class InvalidRequest(NgsiLdError):
    error_type, title, status = "InvalidRequest", "Invalid request", 400


class ResourceNotFound(NgsiLdError):
    error_type, title, status = "ResourceNotFound", "Resource not found", 404


class AlreadyExists(NgsiLdError):
    error_type, title, status = "AlreadyExists", "Already exists", 409


class OperationNotSupported(NgsiLdError):
    error_type, title, status = "OperationNotSupported", "Operation not supported", 422


class TooManyResults(NgsiLdError):
    error_type, title, status = "TooManyResults", "Too many results", 403


class LdContextNotAvailable(NgsiLdError):
    error_type, title, status = "LdContextNotAvailable", "JSON-LD @context not available", 503


class UnsupportedMediaType(NgsiLdError):
    # The spec has no dedicated error type for 415; InvalidRequest with status 415 is what
    # Orion-LD and Scorpio answer as well.
    error_type, title, status = "InvalidRequest", "Unsupported media type", 415


class NotAcceptable(NgsiLdError):
    error_type, title, status = "InvalidRequest", "Not acceptable", 406


class PayloadTooLarge(NgsiLdError):
    error_type, title, status = "BadRequestData", "Payload too large", 413


class Unauthorized(NgsiLdError):
    error_type, title, status = "InvalidRequest", "Unauthorized", 401


class TenantNotFound(NgsiLdError):
    error_type, title, status = "NonexistentTenant", "Tenant not found", 404


class ServiceBusy(NgsiLdError):
    # The spec has no error type for 503 other than a missing @context; InternalError with status
    # 503 (and Retry-After) says "not now" without blaming the request.
    error_type, title, status = "InternalError", "Service unavailable", 503
