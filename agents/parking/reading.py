"""Reading one sensor message on its own: the sensor id, the state and the time it carries, or
why it cannot be read, in words a person understands.

The checks follow the vendor's mapping file (which expression holds the sensor id, the state, the
time), so a new vendor still needs only a mapping file. They run before the mapping so that a
value of the wrong kind is reported as such ("field 'bay' must be a string, got an object") and
not as whatever Python error the mapping would meet on it ("unhashable type: 'dict'"), and so that
an event without a time (which could never be ordered against the others) is refused here rather
than failing later on.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jmespath
import orjson
from jmespath.parser import ParsedResult

from mappings.engine import Mapping
from mappings.transforms import TransformError, datetime_utc

MAX_PAYLOAD_BYTES = 64 * 1024  # a sensor event is well under 1 KiB; anything this big is not one
STATE = "status"  # the ParkingSpot attribute every parking mapping fills from the payload


class Unreadable(ValueError):
    """A message that cannot be turned into an event: what was wrong (``field``) and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def kind(value: Any) -> str:
    """A value's kind as a person reading the JSON would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text" if value else "empty text"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def label(expression: str) -> str:
    """How to name the place an expression reads: ``record.bay`` is "field 'bay'"."""
    if expression == "record":
        return "the payload"
    if "record." in expression:
        return f"field '{expression.replace('record.', '')}'"
    if expression.startswith("topic["):
        return f"topic level {expression.removeprefix('topic')}"
    return f"'{expression}'"


@cache
def _getter(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def _find(expression: str, envelope: dict[str, Any]) -> Any:
    return _getter(expression).search(envelope)


def decode(payload: bytes, mapping: Mapping) -> Any:
    """The payload as the vendor's format reads it (a JSON object, or text)."""
    if not payload:
        raise Unreadable("payload", "the payload is empty")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Unreadable("payload", f"the payload of {len(payload)} bytes is larger than a sensor event can be "
                                    f"({MAX_PAYLOAD_BYTES} bytes at most)")
    if mapping.payload == "text":
        try:
            return payload.decode()
        except UnicodeDecodeError:
            raise Unreadable("payload", "not text (the payload is not UTF-8)") from None
    try:
        record = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise Unreadable("payload", f"not json ({error})") from None
    if not isinstance(record, dict):
        raise Unreadable("payload", f"the payload must be a JSON object, got {kind(record)}")
    return record


def sensor_id(mapping: Mapping, envelope: dict[str, Any]) -> str:
    """The sensor id at the mapping's ``key`` (text, or a number as some vendors send it)."""
    if mapping.key is None:
        raise Unreadable("sensor", f"mapping {mapping.name} does not say where the sensor id is")
    where = label(mapping.key)
    value = _find(mapping.key, envelope)
    if value is None:
        raise Unreadable("sensor", f"no sensor id: {where} is missing")
    if value == "":
        raise Unreadable("sensor", f"no sensor id: {where} is empty")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Unreadable("sensor", f"{where} must be a string, got {kind(value)}")
    return str(value)


def check_state(mapping: Mapping, envelope: dict[str, Any]) -> None:
    """The state is there and of a kind the mapping's table can look up (which values are known
    is the mapping's to say)."""
    expression = mapping.attributes[STATE].value
    value = _find(expression, envelope)
    if value is None:
        raise Unreadable(STATE, f"{label(expression)} is missing")
    if not isinstance(value, bool | int | float | str):
        raise Unreadable(STATE, f"{label(expression)} must be a boolean, a number or text, got {kind(value)}")


def observed_at(mapping: Mapping, envelope: dict[str, Any]) -> str:
    """The event's time (UTC ISO, as the mapping writes it): required, since only the sensor's
    time orders a bay's events."""
    expression = mapping.attributes[STATE].observedAt
    if expression is None:
        raise Unreadable("time", f"mapping {mapping.name} does not say where the event time is")
    where = label(expression)
    value = _find(expression, envelope)
    if value is None:
        raise Unreadable("time", f"{where} is missing or null: an event needs the sensor's time to be ordered")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Unreadable("time", f"{where} must be an ISO 8601 time or epoch seconds, got {kind(value)}")
    try:
        return datetime_utc(value, {})
    except TransformError as error:
        raise Unreadable("time", f"{where}: {error}") from None


# Where each vendor's payload keeps the battery (percent); a vendor missing here (compact sensors
# send only 0/1) has no battery reading. A nicety, so an odd value is ignored, never rejected.
BATTERY = {"parking-json": "record.battery", "parking-tts-v3": "record.uplink_message.decoded_payload.battery"}


def battery(mapping: Mapping, envelope: dict[str, Any]) -> float | None:
    """The sensor's battery level as SDM Device ``batteryLevel`` has it (0..1), if the payload says."""
    expression = BATTERY.get(mapping.name)
    value = _find(expression, envelope) if expression else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        return None
    return round(value / 100, 3)


def mapping_reason(mapping: Mapping, field: str, reason: str) -> str:
    """A mapping's own complaint about an attribute, naming the payload field it came from."""
    rule = mapping.attributes.get(field)
    return f"{label(rule.value)}: {reason}" if rule is not None else reason
