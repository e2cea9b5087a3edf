"""The OCPI Credentials module as a non-roaming party (2.2.1 role OTHER; 2.1.1 form otherwise).

Registration (``cic ocpi register``): with the token A a CPO gave the council out of band, GET its
versions, pick the highest common version, POST our credentials (a token B generated here, our
versions URL, our party) to its credentials endpoint; its answer carries token C, which we use
from then on. B is saved *before* the POST: the CPO calls our versions URL with B while it
handles it. ``rotate`` PUTs a new B and receives a new C (the old B is accepted until the CPO
answered); ``unregister`` DELETEs. Tokens live in one file per operator under the data dir
(``ocpi-credentials/<name>.json``, mode 0600), are read on use (so a running agent sees a
registration made by the command) and never logged.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from citiesincharge.settings import Settings

from .client import OcpiClient, OcpiError
from .config import OperatorConfig

log = logging.getLogger(__name__)


class Registration(BaseModel):
    """What a registration with one CPO holds; ``repr`` never shows a token."""

    model_config = ConfigDict(extra="ignore")
    version: str
    token_b: str = Field(repr=False, description="the CPO calls us with it")
    token_c: str | None = Field(None, repr=False, description="we call the CPO with it")
    previous_b: str | None = Field(None, repr=False, description="accepted while a rotation is under way")
    credentials_url: str | None = None
    peer: dict[str, Any] = Field(default_factory=dict, description="the CPO's roles / party, as it sent them")

    def accepts(self, token: str) -> bool:
        return any(t is not None and hmac.compare_digest(t.encode(), token.encode())
                   for t in (self.token_b, self.previous_b))


def new_token() -> str:
    """A token for the CPO to call us with: 256 random bits, URL-safe (OCPI: string(64))."""
    return secrets.token_urlsafe(32)


class CredentialStore:
    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / "ocpi-credentials"

    def _path(self, operator: str) -> Path:
        return self.folder / f"{operator}.json"

    def get(self, operator: str) -> Registration | None:
        path = self._path(operator)
        try:
            return Registration.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None

    def save(self, operator: str, registration: Registration) -> None:
        """Written whole (temporary file, then renamed) and readable by this user only."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path, spare = self._path(operator), self._path(operator).with_suffix(".tmp")
        handle = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(registration.model_dump_json(indent=1))
        os.replace(spare, path)

    def delete(self, operator: str) -> None:
        self._path(operator).unlink(missing_ok=True)

    def token_c(self, operator: str) -> SecretStr | None:
        found = self.get(operator)
        return SecretStr(found.token_c) if found is not None and found.token_c else None

    def attach(self, operators: list[OperatorConfig]) -> None:
        """Let each operator poll with its registered token C when there is one."""
        for operator in operators:
            operator.attach(self._reader(operator.name))

    def _reader(self, name: str) -> Callable[[], SecretStr | None]:
        return lambda: self.token_c(name)


def versions_url(settings: Settings) -> str:
    base = settings.ocpi_receiver_url or f"http://127.0.0.1:{settings.ocpi_agent_port}"
    return f"{base.rstrip('/')}/ocpi/versions"


def ours(settings: Settings, version: str, token: str) -> dict[str, Any]:
    """Our credentials object in the form of ``version``."""
    party = {"party_id": settings.ocpi_party_id, "country_code": settings.ocpi_country_code,
             "business_details": {"name": settings.ocpi_business_name}}
    if version == "2.1.1":
        return {"token": token, "url": versions_url(settings), **party}
    return {"token": token, "url": versions_url(settings), "roles": [{"role": "OTHER", **party}]}


def _token_c(answer: Any, operator: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(answer, dict) or not isinstance(answer.get("token"), str) or not answer["token"]:
        raise OcpiError(operator, "malformed", "the credentials answer carries no token")
    peer = {k: answer[k] for k in ("roles", "party_id", "country_code", "business_details") if k in answer}
    return answer["token"], peer


def register(operator: OperatorConfig, store: CredentialStore, settings: Settings, token_a: str) -> Registration:
    """Token A → B → C (see the module docstring); the registration as saved."""
    client = OcpiClient(operator, timeout=settings.ocpi_timeout, retries=settings.ocpi_retries,
                        token=lambda: token_a)
    version = client.negotiate()
    if client.credentials_url is None:
        raise OcpiError(operator.name, "client", "the operator offers no credentials module")
    pending = Registration(version=version, token_b=new_token(), credentials_url=client.credentials_url)
    store.save(operator.name, pending)  # the CPO calls our versions with B before it answers
    try:
        answer = client.send("POST", client.credentials_url, ours(settings, version, pending.token_b))
    except OcpiError:
        store.delete(operator.name)
        raise
    token_c, peer = _token_c(answer, operator.name)
    done = pending.model_copy(update={"token_c": token_c, "peer": peer})
    store.save(operator.name, done)
    log.info("operator %s: registered (OCPI %s); its token saved under %s", operator.name, version, store.folder)
    return done


def _registered(operator: OperatorConfig, store: CredentialStore) -> Registration:
    found = store.get(operator.name)
    if found is None or not found.token_c or not found.credentials_url:
        raise LookupError(f"operator {operator.name} is not registered: run `cic ocpi register --operator "
                          f"{operator.name} --token-a ...` first")
    return found


def _client(operator: OperatorConfig, found: Registration, settings: Settings) -> OcpiClient:
    token_c = found.token_c or ""
    client = OcpiClient(operator, timeout=settings.ocpi_timeout, retries=settings.ocpi_retries,
                        token=lambda: token_c)
    client.version = found.version
    return client


def rotate(operator: OperatorConfig, store: CredentialStore, settings: Settings) -> Registration:
    """PUT a new token B; the CPO answers with a new token C. The old B works until it answered."""
    found = _registered(operator, store)
    rotating = found.model_copy(update={"token_b": new_token(), "previous_b": found.token_b})
    store.save(operator.name, rotating)
    try:
        answer = _client(operator, found, settings).send("PUT", str(found.credentials_url),
                                                         ours(settings, found.version, rotating.token_b))
    except OcpiError:
        store.save(operator.name, found)
        raise
    token_c, peer = _token_c(answer, operator.name)
    done = rotating.model_copy(update={"token_c": token_c, "previous_b": None, "peer": peer})
    store.save(operator.name, done)
    log.info("operator %s: tokens rotated", operator.name)
    return done


def unregister(operator: OperatorConfig, store: CredentialStore, settings: Settings) -> None:
    """DELETE our credentials at the CPO and forget its tokens."""
    found = _registered(operator, store)
    _client(operator, found, settings).send("DELETE", str(found.credentials_url))
    store.delete(operator.name)
    log.info("operator %s: unregistered", operator.name)
