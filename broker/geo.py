"""Geo-queries (``georel``, ``geometry``, ``coordinates``, ``geoproperty``) with shapely.

Distances for ``near`` are metres on a local equirectangular projection centred on the query
geometry: within a city (the scale of every query this product makes) its error is far below
the GPS error of the data itself, and it keeps every relation a plain shapely call.

A compiled :class:`GeoQuery` also says which box a matching geometry must touch
(:meth:`GeoQuery.window`), so a spatial index can hand it the few candidates near the reference
instead of every entity; the relation itself is still decided by shapely, as before.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from shapely import ops
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from .errors import BadRequestData

_RELATIONS = {"within", "contains", "intersects", "disjoint", "equals", "overlaps"}
_GEOMETRIES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0

GeoPredicate = Callable[[dict[str, Any]], bool]
Box = tuple[float, float, float, float]  # min x (longitude), min y, max x, max y
_MARGIN = 1e-7  # degrees (~1 cm) added around a window: rounding never loses a candidate on its edge


class GeoQuery:
    """A compiled geo-query: call it on an entity; ``geoproperty`` and :meth:`window` serve indexes."""

    def __init__(self, test: GeoPredicate, geoproperty: str, relation: str, reference: BaseGeometry,
                 max_distance: float | None) -> None:
        self.test = test
        self.geoproperty = geoproperty
        self._relation = relation
        self._reference = reference
        self._max_distance = max_distance

    def __call__(self, entity: dict[str, Any]) -> bool:
        return self.test(entity)

    def window(self) -> Box | None:
        """The box every geometry that can match intersects, or None when any geometry may
        (``disjoint``, or ``near`` with only a minimum distance)."""
        min_x, min_y, max_x, max_y = self._reference.bounds
        if self._relation == "disjoint" or (self._relation == "near" and self._max_distance is None):
            return None
        dx = dy = 0.0
        if self._relation == "near":
            distance = self._max_distance or 0.0
            kx = _M_PER_DEG_LON_EQ * math.cos(math.radians(self._reference.centroid.y))
            if kx < 1.0:  # at a pole a metre is any longitude
                return None
            dx, dy = distance / kx, distance / _M_PER_DEG_LAT
        return (min_x - dx - _MARGIN, min_y - dy - _MARGIN, max_x + dx + _MARGIN, max_y + dy + _MARGIN)


def _metres(reference: BaseGeometry) -> Callable[[BaseGeometry], BaseGeometry]:
    lat0 = math.radians(reference.centroid.y)
    kx = _M_PER_DEG_LON_EQ * math.cos(lat0)
    return lambda g: ops.transform(lambda x, y, z=None: (x * kx, y * _M_PER_DEG_LAT), g)


def _parse_georel(georel: str) -> tuple[str, float | None, float | None]:
    parts = georel.split(";")
    relation = parts[0]
    if relation == "near":
        max_d = min_d = None
        for part in parts[1:]:
            key, sep, number = part.partition("==")
            try:
                distance = float(number)
            except ValueError:
                raise BadRequestData(f"georel '{georel}': distance '{number}' is not a number") from None
            if not sep or key not in ("maxDistance", "minDistance") or distance < 0:
                raise BadRequestData(f"georel '{georel}': expected near;maxDistance==N or minDistance==N")
            if key == "maxDistance":
                max_d = distance
            else:
                min_d = distance
        if max_d is None and min_d is None:
            raise BadRequestData(f"georel '{georel}': near needs maxDistance or minDistance")
        return relation, max_d, min_d
    if relation not in _RELATIONS or len(parts) > 1:
        raise BadRequestData(f"georel '{georel}' is not one of near, {', '.join(sorted(_RELATIONS))}")
    return relation, None, None


def parse_geometry(geometry: str | None, coordinates: str | None) -> BaseGeometry:
    if geometry not in _GEOMETRIES:
        raise BadRequestData(f"geometry '{geometry}' must be one of {', '.join(sorted(_GEOMETRIES))}")
    if not coordinates:
        raise BadRequestData("a geo-query needs 'coordinates'")
    try:
        reference = shape({"type": geometry, "coordinates": json.loads(coordinates)})
    except Exception as error:  # JSON and shapely both raise assorted types on malformed input
        raise BadRequestData(f"coordinates '{coordinates}' are not valid for {geometry} ({error})") from None
    # An empty or self-intersecting geometry parses, then makes GEOS throw inside the predicates
    # (``getY called on empty Point``): refuse it here, saying what is wrong with it.
    if reference.is_empty:
        raise BadRequestData(f"coordinates '{coordinates}' make an empty {geometry}")
    if not reference.is_valid:
        raise BadRequestData(f"coordinates '{coordinates}' make an invalid {geometry} ({explain_validity(reference)})")
    return reference


def compile_geo(georel: str | None, geometry: str | None, coordinates: str | None,
                geoproperty_iri: str) -> GeoQuery | None:
    """Predicate over stored entities, or None when the request has no geo-query."""
    if georel is None and geometry is None and coordinates is None:
        return None
    if georel is None:
        raise BadRequestData("a geo-query needs 'georel' together with 'geometry' and 'coordinates'")
    relation, max_d, min_d = _parse_georel(georel)
    reference = parse_geometry(geometry, coordinates)
    to_metres = _metres(reference)
    reference_m = to_metres(reference)

    def geometries(entity: dict[str, Any]) -> list[BaseGeometry]:
        return [shape(i["value"]) for i in entity["attrs"].get(geoproperty_iri, ())
                if i.get("type") == "GeoProperty"]

    def test(candidate: BaseGeometry) -> bool:
        if relation == "near":
            distance = to_metres(candidate).distance(reference_m)
            return (max_d is None or distance <= max_d) and (min_d is None or distance >= min_d)
        if relation == "equals":
            return bool(candidate.equals(reference))
        return bool(getattr(candidate, relation)(reference))

    return GeoQuery(lambda entity: any(test(g) for g in geometries(entity)), geoproperty_iri, relation, reference,
                    max_d)
