"""Replay through the live stream: a replayed day ends with the KPIs the recomputation gives at the
day's end, a replay and a live screen on one server each get their own frames, a public replay
carries no member name, and a bad request comes back as an error in the replay bar's frame."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from dashboard.access.tokens import create_token
from dashboard.live.recompute import StoreState
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from dashboard.store.engine import open_store
from dashboard.store.models import Event, Member
from dashboard.store.tree import OrgTree
from dashboard.topology.radial import TreeIndex
from tests.conftest import LiveServer
from tests.history_support import REPLAY_DAY, REPLAY_DAY_START, TZ, serve_replay_history

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def replay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_replay_history(tmp_path_factory)

DAY, DAY_START = REPLAY_DAY, REPLAY_DAY_START
DAY_END_MS = int((DAY_START + dt.timedelta(days=1)).timestamp() * 1000) - 1
CHECKED = ("members", "events_total", "events_today", "active_today", "study_points_today", "meetings", "dues_rate",
           "rule_breaks", "transfers", "lost_contact", "pipeline", "top_study")
STREAM_S = 20.0


def merged(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """The state a page holds after taking these frames in order (full, then the keys that changed)."""
    state: dict[str, Any] = {}
    for frame in frames:
        if frame.get("full"):
            state = {}
        state.update(frame.get("kpi") or {})
    return state


async def screen(server: LiveServer, search: str, command: dict[str, Any] | None = None) -> ScreenClient:
    layout = await page_layout(server.url, "/", search)
    client = ScreenClient(server.url, find_ticket(layout), await stream_callback_id(server.url), search=search,
                          replay_command=command)
    return await client.run(STREAM_S)


def replay_search(level_token: str | None, speed: int = 600) -> str:
    token = f"token={level_token}&" if level_token else ""
    return f"?{token}replay={DAY.isoformat()}..{DAY.isoformat()}&speed={speed}"


def post_live_events(server: LiveServer, org: str, n: int) -> None:
    events = [{"type": "notice", "org": org, "data": {"title": "live now", "level": "info"}} for _ in range(n)]
    r = httpx.post(f"{server.url}/api/events", json=events, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)
    assert r.json()["accepted"] == n


def test_replay_and_live_side_by_side_each_get_their_own(replay_server: LiveServer) -> None:
    server = replay_server
    engine = open_store(server.db_url)
    tree = OrgTree.load(engine)
    root = tree.root
    assert root is not None
    jump = {"n": 1, "jump": DAY_END_MS}  # the replay bar's jump to the day's end

    async def both() -> tuple[ScreenClient, ScreenClient]:
        replay = asyncio.create_task(screen(server, replay_search(server.admin_token), jump))
        live = asyncio.create_task(screen(server, f"?token={server.admin_token}"))
        await asyncio.sleep(0)
        await asyncio.to_thread(post_live_events, server, root.code, 7)
        return await replay, await live

    replayed, live = asyncio.run(both())
    state = merged(replayed.frames)
    assert state["replay"]["ended"] is True and state["replay"]["at"] == DAY_END_MS
    expected = StoreState.load(engine, DAY_END_MS / 1000, TZ, as_of=True).snapshot(root.id)
    assert expected["events_today"] > 1000
    for key in CHECKED:
        assert state[key] == expected[key], key
    live_state = merged(live.frames)
    assert "replay" not in live_state
    now = StoreState.load(engine, time.time(), TZ).snapshot(root.id)
    assert live_state["events_total"] == now["events_total"] != state["events_total"]
    assert live_state["events_today"] >= 7  # today's live events, which the replayed day never had
    assert any(n["title"] == "live now" for n in live_state["notices"])
    assert all(n["title"] != "live now" for f in replayed.frames for n in (f.get("kpi") or {}).get("notices", []))


def test_public_replay_carries_no_member_name(replay_server: LiveServer) -> None:
    server = replay_server
    engine = open_store(server.db_url)
    tree = OrgTree.load(engine)
    with engine.connect() as conn:
        names = {n for (n,) in conn.execute(select(Member.name)).all()}
    org_text = "".join(node.name for node in tree.nodes.values())
    names = {n for n in names if len(n) >= 2 and n not in org_text}

    async def run() -> tuple[ScreenClient, ScreenClient]:
        return (await asyncio.gather(screen(server, replay_search(None)), screen(server, replay_search(server.admin_token))))

    public, full = asyncio.run(run())
    full_feed = [item for f in full.frames for item in f.get("feed", [])]
    assert any("who" in item for item in full_feed), "a full-level replay names members: the check can fail"
    public_feed = [item for f in public.frames for item in f.get("feed", [])]
    assert len(public_feed) > 10 and all("who" not in item for item in public_feed)
    wire = orjson.dumps(public.frames).decode()
    assert [n for n in names if n in wire] == []


@pytest.mark.parametrize(
    ("search", "code"),
    [
        ("?replay=2026-11-30..2026-11-29&speed=60", "reversed"),
        ("?replay=2026-11-30..2099-01-01&speed=60", "future"),
        ("?replay=2020-01-01..2020-01-02&speed=60", "history"),
        ("?replay=2026-11-30..2026-11-30&speed=601", "speed"),
        ("?replay=yesterday&speed=60", "period"),
    ],
)
def test_bad_replay_request_is_an_error_frame(replay_server: LiveServer, search: str, code: str) -> None:
    async def run() -> ScreenClient:
        layout = await page_layout(replay_server.url, "/", search)
        client = ScreenClient(replay_server.url, find_ticket(layout), await stream_callback_id(replay_server.url), search=search)
        return await client.run(4)

    frames = asyncio.run(run()).frames
    assert frames and frames[0]["kpi"]["replay"]["error"] == code
    assert all("events_total" not in f.get("kpi", {}) for f in frames)


def test_replayed_frames_pulse_the_topology_within_the_scope(replay_server: LiveServer) -> None:
    """The topology page's pulses come from the replayed events: positions in the scope's preorder (as the live
    page maps them) of organisations that had events in the period — and a province screen's stay in its subtree."""
    server = replay_server
    engine = open_store(server.db_url)
    tree = OrgTree.load(engine)
    index = TreeIndex.build(tree)
    province = max((n for n in tree.nodes.values() if n.level == 1), key=lambda n: int(index.end[index.pre_of(n.id)]) - index.pre_of(n.id))
    scoped = create_token(engine, role="display", org_code=province.code, level="full")
    start_ms = int(DAY_START.timestamp() * 1000)
    with engine.connect() as conn:
        active = {org for (org,) in conn.execute(select(Event.org_id).where(
            Event.ts_ms >= start_ms, Event.ts_ms <= DAY_END_MS, Event.type != "notice")).all()}

    async def run() -> tuple[ScreenClient, ScreenClient]:
        return (await asyncio.gather(screen(server, replay_search(server.admin_token)), screen(server, replay_search(scoped))))

    whole, mine = asyncio.run(run())
    for client, top in ((whole, tree.root), (mine, province)):
        assert top is not None
        pulses = [f["kpi"]["topo_pulse"] for f in client.frames if "topo_pulse" in (f.get("kpi") or {})]
        assert pulses, "a replay pulses the topology"
        first, stop = index.pre_of(top.id), int(index.end[index.pre_of(top.id)])
        pulsed = {int(first + o) for p in pulses for o in p["o"]}
        assert all(first <= p < stop for p in pulsed)
        assert {int(index.ids[p]) for p in pulsed} <= active
        assert all(sum(p["c"]) >= len(p["o"]) for p in pulses)
