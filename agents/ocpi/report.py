"""What ``cic agent ocpi --once`` tells a person at the end: per operator its version and the error
that matters, and per module what was quarantined and why — a module can fail without any request
failing (every CDR of a peer that names a field differently), and that must not read as success."""

from __future__ import annotations

import logging
from typing import Any

_REASONS_SHOWN = 3


def summary(operators: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(log level, line) for each line of the summary, from the agent's status of each operator."""
    lines: list[tuple[int, str]] = []
    for item in operators:
        name, error = item["name"], item["last_error"]
        quarantined = sum(m["quarantined"] for m in item["modules"].values())
        lines.append((logging.WARNING if error or quarantined else logging.INFO,
                      f"{name}: OCPI {item['version']}, last error: {error or 'none'}, "
                      f"quarantined: {quarantined}"))
        for module, other in item["errors"].items():
            if other != error:
                lines.append((logging.WARNING, f"{name} {module}: {other}"))
        for module, outcome in item["modules"].items():
            lines += _module_lines(name, module, outcome)
    return lines


def _module_lines(name: str, module: str, outcome: dict[str, Any]) -> list[tuple[int, str]]:
    notes = [(logging.INFO, f"{name} {module}: {note} ({count})") for note, count in outcome["notes"].items()]
    if not outcome["quarantined"]:
        return notes
    reasons = sorted(outcome["reasons"].items(), key=lambda item: -item[1])
    shown = "; ".join(f"{reason} ({count})" for reason, count in reasons[:_REASONS_SHOWN])
    more = f"; {len(reasons) - _REASONS_SHOWN} more reasons" if len(reasons) > _REASONS_SHOWN else ""
    lines = [(logging.WARNING, f"{name} {module}: {outcome['delivered']} of {outcome['fetched']} records delivered, "
                               f"{outcome['quarantined']} quarantined: {shown}{more}")]
    if outcome["fetched"] and not outcome["delivered"]:
        lines.append((logging.ERROR, f"{name} {module}: delivered nothing: all {outcome['fetched']} records "
                                     "quarantined"))
    return lines + notes
