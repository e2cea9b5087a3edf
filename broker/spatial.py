"""A spatial index of one GeoProperty of one tenant: bounding boxes in a grid, kept current on write.

Why: a geo-query used to parse every entity's geometry with shapely (3 s at 100k entities). This
index keeps each entity's bounding box (all instances of the GeoProperty together) filed under
the grid cells (:data:`CELL` degrees, ~1 km: the scale of a city's queries) it covers, and
answers "which boxes touch this window" from the window's cells, in O(cells + candidates);
shapely then decides the relation for those few candidates only. The boxes are exact (doubles),
so the candidates are a superset of the matches, never fewer.

Why a grid and not SQLite's R*Tree: measured here, an R*Tree insert costs 30-50 µs (4-5 s to
index 100k entities at the first geo-query, and a delete + insert on every write of a geometry),
a grid insert ~1 µs; a box over more than :data:`MAX_CELLS` cells (a whole district) is kept
apart and tested on its own, so neither big nor dense data degrades it much.

A geometry whose box cannot be read (a GeoJSON value without usable coordinates) is kept apart
and is a candidate of every window, so it is decided by shapely as before.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .geo import Box

_NUMBERS = (int, float)
CELL = 0.01  # degrees
MAX_CELLS = 64
Cell = tuple[int, int]


def bounding_box(instances: Iterable[dict[str, Any]]) -> tuple[bool, Box | None]:
    """(readable, box) of the GeoProperty instances of an attribute; (True, None): no geometry."""
    xs: list[float] = []
    ys: list[float] = []
    for instance in instances:
        if instance.get("type") != "GeoProperty":
            continue
        value = instance.get("value")
        if not isinstance(value, dict):
            return False, None
        coordinates = value.get("coordinates")
        if value.get("type") == "Point" and type(coordinates) is list and len(coordinates) in (2, 3) \
                and type(coordinates[0]) in _NUMBERS and type(coordinates[1]) in _NUMBERS:
            xs.append(coordinates[0])  # the common case, without the walk below
            ys.append(coordinates[1])
        elif not _collect(coordinates, xs, ys):
            return False, None
    if not xs:
        return True, None
    return True, (min(xs), min(ys), max(xs), max(ys))


def _collect(node: Any, xs: list[float], ys: list[float]) -> bool:
    """Append the positions of nested GeoJSON coordinates; False if they are not coordinates."""
    if not isinstance(node, list) or not node:
        return False
    if all(isinstance(n, int | float) and not isinstance(n, bool) for n in node):
        if len(node) < 2:
            return False
        xs.append(float(node[0]))
        ys.append(float(node[1]))
        return True
    return all(_collect(child, xs, ys) for child in node)


class SpatialIndex:
    """Boxes of one GeoProperty by entity, filed in the grid cells they cover."""

    def __init__(self, geoproperty: str) -> None:
        self.geoproperty = geoproperty
        self._boxes: dict[str, Box] = {}
        self._cells: dict[Cell, set[str]] = {}
        self._large: set[str] = set()  # boxes over more than MAX_CELLS cells: tested one by one
        self._unboxed: set[str] = set()

    def place(self, entity_id: str, instances: list[dict[str, Any]] | None) -> None:
        """The entity's instances of the GeoProperty now (None: it has none, or is gone)."""
        readable, box = (True, None) if instances is None else bounding_box(instances)
        old = self._boxes.get(entity_id)
        if box is not None and box == old:
            return  # rewritten with the same geometry (most writes)
        if old is not None:
            del self._boxes[entity_id]
            cells = _cells(old)
            if cells is None:
                self._large.discard(entity_id)
            for cell in cells or ():
                holders = self._cells[cell]
                holders.discard(entity_id)
                if not holders:
                    del self._cells[cell]
        self._unboxed.discard(entity_id)
        if not readable:
            self._unboxed.add(entity_id)
        elif box is not None:
            self._boxes[entity_id] = box
            cells = _cells(box)
            if cells is None:
                self._large.add(entity_id)
            for cell in cells or ():
                self._cells.setdefault(cell, set()).add(entity_id)

    def candidates(self, window: Box) -> set[str]:
        """Entities whose geometry may touch the window (a superset of those that do)."""
        cells = _cells(window, limit=max(MAX_CELLS, len(self._cells)))
        if cells is None:  # a window over more cells than are filled: visit the filled ones
            low_x, low_y, high_x, high_y = _cell_range(window)
            cells = [c for c in self._cells if low_x <= c[0] <= high_x and low_y <= c[1] <= high_y]
        boxes = self._boxes
        found = {i for cell in cells for i in self._cells.get(cell, ()) if _touch(boxes[i], window)}
        found.update(i for i in self._large if _touch(boxes[i], window))
        found.update(self._unboxed)
        return found


def _cell_range(box: Box) -> tuple[int, int, int, int]:
    return (math.floor(box[0] / CELL), math.floor(box[1] / CELL), math.floor(box[2] / CELL),
            math.floor(box[3] / CELL))


def _cells(box: Box, limit: int = MAX_CELLS) -> list[Cell] | None:
    """The cells a box covers, or None when they are more than ``limit``."""
    low_x, low_y, high_x, high_y = _cell_range(box)
    if (high_x - low_x + 1) * (high_y - low_y + 1) > limit:
        return None
    return [(x, y) for x in range(low_x, high_x + 1) for y in range(low_y, high_y + 1)]


def _touch(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
