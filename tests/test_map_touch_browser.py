"""/map on a touch tablet (a sideways swipe goes back), and /map as the first page a fresh server serves."""

from __future__ import annotations

from typing import Any

from layouts.i18n import t
from tests.conftest import LiveServer, wait_until


def swipe(cdp: Any, x: float, y: float, dx: float, dy: float, steps: int = 8) -> None:
    """One finger down at (x, y), moved by (dx, dy), lifted: real TouchEvents through the DevTools protocol."""
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for i in range(1, steps + 1):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x + dx * i / steps, "y": y + dy * i / steps}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


# A point of the drilled-into map, with 240 px to its right and 200 px below, where a finger touches the
# map itself and no marker (a marker opens its organisation's page).
FREE_MAP_POINT = """() => {
  const box = document.querySelector('#map-graph').getBoundingClientRect();
  const onMap = (x, y) => { const e = document.elementFromPoint(x, y); return !!e && e.classList.contains('nsewdrag'); };
  for (let y = box.top + 20; y < box.bottom - 220; y += 10)
    for (let x = box.left + 20; x < box.right - 260; x += 10)
      if (onMap(x, y) && onMap(x + 240, y + 10) && onMap(x + 20, y + 200) && onMap(x + 60, y)) return [x, y];
  return null;
}"""


def test_a_sideways_swipe_on_a_tablet_goes_back_one_step(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/map", wait_until="load")
        wait_until(page, "window.lianxinMap && window.lianxinMap.ready", 60)
        assert page.evaluate("() => 'ontouchstart' in window"), "a touch screen"
        cdp = context.new_cdp_session(page)

        # A region, then one of its committees.
        page.evaluate("() => { const S = window.lianxinMap; S.gd.emit('plotly_click', {points: [{curveNumber: S.index['440000']}]}); }")
        wait_until(page, "window.lianxinMap.drill === '440000' && window.lianxinMap.orgs !== null", 15)
        page.locator("#map-org-list [data-map-org]").first.tap()
        wait_until(page, "window.lianxinMap.drillOrg !== null && window.lianxinMap.orgs !== null", 15)

        x, y = page.evaluate(FREE_MAP_POINT)
        # Neither an up-and-down swipe (a scroll) nor a short one goes back, nor opens the region under
        # the lifted finger (Plotly ends each touch on the map with a click).
        swipe(cdp, x, y, 20, 200)
        swipe(cdp, x, y, 60, 0)
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        assert page.evaluate("() => window.lianxinMap.drillOrg !== null && window.lianxinMap.drill === '440000'")
        assert page.url.startswith(live_server.url + "/map")

        swipe(cdp, x, y, 240, 10)   # right: back to the region
        wait_until(page, "window.lianxinMap.drillOrg === null && window.lianxinMap.drill === '440000'", 10)
        swipe(cdp, x + 240, y, -240, -10)   # left works too: back to the whole map
        wait_until(page, "window.lianxinMap.drill === null", 10)
        page.wait_for_selector("#map-drill-panel >> text=点击地图上的地区", timeout=10_000)
    finally:
        context.close()


def test_the_first_load_of_the_map_on_a_fresh_server_logs_no_console_error(fresh_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    """Dash's pages router set itself up on the first request to "/" only: a first /map lacked its title script (app.route_pages_now)."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:300]}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        page.goto(fresh_server.url + "/map", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        wait_until(page, "window.lianxinMap && window.lianxinMap.ready && window.lianxinLive.frames >= 2", 60)
        wait_until(page, f"document.title === {t('map.title')!r}", 10)   # the router's title script ran
        assert console == [], console
    finally:
        page.close()
