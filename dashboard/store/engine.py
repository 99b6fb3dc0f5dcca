"""Opening the store: engine, SQLite pragmas, schema migrations.

One place decides how to connect, so the CLI, the server and the tests all
get the same engine (WAL on SQLite, psycopg 3 on PostgreSQL) and the same
schema (Alembic's head).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dashboard.store.models import Event, Member, Organisation

DEFAULT_DATABASE_URL = "sqlite:///var/lianxin.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The database cannot be used: a one-line reason fit for a terminal."""


def normalise_url(url: str) -> str:
    """Accept the usual spellings: ``postgresql://`` means psycopg 3 here."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode is durable against process crashes (kill -9); only a
    # power loss can drop the last transactions.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def make_engine(url: str = DEFAULT_DATABASE_URL) -> Engine:
    """Create the engine for ``url``; raise StoreError with a clear reason if it cannot work."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise StoreError(f"malformed database URL: {url!r} (expected e.g. sqlite:///var/lianxin.db)") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database {backend!r} in {url!r}: use sqlite:/// or postgresql+psycopg://")
    try:
        if backend == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise StoreError(f"cannot use database URL {url!r}: {exc}") from None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"cannot reach database {parsed.render_as_string(hide_password=True)}: {reason}") from None
    return engine


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to Alembic's head (creates it in an empty database).

    StoreError if the database is at a revision this code does not know: a
    newer Lianxin (another cluster, or a newer release) migrated it, and this
    one must neither touch it nor serve it with a wrong idea of its tables.
    """
    config = alembic_config(engine)
    known = ScriptDirectory.from_config(config)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    for revision in current:
        try:
            found = known.get_revision(revision)
        except (ResolutionError, CommandError):
            found = None
        if found is None:
            raise StoreError(
                f"the database's schema is at revision {revision}, newer than this Lianxin knows (its newest is "
                f"{known.get_current_head()}): a newer version migrated it — run that version, or upgrade this one"
            )
    command.upgrade(config, "head")


def open_store(url: str = DEFAULT_DATABASE_URL) -> Engine:
    """Engine with the schema at head: what every entry point calls."""
    engine = make_engine(url)
    migrate(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def org_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Organisation)).scalar_one())


def event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Event)).scalar_one())


def member_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Member)).scalar_one())


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
