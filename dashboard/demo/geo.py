"""Where the demo organisations sit on the map: seeded points inside a province.

Points are scattered around a centre (the province's marker point, or an
area's point) and kept only if they fall inside the province's outline from
the shipped boundary file, so coastal provinces put no committee in the sea.
The spread scales with the province's size (a quarter of the square root of
its area in square degrees), so Macao's organisations stay in Macao.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.map.regions import PROVINCES, load_regions

_MAX_ROUNDS = 30
_POINTS_PER_TEST = 512  # bounds the (points x edges) temporaries


@dataclass(frozen=True)
class RegionShape:
    code: str
    lon: float
    lat: float
    spread: float
    rings: tuple[np.ndarray, ...]

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Even-odd test of many points against all of the region's rings (holes included)."""
        inside = np.zeros(len(lon), dtype=bool)
        for start in range(0, len(lon), _POINTS_PER_TEST):
            x, y = lon[start : start + _POINTS_PER_TEST, None], lat[start : start + _POINTS_PER_TEST, None]
            for ring in self.rings:
                x1, y1, x2, y2 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
                spans = (y1 > y) != (y2 > y)
                with np.errstate(divide="ignore", invalid="ignore"):
                    crossing_lon = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
                odd = np.count_nonzero(spans & (x < crossing_lon), axis=1) % 2 == 1
                inside[start : start + _POINTS_PER_TEST] ^= odd
        return inside

    def scatter(
        self, rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray, spread: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """A point near each (lon, lat) centre and inside the region; a centre that keeps missing stays put."""
        out_lon, out_lat = lon.astype(float).copy(), lat.astype(float).copy()
        pending = np.arange(len(lon))
        for _ in range(_MAX_ROUNDS):
            if not len(pending):
                break
            offsets = rng.normal(0.0, spread, size=(len(pending), 2))
            cand_lon, cand_lat = lon[pending] + offsets[:, 0], lat[pending] + offsets[:, 1]
            hit = self.contains(cand_lon, cand_lat)
            out_lon[pending[hit]], out_lat[pending[hit]] = cand_lon[hit], cand_lat[hit]
            pending = pending[~hit]
        return out_lon, out_lat


def _rings(geometry: dict) -> list[np.ndarray]:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [np.asarray(ring, dtype=float)[:, :2] for polygon in polygons for ring in polygon]


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return abs(float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))) / 2.0


def region_shapes() -> dict[str, RegionShape]:
    """The shipped outline of every province, keyed by region code."""
    features = {f["id"]: f for f in load_regions().geojson["features"]}
    shapes = {}
    for province in PROVINCES:
        rings = tuple(_rings(features[province.code]["geometry"]))
        area = sum(_area(r) for r in rings)
        shapes[province.code] = RegionShape(province.code, province.lon, province.lat, 0.25 * area**0.5, rings)
    return shapes
