"""China's provincial-level divisions and the region boundary file the map draws.

``PROVINCES`` is plain data, importable without touching the disk: the codes,
names and a marker point of the 34 divisions. ``load_regions`` reads a GeoJSON
boundary file, the shipped ``data/regions/china-provinces.geojson`` or a
user's own official one, checks it, and returns what the map view needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SHIPPED_REGIONS = Path(__file__).resolve().parents[2] / "data" / "regions" / "china-provinces.geojson"


@dataclass(frozen=True)
class Province:
    """A provincial-level division: GB/T 2260 code, names and a marker point."""

    code: str
    name: str
    name_en: str
    lon: float
    lat: float


# Points are what load_regions() computes for the shipped file (the test checks
# that they agree); hard-coded so that importing this module reads no file.
PROVINCES: tuple[Province, ...] = (
    Province("110000", "北京市", "Beijing", 116.419, 40.187),
    Province("120000", "天津市", "Tianjin", 117.352, 39.286),
    Province("130000", "河北省", "Hebei", 116.141, 39.545),
    Province("140000", "山西省", "Shanxi", 112.297, 37.573),
    Province("150000", "内蒙古自治区", "Inner Mongolia", 113.928, 44.09),
    Province("210000", "辽宁省", "Liaoning", 122.602, 41.283),
    Province("220000", "吉林省", "Jilin", 126.195, 43.67),
    Province("230000", "黑龙江省", "Heilongjiang", 127.775, 47.864),
    Province("310000", "上海市", "Shanghai", 121.438, 31.071),
    Province("320000", "江苏省", "Jiangsu", 119.488, 32.966),
    Province("330000", "浙江省", "Zhejiang", 120.107, 29.17),
    Province("340000", "安徽省", "Anhui", 117.231, 31.825),
    Province("350000", "福建省", "Fujian", 118.004, 26.056),
    Province("360000", "江西省", "Jiangxi", 115.728, 27.611),
    Province("370000", "山东省", "Shandong", 118.18, 36.359),
    Province("410000", "河南省", "Henan", 113.621, 33.882),
    Province("420000", "湖北省", "Hubei", 112.276, 30.974),
    Province("430000", "湖南省", "Hunan", 111.758, 27.632),
    Province("440000", "广东省", "Guangdong", 113.422, 23.321),
    Province("450000", "广西壮族自治区", "Guangxi", 108.793, 23.82),
    Province("460000", "海南省", "Hainan", 109.755, 19.186),
    Province("500000", "重庆市", "Chongqing", 107.879, 30.055),
    Province("510000", "四川省", "Sichuan", 102.696, 30.627),
    Province("520000", "贵州省", "Guizhou", 106.878, 26.814),
    Province("530000", "云南省", "Yunnan", 101.489, 24.973),
    Province("540000", "西藏自治区", "Xizang", 88.445, 31.489),
    Province("610000", "陕西省", "Shaanxi", 108.876, 35.193),
    Province("620000", "甘肃省", "Gansu", 102.274, 37.881),
    Province("630000", "青海省", "Qinghai", 96.043, 35.67),
    Province("640000", "宁夏回族自治区", "Ningxia", 106.169, 37.272),
    Province("650000", "新疆维吾尔自治区", "Xinjiang", 85.195, 41.118),
    Province("710000", "台湾省", "Taiwan", 120.973, 23.743),
    Province("810000", "香港特别行政区", "Hong Kong", 114.132, 22.379),
    Province("820000", "澳门特别行政区", "Macau", 113.563, 22.156),
)


class RegionFileError(ValueError):
    """A boundary file that cannot be used; the message names file and problem."""


@dataclass(frozen=True)
class RegionMap:
    """A loaded boundary file.

    ``geojson`` is the FeatureCollection with each feature's ``id`` set to its
    region code, so Plotly can match ``locations`` with ``featureidkey="id"``.
    ``centroids`` holds (lon, lat) marker points, one per code. ``names_en``
    holds the English names the file gives (property ``name_en``).
    """

    geojson: dict[str, Any]
    codes: tuple[str, ...]
    names: dict[str, str]
    centroids: dict[str, tuple[float, float]]
    source: str
    names_en: dict[str, str] = field(default_factory=dict)

    def names_in(self, lang: str) -> dict[str, str]:
        """Region names in ``lang`` ("zh" or "en"); a region without an English name keeps its own."""
        return {code: self.names_en.get(code, name) for code, name in self.names.items()} if lang == "en" else dict(self.names)

    def missing_divisions(self) -> list[Province]:
        """The provincial-level divisions the file has no region for (by GB/T 2260 code)."""
        return [p for p in PROVINCES if p.code not in self.names]


_Polygons = list[list[np.ndarray]]  # polygons -> rings -> closed (n, 2) lon/lat arrays


def load_regions(path: str | Path | None = None, code_property: str = "code") -> RegionMap:
    """Read and check a GeoJSON boundary file (the shipped one when path is None).

    Each feature needs a Polygon or MultiPolygon geometry in longitude/latitude
    degrees and a unique region code (string or integer) in the property
    ``code_property``; RegionFileError says which feature lacks what. The
    features' rings come back closed and wound the way Plotly needs.
    """
    source = Path(path) if path is not None else SHIPPED_REGIONS
    collection = _read_collection(source)
    first_index: dict[str, int] = {}
    names: dict[str, str] = {}
    names_en: dict[str, str] = {}
    centroids: dict[str, tuple[float, float]] = {}
    for index, feature in enumerate(collection["features"]):
        code = _feature_code(feature, index, code_property, source)
        if code in first_index:
            raise _error(source, f"duplicate region code {code!r} in features {first_index[code]} and {index}")
        polygons = _wound_for_plotly(_polygons(feature, index, source))
        largest = max((polygon[0] for polygon in polygons), key=lambda ring: abs(_signed_area(ring)))
        if _signed_area(largest) == 0.0:
            raise _error(source, f"feature {index} has a geometry with no area")
        first_index[code] = index
        feature["id"] = code
        feature["geometry"] = _geometry(feature["geometry"]["type"], polygons)
        names[code] = str(feature["properties"].get("name") or code)
        if feature["properties"].get("name_en"):
            names_en[code] = str(feature["properties"]["name_en"])
        centroids[code] = _representative_point(largest)
    return RegionMap(collection, tuple(first_index), names, centroids, str(source), names_en)


def unknown_regions(region_map: RegionMap, org_region_codes: Iterable[str]) -> list[str]:
    """Sorted region codes used by organisations but absent from the map.

    Empty codes are skipped: an organisation without a region is not an error.
    """
    return sorted({code for code in org_region_codes if code} - set(region_map.codes))


def _error(source: Path, problem: str) -> RegionFileError:
    return RegionFileError(f"region file {source}: {problem}")


def _read_collection(source: Path) -> dict[str, Any]:
    try:
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _error(source, "file not found") from None
    except OSError as error:
        raise _error(source, f"cannot read it ({error.strerror})") from None
    except UnicodeDecodeError:
        raise _error(source, "not JSON (not UTF-8 text)") from None
    try:
        collection = json.loads(text)
    except ValueError as error:
        raise _error(source, f"not JSON ({error})") from None
    if not (
        isinstance(collection, dict)
        and collection.get("type") == "FeatureCollection"
        and isinstance(collection.get("features"), list)
    ):
        raise _error(source, "not a GeoJSON FeatureCollection")
    if not collection["features"]:
        raise _error(source, "the FeatureCollection has no features")
    return collection


def _feature_code(feature: Any, index: int, code_property: str, source: Path) -> str:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _error(source, f"feature {index} is not a GeoJSON Feature")
    properties = feature.get("properties")
    value = properties.get(code_property) if isinstance(properties, dict) else None
    # Official files often store codes as numbers; bool is an int but no code.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _error(source, f"feature {index} has no property {code_property!r} (a string or integer code)")
    return value.strip()


def _polygons(feature: dict[str, Any], index: int, source: Path) -> _Polygons:
    """The feature's polygons as closed lon/lat ring arrays, after checks."""
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("coordinates") is None:
        raise _error(source, f"feature {index} has no geometry")
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise _error(source, f"feature {index} has a {kind} geometry, not a Polygon or MultiPolygon")
    nested = [geometry["coordinates"]] if kind == "Polygon" else geometry["coordinates"]
    try:
        polygons = [[_closed_ring(ring) for ring in polygon] for polygon in nested]
    except (ValueError, TypeError):
        raise _error(source, f"feature {index} has malformed {kind} coordinates") from None
    if not polygons or not all(polygons):
        raise _error(source, f"feature {index} has an empty {kind}")
    if not all(np.all(np.abs(ring) <= (180, 90)) for polygon in polygons for ring in polygon):
        raise _error(source, f"feature {index} has coordinates outside longitude/latitude degrees")
    return polygons


