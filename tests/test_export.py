"""Export: the import format (so an export re-imports unchanged), subtrees, levels, languages, KPIs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dashboard.demo.seed import seed_demo
from dashboard.live.aggregator import Aggregator
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from dashboard.transfer.export import ExportError, export_subtree
from dashboard.transfer.importer import ImportFiles, run_import
from tests.import_support import ROOT, assert_constraints_hold, checksums, sample_store


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    seed_demo(engine, members=1500, seed=5)
    return engine


def exported(directory: Path, fmt: str = "csv") -> ImportFiles:
    return ImportFiles(directory / f"orgs.{fmt}", directory / f"members.{fmt}", directory / f"links.{fmt}")


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def content(engine: Engine) -> dict[str, list[tuple]]:
    """The tree, roster and links by code (ids may differ between databases)."""
    with engine.connect() as conn:
        return {
            "orgs": conn.execute(text(
                "SELECT o.code, o.name, o.kind, p.code, o.level, o.region_code, o.lon, o.lat, o.unit_type "
                "FROM organisations o LEFT JOIN organisations p ON p.id = o.parent_id ORDER BY o.code")).all(),
            "members": conn.execute(text(
                "SELECT m.code, m.name, o.code, stage, gender, ethnicity, birth_year, education, occupation, post, "
                "join_date, phone FROM members m JOIN organisations o ON o.id = m.org_id ORDER BY m.code")).all(),
            "links": conn.execute(text(
                "SELECT a.code, b.code, l.kind, l.since FROM org_links l JOIN organisations a ON a.id = l.a_id "
                "JOIN organisations b ON b.id = l.b_id ORDER BY a.code, b.code")).all(),
        }


@pytest.mark.parametrize(("fmt", "lang"), [("csv", "zh"), ("xlsx", "en")])
def test_round_trip(demo: Engine, tmp_path: Path, fmt: str, lang: str) -> None:
    first = export_subtree(demo, tmp_path / "one", lang=lang, formats=(fmt,))
    with demo.connect() as conn:  # party members and the recruitment pipeline
        assert first["rows"]["members"] == conn.execute(text("SELECT count(*) FROM members")).scalar() > 1500
    copy = open_store(f"sqlite:///{tmp_path / 'copy.db'}")
    outcome = run_import(copy, exported(tmp_path / "one", fmt))
    assert outcome.written, outcome.plan.report.lines()[:5]
    assert content(copy) == content(demo)
    assert_constraints_hold(copy)
    export_subtree(copy, tmp_path / "two", lang=lang, formats=("csv",))
    export_subtree(demo, tmp_path / "one-csv", lang=lang, formats=("csv",))
    for kind in ("orgs", "members", "links"):
        assert (tmp_path / "two" / f"{kind}.csv").read_bytes() == (tmp_path / "one-csv" / f"{kind}.csv").read_bytes()
    before = checksums(demo)
    assert run_import(demo, exported(tmp_path / "one", fmt)).plan.changes == 0 and checksums(demo) == before


def test_a_subtree_export_goes_back_in_place(demo: Engine, tmp_path: Path) -> None:
    tree = OrgTree.load(demo)
    province = tree.nodes[tree.children[tree.root_id][3]]
    summary = export_subtree(demo, tmp_path, org_code=province.code, formats=("csv",))
    orgs = rows(tmp_path / "orgs.csv")
    assert orgs[1][0] == province.code and orgs[1][3] == tree.root.code  # the top keeps its real parent
    assert summary["organisations"] == len(list(tree.walk(province.id))) == len(orgs) - 1
    assert {r[2] for r in rows(tmp_path / "members.csv")[1:]} <= {tree.nodes[i].code for i in tree.walk(province.id)}
    before = checksums(demo)
    outcome = run_import(demo, exported(tmp_path))
    assert outcome.plan.report.ok and outcome.plan.changes == 0 and checksums(demo) == before


def test_kpis_are_the_live_ones_of_the_subtree(demo: Engine, tmp_path: Path) -> None:
    tree = OrgTree.load(demo)
    aggregator = Aggregator.rebuild(demo, tree)
    export_subtree(demo, tmp_path, formats=("csv", "xlsx"), lang="en", tree=tree, aggregator=aggregator)
    kpis = rows(tmp_path / "kpis.csv")
    head, top = kpis[0], kpis[1]
    assert head[:3] == ["code", "name", "kind"] and len(kpis) == len(tree) + 1
    snapshot = aggregator.snapshot(tree.root_id)
    assert top[0] == tree.root.code
    assert int(top[head.index("members")]) == snapshot["members"]
    assert int(top[head.index("structure.gender.F")]) == snapshot["structure"]["gender"]["F"]
    assert (tmp_path / "kpis.xlsx").stat().st_size > 0


def test_public_level_has_no_roster_and_masks_small_counts(demo: Engine, tmp_path: Path) -> None:
    summary = export_subtree(demo, tmp_path, level="public", formats=("csv",), lang="en")
    assert not (tmp_path / "members.csv").exists() and "members" not in summary["rows"]
    kpis = rows(tmp_path / "kpis.csv")
    probationary = [r[kpis[0].index("probationary")] for r in kpis[1:]]
    assert "" in probationary and all(p == "" or p == "0" or int(p) >= 5 for p in probationary)


def test_chinese_labels_and_headers(tmp_path: Path) -> None:
    engine = sample_store(tmp_path / "x.db")
    export_subtree(engine, tmp_path / "out", formats=("csv",))
    members = rows(tmp_path / "out" / "members.csv")
    assert members[0][:5] == ["人员编号", "姓名", "所在组织代码", "党员状态", "发展阶段"]
    assert members[1][3:8] == ["正式党员", "正式党员", "男", "汉族", "1986"]
    assert rows(tmp_path / "out" / "orgs.csv")[1][2] == "党委"


def test_errors_and_command_line(demo: Engine, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown organisation 'NOPE'"):
        export_subtree(demo, tmp_path, org_code="NOPE")
    db = str(demo.url)
    done = subprocess.run([sys.executable, "-m", "dashboard", "export", "--out", str(tmp_path / "cli"), "--format", "csv",
                           "--lang", "en", "--database-url", db], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"]["orgs"] == len(OrgTree.load(demo))
    refused = subprocess.run([sys.executable, "-m", "dashboard", "export", "--out", str(tmp_path), "--org", "NOPE",
                              "--database-url", db], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and refused.stderr == "error: unknown organisation 'NOPE'\n"
