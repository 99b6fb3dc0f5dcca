"""/topology and the wall's topology panel in headless Chromium: render, open, search, back out, pulse, warnings."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboard.demo.seed import seed_demo
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from tests.conftest import LiveServer, wait_until

PLOTLY_DOUBLE_CLICK_MS = 300  # Plotly's doubleClickDelay
NODES = """() => {
    const gd = document.querySelector('#topology-graph .js-plotly-plot');
    const nodes = gd.data.find(t => t.name === 'nodes');
    const m = gd.layout.meta.topology;
    const path = (gd.layout.shapes || []).find(s => s.name === 'path');
    const target = gd.data.find(t => t.name === 'target');
    return {codes: nodes.customdata, pre: m.pre, end: m.end, parent: m.parent,
            path: path ? path.path.split('M').length - 1 : 0, target: target.x.length};
}"""


def warm(server: LiveServer) -> LiveServer:
    """Dash's FastAPI backend sets itself up (and learns its assets) only on a request to '/' or
    '/_dash-…'; a first visit straight to /topology would get a page without scripts."""
    httpx.get(server.url + "/", timeout=30)
    return server


@pytest.fixture(scope="module")
def topo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("topo") / "lianxin.db", demo_members=3000).start()
    yield warm(server)
    server.stop()


def open_topology(browser: Any, server: LiveServer, query: str = "") -> Any:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(server.url + "/topology" + query, wait_until="load")
    page.wait_for_selector("#topology-graph .scatterlayer .trace", timeout=30_000)
    page.wait_for_selector("#conn-state.live", timeout=30_000)
    return page


def click_node(page: Any, index: int) -> None:
    """A click where Plotly draws node ``index``, once Plotly's hover is on that node (it clicks what it hovers)."""
    box = page.evaluate(
        """(i) => {
            const gd = document.querySelector('#topology-graph .js-plotly-plot');
            const t = gd.data.findIndex(t => t.name === 'nodes');
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
            return {x: r.left + xa._offset + xa.l2p(gd.data[t].x[i]), y: r.top + ya._offset + ya.l2p(gd.data[t].y[i]),
                    code: gd.data[t].customdata[i]};
        }""",
        index,
    )
    page.wait_for_timeout(PLOTLY_DOUBLE_CLICK_MS + 100)  # two clicks closer than this are Plotly's double click
    page.mouse.move(5, 5)
    page.mouse.move(box["x"], box["y"])
    hovered = "document.querySelector('#topology-graph .js-plotly-plot')._hoverdata"
    wait_until(page, f"!!{hovered} && {hovered}.length > 0 && {hovered}[0].customdata === {box['code']!r}", timeout_s=10)
    page.mouse.click(box["x"], box["y"])


def test_renders_within_the_limit_and_opens_a_folded_node(topo_server: LiveServer, browser: Any) -> None:
    page = open_topology(browser, topo_server)
    try:
        before = page.evaluate(NODES)
        assert 1 < len(before["codes"]) <= 2000
        drawn_parents = set(before["parent"])
        folded = [i for i in range(len(before["codes"])) if i not in drawn_parents and before["end"][i] - before["pre"][i] > 1 and i > 0]
        assert folded, "the overview folds something at this size"
        code = before["codes"][folded[0]]
        click_node(page, folded[0])
        wait_until(page, f"document.querySelector('#topology-detail').innerText.includes({code!r})", timeout_s=15)
        after = page.evaluate(NODES)
        assert len(after["codes"]) > len(before["codes"])
        opened = after["codes"].index(code)
        assert opened in after["parent"], "its children are drawn now"
        page.wait_for_timeout(2000)  # the first tap's clickData is cleared by a round trip; let it land
        click_node(page, opened)
        wait_until(page, f"document.querySelector('#topology-graph .js-plotly-plot').data.find(t => t.name === 'nodes').x.length === {len(before['codes'])}", timeout_s=15)
    finally:
        page.close()


def _deep_org(server: LiveServer) -> Any:
    tree = OrgTree.load(open_store(server.db_url))
    node = max(tree.nodes.values(), key=lambda n: (n.level, -n.id))
    return tree, node


