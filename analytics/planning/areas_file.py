"""A council's planning areas from a GeoJSON FeatureCollection: recognised, checked, said.

Why this shape: the file is made by hand or by a GIS export (wards, LSOAs, a grid), so every
feature is checked on its own and a bad one is skipped with its index, its code and the fault,
like a bad row of ``cic forecast --sessions``; the file is refused only when it is not a
FeatureCollection or no area is left. Property names vary between exports, so the usual ones are
recognised (case and punctuation ignored, ONS ``…CD``/``…NM`` columns included).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from shapely.geometry.base import BaseGeometry

from .geometry import GeometryFault, area_km2, check
from .numbers import NotANumber, count

CODE_KEYS = ("code", "areacode", "id", "areaid", "gsscode", "wardcode", "lsoacode", "datazone", "zonecode", "ref")
NAME_KEYS = ("name", "areaname", "wardname", "lsoaname", "zonename", "label", "title")
POPULATION_KEYS = ("population", "residents", "usualresidents", "totalpopulation", "pop")
HOUSEHOLDS_KEYS = ("householdswithoutoffstreetparking", "householdsnooffstreetparking", "nooffstreetparking",
                   "withoutoffstreetparking", "onstreetonlyhouseholds")
_ONS_CODE = re.compile(r"^[a-z]{2,6}\d{2}cd$")  # LSOA21CD, WD23CD, DZ22CD ...
_ONS_NAME = re.compile(r"^[a-z]{2,6}\d{2}nm$")
#: characters an area code may hold: the id stays a URN that pastes into a URL path as it is (no %)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
EXAMPLES = 3


class AreasFileError(ValueError):
    """An areas file that cannot be used; the message says exactly why."""


class _Feature(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    id: str | int | None = None
    geometry: Any = None
    properties: dict[str, Any] | None = None


class _Collection(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"]
    features: list[Any]


@dataclass(frozen=True)
class Area:
    """One usable planning area."""

    index: int  # the feature's position in the file, from 1 as people count
    code: str
    name: str
    geometry: BaseGeometry
    geojson: dict[str, Any]
    population: int | None
    households_without_parking: int | None

    @property
    def km2(self) -> float:
        return area_km2(self.geometry)


@dataclass
class AreasReport:
    """The areas kept and every feature left out with its reason."""

    path: Path
    features: int
    areas: list[Area] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "feature 3 (E05001234): <fault>"

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.features} features, {len(self.areas)} areas kept"]
        if self.errors:
            out.append(f"skipped {len(self.errors)} feature{'s' if len(self.errors) > 1 else ''}:")
            out += ["  " + e for e in self.errors]
        return out


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _pick(properties: dict[str, Any], names: tuple[str, ...], pattern: re.Pattern[str] | None = None) -> Any:
    keyed = {_key(k): v for k, v in properties.items()}
    for name in names:
        if keyed.get(name) not in (None, ""):
            return keyed[name]
    for key, value in keyed.items():
        if pattern is not None and pattern.match(key) and value not in (None, ""):
            return value
    return None


def _code(feature: _Feature, properties: dict[str, Any]) -> str | None:
    value = _pick(properties, CODE_KEYS, _ONS_CODE)
    if value is None:
        value = feature.id
    return None if value is None else str(value).strip() or None


def _area(index: int, feature: _Feature, code: str, country: str | None) -> Area:
    properties = feature.properties or {}
    if not CODE_PATTERN.match(code):
        bad = sorted({c for c in code if not re.match(r"[A-Za-z0-9._~-]", c)})
        raise GeometryFault(f"code {code!r} has characters an entity id cannot hold verbatim ({''.join(bad)!r}); "
                            "use letters, digits, '-', '_', '.' or '~'")
    numbers: dict[str, int | None] = {}
    for what, keys in (("population", POPULATION_KEYS), ("households without off-street parking", HOUSEHOLDS_KEYS)):
        try:
            numbers[what] = count(_pick(properties, keys), what)
        except NotANumber as error:
            raise GeometryFault(str(error)) from None
    shape = check(feature.geometry, country)
    name = _pick(properties, NAME_KEYS, _ONS_NAME)
    return Area(index, code, str(name).strip() if name is not None else code, shape,
                {"type": feature.geometry["type"], "coordinates": feature.geometry["coordinates"]},
                numbers["population"], numbers["households without off-street parking"])


def _read(path: Path) -> _Collection:
    try:
        document = json.loads(path.read_text("utf-8-sig"))
    except FileNotFoundError:
        raise AreasFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise AreasFileError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise AreasFileError(f"{path}: not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        found = document.get("type") if isinstance(document, dict) else type(document).__name__
        raise AreasFileError(f"{path}: not a GeoJSON FeatureCollection (top-level type is {found!r})")
    try:
        return _Collection.model_validate(document)
    except ValidationError:
        raise AreasFileError(f"{path}: a FeatureCollection needs a 'features' list") from None


def load_areas(path: Path, country: str | None) -> AreasReport:
    """Every usable area of the file; :class:`AreasFileError` when there is none."""
    collection = _read(path)
    report = AreasReport(path, len(collection.features))
    candidates: list[tuple[int, _Feature, str]] = []
    by_code: dict[str, list[int]] = defaultdict(list)
    for index, raw in enumerate(collection.features, 1):
        try:
            feature = _Feature.model_validate(raw)
        except ValidationError:
            found = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
            report.errors.append(f"feature {index}: not a GeoJSON Feature (type {found!r})")
            continue
        code = _code(feature, feature.properties or {})
        if code is None:
            report.errors.append(f"feature {index}: no id or code (looked for the feature's id and properties "
                                 f"{', '.join(CODE_KEYS[:4])}, ... or an ONS ...CD column)")
            continue
        candidates.append((index, feature, code))
        by_code[code].append(index)
    for index, feature, code in candidates:
        if len(by_code[code]) > 1:
            others = ", ".join(str(i) for i in by_code[code] if i != index)
            report.errors.append(f"feature {index} ({code}): duplicate code, also in feature {others}: "
                                 "none of them is imported")
            continue
        try:
            report.areas.append(_area(index, feature, code, country))
        except GeometryFault as fault:
            report.errors.append(f"feature {index} ({code}): {fault}")
    report.errors.sort(key=lambda e: int(e.split()[1].rstrip(":")))
    if not report.areas:
        raise AreasFileError("\n".join([f"{path}: no usable area in {report.features} features", *report.errors]))
    return report
