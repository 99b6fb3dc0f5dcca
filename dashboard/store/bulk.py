"""Bulk loading (and reading) through the raw DBAPI connection, in one transaction.

SQLAlchemy's ORM (or even Core ``insert().values``) costs several times more
per row than the driver itself; seeding a million members goes through the
driver: ``executemany`` of multi-row INSERTs on SQLite, ``COPY … FROM STDIN``
on PostgreSQL (psycopg 3). Rows carry explicit ids, so PostgreSQL's id
sequences are moved past them at the end. Reading a million rows back for a
start goes through the driver too (``fetch_rows``): plain tuples in C, not
SQLAlchemy rows (~4× less time at a million members).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from sqlalchemy import Engine

from dashboard.store.models import Event, Member, MemberGroup, MemberGroupMember, Organisation, OrgLink, Token

ORG_COLUMNS = ("id", "code", "name", "kind", "parent_id", "level", "path", "region_code", "lon", "lat", "unit_type")
MEMBER_COLUMNS = (
    "id", "code", "name", "org_id", "stage", "gender", "ethnicity", "birth_year", "education", "occupation", "post",
    "join_date", "phone",
)
LINK_COLUMNS = ("id", "a_id", "b_id", "kind", "since")
MEMBER_GROUP_COLUMNS = ("id", "code", "name", "topic", "home_org_id")
MEMBER_GROUP_MEMBER_COLUMNS = ("group_id", "member_id")
_SERIAL_TABLES = (Organisation, Member, OrgLink, MemberGroup)
# Bound values per multi-row INSERT: SQLite allows 32,766 since 3.32, 999 before.
_VALUES_PER_STATEMENT = 2600 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


class BulkWriter:
    """Writes rows with the driver's fastest path; one open transaction until ``commit``."""

    def __init__(self, dbapi_connection: Any, dialect: str) -> None:
        self._conn = dbapi_connection
        self._dialect = dialect
        self._cursor = dbapi_connection.cursor()

    def clear_demo(self) -> dict[str, int]:
        """Delete the organisation and everything hanging off it, children before parents.

        Tokens scoped to an organisation go too (their organisation no longer
        exists); tree-wide tokens are kept. Returns rows deleted per table.
        """
        deleted = {}
        for table, where in (
            (MemberGroupMember, ""),
            (MemberGroup, ""),
            (OrgLink, ""),
            (Event, ""),
            (Member, ""),
            (Token, " WHERE org_id IS NOT NULL"),
            (Organisation, ""),
        ):
            self._cursor.execute(f"DELETE FROM {table.__tablename__}{where}")
            deleted[table.__tablename__] = max(self._cursor.rowcount, 0)
        return deleted

    def write(self, table: str, columns: Sequence[str], rows: np.ndarray | Sequence[Sequence[object]]) -> None:
        """Insert ``rows`` (a 2-D object array or a list of tuples) into ``table``'s ``columns``.

        On SQLite, rows go in as multi-row INSERT statements (one statement per
        ~2,600 values): that cuts the per-row cost of one-row statements by a third.
        """
        if not len(rows):
            return
        names = ", ".join(columns)
        if self._dialect == "postgresql":
            with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows.tolist() if isinstance(rows, np.ndarray) else rows:
                    copy.write_row(row)
            return
        block = rows if isinstance(rows, np.ndarray) else np.array(rows, dtype=object)
        per_statement = max(1, _VALUES_PER_STATEMENT // len(columns))
        whole = len(block) - len(block) % per_statement
        one_row = "(" + ", ".join("?" for _ in columns) + ")"
        if whole:
            values = ", ".join([one_row] * per_statement)
            self._cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES {values}",
                block[:whole].reshape(-1, per_statement * len(columns)).tolist(),
            )
        if whole < len(block):
            self._cursor.executemany(f"INSERT INTO {table} ({names}) VALUES {one_row}", block[whole:].tolist())

    def commit(self) -> None:
        if self._dialect == "postgresql":
            for model in _SERIAL_TABLES:
                name = model.__tablename__
                self._cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                )
        self._conn.commit()


def fetch_rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a plain ``SELECT`` (no parameters, no type conversion) as the driver's own tuples.

    For the few wide reads of a start (the roll's codes and organisations, the
    tree). Values come as the driver gives them — a date is SQLite's text —
    so only ids, codes, names and numbers belong here.
    """
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()


@contextmanager
def bulk_writer(engine: Engine) -> Iterator[BulkWriter]:
    """A BulkWriter on a pooled connection; rolled back unless committed.

    On SQLite, CHECK constraints are not evaluated during the load (they cost
    a third of the insert time): every row comes from the generator, whose
    output tests/test_seed.py checks against the same constraints. Foreign
    keys stay enforced, so a replacement still fails loudly if some other
    table refers to the organisations being deleted.
    """
    raw = engine.raw_connection()
    driver = raw.driver_connection
    if driver is None:  # only a connection that was invalidated has none
        raw.close()
        raise RuntimeError("the pool handed out a closed connection")
    sqlite = engine.dialect.name == "sqlite"
    try:
        if sqlite:
            driver.execute("PRAGMA ignore_check_constraints=ON")
        yield BulkWriter(driver, engine.dialect.name)
    except BaseException:
        raw.rollback()
        raise
    finally:
        if sqlite:
            driver.execute("PRAGMA ignore_check_constraints=OFF")
        raw.close()
