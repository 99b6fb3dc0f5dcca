"""Writing a checked plan in one transaction: all of it or nothing.

Order matters for the foreign keys (checked at the end of each statement):
new organisations first (parents before children), then updates, members
added and updated, the transfers of moved members, and only then the
deletions — group memberships, members, links, tokens and organisations —
each in one statement over a temporary table of ids, so a subtree goes at
once and a million rows do not become a million statements.

Rows are written through the driver's bulk path (``bulk_write.BulkWriter``:
multi-row INSERT on SQLite, COPY on PostgreSQL). On SQLite the transaction
starts with ``BEGIN IMMEDIATE`` so the write lock is taken before the first
row, not half-way, and CHECK constraints are not re-evaluated (a sixth of the
write time): the checks before writing cover each of them, which the tests
confirm by re-evaluating every row with the constraints on, and PostgreSQL
always evaluates them. Foreign keys stay enforced. Any error rolls everything back.

A member moved to another organisation gets a ``transfer_completed`` event
(``data.reason`` = "roster import"), so the history shows the move and a
rebuild of the live state from the store places the member where the roster
does, even if older transfer events in the history said otherwise.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Engine

from dashboard.ingest.ingestor import key_hash
from dashboard.store.bulk import LINK_COLUMNS, MEMBER_COLUMNS, ORG_COLUMNS, BulkWriter
from dashboard.transfer.importer.plan import ImportPlan
from dashboard.transfer.importer.roster import Move

MEMBER_BLOCK = 50_000
# The roster's columns as the importer writes them: the seed's, and the ID number's keyed hash and last four.
IMPORT_MEMBER_COLUMNS = (*MEMBER_COLUMNS, "id_hash", "id_tail")
NULLABLE_MEMBER_TEXT = ("post", "join_date", "phone", "id_hash", "id_tail")
TRANSFER_REASON = "roster import"

Progress = Callable[[float], None]


class ImportNotWritable(RuntimeError):
    """The plan has errors (or no tree); nothing was written."""


def write_plan(engine: Engine, plan: ImportPlan, progress: Progress | None = None, now_ms: int | None = None) -> dict[str, int]:
    """Apply ``plan`` in one transaction; returns rows written per step."""
    if not plan.writable or plan.tree is None:
        raise ImportNotWritable(f"the import has {plan.report.errors} problem(s); nothing was written")
    if plan.changes == 0:
        return {}
    tree, roster, links = plan.tree, plan.roster, plan.links
    total = max(plan.changes, 1)
    done = 0
    counts: dict[str, int] = {}

    def step(name: str, rows: int) -> None:
        nonlocal done
        counts[name] = counts.get(name, 0) + rows
        done += rows
        if progress:
            progress(min(done / total, 1.0))

    raw = engine.raw_connection()
    dialect = engine.dialect.name
    try:
        conn = raw.driver_connection
        cursor = conn.cursor()
        if dialect == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints=ON")
            cursor.execute("BEGIN IMMEDIATE")
        sql = _Statements(cursor, dialect)
        writer = BulkWriter(conn, dialect)
        added_orgs = sorted(tree.added, key=lambda o: o.level)
        writer.write("organisations", ORG_COLUMNS, [o.stored_tuple() for o in added_orgs])
        step("organisations_added", len(added_orgs))
        sql.many(
            "UPDATE organisations SET name=?, kind=?, parent_id=?, level=?, path=?, region_code=?, lon=?, lat=?, "
            "unit_type=? WHERE id=?",
            [(*o.stored_tuple()[2:], o.id) for o in tree.changed],
        )
        step("organisations_changed", len(tree.changed))
        for start in range(0, len(roster.added), MEMBER_BLOCK):
            block = roster.added.iloc[start : start + MEMBER_BLOCK]
            writer.write("members", IMPORT_MEMBER_COLUMNS, _member_rows(block))
            step("members_added", len(block))
        changed = _member_rows(roster.changed)
        sql.many(
            "UPDATE members SET " + ", ".join(f"{c}=?" for c in IMPORT_MEMBER_COLUMNS[1:]) + " WHERE id=?",
            [(*row[1:], row[0]) for row in changed.tolist()],
        )
        step("members_changed", len(changed))
        sql.many(
            "INSERT INTO events (key_hash, event_id, type, ts_ms, org_id, member_id, data) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key_hash) DO NOTHING",
            _transfer_events(roster.moves, now_ms if now_ms is not None else int(time.time() * 1000)),
        )
        step("transfers", len(roster.moves))
        removed_orgs = [o.id for o in tree.removed]
        sql.delete_where("member_group_members", "member_id", roster.removed_ids.tolist())
        sql.null_where("member_groups", "home_org_id", removed_orgs)
        sql.delete_where("members", "id", roster.removed_ids.tolist())
        step("members_removed", len(roster.removed_ids))
        sql.delete_where("org_links", "id", links.removed_ids)
        sql.many("UPDATE org_links SET since=? WHERE id=?", links.changed)
        writer.write("org_links", LINK_COLUMNS, links.added)
        step("links", len(links.removed_ids) + len(links.changed) + len(links.added))
        sql.delete_where("tokens", "id", [t.id for t in plan.tokens_removed])
        step("tokens_removed", len(plan.tokens_removed))
        sql.delete_where("organisations", "id", removed_orgs)
        step("organisations_removed", len(removed_orgs))
        writer.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        if dialect == "sqlite":
            raw.driver_connection.execute("PRAGMA ignore_check_constraints=OFF")
        raw.close()
    return counts


class _Statements:
    """Plain statements on the driver's cursor, in the driver's parameter style."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self._postgres = dialect == "postgresql"
        self._ids_ready = False

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self._postgres else text

    def many(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if len(rows):
            self._cursor.executemany(self._sql(text), rows)

    def _stage_ids(self, ids: Iterable[int]) -> None:
        """Fill the temporary id table (created once per transaction) with ``ids``."""
        if not self._ids_ready:
            create = "CREATE TEMP TABLE IF NOT EXISTS import_ids (id BIGINT PRIMARY KEY)"
            self._cursor.execute(create + (" ON COMMIT DROP" if self._postgres else ""))
            self._ids_ready = True
        self._cursor.execute("DELETE FROM import_ids")
        self._cursor.executemany(self._sql("INSERT INTO import_ids (id) VALUES (?)"), [(int(i),) for i in ids])

    def delete_where(self, table: str, column: str, ids: Sequence[int]) -> None:
        if len(ids):
            self._stage_ids(ids)
            self._cursor.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM import_ids)")

    def null_where(self, table: str, column: str, ids: Sequence[int]) -> None:
        if len(ids):
            self._stage_ids(ids)
            self._cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} IN (SELECT id FROM import_ids)")


def _member_rows(frame: pd.DataFrame) -> np.ndarray:
    """Members as a 2-D object array in IMPORT_MEMBER_COLUMNS order, NULL for empty optional text."""
    out = np.empty((len(frame), len(IMPORT_MEMBER_COLUMNS)), dtype=object)
    for i, column in enumerate(IMPORT_MEMBER_COLUMNS):
        values = frame[column].to_numpy(dtype=object)
        if column in NULLABLE_MEMBER_TEXT:
            values = np.where(values == "", None, values)
        out[:, i] = values
    return out


def _transfer_events(moves: list[Move], now_ms: int) -> list[tuple[Any, ...]]:
    batch = secrets.token_hex(6)
    rows = []
    for move in moves:
        event_id = f"import-{batch}-{move.member_id}"
        data = {"transfer": event_id, "from_org": move.from_code, "to_org": move.to_code, "reason": TRANSFER_REASON}
        rows.append((key_hash(event_id), event_id, "transfer_completed", now_ms, move.to_id, move.member_id,
                     orjson.dumps(data).decode()))
    return rows
