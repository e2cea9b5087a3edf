"""The operators file: which CPOs to poll, how, and where each one's token is kept."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from citiesincharge.licensing import DataPolicy, Licence, Sharing
from citiesincharge.secrets import resolve_secret

Module = Literal["locations", "sessions", "cdrs", "tariffs"]
SUPPORTED_VERSIONS = ("2.2.1", "2.1.1")  # preference order
ALL_MODULES: tuple[Module, ...] = ("locations", "sessions", "cdrs", "tariffs")


class OperatorConfig(BaseModel):
    """One charge point operator's OCPI endpoint and polling plan."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    party_id: str = Field(min_length=2, max_length=3)
    country_code: str = Field(min_length=2, max_length=2)
    versions_url: str
    display_name: str | None = Field(None, max_length=200, description="the operator's name as people know it "
                                     "(its Organization entity's name; default: name)")
    token_env: str | None = None
    token_file: Path | None = None
    token_encoding: Literal["auto", "base64", "plain"] = "auto"
    receiver_token_env: str | None = Field(None, description="a token this CPO pushes to us with, issued by hand "
                                           "(else: the token B of `cic ocpi register`)")
    receiver_token_file: Path | None = None
    modules: list[Module] = Field(default_factory=lambda: list(ALL_MODULES))
    intervals: dict[Module, float] = Field(default_factory=dict)
    full_sync_every: float = Field(3600, gt=0)
    page_limit: int | None = Field(None, ge=1, description="ask for pages of this size (the CPO may cap it)")
    licence: Licence = Field(DataPolicy().licence, description="the licence the operator shares its data under")
    sharing: Sharing = Field(Sharing(), description="who may see each kind of its data (docs/LICENSING.md)")

    @property
    def policy(self) -> DataPolicy:
        return DataPolicy(licence=self.licence, sharing=self.sharing)

    @field_validator("versions_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("versions_url must be an http(s) URL")
        return value

    # the token C of a registration (``cic ocpi register``), when there is one: see ``attach``
    _registered: Callable[[], SecretStr | None] | None = PrivateAttr(None)

    def attach(self, registered: Callable[[], SecretStr | None]) -> None:
        """Where this operator's registered token (C) is read from; it wins over the configured one."""
        self._registered = registered

    def interval(self, module: Module) -> float:
        return self.intervals.get(module, 60.0)

    def token(self) -> SecretStr:
        """Read on every use, so a rotated token (file, variable, registration) takes effect without a
        restart. A registration's token C comes first: it is what the CPO issued to us."""
        registered = self._registered() if self._registered is not None else None
        if registered is not None:
            return registered
        if self.token_env and os.environ.get(self.token_env):
            return SecretStr(os.environ[self.token_env])
        if self.token_file is not None:
            secret = resolve_secret(None, self.token_file)
            if secret is not None:
                return secret
        raise LookupError(f"operator {self.name}: no token: set token_env or token_file (never the token itself) "
                          f"or run `cic ocpi register --operator {self.name}`")

    def receiver_tokens(self) -> list[SecretStr]:
        """Tokens issued by hand that this CPO may push to us with (read on use)."""
        found = []
        if self.receiver_token_env and os.environ.get(self.receiver_token_env):
            found.append(SecretStr(os.environ[self.receiver_token_env]))
        if self.receiver_token_file is not None:
            secret = resolve_secret(None, self.receiver_token_file)
            if secret is not None:
                found.append(secret)
        return found


class OperatorsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operators: list[OperatorConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> OperatorsFile:
        names = [o.name for o in self.operators]
        if len(set(names)) != len(names):
            raise ValueError("operator names must be unique")
        return self


def default_operators_file() -> Path:
    return Path(str(resources.files("agents.ocpi").joinpath("operators.yaml")))


_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


def _expand(text: str) -> str:
    """``${NAME}`` / ``${NAME:-default}`` from the environment (for URLs that differ per site)."""
    def value(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if found is None and match.group(2) is None:
            raise ValueError(f"environment variable {match.group(1)} is not set")
        return found if found is not None else str(match.group(2))
    return _VARIABLE.sub(value, text)


def load_operators(path: Path | None) -> list[OperatorConfig]:
    """Load and validate an operators file; relative token files resolve against its folder."""
    path = path or default_operators_file()
    try:
        raw = yaml.safe_load(_expand(path.read_text("utf-8")))
        parsed = OperatorsFile.model_validate(raw)
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read operators file {path}: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"operators file {path}: {where}: {first['msg']}") from None
    for operator in parsed.operators:
        if operator.token_file is not None and not operator.token_file.is_absolute():
            operator.token_file = path.parent / operator.token_file
        if operator.receiver_token_file is not None and not operator.receiver_token_file.is_absolute():
            operator.receiver_token_file = path.parent / operator.receiver_token_file
    return parsed.operators
