"""Checks of a GeoJSON Polygon/MultiPolygon as councils export them, each fault said precisely.

Why not just shapely: shapely accepts an unclosed ring (it closes it), lon/lat given the wrong way
round and British National Grid metres alike, and an invalid polygon only says ``Self-intersection
[x y]``. Here the structure is walked first (which ring, which position), then the country's
bounds catch swapped or projected coordinates, then shapely's validity names where it breaks.
"""

from __future__ import annotations

import math
import re
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

#: (west, south, east, north) of a country's territory in WGS84, for the "is it swapped?" test;
#: generous boxes: they catch coordinates in the wrong order or the wrong system, not borders.
COUNTRY_BOUNDS: dict[str, tuple[float, float, float, float]] = {
    "GB": (-8.7, 49.8, 1.8, 60.9), "IE": (-10.7, 51.3, -5.9, 55.5), "FR": (-5.3, 41.3, 9.7, 51.2),
    "DE": (5.8, 47.2, 15.1, 55.1), "NL": (3.3, 50.7, 7.3, 53.6), "BE": (2.5, 49.4, 6.5, 51.6),
    "ES": (-9.4, 35.9, 4.4, 43.9), "PT": (-9.6, 36.9, -6.1, 42.2), "IT": (6.6, 36.6, 18.6, 47.1),
    "DK": (8.0, 54.5, 15.3, 57.8), "NO": (4.5, 57.9, 31.2, 71.2), "SE": (10.9, 55.3, 24.2, 69.1),
    "AT": (9.5, 46.3, 17.2, 49.1), "CH": (5.9, 45.8, 10.5, 47.9), "PL": (14.1, 49.0, 24.2, 54.9),
}
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0
_WHERE = re.compile(r"^(?P<what>.*?)\[(?P<x>\S+) (?P<y>\S+)\]$")


class GeometryFault(ValueError):
    """What is wrong with one feature's geometry, in words that point at the place."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _ring(ring: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(ring, list) or len(ring) < 4:
        count = len(ring) if isinstance(ring, list) else 0
        raise GeometryFault(f"{where} has {count} positions; a ring needs at least 4 (the first repeated last)")
    points: list[tuple[float, float]] = []
    for n, position in enumerate(ring, 1):
        if not isinstance(position, list) or len(position) not in (2, 3) or not all(map(_number, position)):
            raise GeometryFault(f"{where}, position {n}: {position!r} is not [lon, lat] numbers")
        points.append((float(position[0]), float(position[1])))
    if points[0] != points[-1]:
        raise GeometryFault(f"{where} is not closed: it starts at {list(points[0])} and ends at {list(points[-1])} "
                            "(GeoJSON repeats the first position last)")
    return points


def _polygons(geometry: Any) -> list[list[list[tuple[float, float]]]]:
    """The rings of every polygon, checked for shape; Polygon is one polygon of a MultiPolygon."""
    if not isinstance(geometry, dict):
        raise GeometryFault("no geometry" if geometry is None else f"geometry {geometry!r} is not an object")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryFault(f"geometry is {kind!r}, not a Polygon or MultiPolygon")
    parts = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(parts, list) or not parts or not all(isinstance(p, list) and p for p in parts):
        raise GeometryFault(f"{kind} coordinates are not {'a list of rings' if kind == 'Polygon' else 'polygons'}")
    polygons = []
    for p, rings in enumerate(parts, 1):
        prefix = f"polygon {p}, " if kind == "MultiPolygon" else ""
        polygons.append([_ring(ring, f"{prefix}{'outer ring' if r == 0 else f'hole {r}'}")
                         for r, ring in enumerate(rings)])
    return polygons


def _placement(points: list[tuple[float, float]], country: str | None) -> None:
    """Refuse projected, swapped or foreign coordinates, saying which it looks like."""
    x, y = points[0]
    if any(abs(px) > 180 or abs(py) > 180 for px, py in points):
        raise GeometryFault(f"position {[x, y]} is not longitude/latitude: the coordinates look projected (e.g. "
                            "British National Grid metres); GeoJSON is WGS84 lon/lat (RFC 7946), reproject "
                            "with e.g. ogr2ogr -t_srs EPSG:4326")
    if any(abs(py) > 90 for _px, py in points):
        bad = next((px, py) for px, py in points if abs(py) > 90)
        raise GeometryFault(f"position {list(bad)} has latitude {bad[1]} outside -90..90: lon/lat swapped? "
                            "GeoJSON is [lon, lat]")
    bounds = COUNTRY_BOUNDS.get(country or "")
    if bounds is None:
        return
    west, south, east, north = bounds

    def inside(px: float, py: float) -> bool:
        return west <= px <= east and south <= py <= north

    outside = [(px, py) for px, py in points if not inside(px, py)]
    if not outside:
        return
    px, py = outside[0]
    if all(inside(qy, qx) for qx, qy in points):
        raise GeometryFault(f"lon/lat swapped: position {[px, py]} reads as [lat, lon] ({country} is at lon "
                            f"{west}..{east}, lat {south}..{north}); GeoJSON is [lon, lat]")
    raise GeometryFault(f"position {[px, py]} is outside {country} (lon {west}..{east}, lat {south}..{north})")


def check(geometry: Any, country: str | None) -> BaseGeometry:
    """The feature's geometry as shapely, or :class:`GeometryFault` naming the first fault."""
    polygons = _polygons(geometry)
    _placement([point for rings in polygons for ring in rings for point in ring], country)
    made = shape({"type": geometry["type"], "coordinates": geometry["coordinates"]})
    if not made.is_valid:
        reason = explain_validity(made)
        match = _WHERE.match(reason)
        if match:
            reason = f"{match['what'].lower()} at lon {float(match['x']):.6f}, lat {float(match['y']):.6f}"
        raise GeometryFault(f"invalid polygon: {reason}")
    if made.area == 0:
        raise GeometryFault("polygon has no area")
    return made


def area_km2(geometry: BaseGeometry) -> float:
    """Area on a local equirectangular projection about the centroid: within a town or a county its error
    is far below what matters for planning (and no projection library is needed)."""
    kx = _M_PER_DEG_LON_EQ * math.cos(math.radians(geometry.centroid.y))
    return float(geometry.area * kx * _M_PER_DEG_LAT / 1e6)
