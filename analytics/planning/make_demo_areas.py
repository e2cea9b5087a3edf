"""Writes the demo town's synthetic planning areas (``python -m analytics.planning.make_demo_areas``).

Why synthetic: the simulated stations stand within 5 km of Coventry's centre (agents/ocpi/simulator/
world.py), and real wards would carry real figures the demo does not mean. A 4 x 4 grid of ~2.6 km
cells covers that circle; its inner corners are moved a little (the same corner for every cell that
shares it, so the cells still tile) to look ward-like. Figures are plausible, not real: denser and
with fewer driveways towards the centre, plug-in vehicles growing ~30 % a year, quarterly from 2022.
Same seed, same files.
"""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

CENTRE = (52.4081, -1.5106)  # lat, lon: the simulator's town centre
CELLS = 4
HALF_KM = 5.2
NAMES = ("Keresley Fields", "Holbrook Park", "Foleshill Lane", "Wyken Croft",
         "Allesley Green", "Radford Common", "Hillfields", "Stoke Heath",
         "Tile Hill North", "Earlsdon Vale", "Cheylesmore", "Binley Mill",
         "Canley Woods", "Finham Brook", "Styvechale Grange", "Willenhall Wood")
HERE = Path(__file__).resolve().parent


def _corner(i: int, j: int, rng: random.Random) -> tuple[float, float]:
    step = 2 * HALF_KM / CELLS
    x_km, y_km = -HALF_KM + i * step, -HALF_KM + j * step
    if 0 < i < CELLS and 0 < j < CELLS:
        x_km += rng.uniform(-0.35, 0.35)
        y_km += rng.uniform(-0.35, 0.35)
    lat = CENTRE[0] + y_km / 111.0
    lon = CENTRE[1] + x_km / (111.0 * math.cos(math.radians(CENTRE[0])))
    return round(lon, 6), round(lat, 6)


def build(seed: int = 13) -> tuple[dict[str, object], list[list[str]]]:
    rng = random.Random(seed)
    corners = {(i, j): _corner(i, j, rng) for i in range(CELLS + 1) for j in range(CELLS + 1)}
    features: list[dict[str, object]] = []
    rows = [["area", "date", "count"]]
    for row in range(CELLS):
        for col in range(CELLS):
            j = CELLS - 1 - row  # names read north to south
            ring = [list(corners[col, j]), list(corners[col + 1, j]), list(corners[col + 1, j + 1]),
                    list(corners[col, j + 1]), list(corners[col, j])]
            code = f"DEMO{row * CELLS + col + 1:02d}"
            centre_km = math.hypot(col - 1.5, j - 1.5) * 2 * HALF_KM / CELLS
            density = 4800 * math.exp(-centre_km / 4.0) + rng.uniform(-300, 300)  # people per km²
            population = int(round(density * (2 * HALF_KM / CELLS) ** 2, -1))
            households = population / 2.4
            without = int(households * (0.55 - 0.06 * centre_km + rng.uniform(-0.04, 0.04)))
            features.append({"type": "Feature", "properties": {
                "code": code, "name": NAMES[row * CELLS + col], "population": population,
                "householdsWithoutOffStreetParking": max(without, 0)},
                "geometry": {"type": "Polygon", "coordinates": [ring]}})
            vehicles = households * rng.uniform(0.012, 0.022) * (1.4 - 0.08 * centre_km)
            for year in range(2022, 2026):
                for quarter in range(1, 5):
                    rows.append([code, f"{year} Q{quarter}", str(int(vehicles))])
                    vehicles *= 1.3 ** 0.25 * rng.uniform(0.98, 1.03)
    return {"type": "FeatureCollection", "features": features}, rows


def main() -> None:
    collection, rows = build()
    (HERE / "demo-areas.geojson").write_text(json.dumps(collection, indent=1) + "\n", "utf-8")
    with (HERE / "demo-registrations.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


if __name__ == "__main__":
    main()
