"""Issue 11 §1: pagination that survives a wrong ``Link``. A peer behind a TLS proxy (or with a
sloppy framework) writes next links that lead nowhere; the agent checks each link and pages by
offset and limit instead, and never stops a module on it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from citiesincharge.client import NgsiLdClient
from tests.integration.ocpi.conftest import PEER_OPERATOR, AgentFactory
from tests.integration.ocpi.peer import ImpolitePeer
from tests.integration.ocpi.records import location

Link = Callable[[str, dict[str, str], int], str | None]


def https_with_none_filters(base: str, _query: dict[str, str], offset: int) -> str:
    """What the peer of the issue sent from its plain-HTTP server."""
    return f"{base.replace('http://', 'https://')}/?date_from=None&date_to=None&offset={offset}&limit=10"


def inner_port(base: str, _query: dict[str, str], offset: int) -> str:
    return f"http://127.0.0.1:8080/{base.split('/', 3)[3]}?offset={offset}&limit=10"  # its container's port


def no_port_at_all(base: str, _query: dict[str, str], offset: int) -> str:
    return f"{base.replace('127.0.0.1:', '127.0.0.1:9')}?offset={offset}&limit=10"  # a port beyond 65535


def skipping(base: str, _query: dict[str, str], offset: int) -> str:
    return f"{base}?offset={offset + 10}&limit=10"  # would skip a page


def sound(base: str, _query: dict[str, str], offset: int) -> str:
    return f"{base}?offset={offset}&limit=10&cursor=p{offset // 10}"  # the peer's own marker: followed


@pytest.mark.parametrize("link", [https_with_none_filters, inner_port, no_port_at_all, skipping, None])
def test_a_wrong_next_link_is_not_followed_and_every_page_arrives(
        link: Link | None, peer: ImpolitePeer, make_peer_agent: AgentFactory, ngsi: NgsiLdClient) -> None:
    peer.data["locations"] = [location(f"L{n:02d}") for n in range(50)]
    peer.quirks.link = link
    agent = make_peer_agent(modules=["locations"])
    assert agent.run_once()
    assert ngsi.count_entities(type="EVChargingStation") == 50
    assert ngsi.count_entities(type="EVSE") == 50
    offsets = [query.get("offset", "0") for module, query in peer.queries if module == "locations"]
    assert offsets == ["0", "10", "20", "30", "40"]  # every page once, by offset
    status = agent.status()["operators"][0]
    assert status["name"] == PEER_OPERATOR and status["last_error"] is None


def test_a_sound_next_link_is_followed(peer: ImpolitePeer, make_peer_agent: AgentFactory,
                                       ngsi: NgsiLdClient) -> None:
    peer.data["locations"] = [location(f"L{n:02d}") for n in range(25)]
    peer.quirks.link = sound
    assert make_peer_agent(modules=["locations"]).run_once()
    assert ngsi.count_entities(type="EVChargingStation") == 25
    cursors = [query.get("cursor") for module, query in peer.queries if module == "locations"]
    assert cursors == [None, "p1", "p2"]


def test_without_a_total_count_a_refused_link_still_pages_to_the_end(
        peer: ImpolitePeer, make_peer_agent: AgentFactory, ngsi: NgsiLdClient) -> None:
    peer.data["locations"] = [location(f"L{n:02d}") for n in range(30)]
    peer.quirks.link, peer.quirks.total_count = https_with_none_filters, False
    assert make_peer_agent(modules=["locations"]).run_once()
    assert ngsi.count_entities(type="EVChargingStation") == 30
    offsets = [query.get("offset", "0") for module, query in peer.queries if module == "locations"]
    assert offsets == ["0", "10", "20", "30"]  # the last answer is empty: the end


def test_a_flaky_peer_delivers_every_page_by_asking_again(peer: ImpolitePeer, make_peer_agent: AgentFactory,
                                                         ngsi: NgsiLdClient) -> None:
    """Every third request is cut short: each such page is asked again (not the whole module), so a
    long first sync completes and its cursor moves, where a restart from page one never would."""
    peer.data["locations"] = [location(f"L{n:02d}") for n in range(50)]
    peer.quirks.fail_every = 3
    agent = make_peer_agent(modules=["locations"], settings={"ocpi_retries": 1})
    assert agent.run_once()
    assert ngsi.count_entities(type="EVChargingStation") == 50
    offsets = [query.get("offset", "0") for module, query in peer.queries if module == "locations"]
    # requests 3 and 6 were cut short and asked again: 7 requests for 5 pages, none repeated twice
    assert offsets == ["0", "10", "20", "20", "30", "40", "40"]
    assert agent.status()["operators"][0]["last_error"] is None


def test_a_peer_that_ignores_offset_is_an_error_not_an_endless_crawl(
        peer: ImpolitePeer, make_peer_agent: AgentFactory, ngsi: NgsiLdClient) -> None:
    """No total count, a next link that cannot be followed, and offset ignored: the agent would page
    by offset for ever through the same ten records; it stops at the first repeat and says why."""
    peer.data["locations"] = [location(f"L{n:02d}") for n in range(50)]
    peer.quirks.total_count, peer.quirks.link, peer.quirks.ignore_offset = False, https_with_none_filters, True
    agent = make_peer_agent(modules=["locations"], settings={"ocpi_retries": 1})
    assert not agent.run_once()
    assert len([q for module, q in peer.queries if module == "locations"]) == 2
    error = agent.status()["operators"][0]["last_error"]
    assert "ignores offset" in error
