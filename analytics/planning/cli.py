"""``cic areas import``, ``cic areas stations`` and ``cic plan``: what a person runs, and what they read back.

Why print before writing: the report of what was kept and skipped is the user's check of their
own files; a refused file prints its reasons and exits 2 (a mistake to fix), a broker that refuses
writes exits 1.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError
from citiesincharge.settings import Settings

from .area_tables import Households, Registrations, TableFileError, load_households, load_registrations
from .areas_file import AreasFileError, load_areas
from .entities import import_areas
from .placement import place_stations, write_counts
from .plan import describe, plan_client, run

DEMO_AREAS = Path(__file__).resolve().parent / "demo-areas.geojson"
DEMO_REGISTRATIONS = Path(__file__).resolve().parent / "demo-registrations.csv"


class BrokerFailed(Exception):
    """The broker failed a command's reads or writes; already said on stderr."""


@contextmanager
def _broker(settings: Settings, given: NgsiLdClient | None) -> Iterator[NgsiLdClient]:
    """The client to use (the caller's, or a batch client closed afterwards); a broker error is said in
    one line (``BrokerFailed``), never a traceback: a broker away, too busy, or a tenant never written."""
    client = given or plan_client(settings)
    try:
        yield client
    except NgsiLdClientError as error:
        print(f"error: {client.base}: {error}", file=sys.stderr)
        raise BrokerFailed from None
    finally:
        if given is None:
            client.close()


def _no_areas(settings: Settings) -> int:
    print(f"no PlanningArea of council {settings.council_id!r} in the broker: run cic areas import first",
          file=sys.stderr)
    return 1


@dataclass
class ImportOptions:
    areas: Path
    registrations: Path | None = None
    population: Path | None = None
    country: str | None = None
    dry_run: bool = False


def import_main(settings: Settings, options: ImportOptions, client: NgsiLdClient | None = None) -> int:
    country = (options.country or settings.council_country).upper()
    try:
        report = load_areas(options.areas, country)
        codes = {a.code for a in report.areas}
        registrations: Registrations | None = (
            load_registrations(options.registrations, codes) if options.registrations else None)
        households: Households | None = load_households(options.population, codes) if options.population else None
    except (AreasFileError, TableFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in report.lines() + (households.report.lines() if households else []) + (
            registrations.report.lines() if registrations else []):
        print(line)
    if options.dry_run:
        print("dry run: nothing written")
        return 0
    try:
        with _broker(settings, client) as broker:
            result = import_areas(broker, report.areas, settings.council_id, registrations=registrations,
                                  households=households)
    except BrokerFailed:
        return 1
    print(f"wrote {result.areas} PlanningArea entities of council {settings.council_id!r} to {broker.base}, "
          f"{result.instances} new plugInVehicles instances")
    for failure in result.failed:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if result.failed else 0


def stations_main(settings: Settings, *, write: bool = True, client: NgsiLdClient | None = None) -> int:
    try:
        with _broker(settings, client) as broker:
            placement = place_stations(broker, settings.council_id)
            failed = write_counts(broker, placement, datetime.now(UTC)) if write and placement.stations else []
    except BrokerFailed:
        return 1
    if not placement.stations:
        return _no_areas(settings)
    width = max(len(name) for name in placement.names.values())
    print(f"{'area':<{width}}  stations  chargers")
    for area_id, stations in placement.stations.items():
        print(f"{placement.names[area_id]:<{width}}  {len(stations):>8}  {placement.chargers[area_id]:>8}")
    total = sum(len(s) for s in placement.stations.values())
    print(f"{total} stations in {len(placement.stations)} areas"
          + (f"; {placement.shared} claimed by two areas (border or overlap), counted once" if placement.shared
             else ""))
    for failure in failed:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failed else 0


def plan_main(settings: Settings, *, at: datetime | None = None, write: bool = True,
              client: NgsiLdClient | None = None) -> int:
    """``cic plan``: rank the council's areas now (or as of ``at``), print why, and write it to the context."""
    try:
        with _broker(settings, client) as broker:
            result = run(broker, settings, at or settings.world_clock().now(),
                         write=None if write else (lambda _entities: None))
    except BrokerFailed:
        return 1
    if not result.ranking:
        return _no_areas(settings)
    for line in describe(result):
        print(line)
    if write:
        print(f"wrote the plan to {broker.base}: planScore, planRank, planReasons, recommendedChargerKind on "
              f"{len(result.ranking)} PlanningArea entities, their monthly KPIs and yearly DemandForecasts")
    for failure in result.failed:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if result.failed else 0
