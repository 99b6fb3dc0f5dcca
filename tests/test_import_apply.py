"""Writing imports: in place, idempotent, moves as transfers, subtrees, replacing a demo, all or nothing,
the command line, and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, text

from dashboard.access.tokens import create_token
from dashboard.demo.seed import seed_demo
from dashboard.live.aggregator import Aggregator
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from dashboard.transfer.importer import ImportFiles, run_import
from tests.import_support import (
    ROOT,
    SAMPLES,
    assert_constraints_hold,
    checksums,
    member_row,
    sample_files,
    sample_rows,
    sample_store,
)

SAMPLE_FILES = ImportFiles(SAMPLES / "orgs.csv", SAMPLES / "members.csv", SAMPLES / "links.csv")


def ids(engine: Engine, table: str) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text(f"SELECT code, id FROM {table}")).all())


def test_samples_into_an_empty_database(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    outcome = run_import(engine, SAMPLE_FILES)
    assert outcome.written
    assert outcome.summary()["organisations"]["added"] == 14 and outcome.summary()["members"]["added"] == 47
    tree = OrgTree.load(engine)
    assert tree.problems == [] and tree.root.code == "SX"
    assert tree.path_codes(tree.by_code["SX-01-01-2"]) == ["SX", "SX-01", "SX-01-01", "SX-01-01-2"]
    with engine.connect() as conn:
        region_types = conn.execute(text("SELECT DISTINCT typeof(region_code) FROM organisations")).scalars().all()
        member = conn.execute(text("SELECT stage, gender, ethnicity, education, post, join_date FROM members WHERE code='SX00003'")).one()
    assert region_types == ["text"]
    assert tuple(member) == ("full", "M", "She", "postgraduate", "secretary", "1996-04-21")
    assert_constraints_hold(engine)


def test_the_checks_catch_what_the_constraints_would(tmp_path: Path) -> None:
    engine = sample_store(tmp_path / "x.db")
    with engine.begin() as conn:  # a row the constraints refuse makes the re-evaluation fail
        conn.execute(text("PRAGMA ignore_check_constraints=ON"))
        conn.execute(text("UPDATE members SET gender = 'X' WHERE code = 'SX00001'"))
        conn.execute(text("PRAGMA ignore_check_constraints=OFF"))
    with pytest.raises(Exception, match="CHECK constraint failed"):
        assert_constraints_hold(engine)


def test_reimporting_the_same_files_changes_nothing(tmp_path: Path) -> None:
    engine = sample_store(tmp_path / "x.db")
    before = checksums(engine)
    outcome = run_import(engine, SAMPLE_FILES)
    assert outcome.plan.changes == 0 and not outcome.written
    assert outcome.summary()["members"] == {"added": 0, "changed": 0, "removed": 0, "moved": 0, "unchanged": 47}
    assert checksums(engine) == before


def test_changes_update_in_place(tmp_path: Path) -> None:
    engine = sample_store(tmp_path / "x.db")
    org_ids, member_ids = ids(engine, "organisations"), ids(engine, "members")
    orgs = sample_rows("orgs")
    orgs[9][1] = "青禾软件股份有限公司党支部"  # renamed
    members = sample_rows("members")
    members[5][members[0].index("学历")] = "研究生"
    members.append(member_row("SX09999", "SX-04-01"))
    outcome = run_import(engine, sample_files(tmp_path, orgs=orgs, members=members))
    assert outcome.written
    summary = outcome.summary()
    assert summary["organisations"] == {"added": 0, "changed": 1, "removed": 0, "unchanged": 13}
    assert summary["members"] == {"added": 1, "changed": 1, "removed": 0, "moved": 0, "unchanged": 46}
    after = ids(engine, "members")
    assert ids(engine, "organisations") == org_ids and {c: after[c] for c in member_ids} == member_ids
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM organisations WHERE code='SX-02-02'")).scalar() == "青禾软件股份有限公司党支部"
        assert conn.execute(text("SELECT education FROM members WHERE code='SX00005'")).scalar() == "postgraduate"


def test_moved_members_are_transfers_in_the_history(tmp_path: Path) -> None:
    engine = sample_store(tmp_path / "x.db")
    members = sample_rows("members")
    members[6][2] = "SX-02-01"  # SX00006 from SX-01-01 to SX-02-01
    files = sample_files(tmp_path, members=members)
    outcome = run_import(engine, files)
    assert outcome.summary()["members"]["moved"] == 1
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT type, org_id, member_id, data FROM events")).all()
        member_id, org_id = conn.execute(text(
            "SELECT m.id, o.id FROM members m JOIN organisations o ON o.id = m.org_id WHERE m.code = 'SX00006'"
        )).one()
    assert [(r.type, r.org_id, r.member_id) for r in rows] == [("transfer_completed", org_id, member_id)]
    data = orjson.loads(rows[0].data)
    assert (data["from_org"], data["to_org"], data["reason"]) == ("SX-01-01", "SX-02-01", "roster import")
    tree = OrgTree.load(engine)
    live = Aggregator.rebuild(engine, tree)
    assert live.snapshot(tree.by_code["SX-02-01"])["full_members"] == 7
    assert live.snapshot(tree.by_code["SX-02-01"])["transfers"] == {"in_flight": 0, "overdue": 0}
    again = run_import(engine, files)
    assert again.plan.changes == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 1


def test_removed_organisations_take_their_links_and_tokens(tmp_path: Path) -> None:
    engine = sample_store(tmp_path / "x.db")
    create_token(engine, role="display", org_code="SX-04-01", label="望湖社区大屏")
    kept_token = create_token(engine, role="display", org_code="SX-04", label="社区党委")
    orgs = [r for r in sample_rows("orgs") if r[0] != "SX-04-01"]
    members = [r for r in sample_rows("members") if r[2] != "SX-04-01"]
    files = sample_files(tmp_path, orgs=orgs, members=members)
    outcome = run_import(engine, ImportFiles(files.orgs, files.members))  # no links file: links to removed ones go
    assert outcome.written, outcome.plan.report.lines()
    summary = outcome.summary()
    assert summary["organisations"]["removed"] == 1 and summary["members"]["removed"] == 5
    assert summary["links"]["removed"] == 1 and summary["tokens_removed"] == 1
    warning = [p for p in outcome.plan.report.problems if p.warning]
    assert [p.code for p in warning] == ["tokens_removed"] and "望湖社区大屏" in warning[0].text()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT label FROM tokens")).scalars().all() == ["社区党委"]
    assert kept_token


def test_a_subtree_file_replaces_only_that_subtree(tmp_path: Path) -> None:
    engine = sample_store(tmp_path / "x.db")
    before = {code: i for code, i in ids(engine, "organisations").items() if not code.startswith("SX-02")}
    orgs = [sample_rows("orgs")[0]] + [r for r in sample_rows("orgs") if r[0].startswith("SX-02")]
    orgs = [r for r in orgs if r[0] != "SX-02-02"]  # the subtree loses one branch …
    members = [sample_rows("members")[0]] + [r for r in sample_rows("members") if r[2] == "SX-02-01"]
    outcome = run_import(engine, sample_files(tmp_path, orgs=orgs, members=members, links=[sample_rows("links")[0]]))
    assert outcome.written, outcome.plan.report.lines()
    summary = outcome.summary()
    assert summary["organisations"] == {"added": 0, "changed": 0, "removed": 1, "unchanged": 13}
    assert summary["members"]["removed"] == 6  # … and its six people; nobody outside SX-02 is touched
    assert {c: i for c, i in ids(engine, "organisations").items() if not c.startswith("SX-02")} == before
    with engine.connect() as conn:
        links = conn.execute(text("SELECT count(*) FROM org_links")).scalar()
    assert links == 1  # the links file had none touching SX-02: its two are gone, SX-04-01 — SX-01-01 stays


def test_moving_a_subtree_under_another_parent(tmp_path: Path) -> None:
    engine = sample_store(tmp_path / "x.db")
    orgs = [sample_rows("orgs")[0]] + [r for r in sample_rows("orgs") if r[0].startswith("SX-03")]
    orgs[1][3] = "SX-04"  # SX-03 moves from SX to SX-04
    members = [sample_rows("members")[0]] + [r for r in sample_rows("members") if r[2].startswith("SX-03")]
    outcome = run_import(engine, sample_files(tmp_path, orgs=orgs, members=members, links=sample_rows("links")))
    assert outcome.written, outcome.plan.report.lines()
    tree = OrgTree.load(engine)
    assert tree.path_codes(tree.by_code["SX-03-02"]) == ["SX", "SX-04", "SX-03", "SX-03-02"]
    assert tree.nodes[tree.by_code["SX-03-02"]].level == 3
    with engine.connect() as conn:
        path = conn.execute(text("SELECT path FROM organisations WHERE code='SX-03-02'")).scalar()
    assert path == "/" + "/".join(str(i) for i in reversed(tree.ancestors[tree.by_code["SX-03-02"]])) + "/"


def test_a_new_top_replaces_the_demo_without_reusing_its_ids(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    seed_demo(engine, members=300, seed=3)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO events (key_hash, event_id, type, ts_ms, org_id, member_id, data) "
                          "SELECT NULL, 'old-' || id, 'login', 0, org_id, id, '{}' FROM members"))
        old_max = conn.execute(text("SELECT max(org_id), max(member_id) FROM events")).one()
    outcome = run_import(engine, SAMPLE_FILES)
    assert outcome.written, outcome.plan.report.lines()
    assert outcome.summary()["organisations"]["added"] == 14
    with engine.connect() as conn:
        assert conn.execute(text("SELECT min(id) FROM organisations")).scalar() > old_max[0]
        assert conn.execute(text("SELECT min(id) FROM members")).scalar() > old_max[1]
        assert conn.execute(text("SELECT count(*) FROM member_groups WHERE home_org_id IS NOT NULL")).scalar() == 0
    tree = OrgTree.load(engine)
    assert len(tree) == 14 and Aggregator.rebuild(engine, tree).snapshot(tree.root_id)["members"] == 42
    assert_constraints_hold(engine)


def test_a_failure_while_writing_leaves_everything_as_it_was(tmp_path: Path) -> None:
    engine = sample_store(tmp_path / "x.db")
    with engine.begin() as conn:  # the database itself refuses the last new member, after everything else is written
        conn.execute(text("CREATE TRIGGER refuse_last BEFORE INSERT ON members WHEN NEW.code = 'SX09999' "
                          "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"))
    orgs = sample_rows("orgs")
    orgs[9][1] = "改名"
    members = [r for r in sample_rows("members") if r[0] != "SX00047"] + [member_row("SX09999", "SX-04-01")]
    members[6][2] = "SX-02-01"
    before = checksums(engine)
    with pytest.raises(Exception, match="refused by a trigger"):
        run_import(engine, sample_files(tmp_path, orgs=orgs, members=members))
    assert checksums(engine) == before


def test_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dashboard", *args, "--database-url", db], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    files = ["--orgs", str(SAMPLES / "orgs.csv"), "--members", str(SAMPLES / "members.csv"), "--links", str(SAMPLES / "links.xlsx")]
    dry = cli("import", *files, "--dry-run", "--quiet")
    assert dry.returncode == 0, dry.stderr
    summary = json.loads(dry.stdout.strip().splitlines()[-1])
    assert summary["dry_run"] and not summary["written"] and summary["organisations"]["added"] == 14
    assert open_store(db) and json.loads(cli("import", *files, "--quiet").stdout.splitlines()[-1])["written"]
    bad = sample_rows("members")
    bad[3][bad[0].index("性别")] = "未知"
    broken = cli("import", "--orgs", str(SAMPLES / "orgs.csv"),
                 "--members", str(sample_files(tmp_path, members=bad).members), "--quiet", "--lang", "zh")
    assert broken.returncode == 1
    assert broken.stdout.splitlines()[0].startswith("members.csv 第4行 “性别”列：“未知”不是可接受的性别；可填：M (男), F (女)")
    assert json.loads(broken.stdout.splitlines()[-1])["errors"] == 1
    missing = cli("import", "--orgs", str(tmp_path / "nope.csv"), "--quiet")
    assert missing.returncode == 1 and missing.stdout.startswith("nope.csv: file not found")


def test_postgresql(postgres_url: str, tmp_path: Path) -> None:
    engine = open_store(postgres_url)
    outcome = run_import(engine, SAMPLE_FILES)
    assert outcome.written, outcome.plan.report.lines()
    before = checksums(engine)
    assert run_import(engine, SAMPLE_FILES).plan.changes == 0 and checksums(engine) == before
    members = sample_rows("members")
    members[6][2] = "SX-02-01"
    members.append(member_row("SX09999", "SX-04-01"))
    orgs = sample_rows("orgs") + [["SX-04-02", "望湖社区第二党支部", "党支部", "SX-04", "330000", "", "", "城市社区"]]
    members += [member_row(f"SX0990{i}", "SX-04-02") for i in range(3)]
    outcome = run_import(engine, sample_files(tmp_path, orgs=orgs, members=members))
    assert outcome.written and outcome.summary()["members"]["moved"] == 1
    with engine.begin() as conn:  # sequences moved past the explicit ids: a plain insert still works
        conn.execute(text("INSERT INTO org_links (a_id, b_id, kind) SELECT min(id), max(id), 'partnership' FROM organisations"))
    tree = OrgTree.load(engine)
    assert Aggregator.rebuild(engine, tree).snapshot(tree.by_code["SX-04-02"])["full_members"] == 3
