"""Several processes, one live state: the Redis bus, and processes on PostgreSQL + Redis forming one cluster.

Real Redis (127.0.0.1:6379) and real PostgreSQL; each test's stream is its
own (the stream's name is derived from the test's own database URL) and is
deleted afterwards.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dashboard.ingest.ingestor import EventChecker, EventWriter, Ingestor, MemberIndex
from dashboard.live.aggregator import Aggregator
from dashboard.live.redis_bus import RedisBus
from dashboard.live.screen_client import ScreenClient
from dashboard.runtime.core import Runtime
from dashboard.settings import Settings
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from tests.cluster_support import (
    attached_screen,
    cluster_servers,
    first_branch,
    forget_cluster_keys,
    likes,
    post,
    running,
    screen_total,
    snapshot,
)
from tests.conftest import ROOT
from tests.import_support import sample_store

pytestmark = pytest.mark.services


@pytest.fixture
def cluster_cleanup(redis_url: str) -> Iterator[list[str]]:
    """The database URLs whose clusters' Redis keys the test leaves behind (deleted afterwards)."""
    database_urls: list[str] = []
    yield database_urls
    for database_url in database_urls:
        forget_cluster_keys(redis_url, database_url)


def logins(org: str, n: int, tag: str) -> list[dict[str, Any]]:
    return [{"id": f"{tag}-{i}", "type": "like", "org": org} for i in range(n)]


def stored_seqs(engine: Any) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT seq FROM events ORDER BY seq")).scalars())


def test_the_redis_bus_reaches_every_process_and_catches_up_what_it_never_carried(
    tmp_path: Path, redis_url: str, cluster_cleanup: list[str]
) -> None:
    engine = sample_store(tmp_path / "x.db")
    database_url = f"sqlite:///{tmp_path / 'x.db'}"
    cluster_cleanup.append(database_url)
    ingest_side = RedisBus.connect(redis_url, database_url, engine)
    screen_side = RedisBus.connect(redis_url, database_url, engine)
    seen: list[int] = []
    screen_side.subscribe(lambda events: seen.extend(e.seq for e in events))
    tree = OrgTree.load(engine)

    async def scenario() -> None:
        readers = [asyncio.create_task(bus.run()) for bus in (ingest_side, screen_side)]
        ingestor = Ingestor(engine, tree, ingest_side)
        try:
            for n in range(5):
                result = await ingestor.submit(logins("SX-01-01", 50, f"bus-{n}"))
                assert result.accepted == 50
            assert (await ingestor.submit(logins("SX-01-01", 50, "bus-0"))).duplicates == 50
            # A process that died between its commit and its XADD: stored, never on the stream.
            checker = EventChecker(tree, MemberIndex.load(engine))
            rows, rejected = checker.check(logins("SX-01-01", 7, "orphan"), int(time.time() * 1000), None)
            assert not rejected
            EventWriter(engine).write([rows])
            deadline = time.monotonic() + 60
            while sorted(seen) != stored_seqs(engine):
                assert time.monotonic() < deadline, f"{len(seen)} delivered, {len(stored_seqs(engine))} stored"
                await asyncio.sleep(0.05)
        finally:
            ingestor.close()
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

    asyncio.run(scenario())
    assert len(seen) == len(set(seen)) == 257  # every stored event once: 250 through the stream, 7 caught up
    assert screen_side.caught_up == 7
    for bus in (ingest_side, screen_side):
        bus.close()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis://127.0.0.1:1/0", "Redis at 127.0.0.1:1/0 is not reachable"),
        ("http://127.0.0.1:6379", "is not a Redis URL"),
    ],
)
def test_a_redis_that_cannot_serve_stops_the_start_with_one_line(tmp_path: Path, url: str, says: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--port", "0", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--redis-url", url],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], done.stderr
    assert not (tmp_path / "x.db").exists() or (tmp_path / "x.db").stat().st_size == 0 or "seeding" not in done.stdout


