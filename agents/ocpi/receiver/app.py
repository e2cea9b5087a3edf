"""The OCPI Receiver of the agent: CPOs push Locations, Sessions, CDRs and Tariffs, and register.

Served by the agent's own app (``CIC_OCPI_AGENT_PORT``, next to /status and /metrics) under
``/ocpi``: ``/ocpi/versions``, ``/ocpi/{version}/details`` (our endpoints, role RECEIVER), the
credentials module, and one route set for the four modules in both versions:
``/ocpi/{version}/{module}/{country_code}/{party_id}/{ids...}`` (PUT, PATCH, GET) and
``POST /ocpi/{version}/cdrs`` (CDRs are created, never replaced). Every answer is an OCPI envelope.

The token says which operator is calling (its token B from a registration, or a token issued by
hand in the operators file); the URL's country code and party id must be that operator's. A
change is merged with the last full object (``merge``) and goes down the poll path
(``OperatorSync.receive``): same mappings, quarantine, fingerprints, outbox.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from citiesincharge.ids import case_insensitive
from citiesincharge.settings import Settings

from ..config import SUPPORTED_VERSIONS, Module
from ..credentials import CredentialStore, Registration, new_token, ours
from ..sync import OperatorSync
from . import merge

log = logging.getLogger(__name__)
MODULES: tuple[Module, ...] = ("locations", "sessions", "cdrs", "tariffs")


class OcpiFault(HTTPException):
    """An OCPI error answer: HTTP status and OCPI ``status_code``."""

    def __init__(self, http_status: int, ocpi_status: int, message: str) -> None:
        super().__init__(http_status, detail=message)
        self.ocpi_status = ocpi_status


def envelope(data: Any, status_code: int = 1000, message: str = "Success") -> dict[str, Any]:
    return {"data": data, "status_code": status_code, "status_message": message,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def _candidates(header: str) -> list[str]:
    """The token in an ``Authorization: Token ...`` header, plain and Base64-decoded (2.2.1 sends
    Base64, 2.1.1 plain, and peers mix them)."""
    sent = header.removeprefix("Token ").strip() if header.startswith("Token ") else ""
    if not sent:
        return []
    found = [sent]
    with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
        found.append(base64.b64decode(sent, validate=True).decode())
    return found


class Receiver:
    def __init__(self, syncs: dict[str, OperatorSync], store: CredentialStore, settings: Settings) -> None:
        self.syncs, self.store, self.settings = syncs, store, settings

    def caller(self, request: Request) -> OperatorSync:
        """The operator whose token this is, or a 401 with an OCPI envelope."""
        sent = _candidates(request.headers.get("Authorization", ""))
        for name, sync in self.syncs.items():
            registration = self.store.get(name)
            accepted = [t.get_secret_value() for t in sync.operator.receiver_tokens()]
            for token in sent:
                if (registration is not None and registration.accepts(token)) or any(
                        hmac.compare_digest(token.encode(), a.encode()) for a in accepted):
                    return sync
        raise OcpiFault(401, 2000, "Unauthorized: unknown or missing token")

    @staticmethod
    def check_party(sync: OperatorSync, country_code: str, party_id: str) -> None:
        operator = sync.operator
        if (case_insensitive(country_code), case_insensitive(party_id)) != (
                case_insensitive(operator.country_code), case_insensitive(operator.party_id)):
            raise OcpiFault(400, 2001, f"{country_code}/{party_id} is not the party of this token")

    def change(self, sync: OperatorSync, version: str, module: Module, ids: list[str], body: Any,
               *, partial: bool) -> str:
        """Apply a PUT or PATCH and send the full object down the poll path; what happened, in words."""
        sync.learn_endpoints()
        name = sync.operator.name
        with sync.lock:
            stored = sync.objects.get(name, module, ids[0])
            try:
                applied = merge.apply(module, stored, ids, body, partial=partial)
            except merge.Unknown as error:
                raise OcpiFault(404, merge.UNKNOWN_CODE.get(module, 2000), str(error)) from None
            except merge.Invalid as error:
                raise OcpiFault(400, 2001, str(error)) from None
            if applied.record is None:
                log.info("%s %s %s: older than what we have, ignored", name, module, "/".join(ids))
                return "stale: older than the object we have, ignored"
            mapped = sync.receive(module, version, applied.record)
        if mapped.rejected:
            reasons = "; ".join(f"{p.record}: {p.field}: {p.reason}" for p in mapped.rejected)
            return f"accepted; quarantined by us: {reasons}"
        return "Success"

    def details(self, base: str, version: str) -> dict[str, Any]:
        endpoints = [{"identifier": m, "url": f"{base}/ocpi/{version}/{m}"} for m in (*MODULES, "credentials")]
        if version == "2.2.1":
            endpoints = [e | {"role": "RECEIVER"} for e in endpoints]
        return {"version": version, "endpoints": endpoints}


def _version(version: str) -> str:
    if version not in SUPPORTED_VERSIONS:
        raise OcpiFault(404, 3002, f"unsupported version {version}")
    return version


def _module(module: str) -> Module:
    for known in MODULES:
        if known == module:
            return known
    raise OcpiFault(404, 2000, f"no module {module}")


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise OcpiFault(400, 2001, "the body is not JSON") from None


def router(receiver: Receiver) -> APIRouter:
    routes = APIRouter(prefix="/ocpi")

    def base(request: Request) -> str:
        return (receiver.settings.ocpi_receiver_url or str(request.base_url)).rstrip("/")

    @routes.get("/versions")
    def versions(request: Request) -> JSONResponse:
        receiver.caller(request)
        return JSONResponse(envelope([{"version": v, "url": f"{base(request)}/ocpi/{v}/details"}
                                      for v in SUPPORTED_VERSIONS]))

    @routes.get("/{version}/details")
    def details(request: Request, version: str) -> JSONResponse:
        receiver.caller(request)
        return JSONResponse(envelope(receiver.details(base(request), _version(version))))

    # -- credentials (the CPO rotates or ends what we registered) ---------------------------
    @routes.get("/{version}/credentials")
    def credentials_get(request: Request, version: str) -> JSONResponse:
        sync = receiver.caller(request)
        found = receiver.store.get(sync.operator.name)
        if found is None:
            raise OcpiFault(405, 2000, "not registered: no credentials to show")
        return JSONResponse(envelope(ours(receiver.settings, _version(version), found.token_b)))

    @routes.put("/{version}/credentials")
    async def credentials_put(request: Request, version: str) -> JSONResponse:
        sync = receiver.caller(request)
        body = await _body(request)
        token = body.get("token") if isinstance(body, dict) else None
        found = receiver.store.get(sync.operator.name)
        if found is None:
            raise OcpiFault(405, 2000, "not registered: register first (POST)")
        if not isinstance(token, str) or not token:
            raise OcpiFault(400, 2001, "credentials without a token")
        fresh = Registration(version=_version(version), token_b=new_token(), token_c=token,
                             credentials_url=found.credentials_url, peer=found.peer)
        await run_in_threadpool(receiver.store.save, sync.operator.name, fresh)
        log.info("operator %s rotated its credentials", sync.operator.name)
        return JSONResponse(envelope(ours(receiver.settings, version, fresh.token_b)))

    @routes.delete("/{version}/credentials")
    def credentials_delete(request: Request, version: str) -> JSONResponse:
        sync = receiver.caller(request)
        _version(version)
        if receiver.store.get(sync.operator.name) is None:
            raise OcpiFault(405, 2000, "not registered")
        receiver.store.delete(sync.operator.name)
        log.info("operator %s unregistered", sync.operator.name)
        return JSONResponse(envelope(None))

    @routes.post("/{version}/credentials")
    def credentials_post(request: Request, version: str) -> JSONResponse:
        receiver.caller(request)
        raise OcpiFault(405, 2000, "already registered: use PUT to update, DELETE to unregister")

    # -- the four modules ---------------------------------------------------------------------
    @routes.post("/{version}/cdrs")
    async def cdr_post(request: Request, version: str) -> JSONResponse:
        sync = receiver.caller(request)
        body = await _body(request)
        if not isinstance(body, dict) or not body.get("id"):
            raise OcpiFault(400, 2001, "a CDR with an id is required")
        country, party = body.get("country_code", sync.operator.country_code), body.get(
            "party_id", sync.operator.party_id)
        receiver.check_party(sync, str(country), str(party))
        message = await run_in_threadpool(receiver.change, sync, _version(version), "cdrs", [str(body["id"])], body,
                                          partial=False)
        where = f"{base(request)}/ocpi/{version}/cdrs/{country}/{party}/{body['id']}"
        return JSONResponse(envelope(None, message=message), headers={"Location": where})

    @routes.api_route("/{version}/{module}/{country_code}/{party_id}/{ids:path}", methods=["PUT", "PATCH"])
    async def change(request: Request, version: str, module: str, country_code: str, party_id: str,
                     ids: str) -> JSONResponse:
        sync = receiver.caller(request)
        chosen = _module(module)
        if chosen == "cdrs":
            raise OcpiFault(405, 2000, "CDRs cannot be replaced or updated (POST a new one)")
        receiver.check_party(sync, country_code, party_id)
        body = await _body(request)
        message = await run_in_threadpool(receiver.change, sync, _version(version), chosen,
                                          [i for i in ids.split("/") if i], body,
                                          partial=request.method == "PATCH")
        return JSONResponse(envelope(None, message=message))

    @routes.get("/{version}/{module}/{country_code}/{party_id}/{ids:path}")
    def fetch(request: Request, version: str, module: str, country_code: str, party_id: str,
              ids: str) -> JSONResponse:
        sync = receiver.caller(request)
        chosen = _module(module)
        _version(version)
        receiver.check_party(sync, country_code, party_id)
        parts = [i for i in ids.split("/") if i]
        stored = sync.objects.get(sync.operator.name, chosen, parts[0]) if parts else None
        found = merge.find(chosen, stored, parts) if stored is not None else None
        if found is None:
            raise OcpiFault(404, merge.UNKNOWN_CODE.get(chosen, 2000), f"unknown object {'/'.join(parts)}")
        return JSONResponse(envelope(found))

    return routes


def mount(app: FastAPI, receiver: Receiver) -> FastAPI:
    """The Receiver's routes and its OCPI error envelope on ``app``."""
    app.include_router(router(receiver))

    @app.exception_handler(OcpiFault)
    async def _fault(_request: Request, error: OcpiFault) -> JSONResponse:
        return JSONResponse(envelope(None, error.ocpi_status, str(error.detail)), status_code=error.status_code)

    return app
