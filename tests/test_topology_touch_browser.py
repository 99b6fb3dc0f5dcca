"""The topology as a person meets it: the tap contract (the tooltip's words say what a tap does, a second tap
undoes it, the counts stay true), touch on tablets (taps open, tooltips go at the next tap, 44 px targets),
names above nodes and links, and the wall's panel naming the top-level units."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer, wait_until
from tests.test_topology_browser import click_node, warm

TABLETS = ((768, 1024), (1024, 768), (1366, 1024))
GD = "document.querySelector('#topology-graph .js-plotly-plot')"
STATE = f"""() => {{
    const gd = {GD};
    const nodes = gd.data.find(t => t.name === 'nodes');
    const m = gd.layout.meta.topology;
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
    return {{codes: nodes.customdata, text: nodes.text, pre: m.pre, end: m.end, parent: m.parent, size: nodes.marker.size,
            px: nodes.x.map(v => r.left + xa._offset + xa.l2p(v)), py: nodes.y.map(v => r.top + ya._offset + ya.l2p(v))}};
}}"""
TOOLTIPS = "Array.from(document.querySelectorAll('#topology-graph .hoverlayer .hovertext')).filter(e => e.getBoundingClientRect().width > 0).length"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    started = LiveServer(tmp_path_factory.mktemp("topo-touch") / "lianxin.db", demo_members=3000).start()
    yield warm(started)
    started.stop()


def _open(page: Any, server: LiveServer, query: str = "") -> dict[str, Any]:
    page.goto(server.url + "/topology" + query, wait_until="load")
    page.wait_for_selector("#topology-graph .scatterlayer .trace", timeout=30_000)
    page.wait_for_selector("#conn-state.live", timeout=30_000)
    state: dict[str, Any] = page.evaluate(STATE)
    return state


def _action(state: dict[str, Any], code: str) -> str:
    """The last line of a node's tooltip: what a tap on it does."""
    return str(state["text"][state["codes"].index(code)].split("<br>")[-1])


def _count(line: str) -> int:
    found = re.match(r"([\d,]+)", line)
    assert found, line
    return int(found.group(1).replace(",", ""))


def _wait_drawn(page: Any, n: int) -> dict[str, Any]:
    wait_until(page, f"{GD}.data.find(t => t.name === 'nodes').x.length === {n}", timeout_s=15)
    state: dict[str, Any] = page.evaluate(STATE)
    return state


def _children(state: dict[str, Any], i: int) -> int:
    return sum(1 for p in state["parent"] if p == i)


