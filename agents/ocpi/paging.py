"""Whether to follow a peer's ``Link: <...>; rel="next"``, or page on by offset and limit.

OCPI pages by the ``Link`` header, and a peer builds that link from what it believes its own
address is: behind a TLS-terminating proxy it writes ``https://`` for a plain-HTTP answer, a
framework prints a missing filter as ``date_from=None``, a container writes its inner host. A
link like that leads nowhere (SSLError, a wrong host) or asks for other data than we did, so it
is followed only when it stays where the request went (scheme, host and port) and keeps our
filters; otherwise the client pages by ``offset``/``limit`` itself, which every OCPI sender
accepts. The verdict is pure: this module does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from citiesincharge.timeutil import parse_utc

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FILTERS = ("date_from", "date_to")


@dataclass(frozen=True)
class NextLink:
    """The verdict on one ``next`` link: the URL to follow, or why not."""

    url: str | None
    refused: str | None = None


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port; ValueError for a URL that has none that make sense (port 99999)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def _same_time(ours: Any, theirs: str) -> bool:
    try:
        return ours is not None and parse_utc(str(ours)) == parse_utc(theirs)
    except ValueError:
        return False


def judge(link: str, *, requested: str, filters: dict[str, Any], received: int) -> NextLink:
    """``link`` as sent; ``requested`` the URL of the answer that carried it; ``filters`` the
    query we asked with; ``received`` how many records this crawl has received so far."""
    try:
        url = urljoin(requested, link)
        origin = _origin(url)
    except ValueError as error:
        return NextLink(None, f"it is not a usable URL ({error})")
    if origin != _origin(requested):
        scheme, host, port = origin
        return NextLink(None, f"it points at {scheme}://{host}:{port}, not where the request went")
    if url == requested:
        return NextLink(None, "it repeats the page just received")
    params = {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}
    for name in _FILTERS:
        if name in params and not _same_time(filters.get(name), params[name]):
            return NextLink(None, f"its {name}={params[name]!r} is not the {name} asked for")
        if name not in params and filters.get(name) is not None:
            return NextLink(None, f"it drops the {name} filter")
    if "offset" in params and params["offset"] != str(received):
        return NextLink(None, f"its offset={params['offset']!r} is not the {received} records received")
    if "limit" in params and not (params["limit"].isdigit() and int(params["limit"]) > 0):
        return NextLink(None, f"its limit={params['limit']!r} is not a positive integer")
    return NextLink(url)
