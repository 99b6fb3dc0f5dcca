"""The aggregation survives its process: three cluster processes on PostgreSQL + Redis, each killed with kill -9 in
turn while events arrive at a bounded 2,000 a second. No acknowledged event is lost, none is counted twice (every
process's snapshot equals a recomputation from PostgreSQL), and the screens on the surviving processes stay live
(each sees the events sent after the kill) without a reload. Every process keeps its own aggregator fed by the
stream (docs/scale.md, "The aggregation survives its process").
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text

from dashboard.live.recompute import recompute_snapshot
from dashboard.settings import Settings
from dashboard.store.tree import OrgTree
from tests.cluster_support import (
    attached_screen,
    cluster_servers,
    first_branch,
    forget_cluster_keys,
    running,
    screen_total,
    snapshot,
    stored_count,
)
from tests.conftest import LiveServer

pytestmark = pytest.mark.services

RATE = 2000  # events a second, in frames of FRAME
FRAME = 100
FRAMES_PER_ROUND = 60  # 6,000 events a round, three seconds at RATE
SCREEN_LIVE_S = 10.0  # the goal: screens on the survivors live again within this


class Sender:
    """Frames of events at a bounded rate, to the processes in turn; a frame not answered (its process died) is sent
    again to the next one — a producer's retry, so the frame's ids come once more and count once."""

    def __init__(self, servers: list[LiveServer], org: str, members: list[str]) -> None:
        self.servers, self.org, self.members = servers, org, members
        self.acknowledged: set[str] = set()
        self.resent = 0

    def frame(self, tag: str) -> list[dict[str, Any]]:
        return [{"id": f"{tag}-{i}", "type": "study", "org": self.org, "member": self.members[i % len(self.members)],
                 "data": {"points": 1, "title": "学习"}} for i in range(FRAME)]

    def send(self, frame: list[dict[str, Any]], turn: int) -> None:
        for attempt in range(len(self.servers) * 3):
            server = self.servers[(turn + attempt) % len(self.servers)]
            try:
                answer = httpx.post(f"{server.url}/api/events", json=frame, timeout=10,
                                    headers={"Authorization": f"Bearer {server.token}"})
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 200:
                body = answer.json()
                assert not body["rejected"], body
                self.acknowledged.update(e["id"] for e in frame)
                return
            self.resent += 1
        raise AssertionError("no process of the cluster took a frame")

    def round(self, tag: str, during: threading.Event | None = None, kill_at: int = 0) -> None:
        """FRAMES_PER_ROUND frames at RATE; ``during`` is set once ``kill_at`` frames are sent."""
        started = time.monotonic()
        for n in range(FRAMES_PER_ROUND):
            if during is not None and n == kill_at:
                during.set()
            self.send(self.frame(f"{tag}-{n}"), n)
            ahead = started + (n + 1) * FRAME / RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)


def _store_facts(database_url: str) -> tuple[int, list[str]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            stored = stored_count(database_url)
            branch = first_branch(database_url)
            members = list(conn.execute(text(
                "SELECT m.code FROM members m JOIN organisations o ON o.id = m.org_id WHERE o.code = :b ORDER BY m.id LIMIT 20"
            ), {"b": branch}).scalars())
        return stored, members
    finally:
        engine.dispose()


def test_kill_9_of_each_process_in_turn_during_ingest_loses_nothing_and_counts_nothing_twice(
    tmp_path: Any, postgres_url: str, redis_url: str
) -> None:
    servers = cluster_servers(tmp_path, postgres_url, redis_url, count=3)
    try:
        with running(servers):
            branch = first_branch(postgres_url)
            _, members = _store_facts(postgres_url)
            assert members
            sender = Sender(servers, branch, members)

            async def scenario() -> None:
                for victim_index, victim in enumerate(servers):
                    survivors = [s for s in servers if s is not victim]
                    watched = [await attached_screen(s, 600) for s in survivors]
                    deadline = time.monotonic() + 60
                    while any(screen_total(screen) < 0 for screen, _ in watched):
                        assert time.monotonic() < deadline, "no first frame on a surviving process"
                        await asyncio.sleep(0.05)
                    killing = threading.Event()
                    ingest = asyncio.create_task(asyncio.to_thread(sender.round, f"r{victim_index}-{uuid.uuid4().hex[:6]}",
                                                                   killing, FRAMES_PER_ROUND // 2))
                    await asyncio.to_thread(killing.wait, 60)
                    await asyncio.to_thread(victim.kill)
                    killed_at = time.monotonic()
                    await ingest
                    sent = len(sender.acknowledged)
                    # Screens on the survivors stay connected and show what was sent after the kill.
                    for screen, _ in watched:
                        while screen_total(screen) < sent:
                            assert time.monotonic() - killed_at < SCREEN_LIVE_S + FRAMES_PER_ROUND * FRAME / RATE + 30, (
                                f"a surviving screen shows {screen_total(screen)} of {sent}")
                            await asyncio.sleep(0.05)
                    for _, task in watched:
                        task.cancel()
                    await asyncio.gather(*(task for _, task in watched), return_exceptions=True)
                    await asyncio.to_thread(victim.start)  # back after the crash, rebuilt from PostgreSQL plus the stream

            asyncio.run(scenario())
            stored, _ = _store_facts(postgres_url)
            assert stored == len(sender.acknowledged) == 3 * FRAMES_PER_ROUND * FRAME  # nothing acknowledged lost, once each
            engine = create_engine(postgres_url)
            tree = OrgTree.load(engine)
            tz = ZoneInfo(Settings().timezone)
            for server in servers:
                deadline = time.monotonic() + 60
                while snapshot(server)["events_total"] != stored:
                    assert time.monotonic() < deadline, f"{server.url} counts {snapshot(server)['events_total']} of {stored}"
                    time.sleep(0.1)
                for org in (tree.root_id, tree.by_code[branch]):
                    code = tree.nodes[org].code
                    expected = recompute_snapshot(engine, tree, org, time.time(), tz)
                    live = snapshot(server, org=code)
                    for key in ("members", "events_total", "events_today", "active_today"):
                        assert live[key] == expected[key], (server.url, code, key)
                ready = httpx.get(f"{server.url}/api/ready", timeout=30)
                assert ready.status_code == 200, ready.text
            engine.dispose()
    finally:
        forget_cluster_keys(redis_url, postgres_url)
