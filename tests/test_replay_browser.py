"""The replay bar in a real browser: shown at once, the replayed time in it, pause, speed and play, the end
announced with the way back to live, a bad request explained on the page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer, wait_until
from tests.history_support import serve_replay_history

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def replay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_replay_history(tmp_path_factory)

HOUR = "?replay=2026-11-30T08:00..2026-11-30T09:00&speed=1"


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(url, wait_until="load")
    page.wait_for_selector("#replay-bar", timeout=60_000)
    return page


def test_replay_bar_plays_pauses_and_ends_with_the_way_back_to_live(browser: Any, replay_server: LiveServer) -> None:
    page = open_page(browser, f"{replay_server.url}/{HOUR}")
    try:
        wait_until(page, "document.querySelector('.replay-time').textContent.startsWith('2026-11-30 08:')", 60)
        page.click("#replay-toggle")
        wait_until(page, "document.querySelector('#replay-toggle').textContent === '播放'", 30)
        paused_at = page.inner_text(".replay-time")
        assert paused_at.startswith("2026-11-30 08:0")
        page.select_option("#replay-speed", "600")
        page.click("#replay-toggle")
        wait_until(page, "document.querySelector('#replay-bar').classList.contains('replay-ended')", 90)
        assert page.inner_text(".replay-time") == "2026-11-30 09:00:00" != paused_at
        assert "回放结束" in page.inner_text("#replay-status")
        assert page.get_attribute("#replay-live", "href") == "/"
        assert page.inner_text(".replay-badge") == "回放"
    finally:
        page.context.close()


def test_bad_replay_is_explained_on_the_page_in_english(browser: Any, replay_server: LiveServer) -> None:
    page = open_page(browser, f"{replay_server.url}/?lang=en&replay=2026-11-30..2026-11-29")
    try:
        wait_until(page, "document.querySelector('#replay-bar').classList.contains('replay-error')", 60)
        assert page.inner_text("#replay-status") == "The replay period ends before it starts"
        assert page.get_attribute("#replay-live", "href") == "/?lang=en"
    finally:
        page.context.close()
