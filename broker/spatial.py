"""A spatial index of one GeoProperty of one tenant: SQLite's R*Tree, in memory, kept current on write.

Why: a geo-query used to parse every entity's geometry with shapely (3 s at 100k entities). The
R*Tree holds each entity's bounding box (all instances of the GeoProperty together) and answers
"which boxes touch this window" in O(log n + matches); shapely then decides the relation for
those few candidates only. SQLite stores boxes as 32-bit floats rounded outwards, so a box only
ever grows: the candidates are a superset of the matches, never fewer.

A geometry whose box cannot be read (a GeoJSON value without usable coordinates) is kept apart
and is a candidate of every window, so it is decided by shapely as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from .geo import Box


def bounding_box(instances: Iterable[dict[str, Any]]) -> tuple[bool, Box | None]:
    """(readable, box) of the GeoProperty instances of an attribute; (True, None): no geometry."""
    xs: list[float] = []
    ys: list[float] = []
    for instance in instances:
        if instance.get("type") != "GeoProperty":
            continue
        value = instance.get("value")
        if not isinstance(value, dict) or not _collect(value.get("coordinates"), xs, ys) or not xs:
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
    """Boxes of one GeoProperty, by entity; an entity's row id is its ordinal in the tenant."""

    def __init__(self, geoproperty: str) -> None:
        self.geoproperty = geoproperty
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute("CREATE VIRTUAL TABLE boxes USING rtree(n, min_x, max_x, min_y, max_y, +entity TEXT)")
        self._unboxed: set[str] = set()

    def update(self, rows: list[tuple[int, str, list[dict[str, Any]] | None]]) -> None:
        """Set the box of each (ordinal, entity id, instances or None when gone)."""
        deletes: list[tuple[int]] = []
        inserts: list[tuple[int, float, float, float, float, str]] = []
        for number, entity_id, instances in rows:
            deletes.append((number,))
            self._unboxed.discard(entity_id)
            if instances is None:
                continue
            readable, box = bounding_box(instances)
            if not readable:
                self._unboxed.add(entity_id)
            elif box is not None:
                inserts.append((number, box[0], box[2], box[1], box[3], entity_id))
        self._db.executemany("DELETE FROM boxes WHERE n = ?", deletes)
        self._db.executemany("INSERT INTO boxes VALUES (?, ?, ?, ?, ?, ?)", inserts)

    def candidates(self, window: Box) -> set[str]:
        """Entities whose geometry may touch the window (a superset of those that do)."""
        min_x, min_y, max_x, max_y = window
        rows = self._db.execute("SELECT entity FROM boxes WHERE max_x >= ? AND min_x <= ? AND max_y >= ? "
                                "AND min_y <= ?", (min_x, max_x, min_y, max_y))
        found = {row[0] for row in rows}
        found.update(self._unboxed)
        return found

    def close(self) -> None:
        self._db.close()