def _closed_ring(positions: Any) -> np.ndarray:
    """A ring as a closed (n, 2) array; an unclosed one is closed, not refused."""
    ring = np.asarray(positions, dtype=float)
    if ring.ndim != 2 or ring.shape[0] < 3 or ring.shape[1] < 2:
        raise ValueError("not a ring")
    ring = ring[:, :2]
    return ring if np.array_equal(ring[0], ring[-1]) else np.vstack([ring, ring[:1]])


def _wound_for_plotly(polygons: _Polygons) -> _Polygons:
    """Exterior rings clockwise, holes counter-clockwise.

    That is d3-geo's rule, which Plotly's geo choropleth follows: a polygon
    wound the other way (as RFC 7946 recommends, so many exported files are)
    is drawn as the whole globe minus the region. MapLibre accepts either.
    """
    return [
        [ring if (_signed_area(ring) < 0) == (position == 0) else ring[::-1] for position, ring in enumerate(polygon)]
        for polygon in polygons
    ]


def _geometry(kind: str, polygons: _Polygons) -> dict[str, Any]:
    coordinates = [[ring.tolist() for ring in polygon] for polygon in polygons]
    return {"type": kind, "coordinates": coordinates[0] if kind == "Polygon" else coordinates}


def _representative_point(ring: np.ndarray) -> tuple[float, float]:
    """A point inside a closed ring of non-zero area, as (lon, lat).

    The area-weighted centroid when it falls inside; for a bent shape (Gansu)
    it does not, and the middle of the widest stretch of the ring along the
    centroid's latitude is used instead.
    """
    lon, lat = _centroid(ring)
    if _contains(ring, lon, lat):
        return round(lon, 3), round(lat, 3)
    crossings = np.sort(_crossings(ring, lat))
    starts, ends = crossings[0::2], crossings[1::2]
    widest = int(np.argmax(ends - starts))
    return round(float(starts[widest] + ends[widest]) / 2, 3), round(lat, 3)


