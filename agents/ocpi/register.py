"""``cic ocpi register``: connect the council to a CPO with the token A it handed over, rotate our
tokens, or unregister (see ``credentials``). Token A comes from a file or a variable, never the
command line (it would sit in the shell history and in ``ps``); no token is ever printed."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import SecretStr

from citiesincharge.secrets import resolve_secret
from citiesincharge.settings import Settings

from .client import OcpiError
from .config import load_operators
from .credentials import CredentialStore, register, rotate, unregister

log = logging.getLogger(__name__)


def _token_a(file: Path | None, env: str | None) -> str | None:
    secret: SecretStr | None = resolve_secret(None, file) if file is not None else None
    if secret is None and env:
        value = os.environ.get(env)
        secret = SecretStr(value) if value else None
    return secret.get_secret_value() if secret is not None else None


def main(settings: Settings, *, operator: str, token_a_file: Path | None, token_a_env: str | None,
         action: str) -> int:
    try:
        found = {o.name: o for o in load_operators(settings.ocpi_operators)}.get(operator)
    except ValueError as error:
        log.error("%s", error)
        return 2
    if found is None:
        log.error("no operator %s in the operators file", operator)
        return 2
    store = CredentialStore(Path(settings.data_dir))
    try:
        if action == "register":
            token = _token_a(token_a_file, token_a_env)
            if token is None:
                log.error("token A: give --token-a FILE or --token-a-env VAR (never the token itself)")
                return 2
            done = register(found, store, settings, token)
            print(f"{operator}: registered, OCPI {done.version}; tokens in {store.folder}")
        elif action == "rotate":
            rotate(found, store, settings)
            print(f"{operator}: tokens rotated")
        else:
            unregister(found, store, settings)
            print(f"{operator}: unregistered")
    except (OcpiError, LookupError, OSError) as error:
        log.error("%s", error)
        return 1
    return 0
