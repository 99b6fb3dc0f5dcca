"""The South China Sea islands' inset (南海诸岛附图) and the split of the regions between it and the main map.

A map of the whole country shows the South China Sea islands either at their
place or, as the national standard map does, in an inset in the lower right;
with an inset, the main map still reaches the southern tip of Hainan Island.
Here the main map holds every polygon of the region file except those wholly
south of ``MAIN_MAP_SOUTH`` (the Xisha, Zhongsha and Nansha islands), and the
inset holds every region clipped to the inset's extent, so the same region
file, shipped or official, fills both. What the inset draws besides the
regions (its extent, the ten dashes of the line, the island groups' names) is
``data/regions/south-china-sea.geojson``; ``data/regions/build_china_provinces.py``
writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SHIPPED_INSET = Path(__file__).resolve().parents[2] / "data" / "regions" / "south-china-sea.geojson"
# Hainan Island's southern tip is at 18.15°N; the islands of 三沙市 lie south of 17.2°N.
MAIN_MAP_SOUTH = 18.0

Point = tuple[float, float]
Ring = list[Point]


@dataclass(frozen=True)
class InsetName:
    name: str
    name_en: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Inset:
    """What the inset draws besides the regions, in longitude/latitude."""

    extent: tuple[float, float, float, float]  # west, south, east, north
    dashes: tuple[tuple[Point, ...], ...]
    names: tuple[InsetName, ...]

    def clip(self, ring: Ring) -> Ring:
        """The part of a closed ring inside the extent (Sutherland-Hodgman); empty when none."""
        west, south, east, north = self.extent
        edges = (
            (lambda p: p[0] >= west, lambda a, b: _at_x(a, b, west)),
            (lambda p: p[0] <= east, lambda a, b: _at_x(a, b, east)),
            (lambda p: p[1] >= south, lambda a, b: _at_y(a, b, south)),
            (lambda p: p[1] <= north, lambda a, b: _at_y(a, b, north)),
        )
        points = ring[:-1] if ring and ring[0] == ring[-1] else list(ring)
        for inside, cross in edges:
            if not points:
                return []
            kept: Ring = []
            for index, current in enumerate(points):
                previous = points[index - 1]
                if inside(current):
                    if not inside(previous):
                        kept.append(cross(previous, current))
                    kept.append(current)
                elif inside(previous):
                    kept.append(cross(previous, current))
            points = kept
        return [*points, points[0]] if len(points) >= 3 else []


def on_main_map(ring: Ring) -> bool:
    """Whether a polygon (its exterior ring) is drawn on the main map, not only in the inset."""
    return max(lat for _, lat in ring) >= MAIN_MAP_SOUTH


@lru_cache(maxsize=4)
def load_inset(path: Path = SHIPPED_INSET) -> Inset:
    """Read the inset's drawing (the shipped file unless told otherwise)."""
    collection: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    extent: tuple[float, float, float, float] | None = None
    dashes: list[tuple[Point, ...]] = []
    names: list[InsetName] = []
    for feature in collection["features"]:
        kind, geometry = feature["properties"]["kind"], feature["geometry"]
        if kind == "extent":
            lons = [p[0] for p in geometry["coordinates"][0]]
            lats = [p[1] for p in geometry["coordinates"][0]]
            extent = (min(lons), min(lats), max(lons), max(lats))
        elif kind == "dash":
            dashes.append(tuple((float(p[0]), float(p[1])) for p in geometry["coordinates"]))
        elif kind == "name":
            lon, lat = geometry["coordinates"]
            names.append(InsetName(feature["properties"]["name"], feature["properties"]["name_en"], float(lon), float(lat)))
    if extent is None:
        raise ValueError(f"{path}: no feature of kind 'extent'")
    return Inset(extent, tuple(dashes), tuple(names))


def _at_x(a: Point, b: Point, x: float) -> Point:
    k = (x - a[0]) / (b[0] - a[0])
    return x, a[1] + k * (b[1] - a[1])


def _at_y(a: Point, b: Point, y: float) -> Point:
    k = (y - a[1]) / (b[1] - a[1])
    return a[0] + k * (b[0] - a[0]), y
