"""What leaves the server, captured on the wire: a public wall and a branch's wall, one minute under live load.

Chromium opens each wall and records, through the DevTools protocol, the
body of every HTTP response it receives (documents, scripts, the page
layouts, callback answers). Dash runs its websocket in a Web Worker, out of
the page's DevTools session, so the frames are taken by headless screens
(dashboard.live.screen_client) holding the same tickets, which keep every message
they receive. The text is then searched for every member's name, code and
phone in the database (the public wall) and for every organisation and member
outside the branch's subtree and its ancestors (the branch's wall).

Names are short: a generated person's name may also occur inside an
organisation's name, a study title or a label the page is allowed to show.
Such names are set aside by checking them against that allowed text first;
codes and phones are matched as whole tokens.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dashboard.access.tokens import create_token
from dashboard.demo import texts as simulator_texts
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from dashboard.store.engine import open_store
from layouts.i18n import CATALOGUES
from tests.conftest import LiveServer

CAPTURE_S = 60
CJK = re.compile(r"[\u3400-\u9fff]+")
TOKEN = re.compile(r"[A-Za-z0-9_-]+")
PHONE = re.compile(r"(?<!\d)\d{11}(?!\d)")
ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


@pytest.fixture(scope="module")
def loaded_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    server = LiveServer(tmp_path_factory.mktemp("wire") / "lianxin.db", extra_args=["--rate", "200"]).start()
    yield server
    server.stop()


def rows(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def readable(text: str) -> str:
    """JSON escapes (\\u8fde) turned back into the characters they stand for."""
    return ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def cjk_pieces(texts: Iterable[str], longest: int = 4) -> set[str]:
    """Every run of 2..``longest`` CJK characters in the texts."""
    pieces: set[str] = set()
    for text in texts:
        for run in CJK.findall(text):
            for size in range(2, longest + 1):
                pieces.update(run[i : i + size] for i in range(len(run) - size + 1))
    return pieces


def allowed_text(server: LiveServer, org_names: Iterable[str]) -> str:
    """What a page may show that is not about members: organisation names, study titles, labels, region names."""
    titles = [value for value in vars(simulator_texts).values() if isinstance(value, (tuple, list))]
    regions = (Path(__file__).resolve().parents[1] / "data").rglob("*.geojson")
    return "\n".join([*org_names, json.dumps(titles, ensure_ascii=False, default=str),
                      *(v for catalogue in CATALOGUES.values() for v in catalogue.values()),
                      *(readable(p.read_text(errors="replace")) for p in regions)])


class Capture:
    """One Chromium page, with the body of every HTTP response it receives."""

    def __init__(self, browser, url: str) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport={"width": 1920, "height": 1080})
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable", {"maxTotalBufferSize": 400_000_000, "maxResourceBufferSize": 60_000_000})
        self.finished: list[str] = []
        self.cdp.on("Network.loadingFinished", lambda e: self.finished.append(e["requestId"]))
        self.page.goto(url, wait_until="load")
        self.page.wait_for_selector("#conn-state.live", timeout=90_000)

    def texts(self) -> list[str]:
        bodies = []
        for request_id in self.finished:
            try:
                body = self.cdp.send("Network.getResponseBody", {"requestId": request_id})
            except Exception:
                continue
            bodies.append(base64.b64decode(body["body"]).decode(errors="replace") if body["base64Encoded"] else body["body"])
        self.context.close()
        return [readable(t) for t in bodies]


@dataclass
class RecordingScreen(ScreenClient):
    """A headless screen that keeps every message it receives, as text."""

    messages: list[str] = field(default_factory=list)

    async def _handle(self, ws: Any, message: dict[str, Any], size: int) -> None:
        self.messages.append(json.dumps(message, ensure_ascii=False))
        await super()._handle(ws, message, size)


def screens_in_background(base_url: str, searches: list[str], seconds: float) -> tuple[threading.Thread, list[RecordingScreen]]:
    """Headless screens for these page searches (``?token=…``), streaming in a thread for ``seconds``.

    A thread of their own: Playwright's synchronous API holds an event loop in this one.
    """
    screens: list[RecordingScreen] = []
    ready = threading.Event()

    async def stream() -> None:
        try:
            callback_id = await stream_callback_id(base_url)
            for search in searches:
                screens.append(RecordingScreen(base_url, find_ticket(await page_layout(base_url, "/", search)), callback_id))
        finally:
            ready.set()
        await asyncio.gather(*(screen.run(seconds) for screen in screens))

    thread = threading.Thread(target=asyncio.run, args=(stream(),))
    thread.start()
    ready.wait(60)
    assert len(screens) == len(searches), "the headless screens could not get their tickets"
    return thread, screens


def where(texts: list[str], needles: Iterable[str]) -> dict[str, str]:
    """For a failure message: each needle with the text around its first occurrence."""
    found = {}
    for needle in needles:
        for text in texts:
            at = text.find(needle)
            if at >= 0:
                found[needle] = text[max(0, at - 80) : at + 80]
                break
    return found


def leaked_codes(texts: list[str], codes: set[str]) -> set[str]:
    return {tok for text in texts for tok in TOKEN.findall(text)} & codes


def leaked_phones(texts: list[str], phones: set[str]) -> set[str]:
    return {p for text in texts for p in PHONE.findall(text)} & phones


def leaked_names(texts: list[str], names: set[str], allowed: str) -> set[str]:
    found = cjk_pieces(texts) & names
    return {name for name in found if name not in allowed}


def test_a_public_wall_and_a_branch_wall_receive_nothing_they_may_not_see(loaded_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    server = loaded_server
    province, province_id = rows(server, "SELECT code, id FROM organisations WHERE level = 1 ORDER BY id")[0]
    token = create_token(open_store(server.db_url), role="display", org_code=province, level="full", label="wire test")

    public = Capture(browser, f"{server.url}/")
    branch = Capture(browser, f"{server.url}/?token={token}")
    streaming, (public_screen, branch_screen) = screens_in_background(server.url, ["", f"?token={token}"], CAPTURE_S)
    public.page.wait_for_timeout(CAPTURE_S * 1000)
    streaming.join(CAPTURE_S + 60)
    public_texts = public.texts() + public_screen.messages
    branch_texts = branch.texts() + branch_screen.messages

    members = rows(server, "SELECT m.name, m.code, m.phone, o.path, m.id FROM members m JOIN organisations o ON o.id = m.org_id")
    orgs = rows(server, "SELECT id, code, name, path FROM organisations")

    # The public wall: no member's name, code or phone, however the page got it.
    assert len(public_screen.frames) > CAPTURE_S, "the public wall received too few frames to judge"
    assert '"feed":' in "".join(public_screen.messages) and '"who":' not in "".join(public_texts)
    every_name = {m[0] for m in members}
    assert not leaked_names(public_texts, every_name, allowed_text(server, (o[2] for o in orgs)))
    assert not leaked_codes(public_texts, {m[1] for m in members})
    assert not leaked_phones(public_texts, {m[2] for m in members if m[2]})

    # The branch's wall (full level): its own members' names may show; nothing from outside its subtree and ancestors.
    inside_prefix = next(o[3] for o in orgs if o[0] == province_id)
    ancestors = {int(i) for i in inside_prefix.strip("/").split("/")}
    visible = [o for o in orgs if o[3].startswith(inside_prefix) or o[0] in ancestors]
    hidden = [o for o in orgs if not (o[3].startswith(inside_prefix) or o[0] in ancestors)]
    branch_all = "".join(branch_texts)
    assert '"who":' in branch_all, "the branch wall at the full level showed no member: the test would prove nothing"
    visible_names = {o[2] for o in visible}
    allowed = allowed_text(server, visible_names)
    hidden_org_names = {o[2] for o in hidden if o[2] not in allowed}
    assert not {name for name in hidden_org_names if name in branch_all}
    assert not leaked_codes(branch_texts, {o[1] for o in hidden})
    # Inside: members of the subtree, and members who acted in it (a transfer in, a meeting there), as its feed shows.
    acted_inside = {r[0] for r in rows(server, "SELECT DISTINCT e.member_id FROM events e JOIN organisations o ON o.id = e.org_id "
                                               f"WHERE o.path LIKE '{inside_prefix}%' AND e.member_id IS NOT NULL")}
    is_inside = [m[3].startswith(inside_prefix) or m[4] in acted_inside for m in members]
    inside_members = {m[0] for m, inside in zip(members, is_inside) if inside}
    outside = [m for m, inside in zip(members, is_inside) if not inside]
    assert leaked_names(branch_screen.messages, inside_members, allowed), "the search must find the names a full-level wall shows"
    leaked = leaked_names(branch_texts, {m[0] for m in outside}, allowed + "\n" + "\n".join(inside_members))
    assert not leaked, where(branch_texts, leaked)
    assert not leaked_codes(branch_texts, {m[1] for m in outside})
    assert not leaked_phones(branch_texts, {m[2] for m in members if m[2]})
