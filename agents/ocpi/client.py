"""OCPI client for one operator: version negotiation, Token auth, the envelope, pagination.

Transport failures are retried by urllib3's ``Retry`` (backoff, ``Retry-After``) for idempotent
GETs; what is left becomes an :class:`OcpiError` whose ``kind`` tells the poller whether the
operator is unreachable (retry next round), refused our token (operator-level error), or sent
something broken. A page of a module that fails in a way that may pass (a 5xx, a body cut short,
no answer) is asked again, with backoff, before the module gives up: an initial sync of months
of sessions is hundreds of pages, and a peer that fails one request in a hundred would otherwise
never finish one (its cursor only moves once a crawl completes). The token is read per request
and never logged.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
from urllib3.util.retry import Retry

from . import paging, tokens
from .config import SUPPORTED_VERSIONS, Module, OperatorConfig

log = logging.getLogger(__name__)
ErrorKind = Literal["unreachable", "timeout", "auth", "client", "server", "malformed", "version"]
TRANSIENT: frozenset[ErrorKind] = frozenset({"unreachable", "timeout", "server", "malformed"})  # may pass


class OcpiError(Exception):
    """An operator-level failure, classified so the poller knows what to do about it."""

    def __init__(self, operator: str, kind: ErrorKind, detail: str) -> None:
        super().__init__(f"{operator}: {kind}: {detail}")
        self.operator = operator
        self.kind = kind
        self.detail = detail


@dataclass
class Page:
    records: list[Any]
    total: int | None
    next_url: str | None
    server_time: str | None  # the envelope's timestamp: the operator's clock when it answered


class OcpiClient:
    def __init__(self, operator: OperatorConfig, *, timeout: float = 10.0, retries: int = 2,
                 backoff: float = 0.3, token: Callable[[], str] | None = None) -> None:
        """``token``: where the token comes from instead of the operator's (registration: token A)."""
        self.operator = operator
        self.token = token or (lambda: operator.token().get_secret_value())
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = requests.Session()
        retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=0.3,
                      status_forcelist=(500, 502, 503, 504), allowed_methods=frozenset({"GET"}),
                      respect_retry_after_header=True, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=4)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.version: str | None = None
        self.endpoints: dict[str, str] = {}
        self.credentials_url: str | None = None
        self.encodings = tokens.TokenEncodings(operator.token_encoding)

    # -- transport ---------------------------------------------------------------------------
    def _get(self, url: str) -> tuple[Any, requests.Response]:
        body, response = self._envelope(url)
        return body.get("data"), response

    def send(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        """POST, PUT or DELETE to an OCPI URL (the credentials module): the checked envelope's data."""
        envelope, _ = self._envelope(url, None, method=method, body=body)
        return envelope.get("data")

    def _envelope(self, url: str, params: dict[str, Any] | None = None, *, method: str = "GET",
                  body: dict[str, Any] | None = None) -> tuple[dict[str, Any], requests.Response]:
        """Ask an OCPI URL and return its checked envelope (status_code 1000), with the token
        encoding this endpoint accepts; a 401 tries the other encoding once (see ``tokens``)."""
        encoding = self.encodings.first(url, self.version)
        try:
            answer = self._request(url, params, encoding, method, body)
        except OcpiError as refused:
            if refused.kind != "auth" or not self.encodings.may_retry():
                raise
            second = tokens.other(encoding)
            try:
                answer = self._request(url, params, second, method, body)
            except OcpiError as error:
                # the refusal is the cause that matters: a peer may answer an unknown token with 200 + 3000
                also = "" if error.kind == "auth" else f"; with the {second} token: {error.kind}: {error.detail}"
                raise OcpiError(self.operator.name, "auth",
                                f"{refused.detail} (as {encoding} and as {second}){also}") from None
            log.info("operator %s: %s accepts the token only %s-encoded", self.operator.name, url.split("?")[0],
                     second)
            encoding = second
        self.encodings.worked(url, encoding)
        return answer

    def _request(self, url: str, params: dict[str, Any] | None, encoding: tokens.Encoding, method: str = "GET",
                 body: dict[str, Any] | None = None) -> tuple[dict[str, Any], requests.Response]:
        name = self.operator.name
        token = tokens.encode(self.token(), encoding)
        headers = {"Authorization": f"Token {token}", "X-Request-ID": str(uuid.uuid4()),
                   "X-Correlation-ID": str(uuid.uuid4()), "Accept": "application/json"}
        try:
            response = self.session.request(method, url, params=params, json=body, headers=headers,
                                            timeout=self.timeout)
        except requests.RequestException as error:
            if _timed_out(error):
                raise OcpiError(name, "timeout", f"no answer within {self.timeout} s from {url}") from None
            raise OcpiError(name, "unreachable", f"{type(error).__name__} for {url}") from None
        if response.status_code in (401, 403):
            raise OcpiError(name, "auth", f"HTTP {response.status_code}: the operator refused our token")
        fault = _simulated_fault(response)
        if response.status_code >= 500:
            raise OcpiError(name, "server", f"HTTP {response.status_code} from {url}{fault}")
        try:
            answer = response.json()
        except ValueError:
            raise OcpiError(name, "malformed",
                            f"HTTP {response.status_code}: body is not JSON ({url}){fault}") from None
        if not isinstance(answer, dict) or "status_code" not in answer:
            raise OcpiError(name, "malformed", f"no OCPI envelope in the answer from {url}")
        code = answer.get("status_code")
        if response.status_code in (404, 405):
            raise OcpiError(name, "client", f"HTTP {response.status_code} for {url}: {answer.get('status_message')}")
        if code != 1000:
            kind: ErrorKind = "server" if isinstance(code, int) and code >= 3000 else "client"
            raise OcpiError(name, kind, f"OCPI status {code}: {answer.get('status_message')}")
        return answer, response

    # -- versions ----------------------------------------------------------------------------
    def negotiate(self) -> str:
        """Pick the highest version both sides speak and learn its module endpoints."""
        data, _ = self._get(self.operator.versions_url)
        versions = data if isinstance(data, list) else []
        offered = {v.get("version"): v.get("url") for v in versions if isinstance(v, dict)}
        chosen = next((v for v in SUPPORTED_VERSIONS if v in offered), None)
        if chosen is None:
            raise OcpiError(self.operator.name, "version",
                            f"no common OCPI version (operator offers {sorted(map(str, offered))})")
        details, _ = self._get(str(offered[chosen]))
        endpoints = details.get("endpoints") if isinstance(details, dict) else None
        if not isinstance(endpoints, list):
            raise OcpiError(self.operator.name, "malformed", "version details have no endpoints list")
        self.endpoints = {e["identifier"]: e["url"] for e in endpoints
                          if isinstance(e, dict) and e.get("role", "SENDER") == "SENDER" and "url" in e}
        self.credentials_url = next((str(e["url"]) for e in endpoints if isinstance(e, dict)
                                     and e.get("identifier") == "credentials" and "url" in e), None)
        self.version = chosen
        log.info("operator %s speaks OCPI %s (modules: %s)", self.operator.name, chosen, ", ".join(self.endpoints))
        return chosen

    # -- modules -----------------------------------------------------------------------------
    def pages(self, module: Module, params: dict[str, Any]) -> Iterator[Page]:
        """Every page of a module: by the ``Link`` header when it is sound (see ``paging``), else
        by offset and limit until ``X-Total-Count`` is reached or, without it, an empty page."""
        if self.version is None:
            self.negotiate()
        endpoint = self.endpoints.get(module)
        if endpoint is None:
            raise OcpiError(self.operator.name, "client", f"the operator offers no {module} module")
        filters = dict(params) | ({"limit": self.operator.page_limit} if self.operator.page_limit else {})
        url: str = endpoint
        query: dict[str, Any] | None = dict(filters)
        received, refused, failures = 0, False, 0
        previous: tuple[Any, ...] | None = None
        while True:
            try:
                body, response = self._envelope(url, query)
            except OcpiError as error:
                if query is None and error.kind not in ("auth", "timeout"):
                    log.warning("%s %s: the next link failed (%s); paging by offset", self.operator.name, module,
                                error.detail)
                    url, query, refused = endpoint, filters | {"offset": received}, True
                    continue
                if error.kind not in TRANSIENT or failures >= self.retries:
                    raise
                failures += 1
                log.warning("%s %s: the page after %d records failed (%s); asking again (%d of %d)",
                            self.operator.name, module, received, error.detail, failures, self.retries)
                time.sleep(self.backoff * 2 ** failures)
                continue
            failures = 0
            data = body.get("data")
            if not isinstance(data, list):
                raise OcpiError(self.operator.name, "malformed", f"{module}: data is not a list")
            if data and query is not None and query.get("offset") and _same_page(data, previous):
                raise OcpiError(self.operator.name, "malformed", f"{module}: the page at offset {query['offset']} "
                                "repeats the one before: the operator ignores offset (and sent no sound next link)")
            previous = _page_key(data)
            total = _int_header(response, "X-Total-Count")
            link = response.links.get("next", {}).get("url")
            stamp = body.get("timestamp")
            yield Page(data, total, link, stamp if isinstance(stamp, str) else None)
            received += len(data)
            following = paging.judge(link, requested=response.url, filters=filters, received=received) \
                if link and not refused else None
            if following is not None and following.refused is not None:
                log.warning("%s %s: not following the next link %s: %s; paging by offset", self.operator.name,
                            module, link, following.refused)
                refused = True
            if following is not None and following.url is not None:
                url, query = following.url, None  # the link carries every filter
            elif data and (_offset_left(total, received) or (total is None and (link or refused))):
                url, query = endpoint, filters | {"offset": received}
            else:
                return


def _page_key(data: list[Any]) -> tuple[Any, ...]:
    """What identifies a page's content cheaply: its size and its first and last records."""
    return (len(data), json.dumps(data[0], sort_keys=True), json.dumps(data[-1], sort_keys=True)) if data else (0,)


def _same_page(data: list[Any], previous: tuple[Any, ...] | None) -> bool:
    return previous is not None and _page_key(data) == previous


def _offset_left(total: int | None, received: int) -> bool:
    """More records to fetch by offset, by the operator's ``X-Total-Count``."""
    return total is not None and received < total


def _simulated_fault(response: requests.Response) -> str:
    """The simulated CPOs mark the faults they make on purpose (``X-Simulated-Fault``), so that the
    demo's console says so; a real operator sends no such header."""
    fault = response.headers.get("X-Simulated-Fault")
    return f" [deliberate fault of the simulated operator: {fault}]" if fault else ""


def _timed_out(error: requests.RequestException) -> bool:
    """A timeout, also when urllib3's Retry wrapped it (requests then raises ConnectionError)."""
    if isinstance(error, requests.Timeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, TimeoutError | ReadTimeoutError | ConnectTimeoutError)


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
