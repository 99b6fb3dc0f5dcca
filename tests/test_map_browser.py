"""The map in headless Chromium: offline, live colours, flashes, transfers, notices, drill-down and back."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from layouts.map import NOTICE_COLOURS
from tests.conftest import LiveServer

SHIPPED_REGIONS = 34


def post_events(server: LiveServer, events: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{server.url}/api/events", json=events, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)
    r.raise_for_status()
    assert r.json()["accepted"] == len(events), r.json()


def members_in(server: LiveServer, province: str, limit: int = 50) -> list[tuple[str, str]]:
    """(branch code, member code) of party members under the province's committee."""
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(
            "SELECT o.code, m.code FROM members m JOIN organisations o ON o.id = m.org_id "
            "WHERE o.code LIKE ? AND o.kind = 'branch' AND m.stage IN ('full', 'probationary') ORDER BY m.id LIMIT ?",
            (f"LX-{province}-%", limit),
        ).fetchall()


def event(kind: str, org: str, member: str | None = None, **data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": uuid.uuid4().hex, "type": kind, "org": org, "data": data}
    if member:
        out["member"] = member
    return out


@pytest.fixture
def map_page(live_server: LiveServer, browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """/map, live, offline: every request the page makes is recorded, and the test fails on any leaving 127.0.0.1.

    The context's proxy is a closed port for every host but 127.0.0.1, so nothing can
    reach the internet even if something tried; the recorder says what tried.
    """
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, proxy={"server": "http://127.0.0.1:9", "bypass": "127.0.0.1"})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda ws: requested.append(ws.url))
    page.goto(live_server.url + "/map", wait_until="load")
    page.wait_for_selector("#conn-state.live", timeout=30_000)
    wait_until(page, "window.lianxinMap && window.lianxinMap.ready", 30)
    yield page
    context.close()
    assert requested, "no request recorded"
    foreign = [url for url in requested if urlsplit(url).hostname != "127.0.0.1"]
    assert foreign == [], f"the map page reached outside 127.0.0.1: {foreign}"


