"""A server's snapshot and the roll edited behind its back (issue 21): between a clean stop and the next
start, a member's stage and another's organisation are changed with plain SQL (the roll's size unchanged).
The start must not use the snapshot: it rebuilds, and what it serves equals the recomputation from the store."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dashboard.live.recompute import recompute_snapshot
from dashboard.settings import Settings
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from tests.conftest import LiveServer

pytestmark = pytest.mark.live

KEYS = ("members", "full_members", "probationary", "structure", "dues_paid", "events_total", "pipeline", "rule_breaks")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path / "lianxin.db", demo_members=600, history_days=3)
    yield srv
    srv.stop()


def start_line(server: LiveServer, starts_before: int) -> str:
    """The live-state line of the start after ``starts_before`` earlier ones (the log holds every start's)."""
    lines = [line for line in server.log_path.read_text(errors="replace").splitlines() if "live state re" in line]
    assert len(lines) == starts_before + 1, lines
    return lines[-1]


def served(server: LiveServer, code: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/api/snapshot", params={"org": code}, headers={"Authorization": f"Bearer {server.admin_token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_roll_edited_between_stop_and_start_is_rebuilt_and_equals_the_store(server: LiveServer) -> None:
    server.start()
    server.stop()  # a clean stop: the last snapshot is written
    server.start()
    assert "restored from the snapshot" in start_line(server, 1), "an unchanged roll uses the snapshot"
    server.stop()

    path = server.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        staged, staged_org = conn.execute("SELECT id, org_id FROM members WHERE stage = 'full' ORDER BY id LIMIT 1").fetchone()
        moved, old_org = conn.execute("SELECT id, org_id FROM members WHERE stage = 'full' AND id <> ? ORDER BY id DESC LIMIT 1",
                                      (staged,)).fetchone()
        new_org = conn.execute("SELECT id FROM organisations WHERE kind = 'branch' AND id <> ? ORDER BY id LIMIT 1", (old_org,)).fetchone()[0]
        conn.execute("UPDATE members SET stage = 'probationary' WHERE id = ?", (staged,))
        conn.execute("UPDATE members SET org_id = ? WHERE id = ?", (new_org, moved))
        codes = dict(conn.execute("SELECT id, code FROM organisations"))

    server.start()
    line = start_line(server, 2)
    assert "rebuilt from all" in line and "another tree, roll or code" in line, line
    engine = open_store(server.db_url)
    tree = OrgTree.load(engine)
    tz = ZoneInfo(Settings().timezone)
    for org_id in {staged_org, old_org, new_org, tree.root_id}:
        expected = recompute_snapshot(engine, tree, org_id, time.time(), tz)
        shown = served(server, codes[org_id])
        assert {k: shown[k] for k in KEYS} == {k: expected[k] for k in KEYS}, codes[org_id]
    engine.dispose()
