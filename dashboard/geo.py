"""Where an area's label goes on a map: the centroid of its largest part's outer ring.

Why here and not left to Leaflet: Leaflet labels a MultiPolygon at its first part, which may be a
small detached island, and warns in the console; the largest part is where a reader looks. Plain
planar formulas on lon/lat are enough at town scale (the label only has to sit inside the area).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any


def _area_and_centroid(ring: list[list[float]]) -> tuple[float, float, float]:
    """Signed area (degrees²) and centroid (lon, lat) of a closed ring, by the shoelace formula."""
    twice, cx, cy = 0.0, 0.0, 0.0
    for (x0, y0), (x1, y1) in pairwise(ring):
        cross = x0 * y1 - x1 * y0
        twice += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if twice == 0:  # degenerate: the mean of its points
        return 0.0, sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    return twice / 2, cx / (3 * twice), cy / (3 * twice)


def label_point(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) of the label of a GeoJSON Polygon or MultiPolygon; None if it has no ring."""
    parts = [geometry["coordinates"]] if geometry.get("type") == "Polygon" else geometry.get("coordinates") or []
    rings = [part[0] for part in parts if part and len(part[0]) >= 4]
    if not rings:
        return None
    _, lon, lat = max((_area_and_centroid(ring) for ring in rings), key=lambda found: abs(found[0]))
    return lat, lon
