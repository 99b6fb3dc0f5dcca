"""The shipped province boundaries and the boundary-file loader."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from dashboard.map.regions import PROVINCES, SHIPPED_REGIONS, RegionFileError, load_regions, unknown_regions

# China's extent, generously: Pamirs to the Wusuli, Paracel Islands to the Heilongjiang.
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (15.0, 54.0)


def square(lon: float, lat: float, size: float = 1.0, clockwise: bool = True) -> dict[str, Any]:
    ring = [[lon, lat], [lon, lat + size], [lon + size, lat + size], [lon + size, lat], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring if clockwise else ring[::-1]]}


def region(code: Any, geometry: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, **properties},
        "geometry": geometry or square(100.0, 30.0),
    }


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "regions.geojson"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def polygons(geometry: dict[str, Any]) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def signed_area(ring: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring)) / 2


def inside(ring: list[list[float]], lon: float, lat: float) -> bool:
    crossings = 0
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


# --- the shipped file ---------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return load_regions()


def test_shipped_file_has_the_34_divisions_of_provinces(shipped) -> None:
    assert len(PROVINCES) == 34
    assert sorted(shipped.codes) == sorted(p.code for p in PROVINCES)
    assert {"110000", "310000", "650000", "710000", "810000", "820000"} <= set(shipped.codes)
    assert shipped.names == {p.code: p.name for p in PROVINCES}
    assert shipped.names["110000"] == "北京市"
    assert shipped.source == str(SHIPPED_REGIONS)


def test_shipped_features_carry_code_names_and_id(shipped) -> None:
    english = {p.code: p.name_en for p in PROVINCES}
    for feature in shipped.geojson["features"]:
        properties = feature["properties"]
        assert feature["id"] == properties["code"]
        assert properties["name_en"] == english[properties["code"]]
        assert len(properties["code"]) == 6 and properties["code"].isdigit()


def test_shipped_file_is_small_and_its_rings_valid() -> None:
    assert SHIPPED_REGIONS.stat().st_size < 600_000
    raw = json.loads(SHIPPED_REGIONS.read_text(encoding="utf-8"))
    for feature in raw["features"]:
        for polygon in polygons(feature["geometry"]):
            for position, ring in enumerate(polygon):
                assert len(ring) >= 4 and ring[0] == ring[-1], feature["id"]
                # Exteriors clockwise, holes counter-clockwise: what Plotly's geo choropleth needs.
                assert (signed_area(ring) < 0) == (position == 0), feature["id"]


def test_hainan_includes_the_paracel_islands(shipped) -> None:
    hainan = next(f for f in shipped.geojson["features"] if f["id"] == "460000")
    southern = [p for p in polygons(hainan["geometry"]) if max(lat for _, lat in p[0]) < 17.5]
    assert southern, "no polygon south of Hainan Island"


def test_province_points_are_what_the_loader_computes(shipped) -> None:
    for province in PROVINCES:
        assert shipped.centroids[province.code] == pytest.approx((province.lon, province.lat), abs=1e-9)


def test_centroids_lie_in_china_and_in_their_own_region(shipped) -> None:
    for feature in shipped.geojson["features"]:
        lon, lat = shipped.centroids[feature["id"]]
        assert CHINA_LON[0] < lon < CHINA_LON[1] and CHINA_LAT[0] < lat < CHINA_LAT[1]
        rings = [polygon[0] for polygon in polygons(feature["geometry"])]
        lons = [x for ring in rings for x, _ in ring]
        lats = [y for ring in rings for _, y in ring]
        assert min(lons) <= lon <= max(lons) and min(lats) <= lat <= max(lats), feature["id"]
        assert any(inside(ring, lon, lat) for ring in rings), feature["id"]


def test_gansu_point_is_inside_although_its_centroid_is_not(shipped) -> None:
    gansu = next(f for f in shipped.geojson["features"] if f["id"] == "620000")
    assert inside(gansu["geometry"]["coordinates"][0], *shipped.centroids["620000"])


# --- other files ------------------------------------------------------------------


def test_a_custom_code_property_with_integer_codes(tmp_path: Path) -> None:
    features = [
        {"type": "Feature", "properties": {"adcode": 110000, "name": "北京"}, "geometry": square(116.0, 40.0)},
        {"type": "Feature", "properties": {"adcode": "120000"}, "geometry": square(117.0, 39.0)},
    ]
    loaded = load_regions(write(tmp_path, collection(*features)), code_property="adcode")
    assert loaded.codes == ("110000", "120000")
    assert [f["id"] for f in loaded.geojson["features"]] == ["110000", "120000"]
    assert loaded.names == {"110000": "北京", "120000": "120000"}
    assert loaded.centroids["110000"] == pytest.approx((116.5, 40.5))


def test_counter_clockwise_and_unclosed_rings_are_fixed_for_plotly(tmp_path: Path) -> None:
    unclosed = square(100.0, 30.0, clockwise=False)
    unclosed["coordinates"][0].pop()
    loaded = load_regions(write(tmp_path, collection(region("1", unclosed))))
    ring = loaded.geojson["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    assert signed_area(ring) < 0
    assert loaded.centroids["1"] == pytest.approx((100.5, 30.5))


def test_the_largest_polygon_gives_the_centroid(tmp_path: Path) -> None:
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [square(120.0, 20.0, 0.1)["coordinates"], square(110.0, 25.0, 2.0)["coordinates"]],
    }
    loaded = load_regions(write(tmp_path, collection(region("1", geometry))))
    assert loaded.centroids["1"] == pytest.approx((111.0, 26.0))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not JSON"),
        ({"type": "Feature", "properties": {}, "geometry": square(0, 0)}, "not a GeoJSON FeatureCollection"),
        ([1, 2], "not a GeoJSON FeatureCollection"),
        (collection(), "has no features"),
        (collection(region("1"), {**region("2"), "geometry": None}), "feature 1 has no geometry"),
        (collection({"type": "Feature", "properties": {"code": "1"}}), "feature 0 has no geometry"),
        (collection(region("1", {"type": "Point", "coordinates": [100, 30]})), "feature 0 has a Point geometry"),
        (collection(region("1", {"type": "Polygon", "coordinates": [[1, 2]]})), "feature 0 has malformed"),
        (collection(region("1", square(500000.0, 3000000.0))), "outside longitude/latitude"),
        (collection(region("1"), {**region("2"), "properties": {"name": "x"}}), "feature 1 has no property 'code'"),
        (collection(region("1"), region("2"), {**region("3"), "properties": None}), "feature 2 has no property 'code'"),
        (collection(region("1"), region(None)), "feature 1 has no property 'code'"),
        (collection(region("1"), region("2"), region("1")), "duplicate region code '1' in features 0 and 2"),
        (collection(region("1"), region(1)), "duplicate region code '1' in features 0 and 1"),
    ],
)
def test_a_broken_file_is_refused_with_file_and_problem(tmp_path: Path, content: Any, problem: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(RegionFileError) as caught:
        load_regions(path)
    message = str(caught.value)
    assert str(path) in message
    assert problem in message
    assert "\n" not in message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.geojson"
    with pytest.raises(RegionFileError, match="file not found") as caught:
        load_regions(str(path))
    assert str(path) in str(caught.value)


def test_the_property_named_is_the_one_required(tmp_path: Path) -> None:
    path = write(tmp_path, collection(region("110000")))
    with pytest.raises(RegionFileError, match="feature 0 has no property 'adcode'"):
        load_regions(path, code_property="adcode")


# --- unknown regions ----------------------------------------------------------------


def test_unknown_regions_lists_codes_missing_from_the_map(shipped) -> None:
    org_codes = ["440000", "999999", "110000", "123456", "999999", ""]
    assert unknown_regions(shipped, org_codes) == ["123456", "999999"]
    assert unknown_regions(shipped, (p.code for p in PROVINCES)) == []
