"""The shipped map presents China's territory as the rules on public maps require (../shared/reference/map-rules.md).

Every provincial-level division, Taiwan, Hong Kong and Macau included; Diaoyu
Dao and Chiwei Yu; the South China Sea islands in an inset in the lower right,
the main map reaching Hainan's southern tip; and the colour classes that
separate the provinces.
"""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.map.inset import MAIN_MAP_SOUTH, load_inset
from dashboard.map.regions import PROVINCES, load_regions
from layouts.map import CLASS_COLOURS, MAIN_MAP_ISLANDS, class_breaks, class_colour, region_colours, region_figure

pytestmark = pytest.mark.unit

# Published positions (lon, lat) and the division each belongs to.
ISLANDS = {
    "钓鱼岛": ("710000", 123.476, 25.744),
    "赤尾屿": ("710000", 124.557, 25.923),
    "东沙岛": ("440000", 116.72, 20.70),
    "永兴岛 (西沙群岛)": ("460000", 112.33, 16.83),
    "黄岩岛 (中沙群岛)": ("460000", 117.76, 15.14),
    "太平岛 (南沙群岛)": ("460000", 114.36, 10.38),
    "曾母暗沙": ("460000", 112.28, 3.97),
}


@pytest.fixture(scope="module")
def shipped() -> Any:
    return load_regions()


def exterior_rings(feature: dict[str, Any]) -> list[list[list[float]]]:
    geometry = feature["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [polygon[0] for polygon in polygons]


def near(ring: list[list[float]], lon: float, lat: float, within: float = 0.1) -> bool:
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return min(lons) - within <= lon <= max(lons) + within and min(lats) - within <= lat <= max(lats) + within


def test_every_provincial_level_division_has_a_region(shipped: Any) -> None:
    assert len(shipped.codes) == 34
    assert set(shipped.codes) == {p.code for p in PROVINCES}
    assert shipped.names["710000"] == "台湾省"
    assert shipped.names["810000"] == "香港特别行政区" and shipped.names["820000"] == "澳门特别行政区"
    assert shipped.missing_divisions() == []
    assert shipped.names_in("en")["710000"] == "Taiwan" and shipped.names_in("en")["810000"] == "Hong Kong"


@pytest.mark.parametrize("island", sorted(ISLANDS))
def test_the_islands_belong_to_their_division(shipped: Any, island: str) -> None:
    code, lon, lat = ISLANDS[island]
    feature = next(f for f in shipped.geojson["features"] if f["id"] == code)
    assert any(near(ring, lon, lat) for ring in exterior_rings(feature)), f"{island} is not in {code}"


def test_xizang_reaches_the_southern_slopes_of_the_himalaya(shipped: Any) -> None:
    """The standard map's line south of 藏南, not the de-facto line along the ridge (about 28°N there)."""
    xizang = next(f for f in shipped.geojson["features"] if f["id"] == "540000")
    assert min(p[1] for ring in exterior_rings(xizang) for p in ring if 92 < p[0] < 97) < 27.2


def test_the_inset_names_the_island_groups_and_draws_the_line() -> None:
    inset = load_inset()
    west, south, east, north = inset.extent
    names = {n.name for n in inset.names}
    assert {"东沙群岛", "西沙群岛", "中沙群岛", "南沙群岛", "黄岩岛", "曾母暗沙"} <= names
    assert all(west < n.lon < east and south < n.lat < north for n in inset.names)
    assert len(inset.dashes) == 10
    assert south < 3.97 and 22.5 < north <= 23.5, "south past Zengmu Ansha, north to the coast about the Tropic of Cancer"


def test_the_main_map_reaches_hainans_tip_and_the_inset_sits_lower_right(shipped: Any) -> None:
    figure = region_figure(shipped, {}, "activity", "zh")
    meta = figure["layout"]["meta"]["map"]
    regions = [t for t in figure["data"] if t.get("customdata")]
    assert len(regions) == 34
    box_x0, box_y0, box_x1, box_y1 = meta["insetBox"]
    in_box = lambda x, y: box_x0 <= x <= box_x1 and box_y0 <= y <= box_y1  # noqa: E731
    main = [(x, y) for t in regions for x, y in zip(t["x"], t["y"]) if x is not None and not in_box(x, y)]
    main_x = [x for x, _ in main]
    main_y = [y for _, y in main]
    assert min(main_y) <= 18.16, "the main map reaches Hainan's southern tip (18.15°N)"
    assert min(main_y) >= MAIN_MAP_SOUTH, "the islands further south are in the inset only"
    assert box_y0 == pytest.approx(min(main_y)) and box_x1 > max(main_x), "lower right"
    hainan = next(t for t in regions if t["customdata"] == ["460000"])
    assert sum(1 for x, y in zip(hainan["x"], hainan["y"]) if x is not None and in_box(x, y)) > 100, "Hainan's islands in the inset"
    for _, _, lon, lat in MAIN_MAP_ISLANDS:
        assert not in_box(lon * meta["lonScale"], lat), "the inset covers no island"
    assert figure["layout"]["xaxis"]["range"][1] >= box_x1 and figure["layout"]["yaxis"]["range"][0] <= min(main_y)


def test_taiwan_carries_the_thematic_style_and_its_note() -> None:
    figure = region_figure(load_regions(), {"110000": [1.0, 10, 5, 0.5, 0.5], "120000": [2.0, 10, 5, 0.5, 0.5]}, "activity", "zh")
    taiwan = next(t for t in figure["data"] if t.get("customdata") == ["710000"])
    beijing = next(t for t in figure["data"] if t.get("customdata") == ["110000"])
    assert taiwan["fillcolor"] in CLASS_COLOURS and taiwan["line"] == beijing["line"]
    assert figure["layout"]["meta"]["map"]["notes"]["710000"] == "台湾省资料暂缺"
    english = region_figure(load_regions(), {}, "activity", "en")["layout"]["meta"]["map"]
    assert english["notes"]["710000"] == "Data for Taiwan Province temporarily unavailable"
    assert english["short"]["110000"] == "Beijing"


def test_quintile_classes_separate_skewed_values() -> None:
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1000]
    breaks = class_breaks(values)
    assert breaks == [3, 5, 7, 9]
    colours = [class_colour(v, breaks) for v in values]
    assert len(set(colours)) == 5, "one outlier no longer paints the others alike"
    assert class_colour(None, breaks) == CLASS_COLOURS[0]


