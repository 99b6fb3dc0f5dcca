"""Frames over Dash's websocket, as lightweight screens receive them from a live server."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from tests.conftest import LiveServer


def post_events(server: LiveServer, events: list[dict[str, Any]]) -> dict[str, Any]:
    r = httpx.post(f"{server.url}/api/events", json=events, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)
    r.raise_for_status()
    return r.json()


def db_rows(server: LiveServer, sql: str) -> list[tuple]:
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def a_branch_and_member(server: LiveServer, skip_org: str | None = None) -> tuple[str, str, str]:
    """(branch code, a member code in it, the code of its level-1 ancestor)."""
    rows = db_rows(
        server,
        "SELECT o.code, m.code, o.path FROM members m JOIN organisations o ON o.id = m.org_id "
        "WHERE o.kind = 'branch' AND m.stage = 'full' ORDER BY m.id",
    )
    for branch, member, path in rows:
        top_id = int(path.strip("/").split("/")[1])
        top = db_rows(server, f"SELECT code FROM organisations WHERE id = {top_id}")[0][0]
        if top != skip_org:
            return branch, member, top
    raise LookupError("no branch")


async def screens(server: LiveServer, search: str = "") -> tuple[str, str]:
    layout = await page_layout(server.url, "/", search)
    return find_ticket(layout), await stream_callback_id(server.url)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_a_new_screen_gets_the_full_state_then_only_changes(live_server: LiveServer) -> None:
    branch, member, _ = a_branch_and_member(live_server)

    async def scenario() -> ScreenClient:
        ticket, cb = await screens(live_server)
        client = ScreenClient(live_server.url, ticket, cb)
        task = asyncio.create_task(client.run(6))
        await asyncio.sleep(2)
        title = f"frame-test-{uuid.uuid4().hex[:8]}"
        await asyncio.to_thread(
            post_events,
            live_server,
            [{"id": uuid.uuid4().hex, "type": "study", "org": branch, "member": member, "data": {"points": 3, "title": title}}],
        )
        await task
        client.title = title  # type: ignore[attr-defined]
        return client

    client = run(scenario())
    first = client.frames[0]
    assert first["full"] is True
    assert {"members", "structure", "events_total", "notices"} <= set(first["kpi"])
    later = [f for f in client.frames[1:] if not f.get("heartbeat")]
    assert later, "no frame after the event"
    assert all(not f["full"] for f in later)
    assert any(item.get("title") == client.title for f in later for item in f["feed"])  # type: ignore[attr-defined]
    assert all("structure" not in f["kpi"] for f in later), "unchanged keys must not be re-sent"
    totals = [f["kpi"]["events_total"] for f in later if "events_total" in f["kpi"]]
    assert totals and totals[-1] > first["kpi"]["events_total"]


def test_a_screen_that_joins_after_a_restart_opens_on_the_latest_stored_activity(fresh_server: LiveServer) -> None:
    """The feed opens on what happened last (at a quiet hour the next event may be minutes away), from
    the store after a restart, and at the public level without a name."""
    branch, member, _ = a_branch_and_member(fresh_server)
    name = db_rows(fresh_server, f"SELECT name FROM members WHERE code = '{member}'")[0][0]
    titles = [f"before-restart-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    post_events(
        fresh_server,
        [{"id": uuid.uuid4().hex, "type": "study", "org": branch, "member": member, "data": {"points": 1, "title": t}} for t in titles],
    )
    fresh_server.restart()

    async def scenario() -> ScreenClient:
        ticket, cb = await screens(fresh_server)
        return await ScreenClient(fresh_server.url, ticket, cb).run(2)

    first = run(scenario()).frames[0]
    assert first["full"] is True
    assert [item.get("title") for item in first["feed"]][-3:] == titles
    assert name not in str(first) and member not in str(first)


def test_a_page_whose_layout_arrives_late_still_gets_its_frames(live_server: LiveServer) -> None:
    """Dash starts the stream when its shell loads; the page (and its live-meta) may come later."""

    async def scenario() -> ScreenClient:
        ticket, cb = await screens(live_server)
        return await ScreenClient(live_server.url, ticket, cb, layout_late=5).run(5)

    client = run(scenario())
    assert client.meta_requests == 6, "the stream should ask again until the page has its live-meta"
    assert client.frames and client.frames[0]["full"] is True


def test_public_screens_never_receive_member_names(live_server: LiveServer) -> None:
    branch, member, _ = a_branch_and_member(live_server)
    name = db_rows(live_server, f"SELECT name FROM members WHERE code = '{member}'")[0][0]

    async def scenario() -> ScreenClient:
        ticket, cb = await screens(live_server)
        client = ScreenClient(live_server.url, ticket, cb)
        task = asyncio.create_task(client.run(5))
        await asyncio.sleep(1.5)
        events = [{"id": uuid.uuid4().hex, "type": "login", "org": branch, "member": member} for _ in range(5)]
        await asyncio.to_thread(post_events, live_server, events)
        await task
        return client

    client = run(scenario())
    assert any(item["type"] == "login" for f in client.frames if not f.get("heartbeat") for item in f["feed"])
    wire = str(client.frames)
    assert name not in wire and member not in wire


def test_notices_reach_their_subtree_only(live_server: LiveServer) -> None:
    _, _, province_a = a_branch_and_member(live_server)
    _, _, province_b = a_branch_and_member(live_server, skip_org=province_a)
    title = f"通知-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[ScreenClient, ScreenClient]:
        ticket_a, cb = await screens(live_server, f"?org={province_a}")
        ticket_b, _ = await screens(live_server, f"?org={province_b}")
        a = ScreenClient(live_server.url, ticket_a, cb)
        b = ScreenClient(live_server.url, ticket_b, cb)
        tasks = [asyncio.create_task(a.run(5)), asyncio.create_task(b.run(5))]
        await asyncio.sleep(1.5)
        notice = {"id": uuid.uuid4().hex, "type": "notice", "org": province_a, "data": {"title": title, "level": "urgent", "ttl_s": 600}}
        await asyncio.to_thread(post_events, live_server, [notice])
        await asyncio.gather(*tasks)
        return a, b

    a, b = run(scenario())
    assert any(n["title"] == title for f in a.frames if not f.get("heartbeat") for n in f["kpi"].get("notices", []))
    assert title not in str(b.frames)


def test_a_stalled_screen_does_not_slow_the_others(live_server: LiveServer) -> None:
    branch, member, _ = a_branch_and_member(live_server)

    async def feed(stop: asyncio.Event) -> None:
        while not stop.is_set():
            events = [{"id": uuid.uuid4().hex, "type": "like", "org": branch} for _ in range(20)]
            await asyncio.to_thread(post_events, live_server, events)
            await asyncio.sleep(0.1)

    async def scenario() -> tuple[ScreenClient, ScreenClient]:
        ticket, cb = await screens(live_server)
        stalled = ScreenClient(live_server.url, ticket, cb, stalled=True)
        healthy = ScreenClient(live_server.url, ticket, cb)
        stop = asyncio.Event()
        feeder = asyncio.create_task(feed(stop))
        await asyncio.gather(stalled.run(6), healthy.run(6))
        stop.set()
        await feeder
        return stalled, healthy

    stalled, healthy = run(scenario())
    assert len(stalled.frames) == 1
    frames = [f for f in healthy.frames if not f.get("heartbeat")]
    assert len(frames) >= 10, f"the healthy screen got only {len(frames)} frames"
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(seqs)
    health = httpx.get(f"{live_server.url}/api/health").json()
    assert health["screens"] == 0, "screens left attached after their sockets closed"


def test_a_slow_screen_skips_to_the_latest_state(live_server: LiveServer) -> None:
    branch, _, _ = a_branch_and_member(live_server)

    async def scenario() -> tuple[ScreenClient, ScreenClient]:
        ticket, cb = await screens(live_server)
        slow = ScreenClient(live_server.url, ticket, cb, ack_delay_s=1.0)
        fast = ScreenClient(live_server.url, ticket, cb)
        runs = asyncio.gather(slow.run(6), fast.run(6))
        for _ in range(20):
            await asyncio.to_thread(post_events, live_server, [{"id": uuid.uuid4().hex, "type": "share", "org": branch} for _ in range(10)])
            await asyncio.sleep(0.2)
        await runs
        return slow, fast

    slow, fast = run(scenario())
    slow_frames = [f for f in slow.frames if not f.get("heartbeat")]
    fast_frames = [f for f in fast.frames if not f.get("heartbeat")]
    assert len(slow_frames) < len(fast_frames)
    # Skipping, not queueing: the slow screen's sequence numbers jump, and it ends on fresh data.
    gaps = [b["seq"] - a["seq"] for a, b in zip(slow_frames, slow_frames[1:])]
    assert max(gaps) > 1
    assert slow_frames[-1]["kpi"].get("events_total") is None or slow_frames[-1]["kpi"]["events_total"] >= fast_frames[len(fast_frames) // 2]["kpi"].get("events_total", 0)


def test_screens_joining_and_leaving_leave_nothing_behind(live_server: LiveServer) -> None:
    async def scenario() -> None:
        ticket, cb = await screens(live_server)
        for _ in range(3):
            await asyncio.gather(*(ScreenClient(live_server.url, ticket, cb).run(1.5) for _ in range(20)))

    baseline = httpx.get(f"{live_server.url}/api/health").json()
    run(scenario())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = httpx.get(f"{live_server.url}/api/health").json()
        if after["screens"] == 0 and after["tasks"] <= baseline["tasks"]:
            break
        time.sleep(0.3)
    assert after["screens"] == 0 and after["scopes"] == 0
    assert after["tasks"] <= baseline["tasks"], (baseline, after)


@pytest.mark.parametrize("ticket", ["", "garbage", "eyJvIjoxfQ.AAAA"])
def test_a_forged_ticket_gets_no_frames(live_server: LiveServer, ticket: str) -> None:
    async def scenario() -> ScreenClient:
        cb = await stream_callback_id(live_server.url)
        return await ScreenClient(live_server.url, ticket, cb).run(2)

    assert run(scenario()).frames == []


def negotiated_extensions(server: LiveServer) -> str | None:
    """What the server answers to a client offering permessage-deflate, as every browser does."""

    async def handshake() -> str | None:
        url = server.url.replace("http://", "ws://") + "/_dash-ws-callback"
        async with websockets.connect(url, origin=server.url, compression="deflate") as ws:
            return ws.response.headers.get("Sec-WebSocket-Extensions")

    return run(handshake())


def test_frames_are_compressed_unless_turned_off(live_server: LiveServer, tmp_path: Path) -> None:
    assert "permessage-deflate" in (negotiated_extensions(live_server) or "")
    plain = LiveServer(tmp_path / "plain.db", extra_args=["--no-simulate", "--no-ws-compression"]).start()
    try:
        assert negotiated_extensions(plain) is None
    finally:
        plain.stop()
