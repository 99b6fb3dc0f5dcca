"""``--workers N`` (N cluster processes sharing one port under a supervisor) and ``--role`` (what one process serves),
on PostgreSQL + Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cluster_support import cluster_servers, first_branch, forget_cluster_keys, likes, post, running, snapshot, stored_count
from tests.conftest import ROOT, LiveServer

pytestmark = pytest.mark.services


@pytest.mark.parametrize(
    ("database", "redis", "says"),
    [
        ("postgresql+psycopg://u@127.0.0.1:1/x", None, "--workers needs --redis-url"),
        ("sqlite:///{tmp}/x.db", "redis://127.0.0.1:6379/0", "--workers needs a PostgreSQL --database-url"),
        ("postgresql+psycopg://u@127.0.0.1:1/x", "redis://127.0.0.1:1/0", "Redis at 127.0.0.1:1/0 is not reachable"),
    ],
)
def test_workers_without_what_they_share_stop_with_one_line(tmp_path: Path, database: str, redis: str | None, says: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LIANXIN_REDIS_URL"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--port", "0", "--workers", "2", "--database-url", database.format(tmp=tmp_path),
         *(["--redis-url", redis] if redis else [])],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], done.stderr
    assert not (tmp_path / "x.db").exists()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _serving(server: LiveServer, expected: set[int], deadline: float) -> None:
    """Wait until every one of ``expected`` answers on the shared port (new connections are spread by the kernel)."""
    answered: set[int] = set()
    while not expected <= answered:
        assert time.monotonic() < deadline, f"workers {sorted(expected - answered)} never answered"
        try:
            answered.add(httpx.get(f"{server.url}/api/health", timeout=5).json()["pid"])
        except httpx.HTTPError:
            time.sleep(0.1)


def test_three_workers_share_one_port_and_one_live_state_and_a_killed_one_comes_back(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    (server,) = cluster_servers(tmp_path, postgres_url, redis_url, count=1, extra=["--workers", "3"])
    try:
        with running([server]):
            assert server.proc is not None
            deadline = time.monotonic() + 180
            while len(workers := _children(server.proc.pid)) < 3:
                assert time.monotonic() < deadline, f"{len(workers)} workers running"
                time.sleep(0.2)
            _serving(server, workers, deadline)
            branch = first_branch(postgres_url)
            for _ in range(6):  # connections spread over the workers by the kernel
                assert post(server, likes(branch, 50)).status_code == 200
            victim = sorted(workers)[0]
            os.kill(victim, signal.SIGKILL)
            while victim in (workers := _children(server.proc.pid)) or len(workers) < 3:
                assert time.monotonic() < deadline, "the supervisor did not start the killed worker again"
                time.sleep(0.2)
            _serving(server, workers, deadline)
            for _ in range(4):
                assert post(server, likes(branch, 50)).status_code == 200
            stored = stored_count(postgres_url)
            assert stored == 500
            while True:  # every worker, whichever answers, counts every stored event
                totals = {snapshot(server)["events_total"] for _ in range(12)}
                if totals == {stored}:
                    break
                assert time.monotonic() < deadline, f"workers count {totals} of {stored}"
                time.sleep(0.2)
    finally:
        forget_cluster_keys(redis_url, postgres_url)


def test_roles_serve_their_part_and_refuse_the_rest_with_one_line(tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    ingest, web = cluster_servers(tmp_path, postgres_url, redis_url)
    ingest.extra_args += ["--role", "ingest"]
    web.extra_args += ["--role", "web"]
    try:
        with running([ingest, web]):
            branch = first_branch(postgres_url)
            refused = post(web, likes(branch, 5))
            assert refused.status_code == 404 and "--role web" in refused.json()["detail"]
            page = httpx.get(f"{ingest.url}/", timeout=30)
            assert page.status_code == 404 and "--role ingest" in page.json()["detail"]
            assert httpx.get(f"{ingest.url}/api/health", timeout=30).status_code == 200
            assert post(ingest, likes(branch, 30)).json()["accepted"] == 30
            deadline = time.monotonic() + 60
            while snapshot(web)["events_total"] != 30:  # accepted by one role, counted by the other
                assert time.monotonic() < deadline, "the web process never counted what the ingest process took"
                time.sleep(0.1)
    finally:
        forget_cluster_keys(redis_url, postgres_url)


def test_a_role_outside_a_cluster_is_refused_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LIANXIN_REDIS_URL"}
    done = subprocess.run([sys.executable, str(ROOT / "app.py"), "--port", "0", "--role", "web",
                           "--database-url", f"sqlite:///{tmp_path / 'x.db'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2 and "--role web needs --redis-url" in done.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "x.db").exists()
