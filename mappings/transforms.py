"""Named value transforms that mapping files refer to (``transform: geo_point``).

Pure functions of (value, options) -> value. A transform that cannot make sense of its input
raises :class:`TransformError` with a reason; the engine turns it into a quarantine entry naming
the record and the attribute. New vendors should rarely need a new transform: most differences
are paths and enum tables in the mapping files.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from citiesincharge import ids
from citiesincharge.timeutil import parse_utc

from .tariff_transforms import TARIFF_TRANSFORMS

Transform = Callable[[Any, dict[str, Any]], Any]
_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


class TransformError(ValueError):
    """A value that a transform cannot convert; the message says why."""


def point(value: Any, _options: dict[str, Any]) -> dict[str, Any]:
    """[longitude, latitude] (registry files) -> GeoJSON Point."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise TransformError(f"{value!r} is not a [longitude, latitude] pair")
    return geo_point({"longitude": value[0], "latitude": value[1]}, {})


def geo_point(value: Any, _options: dict[str, Any]) -> dict[str, Any]:
    """OCPI GeoLocation (string latitude/longitude) -> GeoJSON Point [lon, lat]."""
    if not isinstance(value, dict):
        raise TransformError("coordinates must be an object with latitude and longitude")
    try:
        lat, lon = float(value["latitude"]), float(value["longitude"])
    except (KeyError, TypeError, ValueError):
        raise TransformError(f"coordinates {value!r} are not numeric latitude/longitude") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise TransformError(f"coordinates ({lat}, {lon}) are outside the globe")
    return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}


