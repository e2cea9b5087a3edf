"""The simulated CPOs' OCPI HTTP servers: one app, each operator under its own /versions URL.

Speaks the OCPI transport rules the agent must cope with: the response envelope, ``Token``
authorisation (Base64 for 2.2.1, plain for 2.1.1), ``date_from``/``date_to``, pagination by
``Link`` with ``X-Total-Count``/``X-Limit``, request/correlation ids, and a flaky operator that
answers 503, slowly, or with broken JSON now and then. ``/admin`` lets tests and demos force
events (a status change, an EVSE that disappears, a malformed record, a jump in time).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import requests
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from citiesincharge.apidocs import serve_offline

from . import render
from .push import Pusher, Target
from .world import Operator, World

SIMULATED_FAULT = "X-Simulated-Fault"  # on answers broken on purpose (the OCPI agent's log then says so)

MODULES = ("locations", "sessions", "cdrs", "tariffs")


def envelope(data: Any, *, now: datetime, status_code: int = 1000, message: str = "Success") -> dict[str, Any]:
    """The OCPI response envelope; ``timestamp`` is the simulated server time of the answer (agents
    take their next ``date_from`` from it, so it must be the world's clock, not the wall clock)."""
    return {"data": data, "status_code": status_code, "status_message": message, "timestamp": render.ts(now)}


class OcpiError(HTTPException):
    """An OCPI error answer. It carries no timestamp: the exception handler stamps the envelope with
    the world's clock, so code that raises needs no clock."""

    def __init__(self, http_status: int, ocpi_status: int, message: str) -> None:
        super().__init__(http_status, detail=message)
        self.ocpi_status = ocpi_status


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise OcpiError(400, 2001, f"{name} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class StatusChange(BaseModel):
    status: str


class TokenA(BaseModel):
    token: str


class PushTo(BaseModel):
    url: str | None = None  # a Receiver's versions URL (pushed with the operator's own token); None: the registered


@dataclass
class Credentials:
    """The simulated CPO's side of the Credentials module: a token A it handed out (tests set it),
    the tokens C it issued, and the party registered with it (its versions URL and token B)."""

    token_a: str | None = None
    issued: set[str] = field(default_factory=set)
    partner: Target | None = None


def _credentials(op: Operator, token: str) -> dict[str, Any]:
    party = {"party_id": op.spec.party_id, "country_code": "GB",
             "business_details": {"name": f"{op.spec.name} Charging Ltd"}}
    if op.spec.version == "2.1.1":
        return {"token": token, "url": "", **party}
    return {"token": token, "url": "", "roles": [{"role": "CPO", **party}]}


class Flakiness(BaseModel):
    error_rate: float = 0.0
    slow_rate: float = 0.0
    malformed_rate: float = 0.0
    slow_seconds: float | None = None


def create_app(world: World) -> FastAPI:
    app = serve_offline(FastAPI(title="CitiesInCharge simulated CPOs (OCPI 2.1.1 / 2.2.1)"))
    app.state.world = world
    credentials: dict[str, Credentials] = {name: Credentials() for name in world.operators}
    pusher = Pusher(world)
    app.state.pusher = pusher

    def operator(name: str) -> Operator:
        found = world.operators.get(name)
        if found is None:
            raise OcpiError(404, 2000, f"unknown operator {name}")
        return found

    def sent(request: Request, op: Operator) -> str:
        header = request.headers.get("Authorization", "").removeprefix("Token ")
        if op.spec.version == "2.2.1":
            try:
                return base64.b64decode(header, validate=True).decode()
            except ValueError:
                return ""
        return header

    def authorise(request: Request, op: Operator, *, token_a: bool = False) -> str:
        """The token used (the operator's own, one it issued, or its token A where that is allowed)."""
        token, known = sent(request, op), credentials[op.spec.name]
        if token and (token == op.spec.token or token in known.issued or (token_a and token == known.token_a)):
            return token
        raise OcpiError(401, 2000, "Unauthorized: unknown or missing token")

    def ids(request: Request) -> dict[str, str]:
        return {"X-Request-ID": request.headers.get("X-Request-ID", str(uuid.uuid4())),
                "X-Correlation-ID": request.headers.get("X-Correlation-ID", str(uuid.uuid4()))}

    @app.exception_handler(HTTPException)
    async def _ocpi_error(request: Request, error: HTTPException) -> Response:
        code = error.ocpi_status if isinstance(error, OcpiError) else 2000
        body = envelope(None, now=world.now(), status_code=code, message=str(error.detail))
        return JSONResponse(body, status_code=error.status_code, headers=ids(request))

    @app.get("/ocpi/{cpo}/versions")
    async def versions(request: Request, cpo: str) -> Response:
        op = operator(cpo)
        authorise(request, op, token_a=True)
        base = str(request.base_url).rstrip("/")
        data = [{"version": op.spec.version, "url": f"{base}/ocpi/{cpo}/{op.spec.version}"}]
        return JSONResponse(envelope(data, now=world.now()), headers=ids(request))

    @app.get("/ocpi/{cpo}/{version}")
    async def version_details(request: Request, cpo: str, version: str) -> Response:
        op = operator(cpo)
        authorise(request, op, token_a=True)
        if version != op.spec.version:
            raise OcpiError(404, 3002, f"version {version} not supported")
        base = str(request.base_url).rstrip("/")
        endpoints = []
        for module in (*MODULES, "credentials"):
            endpoint = {"identifier": module, "url": f"{base}/ocpi/{cpo}/{version}/{module}"}
            if version == "2.2.1":
                endpoint["role"] = "SENDER"
            endpoints.append(endpoint)
        return JSONResponse(envelope({"version": version, "endpoints": endpoints}, now=world.now()),
                            headers=ids(request))

    # -- credentials (the CPO side: token A -> B -> C, rotation, unregistering) -------------------
    @app.api_route("/ocpi/{cpo}/{version}/credentials", methods=["POST", "PUT", "DELETE"])
    async def credentials_module(request: Request, cpo: str, version: str) -> Response:
        op = operator(cpo)
        known = credentials[cpo]
        token = authorise(request, op, token_a=request.method == "POST")
        if request.method == "DELETE":
            known.issued.discard(token)
            known.partner = None
            return JSONResponse(envelope(None, now=world.now()), headers=ids(request))
        body = await request.json()
        if request.method == "POST" and token != known.token_a:
            raise OcpiError(405, 2000, "already registered: use PUT")
        if not isinstance(body, dict) or not body.get("token") or not body.get("url"):
            raise OcpiError(400, 2001, "credentials need a token and a url")
        partner = Target(str(body["url"]), str(body["token"]))
        await run_in_threadpool(_check_partner, op, partner)  # OCPI: the CPO calls the new party's versions with B
        if request.method == "PUT":
            known.issued.discard(token)
        else:
            known.token_a = None  # token A is for one registration only
        issued = secrets.token_urlsafe(32)
        known.issued.add(issued)
        known.partner = partner
        return JSONResponse(envelope(_credentials(op, issued), now=world.now()), headers=ids(request))

    @app.get("/ocpi/{cpo}/{version}/{module}")
    async def module_list(request: Request, cpo: str, version: str, module: str, offset: int = 0,
                          limit: int | None = None, date_from: str | None = None,
                          date_to: str | None = None) -> Response:
        op = operator(cpo)
        authorise(request, op)
        if version != op.spec.version or module not in MODULES:
            raise OcpiError(404, 2000, f"no module {module} in {version}")
        if offset < 0 or (limit is not None and limit < 1):
            raise OcpiError(400, 2001, "offset must be >= 0 and limit >= 1")
        start, end = _parse_time(date_from, "date_from"), _parse_time(date_to, "date_to")
        with world.lock:
            draw = op.flaky_rng.random()
        spec = op.spec
        if draw < spec.error_rate:  # deliberate faults are marked as such, for the demo's console
            return Response("Service Unavailable (simulated fault)", status_code=503, media_type="text/plain",
                            headers={SIMULATED_FAULT: "503 Service Unavailable"})
        if draw < spec.error_rate + spec.slow_rate:
            await asyncio.sleep(spec.slow_seconds)
        now = world.advance()
        with world.lock:
            items = _select(op, module, now, start, end)
            size = min(limit or spec.page_size, spec.page_size)
            page = items[offset:offset + size]
            data = [_render(op, module, item, now) for item in page]
        headers = ids(request) | {"X-Total-Count": str(len(items)), "X-Limit": str(spec.page_size)}
        if spec.link_header and offset + len(page) < len(items):
            params = dict(request.query_params) | {"offset": str(offset + len(page)), "limit": str(size)}
            query = "&".join(f"{k}={v}" for k, v in params.items())
            headers["Link"] = f'<{str(request.url).split("?")[0]}?{query}>; rel="next"'
        body = orjson.dumps(envelope(data, now=now))
        if draw >= 1 - spec.malformed_rate:
            body = body[: len(body) // 2]  # a proxy cut the answer short
            headers[SIMULATED_FAULT] = "body cut short"
        return Response(body, media_type="application/json", headers=headers)

    # -- admin ----------------------------------------------------------------------------------
    @app.post("/admin/{cpo}/evses/{uid}/status")
    async def force_status(cpo: str, uid: str, change: StatusChange) -> dict[str, Any]:
        op = operator(cpo)
        with world.lock:
            moment = world.advance()
            try:
                evse = op.force_status(moment, uid, change.status)
            except KeyError:
                raise HTTPException(404, detail=f"no EVSE {uid}") from None
            return {"uid": evse.uid, "status": evse.status, "last_updated": render.ts(evse.last_updated)}

    @app.post("/admin/{cpo}/evses/{uid}/remove")
    async def remove_evse(cpo: str, uid: str) -> dict[str, str]:
        op = operator(cpo)
        with world.lock:
            try:
                op.remove_evse(world.advance(), uid)
            except KeyError:
                raise HTTPException(404, detail=f"no EVSE {uid}") from None
        return {"removed": uid}

    @app.post("/admin/{cpo}/locations/{location_id}/malformed")
    async def malformed(cpo: str, location_id: str) -> dict[str, str]:
        op = operator(cpo)
        with world.lock:
            location = op.location_by_id.get(location_id)
            if location is None:
                raise HTTPException(404, detail=f"no location {location_id}")
            location.malformed = True
            location.last_updated = world.advance()
        return {"malformed": location_id}

    @app.post("/admin/{cpo}/token-a")
    async def token_a(cpo: str, given: TokenA) -> dict[str, bool]:
        """The token A this operator handed to a party out of band (its registration starts with it)."""
        operator(cpo)
        credentials[cpo].token_a = given.token
        return {"set": True}

    @app.post("/admin/{cpo}/push")
    async def push(cpo: str, where: PushTo) -> dict[str, int]:
        """One push round to a Receiver: ``url`` with the operator's own token, else its registered party."""
        op = operator(cpo)
        target = Target(where.url, op.spec.token) if where.url else credentials[cpo].partner
        if target is None:
            raise HTTPException(409, detail=f"{cpo} has no Receiver to push to (give url, or register)")
        return {"requests": await run_in_threadpool(pusher.round, cpo, target)}

    @app.post("/admin/{cpo}/flaky")
    async def flaky(cpo: str, setting: Flakiness) -> dict[str, float]:
        op = operator(cpo)
        op.spec.error_rate, op.spec.slow_rate = setting.error_rate, setting.slow_rate
        op.spec.malformed_rate = setting.malformed_rate
        if setting.slow_seconds is not None:
            op.spec.slow_seconds = setting.slow_seconds
        return setting.model_dump(exclude_none=True)

    @app.post("/admin/advance")
    async def advance(minutes: float) -> dict[str, str]:
        return {"now": render.ts(world.jump(minutes))}

    @app.get("/admin/{cpo}/summary")
    async def summary(cpo: str) -> dict[str, Any]:
        """Ground truth for tests: what the operator currently has, and when each location and EVSE
        last changed (so a test can tell what an incremental sync has to move)."""
        op = operator(cpo)
        with world.lock:
            now = world.advance()
            evses = [e for loc in op.locations for e in loc.evses]
            return {"version": op.spec.version, "now": render.ts(now),
                    "locations": [loc.id for loc in op.locations], "evses": {e.uid: e.status for e in evses},
                    "updated": {"locations": {loc.id: loc.last_updated.isoformat() for loc in op.locations},
                                "evses": {e.uid: e.last_updated.isoformat() for e in evses}},
                    "sessions": len(op.sessions), "cdrs": len(op.cdrs)}

    return app


def _check_partner(op: Operator, partner: Target) -> None:
    token = partner.token
    header = base64.b64encode(token.encode()).decode() if op.spec.version == "2.2.1" else token
    answer = requests.get(partner.versions_url, headers={"Authorization": f"Token {header}"}, timeout=10)
    if answer.status_code != 200:
        raise OcpiError(400, 2001, f"the versions URL {partner.versions_url} refused the token: "
                        f"HTTP {answer.status_code}")


def _select(op: Operator, module: str, now: datetime, start: datetime | None, end: datetime | None) -> list[Any]:
    pool: list[Any]
    if module == "locations":
        pool = op.locations
    elif module == "sessions":
        pool = list(op.sessions.values())
    elif module == "cdrs":
        pool = op.cdrs
    else:
        pool = list(op.tariffs.values())
    return [item for item in pool if (start is None or item.last_updated >= start)
            and (end is None or item.last_updated < end)]


def _render(op: Operator, module: str, item: Any, now: datetime) -> dict[str, Any]:
    version = op.spec.version
    renderers: dict[str, Callable[[], dict[str, Any]]] = {
        "locations": lambda: render.location(op, item, version),
        "sessions": lambda: render.session(op, item, version, now),
        "cdrs": lambda: render.cdr(op, item, version),
        "tariffs": lambda: render.tariff_object(op, item, version),
    }
    return renderers[module]()
