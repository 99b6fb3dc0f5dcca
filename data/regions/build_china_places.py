"""Regenerate ``china-places.csv`` (this folder): a point for each provincial capital, prefecture-level city and county seat.

Source: the PyPI package ``cpca`` 0.5.5 (MIT licence, © 2018 QinYuan Du), its
``cpca/resources/adcodes.csv``: 3,511 divisions (12-digit codes, names,
longitude and latitude of the seat; 293 without a point). Fetch it with the
ordinary client, no install needed::

    pip download --no-deps cpca==0.5.5 -d /tmp    # writes cpca-0.5.5-py3-none-any.whl
    python data/regions/build_china_places.py /tmp/cpca-0.5.5-py3-none-any.whl

The script keeps the divisions that have a point, shortens their codes to the
six digits of GB/T 2260, names their level (``province`` for the provincial
row, whose point is the capital; ``prefecture``; ``county``) and keeps only
points at least ``MARGIN`` degrees inside their own province's outline in
``china-provinces.geojson`` (the shipped outlines are coarse: a coastal seat
can fall in their sea). Rows sorted by code; the same package gives the same
bytes.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dashboard.demo.geo import region_outlines  # noqa: E402  (after the path is set)

OUTPUT = Path(__file__).with_name("china-places.csv")
MARGIN = 0.01  # degrees, about 1 km: the demo's branches sit within ~200 m of their committee's place


def level(code: str) -> str:
    if code[2:] == "0000":
        return "province"
    return "prefecture" if code[4:] == "00" else "county"


def places(wheel: Path) -> list[tuple[str, str, str, float, float]]:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("cpca/resources/adcodes.csv").decode("utf-8")
    outlines = region_outlines()
    kept = []
    for row in csv.DictReader(io.StringIO(text)):
        if not row["longitude"] or not row["latitude"]:
            continue
        code = row["adcode"][:6]
        lon, lat = round(float(row["longitude"]), 4), round(float(row["latitude"]), 4)
        outline = outlines.get(code[:2] + "0000")
        ring = np.array([(lon + dx, lat + dy) for dx in (-MARGIN, 0, MARGIN) for dy in (-MARGIN, 0, MARGIN)])
        if outline is not None and outline.contains(ring[:, 0], ring[:, 1]).all():
            kept.append((code, row["name"], level(code), lon, lat))
    return sorted(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="cpca-0.5.5-py3-none-any.whl from `pip download --no-deps cpca==0.5.5`")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    rows = places(args.wheel)
    with args.output.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", "name", "level", "lon", "lat"])
        writer.writerows(rows)
    print(f"wrote {args.output} ({len(rows)} places)")


if __name__ == "__main__":
    main()
