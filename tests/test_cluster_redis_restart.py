"""Redis restarted mid-stream: ingest keeps acknowledging only what is durable, screens recover, counts are exact.

The machine's Redis is shared with other developers, so the test runs a Redis of its own (no persistence, as a
Redis that loses everything on restart is the hard case) and restarts that one under a two-process cluster on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.cluster_support import attached_screen, cluster_servers, first_branch, likes, post, running, screen_total, snapshot, stored_count
from tests.conftest import LiveServer, free_port, skip_or_fail

pytestmark = pytest.mark.services


class OwnRedis:
    """A redis-server of the test's own on a free port: started, stopped and started again on the same port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            skip_or_fail("redis-server is not installed")
        self.binary = str(binary)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                assert time.monotonic() < deadline, "own redis-server did not answer"
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # everything in it is lost: the stream, budgets, leases
            self.proc.wait(10)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


def test_redis_restarted_mid_stream_loses_nothing_and_screens_recover(
    tmp_path: Path, postgres_url: str, own_redis: OwnRedis
) -> None:
    with running(cluster_servers(tmp_path, postgres_url, own_redis.url)) as (ingesting, watching):
        branch = first_branch(postgres_url)
        acknowledged: set[str] = set()
        stop = threading.Event()

        def ingest(server: LiveServer) -> None:
            while not stop.is_set():
                frame = likes(branch, 50)
                answer = post(server, frame)
                if answer.status_code == 200:
                    assert answer.json()["accepted"] == 50
                    acknowledged.update(e["id"] for e in frame)
                time.sleep(0.05)

        async def scenario() -> None:
            screen, task = await attached_screen(watching, 300)
            deadline = time.monotonic() + 120
            while screen_total(screen) < 0:
                assert time.monotonic() < deadline, "no first frame"
                await asyncio.sleep(0.05)
            sender = threading.Thread(target=ingest, args=(ingesting,))
            sender.start()
            try:
                while len(acknowledged) < 1000:
                    assert time.monotonic() < deadline, "ingest stalled before the restart"
                    await asyncio.sleep(0.05)
                await asyncio.to_thread(own_redis.stop)
                down_at = len(acknowledged)
                while len(acknowledged) < down_at + 1000:  # Redis away: ingest goes on, PostgreSQL is the record
                    assert time.monotonic() < deadline, "ingest stopped while Redis was away"
                    await asyncio.sleep(0.05)
                await asyncio.to_thread(own_redis.start)
                back_at = len(acknowledged)
                while len(acknowledged) < back_at + 1000:
                    assert time.monotonic() < deadline, "ingest stalled after Redis came back"
                    await asyncio.sleep(0.05)
            finally:
                stop.set()
                await asyncio.to_thread(sender.join)
            total = len(acknowledged)
            while screen_total(screen) != total:  # the screen on the other process recovers and shows all, once
                assert time.monotonic() < deadline, f"the screen shows {screen_total(screen)} of {total}"
                await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        asyncio.run(scenario())
        stored = stored_count(postgres_url)
        assert stored == len(acknowledged)
        deadline = time.monotonic() + 60
        for server in (ingesting, watching):  # what the stream lost is caught up from the store, once
            while snapshot(server)["events_total"] != stored:
                assert time.monotonic() < deadline, f"{server.url} counts {snapshot(server)['events_total']} of {stored}"
                time.sleep(0.1)
        assert all(snapshot(s)["events_total"] == stored for s in (ingesting, watching))

