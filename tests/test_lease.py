"""One process per database unless they are a cluster: the lease (issue 21, item 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from dashboard.store.engine import StoreError, make_engine
from dashboard.store.lease import StoreLease
from tests.conftest import ROOT, LiveServer


@pytest.mark.services
def test_postgresql_lease_names_the_holder_and_ends_with_it(postgres_url: str) -> None:
    engines = [create_engine(postgres_url) for _ in range(3)]
    try:
        lone = StoreLease.claim(engines[0], "Lianxin at 127.0.0.1:8050 (pid 1)", cluster=False)
        with pytest.raises(StoreError, match=r"already served by Lianxin at 127\.0\.0\.1:8050 \(pid 1\)"):
            StoreLease.claim(engines[1], "Lianxin at 127.0.0.1:8051 (pid 2)", cluster=False)
        with pytest.raises(StoreError, match=r"served by Lianxin at 127\.0\.0\.1:8050 \(pid 1\) on its own"):
            StoreLease.claim(engines[1], "a Lianxin cluster member at 127.0.0.1:8051 (pid 2)", cluster=True)
        lone.release()
        members = [StoreLease.claim(e, f"a Lianxin cluster member (pid {n})", cluster=True) for n, e in enumerate(engines[:2])]
        with pytest.raises(StoreError, match=r"already served by a Lianxin cluster member"):
            StoreLease.claim(engines[2], "Lianxin (pid 9)", cluster=False)
        for member in members:
            member.release()
        StoreLease.claim(engines[2], "Lianxin (pid 9)", cluster=False).release()
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.unit
def test_sqlite_lease_is_per_file(tmp_path: Path) -> None:
    first = StoreLease.claim(make_engine(f"sqlite:///{tmp_path / 'a.db'}"), "Lianxin A", cluster=False)
    other_file = StoreLease.claim(make_engine(f"sqlite:///{tmp_path / 'b.db'}"), "Lianxin B", cluster=False)
    with pytest.raises(StoreError, match="already served by Lianxin A"):
        StoreLease.claim(make_engine(f"sqlite:///{tmp_path / 'a.db'}"), "Lianxin C", cluster=False)
    first.release()
    StoreLease.claim(make_engine(f"sqlite:///{tmp_path / 'a.db'}"), "Lianxin C", cluster=False).release()
    other_file.release()


@pytest.mark.live
def test_a_second_server_on_the_same_database_refuses_with_one_line_and_a_killed_one_leaves_no_lease(
    fresh_server: LiveServer,
) -> None:
    def second() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "--port", "0", "--no-simulate", "--database-url", fresh_server.db_url],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )

    done = second()
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and done.stderr.strip().endswith(errors[0]), done.stderr
    assert "alembic" not in done.stderr  # refused before touching the schema
    assert f"already served by Lianxin at 127.0.0.1:{fresh_server.port} (pid {fresh_server.proc.pid})" in errors[0]  # type: ignore[union-attr]
    fresh_server.kill()
    fresh_server.start()  # kill -9 left no lease behind
