"""Reasons a person understands for sensor messages that cannot be read (agents/parking/reading.py),
with the shipped vendor mappings."""

from __future__ import annotations

from typing import Any

import pytest

from agents.parking import reading
from agents.parking.reading import Unreadable
from mappings.engine import library

JSON = library()["parking-json"]
TTS = library()["parking-tts-v3"]
COMPACT = library()["parking-compact"]


def envelope(record: Any, topic: str = "cic/parking/json/json-0001") -> dict[str, Any]:
    return {"record": record, "topic": topic.split("/"), "received": "2024-05-01T10:00:00.000Z"}


@pytest.mark.parametrize(("expression", "label"), [
    ("record", "the payload"), ("record.bay", "field 'bay'"), ("topic[-1]", "topic level [-1]"),
    ("record.uplink_message.rx_metadata[0].time || record.received_at",
     "field 'uplink_message.rx_metadata[0].time || received_at'"), ("received", "'received'")])
def test_labels_name_the_payload_field(expression: str, label: str) -> None:
    assert reading.label(expression) == label


@pytest.mark.parametrize(("value", "kind"), [(None, "null"), (True, "a boolean"), (3, "a number"), (2.5, "a number"),
                                             ("x", "text"), ("", "empty text"), ([1], "a list"), ({}, "an object")])
def test_kinds_are_named_as_in_json(value: Any, kind: str) -> None:
    assert reading.kind(value) == kind


def test_the_sensor_id_of_the_wrong_kind_is_named_not_a_python_error() -> None:
    with pytest.raises(Unreadable) as error:
        reading.sensor_id(JSON, envelope({"bay": {"id": "json-0001"}}))
    assert (error.value.field, error.value.reason) == ("sensor", "field 'bay' must be a string, got an object")
    assert reading.sensor_id(JSON, envelope({"bay": 17})) == "17"  # numeric device ids are ids
    assert reading.sensor_id(COMPACT, envelope("1", "cic/parking/compact/compact-0003")) == "compact-0003"


@pytest.mark.parametrize(("payload", "reason"), [
    (b"", "the payload is empty"), (b"[]", "the payload must be a JSON object, got a list"),
    (b"x" * (reading.MAX_PAYLOAD_BYTES + 1), f"the payload of {reading.MAX_PAYLOAD_BYTES + 1} bytes is larger")])
def test_payloads_that_are_no_event(payload: bytes, reason: str) -> None:
    with pytest.raises(Unreadable) as error:
        reading.decode(payload, JSON)
    assert error.value.field == "payload" and error.value.reason.startswith(reason)


def test_the_event_time_is_required_and_checked() -> None:
    assert reading.observed_at(JSON, envelope({"ts": 1714557600})) == "2024-05-01T10:00:00.000Z"
    assert reading.observed_at(COMPACT, envelope("1")) == "2024-05-01T10:00:00.000Z"  # arrival time
    for record, reason in [({"ts": None}, "field 'ts' is missing or null"),
                           ({"ts": [1]}, "field 'ts' must be an ISO 8601 time or epoch seconds, got a list"),
                           ({"ts": "soon"}, "field 'ts': 'soon' is not a valid ISO 8601 date-time")]:
        with pytest.raises(Unreadable) as error:
            reading.observed_at(JSON, envelope(record))
        assert error.value.field == "time" and error.value.reason.startswith(reason)


def test_a_state_must_be_a_value_the_table_can_look_up() -> None:
    reading.check_state(TTS, envelope({"uplink_message": {"decoded_payload": {"occupied": 1}}}))
    with pytest.raises(Unreadable) as error:
        reading.check_state(JSON, envelope({"occupied": {"v": True}}))
    assert error.value.reason == "field 'occupied' must be a boolean, a number or text, got an object"
