"""Starting the processes of a cluster on PostgreSQL + Redis for the cluster tests, and clearing its Redis keys after."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, text

from dashboard.live.redis_bus import cluster_prefix
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