def test_a_few_regions_above_a_tie_stand_apart() -> None:
    breaks = class_breaks([0] * 30 + [4])
    assert breaks == [4]
    assert class_colour(4, breaks) == CLASS_COLOURS[-1] and class_colour(0, breaks) == CLASS_COLOURS[0]
    assert class_breaks([0, 0, 0]) == [] and class_colour(0, []) == CLASS_COLOURS[0]


def test_region_colours_follow_the_chosen_kpi() -> None:
    values = {"110000": [0.1, 100, 0, 0.2, 0.9], "120000": [0.9, 5, 0, 0.8, 0.1]}
    by_activity = region_colours(values, ["110000", "120000"], "activity")
    by_members = region_colours(values, ["110000", "120000"], "members")
    assert by_activity == by_members[::-1] and by_activity[0] != by_activity[1]


def test_the_inset_clips_a_region_to_its_extent() -> None:
    inset = load_inset()
    west, south, east, north = inset.extent
    square = [(west - 1, south - 1), (west + 1, south - 1), (west + 1, south + 1), (west - 1, south + 1), (west - 1, south - 1)]
    clipped = inset.clip(square)
    assert clipped[0] == clipped[-1]
    assert {(round(x, 6), round(y, 6)) for x, y in clipped} == {(west, south), (west + 1, south), (west + 1, south + 1), (west, south + 1)}
    assert inset.clip([(0.0, 50.0), (1.0, 50.0), (1.0, 51.0), (0.0, 50.0)]) == []
