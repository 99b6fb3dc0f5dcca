"""The demo organisations sit at real cities and county seats, inside their own region."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from dashboard.demo.geo import PLACES, region_outlines, region_shapes
from dashboard.demo.seed import seed_demo
from dashboard.store.engine import open_store

pytestmark = pytest.mark.unit

MEMBERS = 50_000  # the demo the issue measured: 123 of its 5,578 organisations lay outside their province


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('places') / 'demo.db'}")
    seed_demo(engine, members=MEMBERS, seed=3)
    yield engine
    engine.dispose()


def organisations(engine: Engine) -> list[tuple[str, str, str, float, float]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT code, kind, region_code, lon, lat FROM organisations WHERE level > 0"))]


def gazetteer() -> set[tuple[float, float]]:
    with PLACES.open(encoding="utf-8") as source:
        return {(float(row["lon"]), float(row["lat"])) for row in csv.DictReader(source)}


def test_every_organisation_lies_inside_its_own_region(engine: Engine) -> None:
    outlines = region_outlines()
    orgs = organisations(engine)
    assert len(orgs) > 5000
    for region in {o[2] for o in orgs}:
        points = np.array([(o[3], o[4]) for o in orgs if o[2] == region])
        inside = outlines[region].contains(points[:, 0], points[:, 1])
        assert inside.all(), f"{int((~inside).sum())} organisations of {region} lie outside it"


def test_committees_sit_at_cities_and_county_seats(engine: Engine) -> None:
    places = gazetteer()
    shapes = region_shapes()
    committees = [o for o in organisations(engine) if o[1] == "committee" and o[2] not in ("710000", "810000", "820000")]
    at_places = sum(1 for o in committees if (round(o[3], 4), round(o[4], 4)) in places)
    assert at_places == len(committees)
    guangzhou = shapes["440000"]
    assert (guangzhou.lon, guangzhou.lat) == pytest.approx((113.2664, 23.1323)), "a province's committee at its capital"


def test_a_provinces_organisations_spread_over_its_cities(engine: Engine) -> None:
    guangdong = [o for o in organisations(engine) if o[2] == "440000" and o[1] == "committee"]
    cities = {(round(o[3], 2), round(o[4], 2)) for o in guangdong}
    assert len(cities) >= 10, cities
    lons = [c[0] for c in cities]
    assert max(lons) - min(lons) > 2.0, "from the west of the province to the east, not one clump"


def test_gazetteer_points_are_inside_their_province() -> None:
    outlines = region_outlines()
    with PLACES.open(encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    assert len(rows) > 3000
    for region in {row["code"][:2] + "0000" for row in rows}:
        points = np.array([(float(r["lon"]), float(r["lat"])) for r in rows if r["code"][:2] + "0000" == region])
        assert outlines[region].contains(points[:, 0], points[:, 1]).all(), region