def test_two_processes_started_alike_are_one_cluster(
    tmp_path: Path, postgres_url: str, redis_url: str, cluster_cleanup: list[str]
) -> None:
    cluster_cleanup.append(postgres_url)
    with running(cluster_servers(tmp_path, postgres_url, redis_url)) as servers:
        first, second = servers
        branch = first_branch(postgres_url)

        async def scenario() -> ScreenClient:
            screen, watching = await attached_screen(second, 120)
            deadline = time.monotonic() + 60
            while screen_total(screen) < 0:
                assert time.monotonic() < deadline, "no first frame from the second process"
                await asyncio.sleep(0.05)
            before = screen_total(screen)
            answer = await asyncio.to_thread(post, first, likes(branch, 40))
            assert answer.json()["accepted"] == 40
            while screen_total(screen) != before + 40:
                assert time.monotonic() < deadline, f"the second process's screen shows {screen_total(screen)}"
                await asyncio.sleep(0.05)
            watching.cancel()
            return screen

        asyncio.run(scenario())
        totals = [snapshot(s)["events_total"] for s in servers]
        assert totals[0] == totals[1]


def test_only_the_lease_holder_writes_snapshots_and_each_counts_every_seq_below_it(
    tmp_path: Path, redis_url: str, cluster_cleanup: list[str]
) -> None:
    engine = sample_store(tmp_path / "x.db")
    database_url = f"sqlite:///{tmp_path / 'x.db'}"
    cluster_cleanup.append(database_url)
    settings = Settings(database_url=database_url, simulate=False, redis_url=redis_url, snapshot_interval_s=0.0)
    runtimes = [Runtime.start(settings, engine), Runtime.start(settings, engine)]

    async def scenario() -> None:
        tasks = [asyncio.create_task(task) for rt in runtimes for task in rt.background()]
        try:
            deadline = time.monotonic() + 60
            while not any(rt.membership and rt.membership.snapshots.lease.held for rt in runtimes):
                assert time.monotonic() < deadline, "nobody took the snapshot lease"
                await asyncio.sleep(0.05)
            for n in range(10):
                assert (await runtimes[n % 2].ingestor.submit(logins("SX-01-01", 30, f"snap-{n}"))).accepted == 30
            while max(rt.aggregator.last_seq for rt in runtimes) < max(stored_seqs(engine)) or not snapshots(engine):
                assert time.monotonic() < deadline, "no snapshot written"
                await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run(scenario())
        written = sorted(rt.membership.snapshots.written for rt in runtimes if rt.membership is not None)
        assert written[0] == 0 and written[1] > 0  # one holder at a time: the other never wrote
        stored = stored_seqs(engine)
        for last_seq in snapshots(engine):  # each snapshot counts every stored seq at or below its own
            assert last_seq in stored
            with engine.connect() as conn:
                state = conn.execute(text("SELECT state FROM live_snapshots WHERE last_seq = :s"), {"s": last_seq}).scalar_one()
            restored = Aggregator.from_state(bytes(state), OrgTree.load(engine))
            assert restored.snapshot(restored.tree.root_id)["events_total"] == len([s for s in stored if s <= last_seq])
    finally:
        for rt in runtimes:
            rt.close()


def snapshots(engine: Any) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT last_seq FROM live_snapshots ORDER BY id")).scalars())


def test_a_worker_refuses_a_database_migrated_by_a_newer_version_with_one_line(
    tmp_path: Path, postgres_url: str, redis_url: str, cluster_cleanup: list[str]
) -> None:
    cluster_cleanup.append(postgres_url)
    engine = open_store(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999_from_the_future'"))
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--port", "0", "--no-simulate", "--database-url", postgres_url, "--redis-url", redis_url],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "0999_from_the_future" in lines[0], done.stderr
    with engine.connect() as conn:  # untouched: still the newer version's database, nothing seeded
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0999_from_the_future"
        assert conn.execute(text("SELECT count(*) FROM organisations")).scalar_one() == 0
    engine.dispose()