def test_a_tap_does_what_the_tooltip_says_and_a_second_tap_undoes_it(server: LiveServer, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        before = _open(page, server)
        # an open node (a top-level unit with its children drawn): the tooltip says a tap folds its N children
        opened = next(i for i in range(1, len(before["codes"])) if _children(before, i) > 0)
        code, kids = before["codes"][opened], _children(before, opened)
        assert _action(before, code) == f"{kids} 个直属下级已展开，点击折叠"
        click_node(page, opened)
        drawn_below = sum(1 for p in before["pre"] if before["pre"][opened] < p < before["end"][opened])
        folded = _wait_drawn(page, len(before["codes"]) - drawn_below)
        inside = before["end"][opened] - before["pre"][opened] - 1
        assert _action(folded, code) == f"{inside} 个下级组织已折叠，点击展开", "now folded, and it says so with everything inside"
        click_node(page, folded["codes"].index(code))
        again = _wait_drawn(page, len(before["codes"]))
        assert again["codes"] == before["codes"], "the second tap restores exactly what the first folded"
        assert _action(again, code) == _action(before, code), "and the counts read as before"

        # a folded node: the tooltip's count is what a tap draws below it, and a second tap folds them again
        shut = next(i for i in range(1, len(again["codes"])) if _children(again, i) == 0 and again["end"][i] - again["pre"][i] > 1)
        code = again["codes"][shut]
        inside = again["end"][shut] - again["pre"][shut] - 1
        assert _action(again, code) == f"{inside} 个下级组织已折叠，点击展开"
        click_node(page, shut)
        wait_until(page, f"{GD}.data.find(t => t.name === 'nodes').x.length > {len(again['codes'])}", timeout_s=15)
        grown = page.evaluate(STATE)
        shown = _children(grown, grown["codes"].index(code))
        assert shown > 0 and len(grown["codes"]) == len(again["codes"]) + shown
        assert _action(grown, code) == f"{shown} 个直属下级已展开，点击折叠"
        click_node(page, grown["codes"].index(code))
        assert _wait_drawn(page, len(again["codes"]))["codes"] == again["codes"]
    finally:
        page.close()


def _clear_direction(state: dict[str, Any], i: int, reach: float) -> tuple[float, float] | None:
    """A point ``reach`` px from node i's centre whose nearest drawn node is still i (so a hit there is i's
    own target, not a neighbour's), inside the plot; None if no such direction."""
    x0, y0 = state["px"][i], state["py"][i]
    best: tuple[float, tuple[float, float]] | None = None
    for k in range(24):
        a = 2 * math.pi * k / 24
        x, y = x0 + reach * math.cos(a), y0 + reach * math.sin(a)
        nearest = min(math.hypot(x - state["px"][j], y - state["py"][j]) - state["size"][j] / 2 for j in range(len(state["codes"])) if j != i)
        if nearest > reach + 4 and (best is None or nearest > best[0]):
            best = (nearest, (x, y))
    return best[1] if best else None


@pytest.mark.parametrize("width,height", TABLETS)
def test_on_a_tablet_taps_open_tooltips_go_and_every_node_is_a_44px_target(server: LiveServer, browser: Any, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True)
    page = context.new_page()
    try:
        state = _open(page, server)
        small = [i for i in range(1, len(state["codes"])) if state["size"][i] < 12]
        assert small, "the overview draws small nodes"
        # a hit 21 px from the centre of a small dot is that dot's (a 44 px target at least), wherever there is room
        checked = 0
        for i in small:
            point = _clear_direction(state, i, 21.0)
            if point is None:
                continue
            page.mouse.move(*point)
            # Plotly hovers what is under the pointer a moment later; it must become this node (a neighbour's
            # hover, or none, until the timeout fails the test)
            wait_until(page, f"!!{GD}._hoverdata && {GD}._hoverdata.length > 0 && {GD}._hoverdata[0].customdata === {state['codes'][i]!r}", timeout_s=10)
            checked += 1
            if checked == 5:
                break
        assert checked >= 3, "small nodes with room around them (up to five are checked)"
        # the mouse left a tooltip up; the next tap, anywhere on the graph, closes it
        assert page.evaluate(f"() => {TOOLTIPS}") == 1
        box = page.evaluate(f"() => {{ const r = {GD}.getBoundingClientRect(); return [r.left + 8, r.top + 8]; }}")
        page.touchscreen.tap(*box)
        wait_until(page, f"{TOOLTIPS} === 0", timeout_s=10)

        # a tap on the smallest folded dot opens it, and nothing covers the children it brings
        folded = [i for i in range(1, len(state["codes"])) if _children(state, i) == 0 and state["end"][i] - state["pre"][i] > 1]
        smallest = min(folded, key=lambda i: state["size"][i])
        target = (smallest, (state["px"][smallest], state["py"][smallest]))
        code = state["codes"][target[0]]
        page.wait_for_timeout(1000)  # two taps closer than Plotly's double-click delay (300 ms) would be a double tap
        page.touchscreen.tap(*target[1])
        wait_until(page, f"{GD}.data.find(t => t.name === 'nodes').x.length > {len(state['codes'])}", timeout_s=15)
        assert code in page.locator("#topology-detail").inner_text()
        assert page.evaluate(f"() => {TOOLTIPS}") == 0, "no tooltip to be seen over the children just opened"
    finally:
        context.close()


LABELS = f"""() => {{
    const gd = {GD};
    const traces = Array.from(gd.querySelectorAll('.scatterlayer .trace'));
    const names = gd._fullData.map(t => t.name);
    const labelTrace = gd.querySelector('.scatterlayer .trace' + gd._fullData[names.indexOf('labels')].uid);
    const texts = Array.from(labelTrace.querySelectorAll('text'));
    const style = texts.length ? getComputedStyle(texts[0]) : null;
    const panel = gd.getBoundingClientRect();
    return {{order: names, last: traces[traces.length - 1] === labelTrace,
            boxes: texts.map(t => {{ const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }}),
            words: texts.map(t => t.textContent), size: texts.map(t => parseFloat(getComputedStyle(t).fontSize)),
            paint: style && style.paintOrder, stroke: style && parseFloat(style.strokeWidth),
            panel: [panel.left, panel.top, panel.right, panel.bottom]}};
}}"""


def _overlapping(boxes: list[list[float]]) -> list[tuple[int, int]]:
    return [(a, b) for a in range(len(boxes)) for b in range(a + 1, len(boxes))
            if boxes[a][0] < boxes[b][2] and boxes[b][0] < boxes[a][2] and boxes[a][1] < boxes[b][3] and boxes[b][1] < boxes[a][3]]


def test_names_are_drawn_above_nodes_and_links_with_a_halo_and_never_on_each_other(server: LiveServer, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        _open(page, server)
        labels = page.evaluate(LABELS)
        assert labels["last"] and labels["order"][-1] == "labels", "names are the top trace; links are shapes below all traces"
        assert len(labels["words"]) >= 10
        assert (labels["paint"] or "").startswith("stroke"), f"the halo (stroke) is painted under the letters: {labels['paint']}"
        assert labels["stroke"] >= 3, "a dark halo around every name"
        assert _overlapping(labels["boxes"]) == []
    finally:
        page.close()


@pytest.mark.parametrize("lang,key", [("zh", ["良好", "一般", "需关注"]), ("en", ["Good", "Fair", "Poor"])])
def test_the_wall_panel_names_its_top_level_units_inside_the_panel(server: LiveServer, browser: Any, lang: str, key: list[str]) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(f"{server.url}/?lang={lang}", wait_until="load")
        page.wait_for_selector("#topology-graph .scatterlayer .trace", timeout=30_000)
        labels = page.evaluate(LABELS)
        tops = page.evaluate(f"""() => {{ const gd = {GD}; const m = gd.layout.meta.topology;
            const nodes = gd.data.find(t => t.name === 'nodes');
            return nodes.customdata.filter((c, i) => m.parent[i] === 0); }}""")
        named = page.evaluate(f"() => {GD}.data.find(t => t.name === 'labels').customdata")
        assert len(named) >= 4 and set(named) <= set(tops), "top-level units, and only they, are named"
        assert min(labels["size"]) >= 18, "at the wall's text floor"
        left, top, right, bottom = labels["panel"]
        for box, word in zip(labels["boxes"], labels["words"], strict=True):
            assert left <= box[0] and box[2] <= right and top <= box[1] and box[3] <= bottom, f"{word} runs out of the panel"
        assert _overlapping(labels["boxes"]) == []
        legend = page.evaluate("() => Array.from(document.querySelectorAll('#topology-graph .annotation-text tspan.line')).map(t => t.textContent)")
        assert [w.strip("● ").strip() for w in legend] == key, "a key to the colours: health by name"
    finally:
        page.close()
