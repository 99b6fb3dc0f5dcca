"""The map on the wall, as Chromium draws it at 1080p, 1440p and 4K and in exhibition mode.

The map fills its panel (the legend, counter and notes beside it, the event
kinds in the title row), nothing is drawn over its land, its labels overlap
nothing, the inset's island names stay in the inset — also while the rotation
moves the map in and out of focus.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer, wait_until
from tests.wall_checks import WALL_FLOOR, layout_report

# Boxes in page pixels: the plot, the land drawn in it, the panel body and its side columns, the
# map's texts, the inset; and how many sample points of each box drawn beside or over the map lie on land.
GEOMETRY = """() => {
  const S = window.lianxinMap, box = n => { const r = n.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const fl = S.gd._fullLayout, gd = S.gd.getBoundingClientRect(), b = S.meta.insetBox;
  const px = (x, y) => [gd.left + (fl.xaxis._offset + fl.xaxis.l2p(x)) * gd.width / S.gd.offsetWidth,
                        gd.top + (fl.yaxis._offset + fl.yaxis.l2p(y)) * gd.height / S.gd.offsetHeight];
  const p0 = px(b[0], b[1]), p1 = px(b[2], b[3]);
  const fills = [...S.gd.querySelectorAll('.scatterlayer .trace')].filter(g => g.__data__[0].trace.customdata).map(g => g.querySelector('path.js-fill')).filter(p => p);
  const onLand = (x, y) => fills.some(p => { const m = p.getScreenCTM(); return m && p.isPointInFill(new DOMPoint(x, y).matrixTransform(m.inverse())); });
  const landUnder = (r) => { let n = 0; for (let i = 0; i <= 10; i++) for (let j = 0; j <= 10; j++) if (onLand(r[0] + (r[2] - r[0]) * i / 10, r[1] + (r[3] - r[1]) * j / 10)) n++; return n; };
  const land = S.gd.querySelector('.scatterlayer').getBoundingClientRect();
  const panel = document.querySelector('#panel-map .map-wall');
  const overlays = [...document.querySelectorAll('.map-legend, .map-kinds, .map-counter, .map-notes')].filter(n => n.offsetWidth);
  return {
    plot: [gd.left + fl.xaxis._offset * gd.width / S.gd.offsetWidth, gd.top + fl.yaxis._offset * gd.height / S.gd.offsetHeight,
           gd.left + (fl.xaxis._offset + fl.xaxis._length) * gd.width / S.gd.offsetWidth, gd.top + (fl.yaxis._offset + fl.yaxis._length) * gd.height / S.gd.offsetHeight],
    land: [land.left, land.top, land.right, land.bottom],
    body: panel ? box(panel) : null,
    asides: [...document.querySelectorAll('#panel-map .map-aside')].map(box),
    overlays: overlays.map(n => ({name: n.className, box: box(n), land: landUnder(box(n))})),
    labels: [...document.querySelectorAll('#map-graph .map-label')].map(n => ({text: n.textContent, box: box(n)})),
    islandNames: [...document.querySelectorAll('#map-graph .map-island-name')].map(n => ({text: n.textContent, box: box(n)})),
    inset: [p0[0], p1[1], p1[0], p0[1]],
    overlay: box(S.overlay),
  };
}"""


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def inside(a: list[float], b: list[float], tol: float = 1.0) -> bool:
    return a[0] >= b[0] - tol and a[1] >= b[1] - tol and a[2] <= b[2] + tol and a[3] <= b[3] + tol


def check_texts(geo: dict[str, Any]) -> None:
    """No map label over another, over an island name or outside the map; island names inside the inset or the map."""
    texts = geo["labels"] + geo["islandNames"]
    for i, a in enumerate(texts):
        assert inside(a["box"], geo["overlay"]), f"{a['text']} outside the map"
        for b in texts[i + 1 :]:
            assert not overlap(a["box"], b["box"]), f"{a['text']} overlaps {b['text']}"
        for other in geo["overlays"]:
            assert not overlap(a["box"], other["box"]), f"{a['text']} under {other['name']}"
    for name in geo["islandNames"]:
        if overlap(name["box"], geo["inset"]):
            assert inside(name["box"], geo["inset"]), f"{name['text']} reaches out of the inset"
    for label in geo["labels"]:
        assert not overlap(label["box"], geo["inset"]), f"{label['text']} over the inset"


@pytest.fixture(scope="module")
def wall_map_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A 2,000-member demo with the simulator on: the wall names its leading regions."""
    server = LiveServer(tmp_path_factory.mktemp("wallmap") / "wallmap.db", extra_args=["--rate", "40"]).start()
    yield server
    server.stop()


def open_wall(browser: Any, server: LiveServer, path: str, width: int, height: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server.url + path, wait_until="load")
    page.wait_for_selector("#conn-state.live", timeout=60_000)
    wait_until(page, "window.lianxinMap && window.lianxinMap.ready && document.querySelectorAll('#map-graph .map-label').length >= 3", 60)
    return page


@pytest.mark.parametrize("path,width,height", [("/", 1920, 1080), ("/", 2560, 1440), ("/", 3840, 2160), ("/?lang=en", 3840, 2160), ("/?mode=exhibition&playlist=wall", 1920, 1080)])
def test_the_map_fills_its_panel_and_nothing_covers_its_land(wall_map_server: LiveServer, browser, path: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    page = open_wall(browser, wall_map_server, path, width, height)
    try:
        geo = page.evaluate(GEOMETRY)
        plot, land, body = geo["plot"], geo["land"], geo["body"]
        fill_w = (land[2] - land[0]) / (plot[2] - plot[0])
        fill_h = (land[3] - land[1]) / (plot[3] - plot[1])
        assert fill_w >= 0.9 and fill_h >= 0.9, (fill_w, fill_h)
        # No empty band across the panel: the side columns and the land take (nearly) all of its width.
        used = (land[2] - land[0]) + sum(a[2] - a[0] for a in geo["asides"])
        assert used >= 0.9 * (body[2] - body[0]), (used, body)
        assert {"map-legend", "map-counter", "map-notes", "map-kinds"} <= {o["name"] for o in geo["overlays"]}
        for other in geo["overlays"]:
            assert other["land"] == 0, f"{other['name']} over the land"
            assert not overlap(other["box"], geo["inset"]), f"{other['name']} over the inset"
        check_texts(geo)
        report = layout_report(page, WALL_FLOOR)
        assert report["problems"] == [], report["problems"]
    finally:
        page.close()


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_labels_stay_apart_while_the_rotation_moves_the_map_in_and_out_of_focus(wall_map_server: LiveServer, browser, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    page = open_wall(browser, wall_map_server, "/?playlist=map:3,wall:3", width, height)
    try:
        for _ in range(4):
            changes = page.evaluate("window.lianxinPlaylist.changes")
            wait_until(page, f"window.lianxinPlaylist.changes > {changes}", 30)
            # At once after the change (before Plotly has redrawn) and once the map has its new size.
            check_texts(page.evaluate(GEOMETRY))
            assert layout_report(page, WALL_FLOOR)["problems"] == []
            wait_until(page, "Math.abs(window.lianxinMap.gd._fullLayout.width - window.lianxinMap.gd.offsetWidth) < 2"
                             " && document.querySelectorAll('#map-graph .map-label').length >= 3", 30)
            geo = page.evaluate(GEOMETRY)
            check_texts(geo)
            if page.evaluate("window.lianxinPlaylist.kind") == "map":
                assert len(geo["islandNames"]) >= 6, "the focused map names the inset's islands"
    finally:
        page.close()


@pytest.mark.parametrize("path,width,height", [("/map", 1920, 1080), ("/map?lang=en", 1280, 800)])
def test_the_map_page_legend_is_off_the_land(wall_map_server: LiveServer, browser, path: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(wall_map_server.url + path, wait_until="load")
        wait_until(page, "window.lianxinMap && window.lianxinMap.ready && document.querySelectorAll('#map-graph .map-label').length == 34", 60)
        geo = page.evaluate(GEOMETRY)
        assert {"map-legend", "map-counter", "map-kinds", "map-notes"} <= {o["name"] for o in geo["overlays"]}
        for other in geo["overlays"]:
            assert other["land"] == 0, f"{other['name']} over the land"
        check_texts(geo)
    finally:
        page.close()
