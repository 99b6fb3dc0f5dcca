"""No exported cell is a formula, and the round trip stays exact (issue 17, hole 3)."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dashboard.demo.seed import seed_demo
from dashboard.store.engine import open_store
from dashboard.transfer.export import export_subtree
from dashboard.transfer.formulas import neutralise, restore
from dashboard.transfer.importer import ImportFiles, run_import

pytestmark = pytest.mark.unit

HOSTILE = ['=HYPERLINK("http://x","y")', "+86 张同志", "-李四", "@SUM(A1)", "\t赵六", "\r钱七", "'=王五", "''孙八",
           "=1+1", "-1"]


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, list[str]]:
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('formulas') / 'demo.db'}")
    seed_demo(engine, members=300, seed=3)
    with engine.begin() as conn:
        codes = conn.execute(text("SELECT code FROM members ORDER BY id LIMIT :n"), {"n": len(HOSTILE)}).scalars().all()
        for code, name in zip(codes, HOSTILE):
            conn.execute(text("UPDATE members SET name = :name WHERE code = :code"), {"name": name, "code": code})
    return engine, list(codes)


def names(engine: Engine, codes: list[str]) -> list[str]:
    with engine.connect() as conn:
        by_code = dict(conn.execute(text("SELECT code, name FROM members")).all())
    return [by_code[c] for c in codes]


def test_neutralise_and_restore_are_a_pair() -> None:
    for value in [*HOSTILE, "plain", "", "'", "'a", "12.5", "-12.5", "1e-5"]:
        assert restore(neutralise(value)) == value
        cell = neutralise(value)
        assert not cell.startswith(("=", "+", "@", "\t", "\r")) and (not cell.startswith("-") or cell in ("-1", "-12.5"))
    assert neutralise(36.5) == 36.5


def test_csv_cells_are_inert_and_import_back_exactly(hostile_store: tuple[Engine, list[str]], tmp_path: Path) -> None:
    engine, codes = hostile_store
    export_subtree(engine, tmp_path, formats=("csv",))
    with (tmp_path / "members.csv").open(encoding="utf-8-sig", newline="") as f:
        written = {row[0]: row[1] for row in csv.reader(f)}
    for code, name in zip(codes, HOSTILE):
        assert written[code] == (name if name == "-1" else "'" + name), (code, name)
    copy = open_store(f"sqlite:///{tmp_path / 'copy.db'}")
    outcome = run_import(copy, ImportFiles(tmp_path / "orgs.csv", tmp_path / "members.csv", tmp_path / "links.csv"))
    assert outcome.written, outcome.plan.report.lines()[:5]
    assert names(copy, codes) == HOSTILE


def test_xlsx_cells_are_strings_never_formulas(hostile_store: tuple[Engine, list[str]], tmp_path: Path) -> None:
    engine, codes = hostile_store
    export_subtree(engine, tmp_path, formats=("xlsx",))
    for sheet in ("orgs", "members", "links", "kpis"):
        with zipfile.ZipFile(tmp_path / f"{sheet}.xlsx") as book:
            xml = book.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in xml and "<f " not in xml, sheet
        types = set(re.findall(r'<c [^>]*?t="(\w+)"', xml))
        assert types <= {"s", "inlineStr"} and len(re.findall(r"<c ", xml)) == len(re.findall(r'<c [^>]*?t="', xml)), sheet
    copy = open_store(f"sqlite:///{tmp_path / 'copy.db'}")
    outcome = run_import(copy, ImportFiles(tmp_path / "orgs.xlsx", tmp_path / "members.xlsx", tmp_path / "links.xlsx"))
    assert outcome.written, outcome.plan.report.lines()[:5]
    # the importer trims white space around every .xlsx cell (its rule, docs/import.md); the rest is exact
    assert names(copy, codes) == [n.strip() for n in HOSTILE]
