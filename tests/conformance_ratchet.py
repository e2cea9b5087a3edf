"""The NGSI-LD conformance ratchet: compare a run of the ETSI suite with the recorded pass counts.

``make conformance`` runs the suite (``../shared/conformance/run``, every area), which writes
``.conformance/summary.json``; this then compares each area's pass count with
``conformance/passed.json``. A drop in any area (or an area that was not run) fails with exit 1
and says which area fell by how much; a rise passes and reminds whoever ran it to raise the record
(``python -m tests.conformance_ratchet --update``), so the record only ever goes up.

Kept out of pytest's collection (no ``test_`` prefix): it reads a run's output, it is not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORD = Path("conformance/passed.json")
SUMMARY = Path(".conformance/summary.json")


@dataclass
class Verdict:
    """What a run says against the record: ``drops`` fail, ``rises`` and ``new`` ask for an update."""

    drops: list[str] = field(default_factory=list)
    rises: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drops


def measured(summary: dict[str, Any]) -> dict[str, int]:
    """Pass count per area of a runner's summary.json."""
    return {area: int(result["passed"]) for area, result in summary.items()}


def compare(record: dict[str, Any], counts: dict[str, int]) -> Verdict:
    """Each recorded area against the run's count, then the total over the recorded areas."""
    verdict = Verdict()
    recorded: dict[str, int] = record["areas"]
    total = sum(counts.get(area, 0) for area in recorded)
    for name, got, floor in [*((a, counts.get(a), f) for a, f in recorded.items()), ("total", total, record["total"])]:
        if got is None:
            verdict.drops.append(f"{name}: not run (recorded {floor} passed)")
        elif got != floor:
            side = verdict.drops if got < floor else verdict.rises
            side.append(f"{name}: {got} passed, {abs(got - floor)} {'fewer' if got < floor else 'more'} than "
                        f"the recorded {floor}")
    verdict.new = [f"{area}: {got} passed (not in the record yet)" for area, got in counts.items()
                   if area not in recorded]
    return verdict


def updated(record: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    """The record raised to this run: an area's count never goes down, new areas are added."""
    areas = {area: max(record.get("areas", {}).get(area, 0), got) for area, got in counts.items()}
    for area, floor in record.get("areas", {}).items():
        areas.setdefault(area, floor)
    return {**record, "areas": dict(sorted(areas.items())), "total": sum(areas.values())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance_ratchet", description=__doc__.split("\n")[0])
    parser.add_argument("--summary", type=Path, default=SUMMARY, help="the runner's summary.json")
    parser.add_argument("--record", type=Path, default=RECORD, help="the committed pass counts")
    parser.add_argument("--update", action="store_true", help="raise the record to this run (never lowers it)")
    args = parser.parse_args(argv)
    if not args.summary.is_file():
        print(f"conformance ratchet: {args.summary} not found; run `make conformance` first", file=sys.stderr)
        return 2
    counts = measured(json.loads(args.summary.read_text("utf-8")))
    record = json.loads(args.record.read_text("utf-8")) if args.record.is_file() else {"areas": {}, "total": 0}
    if args.update:
        args.record.write_text(json.dumps(updated(record, counts), indent=2) + "\n", "utf-8")
        print(f"conformance ratchet: {args.record} raised to this run")
        return 0
    verdict = compare(record, counts)
    for line in verdict.drops:
        print(f"conformance ratchet: DROPPED {line}", file=sys.stderr)
    for line in verdict.rises + verdict.new:
        print(f"conformance ratchet: {line}")
    if verdict.ok and (verdict.rises or verdict.new):
        print(f"conformance ratchet: raise the record: python -m tests.conformance_ratchet --update, "
              f"then commit {args.record}")
    elif verdict.ok:
        print("conformance ratchet: every area at its recorded count")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
