"""Migration 0006_events_ts_seq: the index replays and reports read the record through, on SQLite and
PostgreSQL — made by the upgrade (no longer at a store's first replay), kept when an older store already
made it, dropped by the downgrade, and used by the time-ordered read."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from dashboard.live.history import HistoryState
from dashboard.store.engine import alembic_config, open_store
from dashboard.store.tree import OrgTree

INDEX = "ix_events_ts_seq"


def _time_index(engine: Engine) -> list[str] | None:
    found = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("events")}
    return found.get(INDEX)


def _version(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def _head(engine: Engine) -> str:
    """The newest revision (0006 or a later one on top of it)."""
    return str(ScriptDirectory.from_config(alembic_config(engine)).get_current_head())


def _check_migration(url: str) -> None:
    engine = open_store(url)
    assert _version(engine) == _head(engine)
    assert _time_index(engine) == ["ts_ms", "seq"]

    command.downgrade(alembic_config(engine), "0005_live_snapshots")
    assert _time_index(engine) is None
    # a store that replayed before 0006 made the index itself: the upgrade keeps it and goes on
    with engine.begin() as conn:
        conn.execute(text(f"CREATE INDEX {INDEX} ON events (ts_ms, seq)"))
    command.upgrade(alembic_config(engine), "head")
    assert _version(engine) == _head(engine)
    assert _time_index(engine) == ["ts_ms", "seq"]

    # the first replay no longer creates it: without the index, a history state opens all the same
    command.downgrade(alembic_config(engine), "0005_live_snapshots")
    HistoryState(engine, OrgTree.load(engine), ZoneInfo("Asia/Shanghai"), 0)
    assert _time_index(engine) is None
    engine.dispose()


def test_migration_on_sqlite(tmp_path: Path) -> None:
    _check_migration(f"sqlite:///{tmp_path / 'lianxin.db'}")


def test_migration_on_postgresql(postgres_url: str) -> None:
    _check_migration(postgres_url)


def test_time_ordered_read_uses_the_index_on_sqlite(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'lianxin.db'}")
    with engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT seq FROM events WHERE ts_ms <= 5 AND (ts_ms, seq) > (1, 2) ORDER BY ts_ms, seq")))
    assert INDEX in plan
    engine.dispose()