def test_search_jumps_to_an_organisation_and_the_breadcrumb_leads_back(topo_server: LiveServer, browser: Any) -> None:
    tree, node = _deep_org(topo_server)
    page = open_topology(browser, topo_server)
    try:
        page.fill("#topology-search", node.code)
        page.press("#topology-search", "Enter")
        page.wait_for_selector(f"#topology-crumbs .crumb.last:text-is('{node.name}')", timeout=15_000)
        crumbs = page.locator("#topology-crumbs .crumb").all_inner_texts()
        assert crumbs == [tree.nodes[i].name for i in reversed(tree.ancestors[node.id])], "the whole path from the top"
        state = page.evaluate(NODES)
        assert node.code in state["codes"] and state["target"] == 1
        assert state["path"] >= 2, "the highlighted path runs from the centre through the parent to the organisation"
        assert node.code in page.locator("#topology-detail").inner_text()
        page.locator("#topology-crumbs .crumb").first.click()
        wait_until(page, f"document.querySelector('#topology-graph .js-plotly-plot').data.find(t => t.name === 'nodes').customdata[0] === {tree.root.code!r}", timeout_s=15)
    finally:
        page.close()


def test_a_search_with_no_match_says_so(topo_server: LiveServer, browser: Any) -> None:
    page = open_topology(browser, topo_server, "?lang=en")
    try:
        page.fill("#topology-search", "无此组织XYZ")
        page.click("#topology-find")
        page.wait_for_selector(".topo-no-match", timeout=15_000)
        assert page.locator(".topo-no-match").inner_text() == "No organisation's name or code matches “无此组织XYZ”"
    finally:
        page.close()


def test_activity_pulses_the_node_that_holds_it(topo_server: LiveServer, browser: Any) -> None:
    tree, node = _deep_org(topo_server)
    page = open_topology(browser, topo_server)
    try:
        wait_until(page, "window.lianxinTopology.healthFrames > 0", timeout_s=15)
        before = page.evaluate("() => window.lianxinTopology.pulsed")
        branch = tree.nodes[node.parent_id] if node.kind == "group" else node
        events = [{"type": "meeting_held", "org": branch.code, "data": {"kind": "group", "attendees": 5}}]
        answer = httpx.post(f"{topo_server.url}/api/events", json=events, headers={"Authorization": f"Bearer {topo_server.token}"}, timeout=10)
        assert answer.json()["accepted"] == 1
        wait_until(page, f"window.lianxinTopology.pulsed > {before}", timeout_s=15)
        pulsed = page.evaluate(
            """() => {
                const gd = document.querySelector('#topology-graph .js-plotly-plot');
                const codes = gd.data.find(t => t.name === 'nodes').customdata;
                return window.lianxinTopology.lastPulse.map(i => codes[i]);
            }"""
        )
        drawn = page.evaluate(NODES)["codes"]
        holder = next(tree.nodes[a].code for a in tree.ancestors[branch.id] if tree.nodes[a].code in drawn)
        assert pulsed == [holder], "the deepest drawn organisation holding the branch pulses, and only it"
        assert page.locator("canvas.topo-pulses").count() >= 1
    finally:
        page.close()


def test_the_wall_panel_draws_the_topology_and_pulses(topo_server: LiveServer, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(topo_server.url + "/", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=30_000)
        page.wait_for_selector("#topology-graph .scatterlayer .trace", timeout=30_000)
        wait_until(page, "window.lianxinTopology.healthFrames > 0", timeout_s=15)
        meta = page.evaluate("() => document.querySelector('#topology-graph .js-plotly-plot').layout.meta.topology")
        assert 1 < len(meta["pre"]) <= 2000 and meta["pre"][0] == 0
    finally:
        page.close()


def test_a_corrupted_tree_is_shown_as_a_warning(tmp_path: Path, browser: Any) -> None:
    path = tmp_path / "corrupt.db"
    engine = open_store(f"sqlite:///{path}")
    seed_demo(engine, members=800, seed=3)
    tree = OrgTree.load(engine)
    engine.dispose()
    child = max(tree.nodes.values(), key=lambda n: (n.level, n.id))
    parent = tree.nodes[child.parent_id]
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("UPDATE organisations SET parent_id = ? WHERE id = ?", (child.id, parent.id))
        conn.execute(
            "INSERT INTO organisations (id, code, name, kind, parent_id, level, path) VALUES (90001, 'ORPHAN-9', '无上级支部', 'branch', 80001, 2, '/')"
        )
    server = warm(LiveServer(path).start())
    try:
        assert "organisation ORPHAN-9 (无上级支部) is not reachable from the top" in server.log_tail(200)
        page = open_topology(browser, server)
        text = page.locator("#topology-warnings").inner_text()
        assert f"organisation {parent.code} ({parent.name}) is not reachable from the top: it is in a cycle" in text
        assert "ORPHAN-9 (无上级支部)" in text
        page.close()
    finally:
        server.stop()
