"""Starting the processes of a cluster on PostgreSQL + Redis for the cluster tests, and clearing its Redis keys after."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, text

from dashboard.live.redis_bus import cluster_prefix
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from tests.conftest import LiveServer


def cluster_servers(directory: Path, postgres_url: str, redis_url: str, count: int = 2,
                    extra: Sequence[str] = (), members: int = 300) -> list[LiveServer]:
    """``count`` processes started alike (same database, same Redis) on ports of their own; none started yet."""
    servers = []
    for n in range(count):
        server = LiveServer(directory / f"p{n}.db", ["--no-simulate", "--redis-url", redis_url, *extra], demo_members=members)
        server.db_url = postgres_url
        servers.append(server)
    return servers


@contextlib.contextmanager
def running(servers: Sequence[LiveServer]) -> Iterator[Sequence[LiveServer]]:
    """Start the first (it seeds the empty database), then the others; stop every one afterwards."""
    try:
        servers[0].start()
        for server in servers[1:]:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def forget_cluster_keys(redis_url: str, database_url: str) -> None:
    """Delete every Redis key of the cluster on ``database_url`` (stream, budgets, records): keys of this test's own."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=cluster_prefix(database_url) + ":*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def first_branch(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT code FROM organisations WHERE kind = 'branch' ORDER BY id LIMIT 1")).scalar_one())
    finally:
        engine.dispose()


def snapshot(server: LiveServer, **params: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/api/snapshot", params=params,
                       headers={"Authorization": f"Bearer {server.admin_token}"}, timeout=30)
    answer.raise_for_status()
    return dict(answer.json())


def stored_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())
    finally:
        engine.dispose()


def likes(org: str, n: int) -> list[dict[str, Any]]:
    """``n`` events with ids of their own."""
    tag = uuid.uuid4().hex
    return [{"id": f"{tag}-{i}", "type": "like", "org": org} for i in range(n)]


def post(server: LiveServer, events: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(f"{server.url}/api/events", json=events, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)


def screen_total(screen: ScreenClient) -> int:
    """The newest ``events_total`` a screen was sent (-1 before its first)."""
    for frame in reversed(screen.frames):
        value = (frame.get("kpi") or {}).get("events_total")
        if value is not None:
            return int(value)
    return -1


async def attached_screen(server: LiveServer, duration_s: float) -> tuple[ScreenClient, asyncio.Task[ScreenClient]]:
    """A headless screen on ``server`` (opened with the admin token), streaming in a task for ``duration_s``."""
    layout = await page_layout(server.url, "/", f"?token={server.admin_token}")
    screen = ScreenClient(server.url, find_ticket(layout), await stream_callback_id(server.url))
    return screen, asyncio.create_task(screen.run(duration_s))
