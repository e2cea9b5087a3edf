"""Planning-area files: every fault named with its feature (index and code), bad rows counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analytics.planning.area_tables import TableFileError, load_households, load_registrations
from analytics.planning.areas_file import AreasFileError, load_areas
from analytics.planning.make_demo_areas import build

SQUARE = [[-1.52, 52.40], [-1.50, 52.40], [-1.50, 52.42], [-1.52, 52.42], [-1.52, 52.40]]


def feature(code: str | None, ring: list[list[float]] | None = None, kind: str = "Polygon",
            **properties: Any) -> dict[str, Any]:
    props = {"code": code, "name": f"Area {code}", **properties} if code else {"name": "nameless"}
    coordinates: Any = [ring or SQUARE]
    if kind == "MultiPolygon":
        coordinates = [coordinates]
    return {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": coordinates}}


def write(tmp_path: Path, document: Any, name: str = "areas.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), "utf-8")
    return path


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def test_every_bad_feature_is_named_and_the_good_ones_kept(tmp_path: Path) -> None:
    bowtie = [[-1.52, 52.40], [-1.50, 52.42], [-1.50, 52.40], [-1.52, 52.42], [-1.52, 52.40]]
    swapped = [[lat, lon] for lon, lat in SQUARE]
    features = [
        feature("GOOD1"),
        feature(None),
        {"type": "Feature", "properties": {"code": "PT"}, "geometry": {"type": "Point", "coordinates": [-1.5, 52.4]}},
        feature("BOW", bowtie),
        feature("OPEN", [*SQUARE[:-1], [-1.52, 52.41]]),
        feature("SWAP", swapped),
        feature("BNG", [[430000, 280000], [431000, 280000], [431000, 281000], [430000, 280000]]),
        feature("DUP"), feature("DUP"),
        feature("NAN", population="n/a"),
        feature("NEG", householdsWithoutOffStreetParking=-3),
        feature("GOOD2", kind="MultiPolygon", population="1,234"),
        feature("has space"),
        feature("FAR", [[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]),
        {"type": "Feature", "properties": {"code": "TXT"},
         "geometry": {"type": "Polygon", "coordinates": [[[-1.5, 52.4], ["x", 52.41], [-1.49, 52.4], [-1.5, 52.4]]]}},
        ["not", "a", "feature"],
    ]
    report = load_areas(write(tmp_path, collection(*features)), "GB")
    assert [a.code for a in report.areas] == ["GOOD1", "GOOD2"]
    assert report.areas[1].population == 1234
    errors = "\n".join(report.errors)
    expected = [
        "feature 2: no id or code",
        "feature 3 (PT): geometry is 'Point', not a Polygon or MultiPolygon",
        "feature 4 (BOW): invalid polygon: self-intersection at lon -1.510000, lat 52.410000",
        "feature 5 (OPEN): outer ring is not closed: it starts at [-1.52, 52.4] and ends at [-1.52, 52.41]",
        "feature 6 (SWAP): lon/lat swapped: position [52.4, -1.52] reads as [lat, lon]",
        "feature 7 (BNG): position [430000.0, 280000.0] is not longitude/latitude: the coordinates look projected",
        "feature 8 (DUP): duplicate code, also in feature 9",
        "feature 9 (DUP): duplicate code, also in feature 8",
        "feature 10 (NAN): population 'n/a' is not a number",
        "feature 11 (NEG): households without off-street parking -3 is negative",
        "feature 13 (has space): code 'has space' has characters an entity id cannot hold verbatim (' ')",
        "feature 14 (FAR): position [2.35, 48.85] is outside GB",
        "feature 15 (TXT): outer ring, position 2: ['x', 52.41] is not [lon, lat] numbers",
        "feature 16: not a GeoJSON Feature (type 'list')",
    ]
    for text in expected:
        assert text in errors
    assert len(report.errors) == len(expected)


@pytest.mark.parametrize(("document", "message"), [
    ("{not json", "not JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
    ({"type": "Feature", "geometry": None}, "not a GeoJSON FeatureCollection (top-level type is 'Feature')"),
    ([1, 2], "not a GeoJSON FeatureCollection (top-level type is 'list')"),
    ({"type": "FeatureCollection"}, "a FeatureCollection needs a 'features' list"),
])
def test_unusable_files_are_refused_saying_why(tmp_path: Path, document: Any, message: str) -> None:
    path = tmp_path / "areas.geojson"
    path.write_text(document if isinstance(document, str) else json.dumps(document), "utf-8")
    with pytest.raises(AreasFileError) as caught:
        load_areas(path, "GB")
    assert message in str(caught.value)


def test_a_file_with_no_usable_area_is_refused_listing_each_fault(tmp_path: Path) -> None:
    with pytest.raises(AreasFileError) as caught:
        load_areas(write(tmp_path, collection(feature(None), feature("X", SQUARE[:3]))), "GB")
    assert str(caught.value).splitlines()[1:] == [
        "feature 1: no id or code (looked for the feature's id and properties code, areacode, id, areaid, ... "
        "or an ONS ...CD column)",
        "feature 2 (X): outer ring has 3 positions; a ring needs at least 4 (the first repeated last)"]


def test_ons_columns_and_the_feature_id_are_recognised(tmp_path: Path) -> None:
    ons = {"type": "Feature", "properties": {"LSOA21CD": "E01009613", "LSOA21NM": "Coventry 001A"},
           "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
    by_id = {"type": "Feature", "id": 7, "properties": {}, "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
    report = load_areas(write(tmp_path, collection(ons, by_id)), "GB")
    assert [(a.code, a.name) for a in report.areas] == [("E01009613", "Coventry 001A"), ("7", "7")]
    assert report.areas[0].km2 == pytest.approx(1.36 * 2.22, rel=0.02)  # 0.02° lon x 0.02° lat at 52.4°N


def test_dirty_registration_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "evs.csv"
    path.write_text("Area,Quarter,Plug-in vehicles\nA,2024 Q1,10\nA,2024 Q2,\"1,020\"\nB,2024 Q1,5\n"
                    "A,2024-13-01,3\nA,2024 Q3,many\nA,2024 Q3,-1\nA,2024 Q1,11\nA,2024 Q1,10\n\n", "utf-8")
    result = load_registrations(path, {"A"})
    assert {k: {d.isoformat(): v for d, v in s.items()} for k, s in result.series.items()} == {
        "A": {"2024-03-31": 10, "2024-06-30": 1020}}
    lines = result.report.lines()
    assert lines[0].endswith("8 rows, 2 kept")
    assert "skipped 2 rows: count is not a whole number >= 0 (line 6: 'many' is not a number; " \
           "line 7: '-1' is negative)" in lines
    assert "skipped 1 row: area not among the imported areas (line 4: 'B')" in lines
    assert "skipped 1 row: date is not YYYY-MM-DD or YYYY Qn (line 5: '2024-13-01')" in lines
    assert ("skipped 1 row: a second, different count for the same area and date (line 8: A 2024-03-31: 11 "
            "(line 2 says 10))") in lines
    assert "skipped 1 row: repeated row (line 9: A 2024-03-31)" in lines


def test_registrations_without_a_needed_column_or_usable_row_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evs.csv"
    path.write_text("area,when,count\nA,2024 Q1,1\n", "utf-8")
    with pytest.raises(TableFileError, match=r"no date column \(looked for date, quarter"):
        load_registrations(path, {"A"})
    path.write_text("area,date,count\nZ,2024 Q1,1\n", "utf-8")
    with pytest.raises(TableFileError, match="no usable registration row"):
        load_registrations(path, {"A"})


def test_population_csv(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("code,population,households without off-street parking\nA,1200,300\nB,x,1\n", "utf-8")
    result = load_households(path, {"A", "B"})
    assert (result.population, result.without_parking) == ({"A": 1200}, {"A": 300})
    assert "skipped 1 row: not a whole number >= 0 (line 3: population 'x' is not a number)" in result.report.lines()


def test_the_demo_areas_are_as_committed_and_valid() -> None:
    """The committed files are what the generator makes (so its README line stays true)."""
    here = Path(__file__).resolve().parents[2] / "analytics" / "planning"
    made, rows = build()
    assert json.loads((here / "demo-areas.geojson").read_text("utf-8")) == made
    assert (here / "demo-registrations.csv").read_text("utf-8").splitlines() == [",".join(r) for r in rows]
    report = load_areas(here / "demo-areas.geojson", "GB")
    assert len(report.areas) == 16 and report.errors == []
    assert load_registrations(here / "demo-registrations.csv", {a.code for a in report.areas}).report.kept == 256