def _signed_area(ring: np.ndarray) -> float:
    """Shoelace area in square degrees; positive when counter-clockwise."""
    x, y = ring[:, 0], ring[:, 1]
    return float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1])) / 2.0


def _centroid(ring: np.ndarray) -> tuple[float, float]:
    """Area-weighted centroid in plain lon/lat: fine at a province's size."""
    x, y = ring[:, 0], ring[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    six_area = 3.0 * float(np.sum(cross))
    return float(np.sum((x[:-1] + x[1:]) * cross)) / six_area, float(np.sum((y[:-1] + y[1:]) * cross)) / six_area


def _crossings(ring: np.ndarray, lat: float) -> np.ndarray:
    """Longitudes where the ring's edges cross the parallel ``lat``."""
    x1, y1 = ring[:-1, 0], ring[:-1, 1]
    x2, y2 = ring[1:, 0], ring[1:, 1]
    crossing = (y1 > lat) != (y2 > lat)
    x1, y1, x2, y2 = x1[crossing], y1[crossing], x2[crossing], y2[crossing]
    return x1 + (lat - y1) * (x2 - x1) / (y2 - y1)


def _contains(ring: np.ndarray, lon: float, lat: float) -> bool:
    """Even-odd point-in-ring test."""
    return bool(np.count_nonzero(_crossings(ring, lat) > lon) % 2)
