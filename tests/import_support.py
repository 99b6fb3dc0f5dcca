"""Helpers for the import/export tests: sample files as rows, small broken copies, table checksums."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from dashboard.store.engine import open_store
from dashboard.transfer.importer import ImportFiles, ImportOutcome, run_import

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
KINDS = ("orgs", "members", "links")


def sample_rows(kind: str) -> list[list[str]]:
    """The sample CSV of ``kind`` as rows, header first."""
    with (SAMPLES / f"{kind}.csv").open(encoding="utf-8-sig", newline="") as f:
        return [list(r) for r in csv.reader(f)]


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def sample_files(directory: Path, **changed: list[list[str]]) -> ImportFiles:
    """The three sample CSVs copied into ``directory``, with ``changed`` kinds replaced by the given rows."""
    paths = {kind: write_rows(directory / f"{kind}.csv", changed.get(kind) or sample_rows(kind)) for kind in KINDS}
    return ImportFiles(paths["orgs"], paths["members"], paths["links"])


def sample_store(path: Path) -> Engine:
    """A SQLite store holding the sample organisation."""
    engine = open_store(f"sqlite:///{path}")
    outcome = run_import(engine, ImportFiles(SAMPLES / "orgs.csv", SAMPLES / "members.csv", SAMPLES / "links.csv"))
    assert outcome.written, outcome.plan.report.lines()
    return engine


def checksums(engine: Engine) -> dict[str, str]:
    """A digest of every row of every table, per table (equal digests: the table did not change)."""
    out = {}
    with engine.connect() as conn:
        for table in sorted(inspect(engine).get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')).all()
            out[table] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return out


def assert_constraints_hold(engine: Engine) -> None:
    """Re-evaluate every CHECK constraint on every row: SQLite checks the constraints of the columns an UPDATE
    sets, so every column is set to itself (the import writes with the checks off on SQLite)."""
    inspector = inspect(engine)
    with engine.begin() as conn:
        for table in ("organisations", "members", "org_links"):
            columns = [c["name"] for c in inspector.get_columns(table) if c["name"] != "id"]
            conn.execute(text(f"UPDATE {table} SET " + ", ".join(f"{c} = {c}" for c in columns)))


def problems(outcome: ImportOutcome, code: str) -> list[tuple[str | None, int | None, str | None]]:
    """(file, row, column) of each problem with ``code``."""
    return [(p.file, p.row, p.column) for p in outcome.plan.report.problems if p.code == code]


def member_row(code: str, org: str, stage: str = "正式党员", post: str = "", joined: str = "2015-07-01",
               birth: str = "1985") -> list[str]:
    """A members.csv row (Chinese labels) for a made-up person."""
    status = stage if stage in ("正式党员", "预备党员") else ""
    return [code, "测试人", org, status, stage, "女", "汉族", birth, "大学本科", "工人", post, joined, "13900000000"]
