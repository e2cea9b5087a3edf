"""Push mode of the simulated CPOs: each sends its changes to a Receiver, as real CPOs do.

Per operator, what the Receiver was last sent is remembered, and a round sends what moved since:
a new Location whole (PUT), an EVSE whose status changed as a PATCH of the EVSE (``status``,
``last_updated``: the spec's most common update), a Location whose EVSEs came or went whole
again; a new or changed Session whole (PUT), an active one's energy as a PATCH (``kwh``); a new
CDR as a POST; a new or changed Tariff as a PUT. The Receiver is found by its versions URL: the
one given (``cic simulate cpo --push URL``, with the operator's own token) or the one a
registration gave (with the token B it carried). Rendering happens under the world's lock,
sending outside it.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from typing import Any

import requests

from . import render
from .world import Operator, World

log = logging.getLogger(__name__)


@dataclass
class Target:
    versions_url: str
    token: str


@dataclass
class Sent:
    """What one operator last sent to its Receiver."""

    locations: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # id -> (updated, EVSE uids)
    evses: dict[str, str] = field(default_factory=dict)  # uid -> updated
    sessions: dict[str, tuple[str, float]] = field(default_factory=dict)  # id -> (updated, kwh)
    cdrs: set[str] = field(default_factory=set)
    tariffs: dict[str, str] = field(default_factory=dict)


Request = tuple[str, str, str, dict[str, Any]]  # method, module, path after the module endpoint, body


class Pusher:
    def __init__(self, world: World) -> None:
        self.world = world
        self.sent: dict[str, Sent] = {}
        self.targets: dict[str, Target] = {}

    def round(self, operator: str, target: Target) -> int:
        """Send what changed since the last round to ``target``; how many requests were sent."""
        op = self.world.operators[operator]
        if self.targets.get(operator) != target:
            self.targets[operator], self.sent[operator] = target, Sent()
        sent = self.sent[operator]
        headers = self._headers(op, target.token)
        endpoints = self._endpoints(op, target, headers)
        with self.world.lock:
            now = self.world.advance()
            requests_ = self._changes(op, sent, now)
        for method, module, path, body in requests_:
            url = f"{endpoints[module]}{path}"
            answer = requests.request(method, url, json=body, headers=headers, timeout=10)
            status = answer.json().get("status_code") if answer.headers.get("content-type", "").startswith(
                "application/json") else None
            if answer.status_code != 200 or status != 1000:
                raise RuntimeError(f"{operator}: {method} {url}: HTTP {answer.status_code}, OCPI {status}")
        return len(requests_)

    @staticmethod
    def _headers(op: Operator, token: str) -> dict[str, str]:
        encoded = base64.b64encode(token.encode()).decode() if op.spec.version == "2.2.1" else token
        return {"Authorization": f"Token {encoded}"}

    @staticmethod
    def _endpoints(op: Operator, target: Target, headers: dict[str, str]) -> dict[str, str]:
        versions = requests.get(target.versions_url, headers=headers, timeout=10).json()["data"]
        url = next(v["url"] for v in versions if v["version"] == op.spec.version)
        details = requests.get(url, headers=headers, timeout=10).json()["data"]
        return {e["identifier"]: e["url"] for e in details["endpoints"] if e.get("role", "RECEIVER") == "RECEIVER"}

    def _changes(self, op: Operator, sent: Sent, now: Any) -> list[Request]:
        version, party = op.spec.version, f"/GB/{op.spec.party_id}"
        out: list[Request] = []
        for loc in op.locations:
            uids = tuple(e.uid for e in loc.evses)
            before = sent.locations.get(loc.id)
            if before is None or before[1] != uids or loc.malformed:
                out.append(("PUT", "locations", f"{party}/{loc.id}", render.location(op, loc, version)))
            else:
                for e in loc.evses:
                    if sent.evses.get(e.uid) != render.ts(e.last_updated):
                        out.append(("PATCH", "locations", f"{party}/{loc.id}/{e.uid}",
                                    {"status": e.status, "last_updated": render.ts(e.last_updated)}))
            sent.locations[loc.id] = (render.ts(loc.last_updated), uids)
            sent.evses.update({e.uid: render.ts(e.last_updated) for e in loc.evses})
        for s in op.sessions.values():
            body = render.session(op, s, version, now)
            before_session = sent.sessions.get(s.id)
            if before_session is None or before_session[0] != body["last_updated"]:
                out.append(("PUT", "sessions", f"{party}/{s.id}", body))
            elif before_session[1] != body["kwh"]:
                patch = {k: body[k] for k in ("kwh", "total_cost", "last_updated")}
                out.append(("PATCH", "sessions", f"{party}/{s.id}", patch))
            sent.sessions[s.id] = (body["last_updated"], body["kwh"])
        for c in op.cdrs:
            if c.id not in sent.cdrs:
                out.append(("POST", "cdrs", "", render.cdr(op, c, version)))
                sent.cdrs.add(c.id)
        for t in op.tariffs.values():
            if sent.tariffs.get(t.id) != render.ts(t.last_updated):
                out.append(("PUT", "tariffs", f"{party}/{t.id}", render.tariff_object(op, t, version)))
                sent.tariffs[t.id] = render.ts(t.last_updated)
        return out
