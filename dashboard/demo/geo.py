"""Where the demo organisations sit on the map: at real cities and county seats of their province.

``data/regions/china-places.csv`` (from the MIT-licensed ``cpca`` package;
``data/README.md``) holds a point for each provincial capital, prefecture-level
city and county seat, each at least 1 km inside its province's shipped
outline. A province's committee sits at its capital; ``RegionShape.scatter``
gives each area or grassroots committee one of the province's places near its
parent — drawn with weights falling off with the distance, so a province's
committees spread over its cities, densest around the centre they are drawn
around. Branches are jittered by the tree builder (``dashboard/demo/shape.py``)
by ``spread / 20`` around their committee: ``spread`` is small (about 200 m of
jitter), so a branch stays in its committee's town and inside the province.

A region without places in the gazetteer (none of the shipped ones) falls
back to points scattered inside its outline.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from dashboard.map.regions import PROVINCES, load_regions

PLACES = Path(__file__).resolve().parents[2] / "data" / "regions" / "china-places.csv"
# The jitter unit the tree builder reads (it jitters branches by spread / 20 around their committee).
SPREAD_UNIT = 0.04
# How far a province's committees spread around its capital, per square root of its area: most of the province.
REACH = 0.6
_MAX_ROUNDS = 30
_POINTS_PER_TEST = 512  # bounds the (points x edges) temporaries


@dataclass(frozen=True, eq=False)
class Outline:
    """A region's rings, for point-in-region tests."""

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

    def area(self) -> float:
        return sum(abs(float(np.sum(r[:-1, 0] * r[1:, 1] - r[1:, 0] * r[:-1, 1]))) / 2.0 for r in self.rings)


@dataclass(frozen=True, eq=False)
class RegionShape:
    """A province for the tree builder: its committee's point, its places, and how far its committees spread.

    ``reach`` (REACH times the square root of the province's area, in
    degrees) is how far around a centre ``scatter`` looks when asked with
    ``spread``; a smaller ``spread`` argument narrows it in proportion.
    """

    code: str
    lon: float
    lat: float
    spread: float
    reach: float
    outline: Outline
    place_lon: np.ndarray
    place_lat: np.ndarray

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return self.outline.contains(lon, lat)

    def scatter(
        self, rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray, spread: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """A place of the region for each (lon, lat) centre, drawn near it (Gaussian weights, ``spread`` wide)."""
        width = self.reach * spread / self.spread
        if not len(self.place_lon):
            return self._scatter_inside(rng, lon, lat, width)
        out_lon, out_lat = np.empty(len(lon)), np.empty(len(lon))
        for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist())):
            d2 = (self.place_lon - x) ** 2 + (self.place_lat - y) ** 2
            weights = np.exp(-d2 / (2 * width * width)) + 1e-12
            pick = rng.choice(len(weights), p=weights / weights.sum())
            out_lon[i], out_lat[i] = self.place_lon[pick], self.place_lat[pick]
        return out_lon, out_lat

    def _scatter_inside(
        self, rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray, width: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """A point near each centre and inside the region; a centre that keeps missing stays put."""
        out_lon, out_lat = lon.astype(float).copy(), lat.astype(float).copy()
        pending = np.arange(len(lon))
        for _ in range(_MAX_ROUNDS):
            if not len(pending):
                break
            offsets = rng.normal(0.0, width, size=(len(pending), 2))
            cand_lon, cand_lat = lon[pending] + offsets[:, 0], lat[pending] + offsets[:, 1]
            hit = self.contains(cand_lon, cand_lat)
            out_lon[pending[hit]], out_lat[pending[hit]] = cand_lon[hit], cand_lat[hit]
            pending = pending[~hit]
        return out_lon, out_lat


def _rings(geometry: dict) -> list[np.ndarray]:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [np.asarray(ring, dtype=float)[:, :2] for polygon in polygons for ring in polygon]


@lru_cache(maxsize=1)
def region_outlines() -> dict[str, Outline]:
    """The shipped outline of every province, keyed by region code."""
    return {f["id"]: Outline(tuple(_rings(f["geometry"]))) for f in load_regions().geojson["features"]}


def _places() -> dict[str, list[tuple[str, float, float]]]:
    """(level, lon, lat) of the gazetteer's places, per province code."""
    by_province: dict[str, list[tuple[str, float, float]]] = {}
    with PLACES.open(encoding="utf-8", newline="") as source:
        for row in csv.DictReader(source):
            by_province.setdefault(row["code"][:2] + "0000", []).append((row["level"], float(row["lon"]), float(row["lat"])))
    return by_province


def region_shapes() -> dict[str, RegionShape]:
    """Every province: committee point at the capital, the places its committees go to, its outline."""
    outlines, places = region_outlines(), _places()
    shapes = {}
    for province in PROVINCES:
        own = places.get(province.code, [])
        capital = next(((x, y) for level, x, y in own if level == "province"), (province.lon, province.lat))
        towns = [(x, y) for level, x, y in own if level != "province"]
        outline = outlines[province.code]
        shapes[province.code] = RegionShape(
            province.code, capital[0], capital[1], SPREAD_UNIT, REACH * outline.area() ** 0.5, outline,
            np.array([x for x, _ in towns]), np.array([y for _, y in towns]),
        )
    return shapes
