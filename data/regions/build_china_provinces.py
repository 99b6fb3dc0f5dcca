"""Regenerate ``china-provinces.geojson`` and ``south-china-sea.geojson`` (this folder).

Source: the npm package ``echarts`` 4.9.0 (Apache License 2.0, the Apache
Software Foundation), the last release that shipped China's map data: its
``map/json/china.json`` (the 34 provincial-level divisions, Taiwan with
Diaoyu Dao, Hong Kong and Macau included, quantised to 1/1024 degree) and
``map/json/province/hainan.json`` (Hainan's prefectures; 三沙市 holds the
Xisha, Zhongsha (Huangyan Dao) and Nansha islands down to Zengmu Ansha) and
``map/json/province/taiwan.json`` (the Diaoyu Dao group in finer detail).
Fetch it with the ordinary npm client, no install needed::

    cd /tmp && npm pack echarts@4.9.0          # writes echarts-4.9.0.tgz
    python data/regions/build_china_provinces.py /tmp/echarts-4.9.0.tgz

What the script does, in order:

1. decodes ECharts' compressed coordinates (zig-zag delta encoding, one UTF-16
   code unit per value, 1/1024 degree);
2. takes the 34 divisions from ``china.json`` unchanged in shape, replacing
   Taiwan's coarse Diaoyu polygons by the finer ones of ``taiwan.json`` plus
   Chiwei Yu (赤尾屿), and adding to Hainan the islands of 三沙市 and to
   Guangdong Dongsha Dao (东沙岛), which the package lacks; both islands are
   drawn by hand at their published positions (``HAND_DRAWN``);
3. rounds to 3 decimals (about 100 m) and writes exterior rings clockwise,
   holes counter-clockwise (the loader accepts either);
4. writes ``south-china-sea.geojson``: what the map's inset (附图) of the
   South China Sea islands draws besides the regions — its extent, the ten
   dashes of the line and the names of the island groups (``INSET``).

The output is deterministic: the same package gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dashboard.map.regions import PROVINCES  # noqa: E402  (after the path is set)

OUTPUT = Path(__file__).with_name("china-provinces.geojson")
INSET_OUTPUT = Path(__file__).with_name("south-china-sea.geojson")
DECIMALS = 3
SCALE = 1024.0
TAIWAN, HAINAN, GUANGDONG = "710000", "460000", "440000"

Ring = list[tuple[float, float]]
Polygon = list[Ring]

# Islands missing from the package, as small outlines around their published
# positions (degrees): Dongsha Dao about 2.8 km by 0.9 km at 20°42'N 116°43'E,
# Chiwei Yu a few hundred metres across at 25°55'N 124°34'E.
HAND_DRAWN: dict[str, list[Ring]] = {
    GUANGDONG: [[(116.698, 20.705), (116.703, 20.713), (116.724, 20.716), (116.732, 20.708), (116.714, 20.699), (116.698, 20.705)]],
    TAIWAN: [[(124.553, 25.921), (124.556, 25.926), (124.561, 25.925), (124.560, 25.920), (124.553, 25.921)]],
}

# The inset: the South China Sea from Hanoi's longitude to east of Manila, from
# south of the Tropic of Cancer down past Zengmu Ansha.
INSET_EXTENT = (105.5, 2.5, 122.5, 23.5)  # west, south, east, north
# The ten dashes of the line as drawn on published small-scale maps, placed by
# hand to within about half a degree: a schematic, not a boundary.
DASHES: list[Ring] = [
    [(108.2, 18.4), (107.9, 17.4)],
    [(109.9, 15.8), (110.0, 14.6)],
    [(109.7, 11.6), (109.4, 10.5)],
    [(108.9, 7.6), (109.6, 6.6)],
    [(111.6, 4.0), (112.6, 3.5)],
    [(115.2, 6.1), (116.0, 7.0)],
    [(116.6, 8.9), (117.3, 10.0)],
    [(118.6, 12.6), (118.9, 14.0)],
    [(119.5, 17.4), (119.8, 18.8)],
    [(122.0, 21.4), (122.5, 22.9)],
]
# Island groups and single features the inset names: (name, English name, lon, lat).
INSET_NAMES = [
    ("东沙群岛", "Dongsha Islands", 116.72, 20.70),
    ("西沙群岛", "Xisha Islands", 111.9, 16.5),
    ("中沙群岛", "Zhongsha Islands", 114.4, 15.9),
    ("黄岩岛", "Huangyan Dao", 117.76, 15.14),
    ("南沙群岛", "Nansha Islands", 114.3, 10.0),
    ("曾母暗沙", "Zengmu Ansha", 112.28, 3.97),
]


def decode_ring(encoded: str, offset: list[int]) -> Ring:
    """ECharts' compressed ring: pairs of code units, zig-zag deltas from ``offset``, in 1/1024 degree."""
    x, y = offset
    ring: Ring = []
    for i in range(0, len(encoded), 2):
        dx, dy = ord(encoded[i]) - 64, ord(encoded[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        ring.append((x / SCALE, y / SCALE))
    return ring


def decoded_polygons(feature: dict[str, Any]) -> list[Polygon]:
    geometry = feature["geometry"]
    if geometry["type"] == "Polygon":
        return [[decode_ring(r, o) for r, o in zip(geometry["coordinates"], geometry["encodeOffsets"])]]
    return [
        [decode_ring(r, o) for r, o in zip(polygon, offsets)]
        for polygon, offsets in zip(geometry["coordinates"], geometry["encodeOffsets"])
    ]


def signed_area(ring: Ring) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2.0


def finished(ring: Ring, exterior: bool) -> Ring | None:
    """Rounded, without repeated points, closed and wound clockwise (exterior) or counter-clockwise (hole)."""
    points: Ring = []
    for x, y in ring:
        point = (round(x, DECIMALS), round(y, DECIMALS))
        if not points or points[-1] != point:
            points.append(point)
    if points[0] != points[-1]:
        points.append(points[0])
    if len(points) < 4 or signed_area(points) == 0.0:
        return None
    return points if (signed_area(points) < 0) == exterior else points[::-1]


def finished_polygons(polygons: list[Polygon]) -> list[Polygon]:
    out = []
    for polygon in polygons:
        exterior = finished(polygon[0], True)
        if exterior is not None:
            holes = [h for h in (finished(r, False) for r in polygon[1:]) if h is not None]
            out.append([exterior, *holes])
    return out


def read_json(tar: tarfile.TarFile, name: str) -> dict[str, Any]:
    member = tar.extractfile(f"package/map/json/{name}")
    if member is None:
        raise SystemExit(f"no map/json/{name} in the package; is it echarts-4.9.0.tgz?")
    return json.load(member)


def by_name(collection: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in collection["features"] if f["properties"]["name"] == name)


def division_polygons(package: Path) -> dict[str, list[Polygon]]:
    """Each division's polygons by GB/T 2260 code, islands added."""
    with tarfile.open(package) as tar:
        china, hainan, taiwan = (read_json(tar, n) for n in ("china.json", "province/hainan.json", "province/taiwan.json"))
    polygons = {f["properties"]["id"]: decoded_polygons(f) for f in china["features"]}
    # Taiwan: the island, Penghu, Kinmen, Matsu; the Diaoyu group from the finer file.
    polygons[TAIWAN] = [p for p in polygons[TAIWAN] if min(x for x, _ in p[0]) < 123.0]
    polygons[TAIWAN] += decoded_polygons(by_name(taiwan, "中国属钓鱼岛"))
    polygons[HAINAN] += [p for p in decoded_polygons(by_name(hainan, "三沙市")) if max(y for _, y in p[0]) < 17.5]
    for code, rings in HAND_DRAWN.items():
        polygons[code] += [[ring] for ring in rings]
    return polygons


def feature(code: str, name: str, name_en: str, polygons: list[Polygon]) -> dict[str, Any]:
    coordinates = [[[list(p) for p in ring] for ring in polygon] for polygon in finished_polygons(polygons)]
    geometry = {"type": "Polygon", "coordinates": coordinates[0]} if len(coordinates) == 1 else {"type": "MultiPolygon", "coordinates": coordinates}
    return {"type": "Feature", "id": code, "properties": {"code": code, "name": name, "name_en": name_en}, "geometry": geometry}


def inset_features() -> list[dict[str, Any]]:
    west, south, east, north = INSET_EXTENT
    frame = [[west, south], [west, north], [east, north], [east, south], [west, south]]
    features: list[dict[str, Any]] = [{"type": "Feature", "properties": {"kind": "extent"}, "geometry": {"type": "Polygon", "coordinates": [frame]}}]
    features += [
        {"type": "Feature", "properties": {"kind": "dash"}, "geometry": {"type": "LineString", "coordinates": [list(p) for p in dash]}}
        for dash in DASHES
    ]
    features += [
        {"type": "Feature", "properties": {"kind": "name", "name": name, "name_en": name_en}, "geometry": {"type": "Point", "coordinates": [lon, lat]}}
        for name, name_en, lon, lat in INSET_NAMES
    ]
    return features


def write_collection(path: Path, features: list[dict[str, Any]]) -> None:
    # One feature a line keeps the file diffable.
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    path.write_text('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {len(lines)} features)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="echarts-4.9.0.tgz from `npm pack echarts@4.9.0`")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--inset-output", type=Path, default=INSET_OUTPUT)
    args = parser.parse_args()
    polygons = division_polygons(args.package)
    write_collection(args.output, [feature(p.code, p.name, p.name_en, polygons[p.code]) for p in sorted(PROVINCES, key=lambda p: p.code)])
    write_collection(args.inset_output, inset_features())


if __name__ == "__main__":
    main()
