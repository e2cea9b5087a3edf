"""Which encoding of the token each of an operator's endpoints accepts.

OCPI 2.2.1 sends ``Authorization: Token <base64(token)>``, 2.1.1 the token as it is; real peers
mix them: one peer's ``/versions`` took either, its ``/2.1.1/details`` only the plain token. So
the encoding is learnt per endpoint (scheme, host and path; pages of one module share theirs):
the first request tries the version's encoding (Base64 before a version is known), a 401 tries
the other one once, and what worked is remembered for that endpoint. An operator file that fixes
``token_encoding`` turns the learning off.
"""

from __future__ import annotations

import base64
from typing import Literal
from urllib.parse import urlsplit

Encoding = Literal["base64", "plain"]


def encode(token: str, encoding: Encoding) -> str:
    return base64.b64encode(token.encode()).decode() if encoding == "base64" else token


def other(encoding: Encoding) -> Encoding:
    return "plain" if encoding == "base64" else "base64"


class TokenEncodings:
    def __init__(self, configured: Literal["auto", "base64", "plain"]) -> None:
        self.configured = configured
        self._learnt: dict[str, Encoding] = {}

    @staticmethod
    def _endpoint(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    def first(self, url: str, version: str | None) -> Encoding:
        """The encoding to send to ``url`` first."""
        if self.configured != "auto":
            return self.configured
        return self._learnt.get(self._endpoint(url), "plain" if version == "2.1.1" else "base64")

    def may_retry(self) -> bool:
        """Whether a 401 may be answered by trying the other encoding."""
        return self.configured == "auto"

    def worked(self, url: str, encoding: Encoding) -> None:
        if self.configured == "auto":
            self._learnt[self._endpoint(url)] = encoding
