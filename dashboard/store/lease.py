"""One process per database, unless the processes are a cluster.

A process that serves a database on its own (no ``--redis-url``) holds an
exclusive lease on it; a cluster member holds a shared one. So a second lone
process, a lone process beside a cluster, or a cluster member beside a lone
process refuses to start, with one line naming the process already there —
instead of running beside it with a live state of its own that silently
diverges (its screens never see the other's events).

The lease is a lock the operating system or the database drops when its
holder dies, even by kill -9, so a crash never leaves a stale lease behind:

* PostgreSQL: an advisory lock on a connection held for the life of the
  process, keyed by the schema (tests on private schemas of one database do
  not collide); the holder is named by its connection's ``application_name``.
* SQLite: ``flock`` on ``<database>.lease`` beside the file, which holds the
  holder's description.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from dashboard.store.engine import StoreError

LEASE_CLASS = 0x4C58  # "LX": the first key of the advisory lock
NAME_LIMIT = 63  # PostgreSQL truncates application_name to 63 bytes


class StoreLease:
    def __init__(self, release: Any) -> None:
        self._release = release

    @classmethod
    def claim(cls, engine: Engine, who: str, *, cluster: bool) -> StoreLease:
        """Take the lease (shared for a cluster member); StoreError naming the holder if another process has it."""
        if engine.dialect.name == "postgresql":
            return cls._claim_postgres(engine, who, cluster)
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database and database != ":memory:":
            return cls._claim_file(Path(database).with_suffix(Path(database).suffix + ".lease"), who, cluster)
        return cls(lambda: None)

    @classmethod
    def _claim_postgres(cls, engine: Engine, who: str, cluster: bool) -> StoreLease:
        conn = engine.connect()
        try:
            schema: str = conn.execute(text("SELECT current_schema()")).scalar_one()
            key = zlib.crc32(str(schema).encode()) & 0x7FFFFFFF
            taker = "pg_try_advisory_lock_shared" if cluster else "pg_try_advisory_lock"
            conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": who[:NAME_LIMIT]})
            if not conn.execute(text(f"SELECT {taker}(:c, :k)"), {"c": LEASE_CLASS, "k": key}).scalar_one():
                raise StoreError(_refusal(_postgres_holder(conn, key), cluster))
            conn.commit()
        except BaseException:
            conn.invalidate()  # never back to the pool holding the lock or the name
            conn.close()
            raise

        def release() -> None:
            conn.invalidate()  # the session ends, and its lock with it
            conn.close()

        return cls(release)

    @classmethod
    def _claim_file(cls, path: Path, who: str, cluster: bool) -> StoreLease:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if cluster else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Path(path).read_text(errors="replace").strip() or "another process"
            os.close(fd)
            raise StoreError(_refusal(holder, cluster)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, who.encode(), 0)

        def release() -> None:
            with contextlib.suppress(OSError):
                os.close(fd)

        return cls(release)

    def release(self) -> None:
        self._release()


def _postgres_holder(conn: Connection, key: int) -> str:
    names: list[str] = list(conn.execute(
        text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :c AND l.objid = :k AND l.pid <> pg_backend_pid()"
        ),
        {"c": LEASE_CLASS, "k": key},
    ).scalars())
    return next((n for n in names if n), "another process")


def _refusal(holder: str, cluster: bool) -> str:
    if cluster:
        return (f"this database is served by {holder} on its own; stop it, or start every process of the "
                "cluster with the same --redis-url (docs/scale.md)")
    return (f"this database is already served by {holder}; one process per database — "
            "or start every process with the same --redis-url to run them as one cluster (docs/scale.md)")
