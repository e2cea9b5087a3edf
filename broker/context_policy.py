"""Which remote @context URLs the broker may fetch, and fetching one within hard limits.

A client names any URL in a ``Link`` header and the broker fetches it. Without a policy, that makes
the broker an open proxy into the network it runs in (``http://127.0.0.1:…``, the cloud metadata
service at 169.254.169.254, an intranet host) and lets a client tie up a worker with a huge or
endless document. So a fetch is allowed only when

* the scheme is http(s) and the URL carries no credentials,
* the host is on the allow-list (``CIC_CONTEXT_ALLOWED_HOSTS``; ``*`` = any host), checked before
  any DNS look-up so that a refused name is never even resolved,
* every address the host resolves to is a public one, unless ``CIC_CONTEXT_ALLOW_PRIVATE`` says
  otherwise — and the connection then goes to exactly those vetted addresses, never to a second
  DNS answer (no DNS rebinding between the check and the connect),
* it ends within ``CIC_CONTEXT_FETCH_TIMEOUT`` seconds in total (look-up, connect, headers and
  body; a server that drips one byte a second is cut off) and within ``CIC_CONTEXT_MAX_BYTES``.

Redirects are followed a few times, each hop checked like the first. A refusal is the client's to
fix (400); a failure of an allowed fetch is the remote side's (503, or 504 on the time cap). Both
are ``LdContextNotAvailable`` ProblemDetails whose detail says why.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from citiesincharge.settings import Settings

from .errors import BadRequestData, LdContextNotAvailable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: (family, sockaddr) pairs as socket.getaddrinfo gives them.
Addresses = list[tuple[socket.AddressFamily, tuple[Any, ...]]]
Resolver = Callable[[str, int], Addresses]

_DEFAULTS = Settings.model_fields
_MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HOSTS_SETTING = "CIC_CONTEXT_ALLOWED_HOSTS"
_PRIVATE_SETTING = "CIC_CONTEXT_ALLOW_PRIVATE"


def address_concern(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address, or ``None`` when it is one.

    An IPv6 address that embeds an IPv4 one (``::ffff:127.0.0.1``, 6to4) is judged by the IPv4
    address: that is where the connection ends up, and Python < 3.13 does not look inside.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_concern(embedded)
    # Most specific first: 169.254.169.254 is also "private", but "link-local" says more.
    for concern, applies in (("loopback", address.is_loopback), ("unspecified", address.is_unspecified),
                             ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                             ("reserved", address.is_reserved), ("private", address.is_private)):
        if applies:
            return concern
    return None if address.is_global else "not globally routable"


def system_resolver(host: str, port: int) -> Addresses:
    """Every TCP address of ``host`` (an IP literal resolves to itself without any look-up)."""
    return [(family, sockaddr) for family, _, _, _, sockaddr in
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def refused(detail: str) -> LdContextNotAvailable:
    """A fetch the policy forbids: the client named a URL this broker will not fetch (400)."""
    return LdContextNotAvailable(detail, status=400)


def _display(url: str) -> str:
    """The URL for an error message, without any credentials it carries."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def parse_hosts(value: str) -> frozenset[str]:
    """The allow-list from its comma-separated setting, lower-cased, without a final dot."""
    return frozenset(h.strip().lower().rstrip(".") for h in value.split(",") if h.strip())