def wait_until(page: Any, expression: str, timeout_s: float = 15) -> None:
    """Poll a page expression until it is true (the pages' CSP forbids eval, which wait_for_function needs)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"() => {expression}"):
        assert time.monotonic() < deadline, f"not true within {timeout_s} s: {expression}"
        page.wait_for_timeout(100)


def map_state(page: Any, expression: str) -> Any:
    return page.evaluate(f"() => {{ const S = window.lianxinMap; return {expression}; }}")


def test_the_map_draws_every_region_offline_on_the_dark_theme(map_page: Any) -> None:
    regions = map_page.evaluate("document.querySelector('#map-graph .js-plotly-plot').data.filter(t => t.customdata).length")
    assert regions == SHIPPED_REGIONS
    assert map_page.locator("#map-graph .map-legend-title").inner_text() == "人均今日活动"
    assert map_page.locator("#map-transfers-in-flight").inner_text() != ""
    background = map_page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(7, 11, 24)"
    assert map_page.locator(".map-kpi-btn.selected").get_attribute("data-map-kpi") == "activity"


def test_colours_follow_the_frames_and_events_flash(live_server: LiveServer, map_page: Any) -> None:
    pairs = members_in(live_server, "640000")
    index = map_state(map_page, "S.index['640000']")
    before_value = map_state(map_page, "S.values['640000'][0]")
    before_colour = map_page.evaluate(f"document.querySelector('#map-graph .js-plotly-plot').data[{index}].fillcolor")
    restyles = map_state(map_page, "S.stats.restyles")
    flashes = map_state(map_page, "S.stats.flashes")
    post_events(live_server, [event("login", org, member) for org, member in pairs for _ in range(6)])
    wait_until(map_page, f"window.lianxinMap.values['640000'][0] > {before_value or 0}", 15)
    wait_until(map_page, f"window.lianxinMap.stats.restyles > {restyles}", 5)
    wait_until(map_page, f"window.lianxinMap.stats.flashes > {flashes}", 5)
    after_colour = map_page.evaluate(f"document.querySelector('#map-graph .js-plotly-plot').data[{index}].fillcolor")
    assert after_colour != before_colour
    assert after_colour == "rgb(243,193,75)", "the most active region is at the top of the scale"


def test_a_transfer_flies_until_it_completes(live_server: LiveServer, map_page: Any) -> None:
    (source, member), = members_in(live_server, "620000", 1)
    (destination, _), = members_in(live_server, "230000", 1)
    transfer = {"transfer": f"T-{uuid.uuid4().hex[:8]}", "from_org": source, "to_org": destination}
    post_events(live_server, [event("transfer_requested", source, member, **transfer)])
    wait_until(map_page, "window.lianxinMap.stats.lines === 1", 15)
    assert map_page.locator("#map-transfers-in-flight").inner_text() == "<5"  # the public level hides small counts
    post_events(live_server, [event("transfer_approved", source, member, **transfer)])
    map_page.wait_for_timeout(1500)
    assert map_state(map_page, "S.stats.lines") == 1, "a step that does not close it keeps the line"
    post_events(live_server, [event("transfer_completed", destination, member, **transfer)])
    wait_until(map_page, "window.lianxinMap.stats.lines === 0", 15)
    # Zero is hidden like any count under 5 at the public level (docs/security.md), so the figure stays "<5".
    assert map_page.locator("#map-transfers-in-flight").inner_text() == "<5"


def test_a_notice_marks_its_region(live_server: LiveServer, map_page: Any) -> None:
    post_events(live_server, [event("notice", "LX-530000", title="地图通知", level="urgent", ttl_s=600)])
    wait_until(map_page, "window.lianxinMap.notices.some(n => n[0] === '530000' && n[1] === 'urgent')", 15)
    index = map_state(map_page, "S.index['530000']")
    wait_until(map_page, f"document.querySelector('#map-graph .js-plotly-plot').data[{index}].line.color === '{NOTICE_COLOURS['urgent']}'", 5)


def click_region(page: Any, code: str) -> None:
    x, y = page.evaluate(
        f"""() => {{
            const S = window.lianxinMap, c = S.meta.centroids['{code}'], p = S.gd.getBoundingClientRect();
            const xy = [S.gd._fullLayout.xaxis._offset + S.gd._fullLayout.xaxis.l2p(c[0] * S.meta.lonScale),
                        S.gd._fullLayout.yaxis._offset + S.gd._fullLayout.yaxis.l2p(c[1])];
            return [p.left + xy[0], p.top + xy[1]];
        }}"""
    )
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def test_drill_down_survives_live_updates_and_goes_back(live_server: LiveServer, map_page: Any) -> None:
    full_range = map_state(map_page, "S.gd.layout.xaxis.range.slice()")
    click_region(map_page, "440000")
    map_page.wait_for_selector("#map-drill-region >> text=广东省", timeout=15_000)
    wait_until(map_page, "window.lianxinMap.stats.markers > 0", 15)
    links = map_page.locator("#map-org-list a")
    assert links.count() == map_state(map_page, "S.stats.markers")
    assert all(href.startswith("/org/LX-440000-") for href in links.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    zoomed = map_state(map_page, "S.gd.layout.xaxis.range.slice()")
    assert zoomed[1] - zoomed[0] < (full_range[1] - full_range[0]) / 2

    frames = map_state(map_page, "S.stats.frames")
    pairs = members_in(live_server, "440000", 10)
    post_events(live_server, [event("study", org, member, points=5, title="t") for org, member in pairs])
    wait_until(map_page, f"window.lianxinMap.stats.frames > {frames}", 15)
    map_page.wait_for_timeout(6000)  # a drill refresh and more frames
    assert map_state(map_page, "S.drill") == "440000"
    assert map_state(map_page, "S.gd.layout.xaxis.range.slice()") == zoomed
    assert map_page.locator("#map-drill-region").inner_text() == "广东省"

    map_page.click("[data-map-kpi=members]")
    wait_until(map_page, "document.querySelector('#map-graph .map-legend-title').textContent === '党员数'", 5)
    assert map_state(map_page, "S.drill") == "440000"
    map_page.wait_for_selector(".map-drill-sub >> text=党员数", timeout=10_000)

    map_page.click("#map-back")
    wait_until(map_page, "window.lianxinMap.drill === null && window.lianxinMap.stats.markers === 0", 5)
    map_page.wait_for_selector("#map-drill-panel >> text=点击地图上的地区", timeout=10_000)
    assert map_state(map_page, "S.gd.layout.xaxis.range.slice()") == full_range


def test_the_kpi_can_be_chosen_in_the_address(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(live_server.url + "/map?kpi=dues_rate&lang=en", wait_until="load")
        wait_until(page, "window.lianxinMap && window.lianxinMap.ready", 30)
        assert page.locator(".map-kpi-btn.selected").get_attribute("data-map-kpi") == "dues_rate"
        assert page.locator("#map-graph .map-legend-title").inner_text() == "Dues collected"
        assert page.locator("#map-graph .map-legend-how").inner_text().startswith("Quintile classes")
        assert page.locator("#map-graph .map-legend-class").count() >= 1
        page.click("[data-map-kpi=study_points]")
        assert "kpi=study_points" in page.url
    finally:
        page.close()


def test_the_wall_map_panel_is_live_too(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(live_server.url + "/", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=30_000)
        wait_until(page, "window.lianxinMap && window.lianxinMap.ready", 30)
        # On the wall the legend, counter and notes sit beside the map, not over it (layouts/wall.map_body).
        assert page.locator("#panel-map .map-aside-left .map-legend").count() == 1
        assert page.locator("#panel-map .map-aside-right #map-transfers-overdue").count() == 1
        assert page.locator("#map-graph .map-legend, #map-graph .map-counter, #map-graph .map-kinds").count() == 0
        assert map_state(page, "S.meta.drill") is False
    finally:
        page.close()


def test_every_chart_of_the_screens_is_drawn_by_the_shipped_plotly_bundle(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    """assets/vendor holds a partial plotly.js bundle (scatter, bar, pie, funnel …), used instead of the full one."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        for path in ("/", "/map", "/topology"):
            page.goto(live_server.url + path, wait_until="load")
            wait_until(page, "document.querySelector('#conn-state.live') && document.querySelectorAll('.js-plotly-plot').length > 0", 30)
            page.wait_for_timeout(500)
            drawn = page.evaluate(
                "() => [...new Set([...document.querySelectorAll('.js-plotly-plot')].flatMap(g => (g.data || []).map(t => t.type || 'scatter')))]"
            )
            registered = page.evaluate("() => Object.keys(window.Plotly.PlotSchema.get().traces)")
            assert drawn and set(drawn) <= set(registered), (path, drawn)
            assert page.evaluate("() => window.Plotly.version") == "4.1.0", "the vendored bundle, not the full one Dash ships"
    finally:
        page.close()
