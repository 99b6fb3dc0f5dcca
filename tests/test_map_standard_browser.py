"""The map as Chromium draws it: Taiwan in the thematic style with 台湾省资料暂缺, the inset, labels that overlap nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from layouts.map import CLASS_COLOURS
from tests.conftest import LiveServer, wait_until
from tests.test_map_browser import event, members_in, post_events

# Every box the map draws over itself, and the places nothing may cover, in page pixels.
BOXES = """() => {
  const S = window.lianxinMap, box = n => { const r = n.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const gd = S.gd.getBoundingClientRect(), fl = S.gd._fullLayout, b = S.meta.insetBox;
  const px = (x, y) => [gd.left + fl.xaxis._offset + fl.xaxis.l2p(x), gd.top + fl.yaxis._offset + fl.yaxis.l2p(y)];
  const p0 = px(b[0], b[1]), p1 = px(b[2], b[3]);
  return {
    labels: [...document.querySelectorAll('#map-graph .map-label')].map(n => ({code: n.dataset.code, text: n.textContent, box: box(n),
                                                                         size: parseFloat(getComputedStyle(n).fontSize)})),
    panels: [...document.querySelectorAll('#map-graph .map-legend, #map-graph .map-kinds, #map-graph .map-counter')].map(box),
    islandNames: [...document.querySelectorAll('#map-graph .map-island-name')].map(n => ({text: n.textContent, box: box(n)})),
    islands: S.meta.islands.map(i => px(i.x, i.y)),
    inset: [p0[0], p1[1], p1[0], p0[1]],
    plot: [gd.left, gd.top, gd.right, gd.bottom],
  };
}"""


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def around(point: list[float], r: float = 3) -> list[float]:
    return [point[0] - r, point[1] - r, point[0] + r, point[1] + r]


@pytest.fixture
def open_map(live_server: LiveServer, browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Opens a page of the live server at 1920x1080, offline; fails if any request leaves 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, proxy={"server": "http://127.0.0.1:9", "bypass": "127.0.0.1"})
    requested: list[str] = []

    def opener(path: str) -> Any:
        page = context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.on("websocket", lambda ws: requested.append(ws.url))
        page.goto(live_server.url + path, wait_until="load")
        wait_until(page, "window.lianxinMap && window.lianxinMap.ready && document.querySelector('#map-graph .map-labels') !== null", 60)
        wait_until(page, "document.querySelectorAll('#map-graph .map-island-name').length > 0", 30)
        return page

    yield opener
    context.close()
    foreign = [url for url in requested if urlsplit(url).hostname != "127.0.0.1"]
    assert requested and foreign == [], f"the page reached outside 127.0.0.1: {foreign}"


def test_taiwan_is_drawn_like_the_provinces_and_its_missing_data_is_stated(open_map: Any) -> None:
    """A Beijing scope has no data in Taiwan (nor in most provinces): Taiwan takes the same colour as they do."""
    page = open_map("/map?org=LX-110000")
    fills = page.evaluate("""() => { const S = window.lianxinMap, out = {};
        document.querySelectorAll('#map-graph .scatterlayer .trace').forEach(g => {
          const cd = g.__data__, path = g.querySelector('path.js-fill');
          if (cd && cd[0].trace.customdata && path) out[cd[0].trace.customdata[0]] = [path.style.fill, getComputedStyle(path).fillOpacity];
        }); return out; }""")
    assert len(fills) == 34
    css = {c.replace(",", ", ") for c in CLASS_COLOURS}
    assert fills["710000"][0] in css, fills["710000"]
    assert fills["710000"] == fills["650000"], "Taiwan is in the style of a province without data, not set apart"
    note = page.locator(".map-side .map-note[data-code='710000']")
    assert note.is_visible() and note.inner_text() == "台湾省资料暂缺"
    assert page.evaluate("() => !!window.lianxinMap.values['110000']"), "the scope's own region has its figures"


def test_the_inset_is_drawn_lower_right_and_nothing_covers_an_island(open_map: Any) -> None:
    page = open_map("/map")
    boxes = page.evaluate(BOXES)
    inset, plot = boxes["inset"], boxes["plot"]
    assert inset[2] - inset[0] > 100 and inset[3] - inset[1] > 150, "an inset of a legible size"
    assert inset[0] > (plot[0] + plot[2]) / 2 and inset[1] > (plot[1] + plot[3]) / 2, "in the lower right"
    names = {n["text"] for n in boxes["islandNames"]}
    assert {"东沙群岛", "西沙群岛", "中沙群岛", "南沙群岛", "黄岩岛", "曾母暗沙", "钓鱼岛", "赤尾屿"} <= names
    drawn = page.evaluate("() => [...document.querySelectorAll('#map-graph .scatterlayer .trace')].filter(g => g.__data__[0].trace.name === 'inset').length")
    assert drawn == 1
    for panel in boxes["panels"]:
        assert not overlap(panel, inset), "a panel over the inset"
        assert not any(overlap(panel, around(island)) for island in boxes["islands"]), "a panel over an island"
    for label in boxes["labels"]:
        assert not overlap(label["box"], inset), f"{label['text']} over the inset"
        assert not any(overlap(label["box"], around(island)) for island in boxes["islands"]), f"{label['text']} over an island"


def test_every_region_is_labelled_legibly_and_no_label_overlaps_another(open_map: Any) -> None:
    page = open_map("/map")
    boxes = page.evaluate(BOXES)
    labels = boxes["labels"]
    assert len(labels) == 34, sorted(label["text"] for label in labels)
    assert all(label["size"] >= 18 for label in labels)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not overlap(a["box"], b["box"]), f"{a['text']} overlaps {b['text']}"
        assert not any(overlap(a["box"], panel) for panel in boxes["panels"]), f"{a['text']} under a panel"
    taiwan = next(label for label in labels if label["code"] == "710000")
    assert taiwan["text"].startswith("台湾")


def test_region_names_are_english_with_lang_en(open_map: Any) -> None:
    page = open_map("/map?lang=en")
    texts = {label["code"]: label["text"] for label in page.evaluate(BOXES)["labels"]}
    assert texts["110000"].startswith("Beijing") and texts["710000"].startswith("Taiwan") and texts["810000"].startswith("Hong Kong")
    assert page.locator("#map-graph .map-legend-how").inner_text().startswith("Quintile classes")


def test_the_wall_names_its_leading_regions_at_the_text_floor(live_server: LiveServer, open_map: Any) -> None:
    page = open_map("/")
    for province in ("640000", "620000", "630000"):
        post_events(live_server, [event("login", org, member) for org, member in members_in(live_server, province, 10)])
    wait_until(page, "document.querySelectorAll('#map-graph .map-label').length >= 3", 30)
    labels = page.evaluate(BOXES)["labels"]
    assert 3 <= len(labels) <= 6, "the leading regions: those above 0, six at most"
    assert {"640000", "620000", "630000"} <= {label["code"] for label in labels}
    scale = page.evaluate("() => { const n = document.querySelector('#map-graph .map-label'); return n.getBoundingClientRect().height / n.offsetHeight; }")
    assert all(label["size"] >= 18 for label in labels) and scale > 0.95, "18 px on the 1920x1080 canvas"
    for i, a in enumerate(labels):
        assert not any(overlap(a["box"], b["box"]) for b in labels[i + 1 :])


def test_drill_down_goes_by_level_clusters_markers_and_steps_back(open_map: Any) -> None:
    page = open_map("/map")
    page.evaluate("""() => { const S = window.lianxinMap, i = S.index['440000'];
        S.gd.emit('plotly_click', {points: [{curveNumber: i}]}); }""")
    page.wait_for_selector("#map-drill-region >> text=广东省", timeout=15_000)
    wait_until(page, "window.lianxinMap.stats.markers > 0 && document.querySelectorAll('#map-graph .map-markers g').length > 0", 15)
    levels = page.locator("#map-org-list > li.map-level").evaluate_all("els => els.map(e => e.dataset.level)")
    order = ["committee", "general_branch", "branch"]
    assert levels and levels == [k for k in order if k in levels], levels
    marks = page.evaluate("""() => [...document.querySelectorAll('#map-graph .map-markers g')].map(g => {
        const c = g.querySelector('circle'); return [+c.getAttribute('cx'), +c.getAttribute('cy'), +(g.dataset.count || 1)]; })""")
    assert sum(m[2] for m in marks) == page.evaluate("() => window.lianxinMap.stats.markers")
    for i, a in enumerate(marks):
        for b in marks[i + 1 :]:
            assert max(abs(a[0] - b[0]), abs(a[1] - b[1])) >= 22, "two markers hide each other instead of clustering"

    opener = page.locator("#map-org-list [data-map-org]").first
    code = opener.get_attribute("data-map-org")
    opener.click()
    wait_until(page, f"window.lianxinMap.drillOrg === '{code}' && window.lianxinMap.orgs !== null", 15)
    hrefs = page.locator("#map-org-list a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(h.startswith(f"/org/{code}-") for h in hrefs), "the committee's own organisations"
    assert page.locator("#map-back").inner_text().endswith("返回地区")
    page.keyboard.press("Escape")
    wait_until(page, "window.lianxinMap.drillOrg === null && window.lianxinMap.drill === '440000' && window.lianxinMap.orgs !== null", 15)
    page.keyboard.press("Escape")
    wait_until(page, "window.lianxinMap.drill === null", 5)