@dataclass(frozen=True)
class Target:
    """One vetted hop of a fetch: where to connect and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: Addresses = field(default_factory=list)

    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


@dataclass(frozen=True)
class ContextPolicy:
    """The rules of :mod:`broker.context_policy`; the defaults are the safe ones."""

    # The defaults are the settings' own (the hosts that publish the contexts NGSI-LD deployments
    # use: ETSI's core and test-suite contexts, the Smart Data Models, FIWARE's), in one place.
    allowed_hosts: frozenset[str] = parse_hosts(_DEFAULTS["context_allowed_hosts"].default)
    allow_private: bool = _DEFAULTS["context_allow_private"].default
    max_bytes: int = _DEFAULTS["context_max_bytes"].default
    timeout: float = _DEFAULTS["context_fetch_timeout"].default

    @classmethod
    def from_settings(cls, settings: Settings) -> ContextPolicy:
        return cls(allowed_hosts=parse_hosts(settings.context_allowed_hosts),
                   allow_private=settings.context_allow_private, max_bytes=settings.context_max_bytes,
                   timeout=settings.context_fetch_timeout)

    def host_allowed(self, host: str) -> bool:
        """Exact host names, ``*.example.org`` for its sub-domains, or ``*`` for any host."""
        host = host.lower().rstrip(".")
        if "*" in self.allowed_hosts or host in self.allowed_hosts:
            return True
        return any(entry.startswith("*.") and host.endswith(entry[1:]) for entry in self.allowed_hosts)

    def check_url(self, url: str) -> Target:
        """Everything that can be judged from the URL alone (no DNS): scheme, credentials, host."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise BadRequestData(f"@context '{_display(url)}' is not an http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise refused(f"@context {_display(url)} carries credentials; the broker never sends any")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise refused(f"@context {_display(url)} has an invalid port") from None
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise refused(f"@context {_display(url)} has no host")
        if not self.host_allowed(host):
            raise refused(f"@context {_display(url)}: host {host} is not in the allowed @context hosts "
                          f"({_HOSTS_SETTING})")
        path = parts.path or "/"
        return Target(url, parts.scheme, host, port, path + (f"?{parts.query}" if parts.query else ""))

    def check_addresses(self, target: Target, addresses: Addresses) -> Target:
        """Refuse the hop unless every address is public (or private ones are allowed)."""
        if not addresses:
            raise LdContextNotAvailable(f"@context {_display(target.url)}: host {target.host} has no address")
        if not self.allow_private:
            for _family, sockaddr in addresses:
                concern = address_concern(ipaddress.ip_address(sockaddr[0].partition("%")[0]))
                if concern is not None:
                    raise refused(f"@context {_display(target.url)}: host {target.host} resolves to "
                                  f"{sockaddr[0]}, a {concern} address; the broker fetches @contexts only "
                                  f"from public addresses unless {_PRIVATE_SETTING}=true")
        return Target(target.url, target.scheme, target.host, target.port, target.path, addresses)


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to the addresses the policy vetted, whatever DNS says by now.

    TLS still verifies the certificate against the host name (SNI and hostname check), so pinning
    the address weakens nothing.
    """

    def __init__(self, target: Target, deadline: _Deadline, tls: ssl.SSLContext | None) -> None:
        super().__init__(target.host, target.port, timeout=deadline.remaining())
        self._target = target
        self._deadline = deadline
        self._tls = tls

    def connect(self) -> None:
        last: OSError = OSError(f"no address of {self._target.host} could be reached")
        for family, sockaddr in self._target.addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            self._deadline.watch(sock)
            try:
                sock.settimeout(self._deadline.remaining())  # all addresses share the one time cap
                sock.connect(sockaddr)
            except OSError as error:
                sock.close()
                last = error
                continue
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host) if self._tls else sock
            return
        raise last


class _Deadline:
    """The total time cap of one fetch: a timer that shuts the socket when time is up.

    Socket timeouts bound each ``recv`` only; a server that sends a byte every second never trips
    them. Shutting the socket down from the timer thread wakes the blocked read at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(self.ends - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        """Guard ``sock`` through a duplicate of it: a shutdown acts on the connection, so it
        still reaches the socket once TLS has wrapped (and detached) the original object."""
        with self._lock:
            self._release()
            self._sock = sock.dup()
            if self.expired:
                self._shut()

    def release(self) -> None:
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            # not connected (yet) raises: then the socket timeout bounds the connect itself
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


class ContextFetcher:
    """Fetches the bytes of a context document under a :class:`ContextPolicy`.

    ``resolver`` is injectable so that tests can give a host name any address without DNS.
    Look-ups run in a small pool of their own so that a hanging DNS server counts against the
    time cap instead of holding the caller beyond it.
    """

    def __init__(self, policy: ContextPolicy, resolver: Resolver = system_resolver) -> None:
        self.policy = policy
        self._resolver = resolver
        self._lookups = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cic-context-dns")
        self._tls = ssl.create_default_context()

    def fetch(self, url: str) -> bytes:
        deadline = _Deadline(self.policy.timeout)
        try:
            return self._follow(url, deadline)
        except (OSError, http.client.HTTPException) as error:
            if deadline.expired or isinstance(error, TimeoutError):
                raise self._timed_out(url) from None
            raise LdContextNotAvailable(f"@context {_display(url)} cannot be fetched: "
                                        f"{type(error).__name__}") from None
        finally:
            deadline.cancel()

    def _timed_out(self, url: str) -> LdContextNotAvailable:
        return LdContextNotAvailable(f"@context {_display(url)} did not arrive within "
                                     f"{self.policy.timeout} s (CIC_CONTEXT_FETCH_TIMEOUT)", status=504)

    def _follow(self, url: str, deadline: _Deadline) -> bytes:
        current = url
        for _hop in range(_MAX_REDIRECTS + 1):
            target = self._vet(current, deadline)
            status, location, body = self._get(target, deadline)
            if status not in _REDIRECTS:
                if status != 200:
                    raise LdContextNotAvailable(f"@context {_display(current)} answered HTTP {status}")
                return body
            if not location:
                raise LdContextNotAvailable(f"@context {_display(current)} redirects without a Location")
            current = urljoin(current, location)
        raise LdContextNotAvailable(f"@context {_display(url)} redirects more than {_MAX_REDIRECTS} times")

    def _vet(self, url: str, deadline: _Deadline) -> Target:
        target = self.policy.check_url(url)
        lookup = self._lookups.submit(self._resolver, target.host, target.port)
        try:
            addresses = lookup.result(timeout=deadline.remaining())
        except FutureTimeout:
            raise self._timed_out(url) from None
        except (OSError, UnicodeError):
            raise LdContextNotAvailable(f"@context {_display(url)}: host {target.host} cannot be resolved") from None
        return self.policy.check_addresses(target, addresses)

    def _get(self, target: Target, deadline: _Deadline) -> tuple[int, str | None, bytes]:
        """Status, Location and body (empty for a redirect) of one GET, streamed under the caps."""
        connection = _PinnedConnection(target, deadline, self._tls if target.scheme == "https" else None)
        try:
            connection.connect()
            connection.request("GET", target.path, headers={
                "Host": target.host_header(), "Accept": "application/ld+json, application/json",
                "User-Agent": "citiesincharge-broker"})
            response = connection.getresponse()
            if response.status in _REDIRECTS:
                return response.status, response.getheader("Location"), b""
            if response.status != 200:
                return response.status, None, b""
            body = self._read_capped(target, response)
            if deadline.expired:  # the timer's shutdown reads as a clean end of the body
                raise TimeoutError
            return 200, None, body
        finally:
            deadline.release()
            connection.close()

    def _read_capped(self, target: Target, response: http.client.HTTPResponse) -> bytes:
        cap = self.policy.max_bytes
        too_big = refused(f"@context {_display(target.url)} is larger than {cap} bytes (CIC_CONTEXT_MAX_BYTES)")
        declared = response.getheader("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raise too_big
        chunks: list[bytes] = []
        received = 0
        while chunk := response.read1(64 * 1024):
            received += len(chunk)
            if received > cap:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._lookups.shutdown(wait=False, cancel_futures=True)
