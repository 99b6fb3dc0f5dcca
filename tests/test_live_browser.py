"""Live screens in headless Chromium: notices in #alerts, reconnect after a restart, bad frames."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, wait_until


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "lianxin.db", demo_members=500).start()
    yield server
    server.stop()


def send_notice(server: LiveServer, org: str, title: str, level: str = "urgent") -> None:
    event = {"id": uuid.uuid4().hex, "type": "notice", "org": org, "data": {"title": title, "level": level, "ttl_s": 600}}
    r = httpx.post(f"{server.url}/api/events", json=[event], headers={"Authorization": f"Bearer {server.token}"})
    assert r.json()["accepted"] == 1


def top_code(server: LiveServer) -> str:
    return httpx.get(f"{server.url}/api/snapshot").json()["org"]


def test_a_notice_appears_in_alerts_and_stays(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(live_server.url + "/", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        title = f"紧急通知-{uuid.uuid4().hex[:6]}"
        send_notice(live_server, top_code(live_server), title)
        page.wait_for_selector(f"#alerts >> text={title}", timeout=10_000)
        assert page.locator("#alerts .notice.level-urgent").count() >= 1
        page.wait_for_timeout(3000)
        assert title in page.locator("#alerts").inner_text(), "a notice must stay until it expires"
    finally:
        page.close()


def test_the_page_reconnects_after_a_server_restart_without_reloading(restartable: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(restartable.url + "/", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        page.evaluate("window.__sameDocument = true")
        frames_before = page.evaluate("window.lianxinLive.frames")
        restartable.kill()
        restartable.start()
        title = f"重连后通知-{uuid.uuid4().hex[:6]}"
        wait_until(page, f"window.lianxinLive.frames > {frames_before} + 2", timeout_s=40)
        send_notice(restartable, top_code(restartable), title)
        page.wait_for_selector(f"#alerts >> text={title}", timeout=15_000)
        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded; it should have reconnected"
    finally:
        page.close()


def test_after_a_long_outage_the_page_shows_it_and_is_back_within_15_s(restartable: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(restartable.url + "/", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        restartable.kill()
        page.wait_for_selector("#conn-state.stale, #conn-state.reconnecting", timeout=20_000)
        page.wait_for_timeout(20_000)  # past Dash's early retries: its next one is up to 30 s away
        restartable.start()
        returned = time.monotonic()
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        assert time.monotonic() - returned < 15, "the screen must be live again within 15 s of the server's return"
        title = f"长中断后通知-{uuid.uuid4().hex[:6]}"
        send_notice(restartable, top_code(restartable), title)
        page.wait_for_selector(f"#alerts >> text={title}", timeout=15_000)
    finally:
        page.close()


def test_a_frame_that_cannot_be_shown_is_skipped_not_fatal(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(live_server.url + "/", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        seq = page.evaluate(
            """() => window.lianxinLive.onFrame(
                   {seq: 999999, ts: Date.now(), kpi: {members: 5, top_study: 'not a list', notices: 42}, feed: [{}]})"""
        )
        assert seq == 999999
        assert any("could not be shown" in e for e in errors)
        title = f"之后的通知-{uuid.uuid4().hex[:6]}"
        send_notice(live_server, top_code(live_server), title)
        page.wait_for_selector(f"#alerts >> text={title}", timeout=10_000)
    finally:
        page.close()


def test_two_tabs_with_different_scopes_each_get_their_own(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    top = top_code(live_server)
    provinces = httpx.get(f"{live_server.url}/api/orgs", params={"parent": top}).json()
    a, b = provinces[0]["code"], provinces[1]["code"]
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        tab_a, tab_b = context.new_page(), context.new_page()
        tab_a.goto(f"{live_server.url}/?org={a}", wait_until="load")
        tab_b.goto(f"{live_server.url}/?org={b}", wait_until="load")
        for tab in (tab_a, tab_b):
            tab.wait_for_selector("#conn-state.live", timeout=30_000)
        title = f"只给A-{uuid.uuid4().hex[:6]}"
        send_notice(live_server, a, title, "warning")
        tab_a.wait_for_selector(f"#alerts >> text={title}", timeout=10_000)
        tab_b.wait_for_timeout(2000)
        assert title not in tab_b.locator("#alerts").inner_text()
        members_a = httpx.get(f"{live_server.url}/api/snapshot", params={"org": a}).json()["members"]
        assert tab_a.locator("#kpi-members").get_attribute("data-value") == str(members_a)
    finally:
        context.close()
