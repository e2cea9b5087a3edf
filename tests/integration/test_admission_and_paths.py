"""Fair under bursts: bounded requests in progress (503 + Retry-After for the excess, other kinds
and /health still answering), and every route answering with a trailing slash as without one."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests

from tests.support import Api, BrokerProcess, problem_type, wait_until

_BODY = b'[{"id": "urn:ngsi-ld:T:burst", "type": "T"}]'


def _slow_upsert(port: int) -> socket.socket:
    """An upsert whose body has not arrived yet: a request in progress for as long as we like."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /ngsi-ld/v1/entityOperations/upsert HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(_BODY) + _BODY[:1])
    sock.setblocking(False)
    return sock


def _answer(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return b""


@pytest.fixture
def small_broker() -> Iterator[BrokerProcess]:
    broker = BrokerProcess(CIC_BROKER_MAX_REQUESTS="4")
    yield broker
    broker.stop()


def test_a_burst_gets_503_for_the_excess_while_health_and_lookups_answer(small_broker: BrokerProcess) -> None:
    api = Api(small_broker.url, None)
    assert api.post("/entities", {"id": "urn:ngsi-ld:T:kept", "type": "T", "p": 1}).status_code == 201
    burst = [_slow_upsert(small_broker.port) for _ in range(10)]
    answers: dict[int, bytes] = {}

    def refused() -> bool:
        for n, sock in enumerate(burst):
            answers[n] = answers.get(n, b"") + _answer(sock)
        return sum(1 for a in answers.values() if a) >= 6

    wait_until(refused, timeout=20)
    answered = [a for a in answers.values() if a]
    assert len(answered) == 6  # 4 in progress, the excess refused at once
    for raw in answered:
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in head.lower()
        assert b'"status":503' in body.replace(b" ", b"")
    refused_now = api.post("/entityOperations/upsert", [{"id": "urn:ngsi-ld:T:more", "type": "T"}])
    assert refused_now.status_code == 503 and refused_now.headers["Retry-After"] == "1"
    assert problem_type(refused_now) == "InternalError"
    assert requests.get(small_broker.url + "/health", timeout=15).status_code == 200
    assert api.get("/entities/urn:ngsi-ld:T:kept").status_code == 200
    assert api.get("/entities", {"type": "T"}).status_code == 200  # queries have their own bound
    for n, sock in enumerate(burst):
        if not answers[n]:
            sock.setblocking(True)
            sock.sendall(_BODY[1:])
            assert sock.recv(65536).startswith(b"HTTP/1.1 20")
        sock.close()
    assert api.post("/entityOperations/upsert", [{"id": "urn:ngsi-ld:T:more", "type": "T"}]).status_code == 201


def _routes(api: Api) -> list[tuple[str, str]]:
    spec = requests.get(api.root + "/openapi.json", timeout=15).json()
    return [(method.upper(), path) for path, methods in spec["paths"].items() for method in methods
            if path.startswith("/ngsi-ld/v1/")]


def test_every_route_answers_the_same_with_a_trailing_slash(api: Api, embedded: str) -> None:
    routes = _routes(api)
    assert len(routes) > 20
    for method, template in routes:
        path = template.replace("{", "").replace("}", "").replace(":maybe_empty", "")
        path = path.replace("entity_id", "urn:ngsi-ld:T:none").replace("attr_id", "p")
        for name in ("subscription_id", "dataset_id", "instance_id", "type_name", "attr_name", "context_id"):
            path = path.replace(name, "x")
        answers = []
        for suffix in ("", "/"):
            response = api.http.request(method, api.root + path + suffix, data="{}", headers=api.headers(body=True),
                                        allow_redirects=False, timeout=15)
            answers.append(response.status_code)
        assert answers[0] == answers[1] and not 300 <= answers[1] < 400, (method, template, answers)


def test_the_iot_agents_upsert_with_a_trailing_slash_is_one_request(api: Api) -> None:
    entity = [{"id": "urn:ngsi-ld:T:slash", "type": "T", "p": {"type": "Property", "value": 1}}]
    created = api.http.post(api.base + "/entityOperations/upsert/", json=entity, headers=api.headers(body=True),
                            allow_redirects=False, timeout=15)
    assert created.status_code == 201, created.text
    entity[0]["p"] = {"type": "Property", "value": 2}
    updated = api.http.post(api.base + "/entityOperations/upsert/", json=entity, headers=api.headers(body=True),
                            allow_redirects=False, timeout=15)
    assert updated.status_code == 204
    assert api.get("/entities/", {"type": "T"}).json()[0]["p"]["value"] == 2
