"""``python app.py --regions FILE``: a bad boundary file is one line at start; organisations off the map are named."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from dashboard.live.screen_client import page_layout
from dashboard.map.regions import SHIPPED_REGIONS
from tests.conftest import LiveServer
from tests.test_app_start import run_app


def start_with(tmp_path: Path, regions: Path, *extra: str) -> list[str]:
    """stderr lines of a start that must fail; the database must not even be created."""
    result = run_app("--port", "0", "--database-url", f"sqlite:///{tmp_path}/x.db", "--no-simulate", "--regions", str(regions), *extra)
    assert result.returncode != 0
    assert not (tmp_path / "x.db").exists()
    return result.stderr.strip().splitlines()


def test_a_missing_file_is_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "provinces.geojson"
    lines = start_with(tmp_path, missing)
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert str(missing) in lines[0] and "file not found" in lines[0]


@pytest.mark.parametrize(
    "content,problem",
    [
        ('{"type": "Topology", "objects": {}}', "not a GeoJSON FeatureCollection"),
        ("<svg></svg>", "not JSON"),
        ('{"type": "FeatureCollection", "features": []}', "no features"),
    ],
)
def test_a_file_that_is_not_geojson_is_one_line_naming_it(tmp_path: Path, content: str, problem: str) -> None:
    bad = tmp_path / "regions.json"
    bad.write_text(content)
    lines = start_with(tmp_path, bad)
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert str(bad) in lines[0] and problem in lines[0]


def test_a_file_without_the_code_property_is_one_line_naming_it(tmp_path: Path) -> None:
    shipped = json.loads(SHIPPED_REGIONS.read_text())
    path = tmp_path / "official.geojson"
    path.write_text(json.dumps(shipped))
    lines = start_with(tmp_path, path, "--region-property", "adcode")
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert str(path) in lines[0] and "'adcode'" in lines[0] and "feature 0" in lines[0]


def region_traces(server: LiveServer) -> list[str]:
    """The region codes of the /map page's figure, as the server renders it."""
    layout = asyncio.run(page_layout(server.url, "/map"))
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and props.get("id") == "map-graph":
                found.extend(trace["customdata"][0] for trace in props["figure"]["data"] if "customdata" in trace)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(layout)
    return found


def test_organisations_off_the_map_are_named_in_a_warning_and_the_map_uses_the_file(tmp_path: Path) -> None:
    """A user's file with integer codes in another property, lacking two provinces."""
    shipped = json.loads(SHIPPED_REGIONS.read_text())
    kept = []
    for feature in shipped["features"]:
        code = feature["properties"].pop("code")
        if code not in ("650000", "540000"):
            feature["properties"]["adcode"] = int(code)
            kept.append(feature)
    path = tmp_path / "official.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": kept}))
    server = LiveServer(tmp_path / "lianxin.db", ["--no-simulate", "--regions", str(path), "--region-property", "adcode"], demo_members=300)
    server.start()
    try:
        warnings = [line for line in server.log_path.read_text().splitlines() if "WARNING" in line and str(path) in line]
        organisations = [line for line in warnings if "organisations in regions not in" in line]
        divisions = [line for line in warnings if "lacks provincial-level divisions" in line]
        assert len(warnings) == 2 and len(organisations) == len(divisions) == 1
        assert "540000" in organisations[0] and "650000" in organisations[0]
        assert divisions[0].endswith("540000 西藏自治区, 650000 新疆维吾尔自治区")
        codes = region_traces(server)
        assert len(codes) == len(kept) and "650000" not in codes and "440000" in codes
    finally:
        server.stop()
