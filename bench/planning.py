"""Roll-out planning benchmark (issue 13 §4): 1,000 areas x 5,000 chargers x one year of hourly occupancy.

The council: a 40 x 25 grid of ~1 km cells (1,000 planning areas) around Coventry; 2,500 stations of
2 EVSEs each, denser towards the centre, so some areas have many chargers and some none; a year of
status changes per EVSE (about three sessions a day of 30 min to 4 h, evening-heavy, and an outage a
month of up to a day): ~11 million changes (sessions are drawn independently and may overlap; the
status then follows the latest change, as a real feed's would). Each area has a population, households without
off-street parking and quarterly plug-in vehicle registrations; each station twelve months of
energy figures.

Timed: the status changes to intervals, hourly occupancy and saturation, coverage distances, growth
projections, then the scores and ranking — everything ``cic plan`` computes after reading the broker
(``analytics.planning.indicators.compute`` and ``scoring.assess``), on one core. Target: under a
minute. Printed: each stage's time, the peak memory, and what the plan found.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as cic plan runs: one BLAS thread
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import resource
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
from shapely.geometry import box

from analytics.planning.indicators import AreaInput, ChargerInput, PlanInputs, compute
from analytics.planning.occupancy import DOWN_CODE, FREE, OCCUPIED_CODE, StatusChanges
from analytics.planning.scoring import assess, criteria_values

START = datetime(2025, 12, 1, tzinfo=UTC)
END = START + timedelta(days=365)
WEST, SOUTH = -1.80, 52.30
CELL_LON, CELL_LAT = 0.0147, 0.009  # ~1 km at 52.4 N


def areas(columns: int, rows: int, rng: np.random.Generator) -> list[AreaInput]:
    out = []
    quarters = [date(2023 + q // 4, 3 * (q % 4) + 1, 1) for q in range(12)]
    for row in range(rows):
        for column in range(columns):
            west, south = WEST + column * CELL_LON, SOUTH + row * CELL_LAT
            area = AreaInput(f"urn:ngsi-ld:PlanningArea:bench:{row:02d}-{column:02d}", f"cell {row}-{column}",
                             box(west, south, west + CELL_LON, south + CELL_LAT))
            area.population = int(rng.integers(500, 6000))
            area.households_without_parking = int(area.population * rng.uniform(0.02, 0.25))
            base = rng.uniform(20, 300)
            area.vehicles = [(q, int(base * 1.3 ** (n / 4))) for n, q in enumerate(quarters)]
            out.append(area)
    return out


def stations(count: int, columns: int, rows: int, rng: np.random.Generator) -> np.ndarray:
    centre = np.array([WEST + columns * CELL_LON / 2, SOUTH + rows * CELL_LAT / 2])
    spread = np.array([columns * CELL_LON, rows * CELL_LAT]) / 5
    points = centre + rng.standard_normal((count, 2)) * spread
    low, high = np.array([WEST, SOUTH]), np.array([WEST + columns * CELL_LON, SOUTH + rows * CELL_LAT])
    return np.clip(points, low + 1e-6, high - 1e-6)


def status_changes(chargers: int, rng: np.random.Generator) -> StatusChanges:
    """About three sessions a day per charger (evening-heavy) and an outage a month, as change arrays."""
    days = (END - START).days
    sessions = rng.poisson(3.0, size=(chargers, days))
    per = sessions.ravel()
    charger = np.repeat(np.repeat(np.arange(chargers), days), per)
    day = np.repeat(np.tile(np.arange(days), chargers), per)
    hour = np.clip(rng.normal(16, 4.5, len(charger)), 0, 23.5)
    begin = START.timestamp() + day * 86400 + hour * 3600
    length = rng.uniform(0.5, 4.0, len(charger)) * 3600
    outages = rng.poisson(1.0, size=(chargers, 12)).ravel()
    down_charger = np.repeat(np.repeat(np.arange(chargers), 12), outages)
    down_begin = START.timestamp() + rng.uniform(0, days * 86400, len(down_charger))
    down_length = rng.uniform(1, 24, len(down_charger)) * 3600
    before = np.arange(chargers)
    return StatusChanges(
        np.concatenate([before, charger, charger, down_charger, down_charger]),
        np.concatenate([np.full(chargers, START.timestamp() - 86400), begin, begin + length, down_begin,
                        down_begin + down_length]),
        np.concatenate([np.full(chargers, FREE), np.full(len(charger), OCCUPIED_CODE),
                        np.full(len(charger), FREE), np.full(len(down_charger), DOWN_CODE),
                        np.full(len(down_charger), FREE)]).astype(np.int8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=40)
    parser.add_argument("--rows", type=int, default=25)
    parser.add_argument("--stations", type=int, default=2500, help="stations of 2 EVSEs each")
    args = parser.parse_args()
    rng = np.random.default_rng(13)
    made = time.perf_counter()
    council = areas(args.columns, args.rows, rng)
    points = stations(args.stations, args.columns, args.rows, rng)
    cell = np.floor((points - [WEST, SOUTH]) / [CELL_LON, CELL_LAT]).astype(int)
    area_of_station = cell[:, 1] * args.columns + cell[:, 0]
    chargers = [ChargerInput(f"evse-{s}-{e}", int(area_of_station[s]), 150.0 if s % 10 == 0 else 22.0,
                             position=(float(points[s, 0]), float(points[s, 1])))
                for s in range(args.stations) for e in range(2)]
    changes = status_changes(len(chargers), rng)
    per_area = np.bincount(area_of_station, minlength=len(council))
    months = [date(2024 + (11 + m) // 12, (11 + m) % 12 + 1, 1) for m in range(13)]
    energy = [[(m, float(n * rng.uniform(800, 1200)), int(n * 90)) for m in months] if n else []
              for n in per_area]
    inputs = PlanInputs(areas=council, chargers=chargers, stations_lonlat=points,
                        stations_per_area=[int(n) for n in per_area], start=START, end=END,
                        now=END, energy=energy, period_month=months[-1], changes=changes)
    print(f"{len(council):,} areas, {len(chargers):,} chargers in {args.stations:,} stations, "
          f"{len(changes.moment):,} status changes over {(END - START).days} days "
          f"({(END - START).days * 24:,} hours); made in {time.perf_counter() - made:.1f} s")
    began = time.perf_counter()
    figures = compute(inputs)
    computed = time.perf_counter()
    ranking = assess([a.id for a in council], [criteria_values(f.values) for f in figures])
    ranked = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    saturation = [f.values["saturation"] for f in figures if f.values["saturation"] is not None]
    gaps = sum(1 for f in figures if (f.values["coverageGapShare"] or 0) > 0.5)
    print(f"{'stage':<38}{'seconds':>9}")
    print(f"{'indicators (occupancy, coverage, growth)':<38}{computed - began:>9.1f}")
    print(f"{'scores, reasons and ranking':<38}{ranked - computed:>9.2f}")
    print(f"{'total':<38}{ranked - began:>9.1f}   (target < 60 s)")
    print(f"peak memory {peak_mb:,.0f} MB; areas with chargers {sum(1 for n in per_area if n):,}, "
          f"median saturation {np.median(saturation):.1%}, areas with >50 % coverage gap {gaps:,}")
    top = ranking[0]
    print(f"first: {top.area} score {top.score} ({top.kind}): "
          + "; ".join(r.words() for r in top.reasons))


if __name__ == "__main__":
    main()
