"""Counts as councils' files write them: ``1234``, ``"1,234"``, ``1234.0``; anything else said precisely.

Why lenient on form and strict on meaning: spreadsheet exports quote numbers and add thousands
separators, which say the same count; ``"n/a"``, ``-5`` or ``12.5`` people do not.
"""

from __future__ import annotations

import math
from typing import Any


class NotANumber(ValueError):
    """A value that should be a count and is not; the message quotes it."""


def count(value: Any, what: str) -> int | None:
    """A non-negative whole number, or None when the value is absent (None or blank)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: float
    if isinstance(value, bool):
        raise NotANumber(f"{what} {value!r} is not a number")
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "").replace("_", ""))
        except ValueError:
            raise NotANumber(f"{what} {value!r} is not a number") from None
    else:
        raise NotANumber(f"{what} {value!r} is not a number")
    if not math.isfinite(number) or number != int(number):
        raise NotANumber(f"{what} {value!r} is not a whole number")
    if number < 0:
        raise NotANumber(f"{what} {value!r} is negative")
    return int(number)