def postal_address(value: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Flat address fields -> schema.org PostalAddress (SDM ``address``); field names are options."""
    if not isinstance(value, dict):
        raise TransformError("address source must be an object")
    fields = options.get("fields", {})
    address = {target: value.get(source) for target, source in fields.items()}
    return {k: v for k, v in address.items() if v not in (None, "")}


def datetime_utc(value: Any, _options: dict[str, Any]) -> str:
    """ISO 8601 (OCPI sends with or without 'Z'; naive = UTC) or Unix epoch seconds / milliseconds
    (sensor firmware) -> UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the broker's own form).
    Dates outside 2000-2100 are impossible, not data."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            moment = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise TransformError(f"epoch {value!r} is not a plausible time") from None
    else:
        try:
            moment = parse_utc(value)
        except ValueError as error:
            raise TransformError(str(error)) from None
    if not 2000 <= moment.year <= 2100:
        raise TransformError(f"'{value}' is outside the plausible range 2000-2100")
    moment = moment.astimezone(UTC)  # milliseconds kept: sensors stamp events closer than a second apart
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def enum(value: Any, options: dict[str, Any]) -> Any:
    """Map through a table; lists are mapped item by item (and de-duplicated in order).

    ``table``: the mapping; ``default``: for values not in it (absent = the value is an error);
    ``keep``: values outside the table pass through unchanged (for vocabularies we keep as is).
    """
    table: dict[str, Any] = options["table"]
    if isinstance(value, list):
        mapped = [enum(item, options) for item in value]
        return list(dict.fromkeys(mapped))
    if value in table:
        return table[value]
    if "default" in options:
        return options["default"]
    raise TransformError(f"value {value!r} is not one of {', '.join(sorted(map(str, table)))}")


def scale(value: Any, options: dict[str, Any]) -> Any:
    """Multiply a number (e.g. W -> kW with factor 0.001); lists element-wise."""
    factor = float(options["factor"])
    if isinstance(value, list):
        return [scale(v, options) for v in value]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TransformError(f"{value!r} is not a number")
    return round(value * factor, int(options.get("digits", 3)))


def price(value: Any, options: dict[str, Any]) -> float:
    """OCPI 2.2.1 Price object or 2.1.1 bare number -> one amount (``part``: excl_vat|incl_vat)."""
    part = options.get("part", "excl_vat")
    if isinstance(value, dict):
        amount = value.get(part)
        if amount is None and part == "incl_vat":
            raise TransformError("price has no incl_vat")
    else:
        amount = value if part == "excl_vat" else None
        if amount is None:
            raise TransformError("a bare price has no incl_vat")
    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount < 0:
        raise TransformError(f"price {amount!r} is not a non-negative number")
    return round(float(amount), 4)


def opening_hours(value: Any, _options: dict[str, Any]) -> str:
    """OCPI Hours -> schema.org openingHours text ('Mo-Su' when open 24/7)."""
    if not isinstance(value, dict):
        raise TransformError("opening_times must be an object")
    if value.get("twentyfourseven"):
        return "Mo-Su 00:00-24:00"
    parts = []
    for period in value.get("regular_hours") or []:
        try:
            day = _DAYS[int(period["weekday"]) - 1]
            parts.append(f"{day} {period['period_begin']}-{period['period_end']}")
        except (KeyError, ValueError, IndexError, TypeError):
            raise TransformError(f"regular_hours entry {period!r} is malformed") from None
    if not parts:
        raise TransformError("opening_times has neither twentyfourseven nor regular_hours")
    return ", ".join(parts)


def station_status(value: Any, _options: dict[str, Any]) -> str:
    """EVSE statuses (OCPI) -> EVChargingStation.status (SDM vocabulary).

    out of service when no EVSE can charge; with incidence when some are faulty; then by the
    share still available: empty (all), almostEmpty (>= 75 %), working, almostFull (<= 25 %), full.
    """
    statuses = [s for s in (value or []) if s != "REMOVED"]
    if not statuses:
        return "outOfService"
    faulty = sum(1 for s in statuses if s in ("OUTOFORDER", "INOPERATIVE"))
    if faulty == len(statuses):
        return "outOfService"
    if faulty:
        return "withIncidence"
    share = sum(1 for s in statuses if s == "AVAILABLE") / len(statuses)
    if share == 1:
        return "empty"
    if share == 0:
        return "full"
    if share >= 0.75:
        return "almostEmpty"
    if share <= 0.25:
        return "almostFull"
    return "working"


def pseudonym(value: Any, options: dict[str, Any]) -> str:
    """Keyed hash (HMAC-SHA256) of an identifier: countable, not reversible without the salt."""
    salt = options.get("salt")
    if not salt:
        raise TransformError("no pseudonymisation salt configured")
    return hmac.new(str(salt).encode(), str(value).encode(), hashlib.sha256).hexdigest()[:32]


def max_power_kw(value: Any, _options: dict[str, Any]) -> float | None:
    """Largest connector power in kW: ``max_electric_power`` (W, OCPI 2.2.1) when given, else
    voltage x amperage (x 3 for AC_3_PHASE), from 2.2.1 ``max_voltage``/``max_amperage`` or
    2.1.1 ``voltage``/``amperage``."""
    if not isinstance(value, list):
        raise TransformError("connectors must be a list")
    powers = []
    for connector in value:
        if not isinstance(connector, dict):
            raise TransformError(f"connector {connector!r} is not an object")
        watts = connector.get("max_electric_power")
        if watts is None:
            volts = connector.get("max_voltage", connector.get("voltage"))
            amps = connector.get("max_amperage", connector.get("amperage"))
            if not isinstance(volts, int | float) or not isinstance(amps, int | float):
                raise TransformError(f"connector {connector.get('id')!r} has no voltage/amperage")
            watts = volts * amps * (3 if connector.get("power_type") == "AC_3_PHASE" else 1)
        if not isinstance(watts, int | float) or watts < 0:
            raise TransformError(f"connector {connector.get('id')!r} power {watts!r} is not a number")
        powers.append(watts / 1000)
    return round(max(powers), 2) if powers else None


def entity_ref(value: Any, options: dict[str, Any]) -> str | list[str] | None:
    """[part, ...] -> the project entity id of ``options.type`` (None when a part is missing);
    ``list: true`` wraps it in a list, for models whose relationship is an array (SDM refDevice)."""
    if not isinstance(value, list) or any(p in (None, "", "#NA") for p in value):
        return None
    try:
        reference = ids.entity_id(str(options["type"]), *[str(p) for p in value])
    except ValueError as error:
        raise TransformError(str(error)) from None
    return [reference] if options.get("list") else reference


TRANSFORMS: dict[str, Transform] = {
    "geo_point": geo_point, "postal_address": postal_address, "datetime_utc": datetime_utc, "enum": enum,
    "scale": scale, "price": price, "opening_hours": opening_hours, "station_status": station_status,
    "pseudonym": pseudonym, "max_power_kw": max_power_kw, "entity_ref": entity_ref, "point": point,
    **TARIFF_TRANSFORMS,  # the OCPI tariff model's: mappings/tariff_transforms.py
}
