"""The wall in headless Chromium: what a person in the duty room would see."""

from __future__ import annotations

import httpx
import pytest

from layouts.i18n import fmt_count
from tests.conftest import LiveServer

SIZES = [(1920, 1080), (3840, 2160), (2560, 1440)]


@pytest.mark.parametrize("width,height", SIZES)
def test_wall_shows_the_member_count_and_fills_the_screen(live_server: LiveServer, browser, width: int, height: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    members = httpx.get(f"{live_server.url}/api/snapshot").json()["members"]
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(live_server.url + "/", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=30_000)
        kpi = page.locator("#kpi-members")
        assert kpi.inner_text().strip() == fmt_count(members, "zh")
        assert page.locator(".title-centre").inner_text() == "数字党建指挥中心"
        geometry = page.evaluate(
            """() => {
                const c = document.getElementById('wall-canvas').getBoundingClientRect();
                return {sw: document.documentElement.scrollWidth, sh: document.documentElement.scrollHeight,
                        iw: innerWidth, ih: innerHeight, w: c.width, h: c.height, x: c.left, y: c.top};
            }"""
        )
        assert geometry["sw"] <= geometry["iw"] and geometry["sh"] <= geometry["ih"], geometry
        assert abs(geometry["w"] - width) < 2 and abs(geometry["h"] - height) < 2, geometry
        page.wait_for_selector("#map-graph .scatterlayer .trace", timeout=30_000)
        assert page.locator("#map-graph .scatterlayer .trace").count() >= 34
        assert int(page.locator("#conn-state").get_attribute("data-lag-ms")) >= 0
        page.screenshot(path=str(tmp_path / f"wall-{width}x{height}.png"))
    finally:
        page.close()


def test_wall_in_english(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    members = httpx.get(f"{live_server.url}/api/snapshot").json()["members"]
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(live_server.url + "/?lang=en", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=30_000)
        assert page.locator("#kpi-members").inner_text().strip() == fmt_count(members, "en")
        assert "Command Centre" in page.locator(".title-centre").inner_text()
    finally:
        page.close()
