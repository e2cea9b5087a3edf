"""The remote @context fetch policy: the address classifier, URL checks, and the resolver's
bounded caches, in-process against a real local HTTP server (no mocks, no internet)."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator

import pytest

from broker.context_policy import Addresses, ContextFetcher, ContextPolicy, address_concern
from broker.errors import BadRequestData, LdContextNotAvailable
from broker.jsonld import CORE, ContextResolver
from citiesincharge import ldcontext
from tests.context_server import ContextServer

LOCAL = ContextPolicy(allowed_hosts=frozenset({"127.0.0.1"}), allow_private=True, timeout=1.0,
                      max_bytes=64 * 1024)


@pytest.fixture
def server() -> Iterator[ContextServer]:
    local = ContextServer(big=128 * 1024)
    yield local
    local.stop()


@pytest.mark.parametrize(("address", "concern"), [
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("172.31.255.255", "private"),
    ("192.168.1.1", "private"), ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"),
    ("::1", "loopback"), ("fe80::1", "link-local"), ("169.254.169.254", "link-local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"), ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
    ("224.0.0.251", "multicast"), ("ff02::1", "multicast"), ("fc00::1", "private"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "not globally routable"),
    ("8.8.8.8", None), ("172.32.0.1", None), ("2001:4860:4860::8888", None), ("::ffff:8.8.8.8", None),
])
def test_address_classifier(address: str, concern: str | None) -> None:
    assert address_concern(ipaddress.ip_address(address)) == concern


def test_hosts_allow_list_exact_wildcard_and_any() -> None:
    policy = ContextPolicy(allowed_hosts=frozenset({"uri.etsi.org", "*.city.example"}))
    assert policy.host_allowed("URI.ETSI.ORG.") and policy.host_allowed("ctx.city.example")
    assert not policy.host_allowed("city.example") and not policy.host_allowed("evil-city.example")
    assert not policy.host_allowed("uri.etsi.org.evil.example")
    assert ContextPolicy(allowed_hosts=frozenset({"*"})).host_allowed("anything.example")
    assert ContextPolicy().host_allowed("uri.etsi.org") and not ContextPolicy().host_allowed("127.0.0.1")


@pytest.mark.parametrize(("url", "says"), [
    ("http://127.0.0.1:8080/ctx.jsonld",
     "host 127.0.0.1 is not in the allowed @context hosts (CIC_CONTEXT_ALLOWED_HOSTS)"),
    ("http://169.254.169.254/latest/meta-data", "host 169.254.169.254 is not in the allowed"),
    ("https://user:hunter2@uri.etsi.org/x.jsonld", "carries credentials"),
    ("https://uri.etsi.org:99999/x.jsonld", "invalid port"),
])
def test_urls_refused_by_default_say_why(url: str, says: str) -> None:
    with pytest.raises(LdContextNotAvailable) as refused:
        ContextPolicy().check_url(url)
    assert refused.value.status == 400 and says in refused.value.detail
    assert "hunter2" not in refused.value.detail


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://uri.etsi.org/x", "gopher://x/"])
def test_only_http_schemes(url: str) -> None:
    with pytest.raises(BadRequestData):
        ContextPolicy(allowed_hosts=frozenset({"*"})).check_url(url)


def test_any_host_still_refuses_private_addresses_without_connecting(server: ContextServer) -> None:
    resolver = ContextResolver(policy=ContextPolicy(allowed_hosts=frozenset({"*"})))
    for url in (server.url(), f"http://localhost:{server.port}/ctx.jsonld",
                f"http://[::ffff:127.0.0.1]:{server.port}/ctx.jsonld", f"http://2130706433:{server.port}/"):
        with pytest.raises(LdContextNotAvailable) as refused:
            resolver.term_map(url)
        assert refused.value.status == 400 and "loopback address" in refused.value.detail
        assert "CIC_CONTEXT_ALLOW_PRIVATE" in refused.value.detail
    assert server.requests == []


def test_allowed_fetch_is_cached(server: ContextServer) -> None:
    resolver = ContextResolver(policy=LOCAL)
    assert resolver.term_map(server.url()).expand("Bin") == "https://city.example/Bin"
    assert resolver.term_map([server.url(), {"x": "https://x.example/x"}]).expand("fill") == \
        "https://city.example/fill"
    assert len(server.requests) == 1 and server.requests[0][1]["Host"] == f"127.0.0.1:{server.port}"


def test_connection_goes_to_the_vetted_address_not_a_new_lookup(server: ContextServer) -> None:
    """The name never resolves in DNS: only the address the policy checked is ever dialled."""
    def resolve(host: str, port: int) -> Addresses:
        assert host == "contexts.city.test"
        return [(socket.AF_INET, ("127.0.0.1", port))]

    policy = ContextPolicy(allowed_hosts=frozenset({"contexts.city.test"}), allow_private=True, timeout=1.0)
    body = ContextFetcher(policy, resolve).fetch(f"http://contexts.city.test:{server.port}/ctx.jsonld")
    assert b"city.example/Bin" in body
    assert server.requests[0][1]["Host"] == f"contexts.city.test:{server.port}"


@pytest.mark.parametrize("path", ["/big.jsonld", "/big-stream.jsonld"])
def test_oversize_document_is_refused(server: ContextServer, path: str) -> None:
    with pytest.raises(LdContextNotAvailable) as refused:
        ContextResolver(policy=LOCAL).term_map(server.url(path))
    assert refused.value.status == 400 and "larger than 65536 bytes" in refused.value.detail


def test_total_time_cap_cuts_a_dripping_server(server: ContextServer) -> None:
    started = time.monotonic()
    with pytest.raises(LdContextNotAvailable) as slow:
        ContextResolver(policy=LOCAL).term_map(server.url("/drip.jsonld"))
    assert slow.value.status == 504 and "within 1.0 s" in slow.value.detail
    assert time.monotonic() - started < 1.8


def test_every_redirect_hop_is_checked(server: ContextServer) -> None:
    hop = server.redirect("/moved", f"http://localhost:{server.port}/ctx.jsonld")
    with pytest.raises(LdContextNotAvailable) as refused:
        ContextResolver(policy=LOCAL).term_map(hop)
    assert refused.value.status == 400 and "host localhost is not in the allowed" in refused.value.detail
    assert [path for path, _ in server.requests] == ["/moved"]
    followed = server.redirect("/moved-ok", "/ctx.jsonld")
    assert ContextResolver(policy=LOCAL).term_map(followed).expand("Bin") == "https://city.example/Bin"


def test_failed_url_cache_is_bounded() -> None:
    resolver = ContextResolver(failure_cache_size=16)
    for n in range(500):
        with pytest.raises(LdContextNotAvailable):
            resolver.document(f"http://127.0.0.1:{n + 1}/ctx-{n}.jsonld")
    assert resolver.cached_failures == 16


def test_failures_expire_after_their_ttl(server: ContextServer) -> None:
    now = [1000.0]
    resolver = ContextResolver(policy=LOCAL, failure_ttl=10.0, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(LdContextNotAvailable) as failed:
            resolver.document(server.url("/missing.jsonld"))
        assert failed.value.status == 503 and "answered HTTP 404" in failed.value.detail
    assert len(server.requests) == 1  # remembered, not refetched
    now[0] += 10.5
    with pytest.raises(LdContextNotAvailable):
        resolver.document(server.url("/missing.jsonld"))
    assert len(server.requests) == 2


def test_document_cache_is_bounded(server: ContextServer) -> None:
    resolver = ContextResolver(policy=LOCAL, cache_size=4)
    for n in range(10):
        server.routes[f"/c{n}.jsonld"] = server.routes["/ctx.jsonld"]
        resolver.document(server.url(f"/c{n}.jsonld"))
    assert resolver.cached_documents == 4


@pytest.mark.parametrize("minor", [3, 4, 5, 6, 7, 8, 9])
def test_core_context_of_every_version_is_offline(minor: int) -> None:
    nothing = ContextResolver(policy=ContextPolicy(allowed_hosts=frozenset()))
    url = f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.{minor}.jsonld"
    assert url in ldcontext.CORE_CONTEXT_ALIASES or url == CORE
    assert nothing.term_map(url).expand("location") == "https://uri.etsi.org/ngsi-ld/location"
    assert nothing.term_map("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld").expand(
        "observedAt") == "https://uri.etsi.org/ngsi-ld/observedAt"


def test_preloaded_urls_bypass_the_policy() -> None:
    resolver = ContextResolver()  # default policy: 127.0.0.1 is not an allowed host
    resolver.preload("http://127.0.0.1:1/site.jsonld", {"@context": {"Bin": "https://city.example/Bin"}})
    assert resolver.term_map("http://127.0.0.1:1/site.jsonld").expand("Bin") == "https://city.example/Bin"
