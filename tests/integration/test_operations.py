"""Operations: /version, /health, Prometheus /metrics, bearer-token auth, persistence across restarts."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.support import Api, BrokerProcess, Receiver, problem_type


def test_version_and_health(embedded: str) -> None:
    version = requests.get(f"{embedded}/version", timeout=5).json()
    assert version["broker"] == "citiesincharge-embedded" and "1.8" in version["ngsiLdSpec"]
    health = requests.get(f"{embedded}/health", timeout=5).json()
    assert health == {"status": "ok"}  # up, and nothing an anonymous caller may not know


def test_metrics_count_requests_entities_and_notifications(embedded: str, api: Api, receiver: Receiver) -> None:
    api.post("/subscriptions", {"type": "Subscription", "entities": [{"type": "EVSE"}],
                                "notification": {"endpoint": {"uri": receiver.url}}})
    api.create({"id": "urn:ngsi-ld:EVSE:m:1", "type": "EVSE", "status": "AVAILABLE"})
    receiver.wait_for(lambda got: len(got) >= 1)
    text = requests.get(f"{embedded}/metrics", timeout=5).text

    def sample(prefix: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith(prefix)]
        assert lines, f"no metric {prefix}"
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    assert sample('ngsild_requests_total{method="POST",route="/ngsi-ld/v1/entities",status="201"}') >= 1
    assert sample("ngsild_entities ") >= 1
    assert sample("ngsild_request_seconds_count") >= 2
    deadline = time.monotonic() + 5
    while sample('ngsild_notifications_total{outcome="success"}') < 1 and time.monotonic() < deadline:
        text = requests.get(f"{embedded}/metrics", timeout=5).text
    assert sample('ngsild_notifications_total{outcome="success"}') >= 1


def test_bearer_token_auth_from_a_rotating_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first-secret\n")
    broker = BrokerProcess(CIC_BROKER_AUTH_TOKEN_FILE=str(token_file))
    try:
        api = Api(broker.url, None)
        denied = api.get("/entities", {"type": "EVSE"})
        assert denied.status_code == 401 and problem_type(denied) == "InvalidRequest"
        assert denied.headers["WWW-Authenticate"] == "Bearer"
        assert "first-secret" not in denied.text
        ok = api.get("/entities", {"type": "EVSE"}, headers={"Authorization": "Bearer first-secret"})
        assert ok.status_code == 200
        assert requests.get(f"{broker.url}/version", timeout=5).status_code == 200  # public
        assert requests.get(f"{broker.url}/health", timeout=5).json() == {"status": "ok"}  # public
        metrics = requests.get(f"{broker.url}/metrics", timeout=5)
        assert metrics.status_code == 401 and "ngsild_entities" not in metrics.text  # counts need the token
        assert "ngsild_entities" in requests.get(f"{broker.url}/metrics", timeout=5,
                                                 headers={"Authorization": "Bearer first-secret"}).text
        token_file.write_text("second-secret\n")
        time.sleep(0.01)  # mtime granularity
        token_file.touch()
        rotated = api.get("/entities", {"type": "EVSE"}, headers={"Authorization": "Bearer second-secret"})
        assert rotated.status_code == 200
        old = api.get("/entities", {"type": "EVSE"}, headers={"Authorization": "Bearer first-secret"})
        assert old.status_code == 401
    finally:
        broker.stop()
    assert b"secret" not in (broker.process.stdout.read() if broker.process.stdout else b"")


def test_entities_history_and_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    receiver = Receiver()
    broker = BrokerProcess(tmp_path)
    try:
        api = Api(broker.url, "persist")
        api.post("/subscriptions", {"id": "urn:ngsi-ld:Subscription:keep", "type": "Subscription",
                                    "entities": [{"type": "EVSE"}],
                                    "notification": {"endpoint": {"uri": receiver.url}}})
        api.create({"id": "urn:ngsi-ld:EVSE:p:1", "type": "EVSE",
                    "status": {"type": "Property", "value": "AVAILABLE", "observedAt": "2026-01-01T00:00:00Z"}})
        api.patch("/entities/urn:ngsi-ld:EVSE:p:1/attrs",
                  {"status": {"type": "Property", "value": "CHARGING", "observedAt": "2026-01-01T01:00:00Z"}})
        broker.stop()
        broker = BrokerProcess(tmp_path)
        api = Api(broker.url, "persist")
        assert api.get("/entities/urn:ngsi-ld:EVSE:p:1", {"options": "keyValues"}).json()["status"] == "CHARGING"
        history = api.get("/temporal/entities/urn:ngsi-ld:EVSE:p:1", {"attrs": "status"}).json()["status"]
        assert [i["value"] for i in history] == ["AVAILABLE", "CHARGING"]
        assert api.get("/subscriptions/urn:ngsi-ld:Subscription:keep").status_code == 200
        before = len(receiver.received)
        api.patch("/entities/urn:ngsi-ld:EVSE:p:1/attrs", {"status": "BLOCKED"})
        receiver.wait_for(lambda got: len(got) > before)
    finally:
        broker.stop()
        receiver.stop()
