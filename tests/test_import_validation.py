"""Each validation problem: a small broken copy of the sample files, the problem named by file, row and
column in plain words, and the database unchanged (every table's checksum) afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dashboard.transfer.importer import ImportFiles, ImportOutcome, run_import
from tests.import_support import checksums, member_row, problems, sample_files, sample_rows, sample_store

ORG_HEAD = sample_rows("orgs")[0]
PARENT, KIND, REGION = "上级组织代码", "组织类别", "行政区划代码"


@pytest.fixture
def store(tmp_path: Path) -> Engine:
    return sample_store(tmp_path / "lianxin.db")


def refused(engine: Engine, files: ImportFiles) -> ImportOutcome:
    """Import ``files``; assert it was refused and left every table as it was."""
    before = checksums(engine)
    outcome = run_import(engine, files)
    assert not outcome.written and not outcome.plan.report.ok, outcome.plan.report.lines()
    assert checksums(engine) == before
    return outcome


def edited(kind: str, row: int, column: str, value: str) -> list[list[str]]:
    """The sample ``kind`` rows with one cell changed (``row`` as a spreadsheet row: the header is 1)."""
    rows = sample_rows(kind)
    rows[row - 1][rows[0].index(column)] = value
    return rows


def test_unknown_parent(store: Engine, tmp_path: Path) -> None:
    outcome = refused(store, sample_files(tmp_path, orgs=edited("orgs", 15, PARENT, "SX-99")))
    assert problems(outcome, "unknown_parent") == [("orgs.csv", 15, PARENT)]
    message = outcome.plan.report.problems[0].text()
    assert message == ("orgs.csv, row 15, column 上级组织代码: parent SX-99 is neither in this file nor in the database "
                       "(by code or by name); if this organisation is the top of what you import, leave its parent "
                       "empty or give a stored organisation to attach it to")


def test_cycle(store: Engine, tmp_path: Path) -> None:
    orgs = edited("orgs", 11, PARENT, "SX-04")  # SX-03 under SX-04 …
    orgs[13][3] = "SX-03"  # … and SX-04 (row 14) under SX-03
    outcome = refused(store, sample_files(tmp_path, orgs=orgs))
    assert problems(outcome, "cycle") == [("orgs.csv", 11, PARENT)]
    assert "rows 11, 14" in outcome.plan.report.problems[0].text()


def test_own_parent(store: Engine, tmp_path: Path) -> None:
    outcome = refused(store, sample_files(tmp_path, orgs=edited("orgs", 8, PARENT, "SX-02")))
    assert problems(outcome, "own_parent") == [("orgs.csv", 8, PARENT)]


def test_duplicate_organisation_code(store: Engine, tmp_path: Path) -> None:
    orgs = sample_rows("orgs")
    orgs.append(list(orgs[9]))  # row 16 repeats row 10 (SX-02-02)
    outcome = refused(store, sample_files(tmp_path, orgs=orgs))
    assert problems(outcome, "duplicate_code") == [("orgs.csv", 16, "组织代码")]
    assert "also in row 10" in outcome.plan.report.problems[0].text()


def test_duplicate_member_id(store: Engine, tmp_path: Path) -> None:
    members = sample_rows("members")
    members.append(list(members[5]))  # row 49 repeats row 6
    outcome = refused(store, sample_files(tmp_path, members=members))
    assert problems(outcome, "duplicate_member") == [("members.csv", 49, "人员编号")]
    assert "SX00005 is also in row 6" in outcome.plan.report.problems[0].text()


def test_member_in_unknown_organisation(store: Engine, tmp_path: Path) -> None:
    outcome = refused(store, sample_files(tmp_path, members=edited("members", 6, "所在组织代码", "SX-77")))
    assert problems(outcome, "unknown_org") == [("members.csv", 6, "所在组织代码")]


def test_branch_left_with_fewer_than_three_full_members(store: Engine, tmp_path: Path) -> None:
    members = [r for r in sample_rows("members") if r[0] not in ("SX00027", "SX00028", "SX00029")]
    outcome = refused(store, sample_files(tmp_path, members=members))
    assert problems(outcome, "few_full_members") == [("orgs.csv", 10, KIND)]
    assert "branch SX-02-02 (青禾软件有限公司党支部) would have 2 full members; a branch needs at least 3" in (
        outcome.plan.report.problems[0].text()
    )


def test_branch_emptied_by_moving_its_members(store: Engine, tmp_path: Path) -> None:
    members = sample_rows("members")
    for r in members:
        if r[2] == "SX-03-02" and r[10] != "书记":
            r[2] = "SX-03-01"  # everyone but the secretary moves to the other branch
    outcome = refused(store, sample_files(tmp_path, members=members))
    assert problems(outcome, "few_full_members") == [("orgs.csv", 13, KIND)]


def test_new_branch_needs_its_roster(store: Engine, tmp_path: Path) -> None:
    orgs = sample_rows("orgs") + [["SX-04-02", "望湖社区第二党支部", "党支部", "SX-04", "330000", "", "", "城市社区"]]
    paths = sample_files(tmp_path, orgs=orgs)
    outcome = refused(store, ImportFiles(paths.orgs))  # no members file: the new branch has nobody
    assert problems(outcome, "few_full_members") == [("orgs.csv", 16, KIND)]


@pytest.mark.parametrize(
    ("column", "value", "vocabulary", "accepted"),
    [
        ("性别", "未知", "gender", "M (男), F (女)"),
        ("学历", "本科以上", "education", "bachelor (大学本科)"),
        ("民族", "火星族", "ethnicity", "Han (汉族)"),
        ("发展阶段", "积极", "stage", "development_target (发展对象)"),
        ("党内职务", "主任", "post", "secretary (书记)"),
        ("职业", "宇航员", "occupation", "farmer (农牧渔民)"),
    ],
)
def test_unknown_member_category(store: Engine, tmp_path: Path, column: str, value: str, vocabulary: str,
                                 accepted: str) -> None:
    outcome = refused(store, sample_files(tmp_path, members=edited("members", 4, column, value)))
    found = [p for p in outcome.plan.report.problems if p.code == "unknown_value"]
    assert [(p.file, p.row, p.column) for p in found] == [("members.csv", 4, column)]
    message = found[0].text()
    assert f"{value} is not an accepted {vocabulary}; accepted: " in message and accepted in message


def test_unknown_organisation_kind_and_unit_type(store: Engine, tmp_path: Path) -> None:
    orgs = edited("orgs", 9, KIND, "支部委员会办公室")
    orgs[9][7] = "工厂"  # unit type of row 10
    outcome = refused(store, sample_files(tmp_path, orgs=orgs))
    assert problems(outcome, "unknown_value") == [("orgs.csv", 9, KIND), ("orgs.csv", 10, "单位类型")]
    assert "accepted: committee (党委), general_branch (党总支), branch (党支部), group (党小组)" in (
        outcome.plan.report.problems[0].text()
    )


def test_dates_in_the_future(store: Engine, tmp_path: Path) -> None:
    members = edited("members", 5, "入党时间", "2999-07-01")
    members[6][members[0].index("出生年份")] = "2999"
    links = edited("links", 2, "共建开始日期", "2999-01-01")
    outcome = refused(store, sample_files(tmp_path, members=members, links=links))
    assert problems(outcome, "future_date") == [
        ("members.csv", 7, "出生年份"), ("members.csv", 5, "入党时间"), ("links.csv", 2, "共建开始日期"),
    ]


def test_dates_that_are_not_dates(store: Engine, tmp_path: Path) -> None:
    members = edited("members", 5, "入党时间", "去年七月")
    members[6][members[0].index("出生年份")] = "八十年代"
    outcome = refused(store, sample_files(tmp_path, members=members))
    assert problems(outcome, "bad_date") == [("members.csv", 5, "入党时间")]
    assert problems(outcome, "bad_birth") == [("members.csv", 7, "出生年份")]


def test_malformed_id_like_fields(store: Engine, tmp_path: Path) -> None:
    orgs = edited("orgs", 15, "组织代码", "SX 04/01")
    orgs[13][orgs[0].index(REGION)] = "3300"
    members = edited("members", 4, "人员编号", "编号#3")
    members[5][members[0].index("联系电话")] = "call me"
    outcome = refused(store, sample_files(tmp_path, orgs=orgs, members=members))
    assert problems(outcome, "bad_code") == [("orgs.csv", 15, "组织代码"), ("members.csv", 4, "人员编号")]
    assert problems(outcome, "bad_region") == [("orgs.csv", 14, REGION)]
    assert problems(outcome, "bad_phone") == [("members.csv", 6, "联系电话")]


def test_two_trees_in_one_file(store: Engine, tmp_path: Path) -> None:
    orgs = sample_rows("orgs") + [["ZZ", "另一个党委", "党委", "", "330000", "", "", "机关"]]
    outcome = refused(store, sample_files(tmp_path, orgs=orgs))
    assert problems(outcome, "several_tops") == [("orgs.csv", None, None)]
    assert "SX (row 2), ZZ (row 16)" in outcome.plan.report.problems[0].text()


def test_kind_rules(store: Engine, tmp_path: Path) -> None:
    outcome = refused(store, sample_files(tmp_path, orgs=edited("orgs", 5, PARENT, "SX-01")))  # a 党小组 under a 党委
    assert problems(outcome, "kind_under") == [("orgs.csv", 5, KIND)]
    assert "a party group belongs to a branch" in outcome.plan.report.problems[0].text()


def test_stage_rules(store: Engine, tmp_path: Path) -> None:
    members = sample_rows("members")
    members += [
        member_row("T1", "SX-01-02", stage="入党积极分子", joined="2020-01-01"),  # row 49: no join date yet
        member_row("T2", "SX-01-02", stage="预备党员", joined=""),  # row 50: join date needed
        member_row("T3", "SX-01-02", stage="预备党员", post="委员", joined="2025-03-01"),  # row 51: no post
        member_row("T4", "SX-01-02", birth="2005", joined="2019-05-01"),  # row 52: joined at 14
    ]
    members.append(member_row("T5", "SX-01-02"))
    members[-1][3] = "预备党员"  # row 53: status disagrees with the stage
    outcome = refused(store, sample_files(tmp_path, members=members))
    assert problems(outcome, "join_date_forbidden") == [("members.csv", 49, "入党时间")]
    assert problems(outcome, "join_date_required") == [("members.csv", 50, "入党时间")]
    assert problems(outcome, "post_not_full") == [("members.csv", 51, "党内职务")]
    assert problems(outcome, "joined_young") == [("members.csv", 52, "入党时间")]
    assert problems(outcome, "status_conflict") == [("members.csv", 53, "党员状态")]


def test_missing_values(store: Engine, tmp_path: Path) -> None:
    outcome = refused(store, sample_files(tmp_path, members=edited("members", 8, "姓名", "")))
    assert problems(outcome, "missing_value") == [("members.csv", 8, "姓名")]
    assert outcome.plan.report.problems[0].text("zh") == "members.csv 第8行 “姓名”列：此项必填"


def test_coordinates(store: Engine, tmp_path: Path) -> None:
    orgs = edited("orgs", 3, "经度", "200")
    orgs[3][orgs[0].index("纬度")] = ""  # row 4: a longitude without a latitude
    outcome = refused(store, sample_files(tmp_path, orgs=orgs))
    assert problems(outcome, "out_of_range") == [("orgs.csv", 3, "经度")]
    assert ("orgs.csv", 4, "经度") in problems(outcome, "coordinates_pair")


def test_link_problems(store: Engine, tmp_path: Path) -> None:
    links = sample_rows("links") + [
        ["SX-02-01", "SX-01-02", "共建", ""],  # row 5: the link of row 2, the other way round
        ["SX-04", "SX-04", "共建", ""],  # row 6
        ["SX-04", "SX-404", "共建", ""],  # row 7
        ["SX-04", "SX-03", "友好", ""],  # row 8
    ]
    outcome = refused(store, sample_files(tmp_path, links=links))
    assert problems(outcome, "duplicate_link") == [("links.csv", 5, "组织代码B")]
    assert problems(outcome, "self_link") == [("links.csv", 6, "组织代码B")]
    assert problems(outcome, "unknown_org") == [("links.csv", 7, "组织代码B")]
    assert problems(outcome, "unknown_value") == [("links.csv", 8, "共建类型")]


def test_removing_an_organisation_that_still_has_members(store: Engine, tmp_path: Path) -> None:
    orgs = [r for r in sample_rows("orgs") if r[0] != "SX-04-01"]
    outcome = refused(store, ImportFiles(sample_files(tmp_path, orgs=orgs).orgs))
    assert problems(outcome, "members_left_behind") == [("orgs.csv", None, None)]
    assert "SX-04-01 (望湖社区第一党支部)" in outcome.plan.report.problems[0].text()


def test_removing_an_organisation_another_table_refers_to(store: Engine, tmp_path: Path) -> None:
    with store.begin() as conn:
        conn.execute(text("CREATE TABLE duty_rota (id INTEGER PRIMARY KEY, org_id INTEGER REFERENCES organisations(id))"))
        conn.execute(text("INSERT INTO duty_rota (org_id) SELECT id FROM organisations WHERE code = 'SX-04-01'"))
    orgs = [r for r in sample_rows("orgs") if r[0] != "SX-04-01"]
    members = [r for r in sample_rows("members") if r[2] != "SX-04-01"]
    links = [r for r in sample_rows("links") if "SX-04-01" not in r]
    outcome = refused(store, sample_files(tmp_path, orgs=orgs, members=members, links=links))
    assert problems(outcome, "referenced_elsewhere") == [("orgs.csv", None, None)]
    assert "1 row(s) of table duty_rota refer to it" in outcome.plan.report.problems[0].text()


def test_a_million_bad_cells_make_a_short_report(store: Engine, tmp_path: Path) -> None:
    members = sample_rows("members")
    members += [member_row(f"B{i:05d}", "SX-01-02") for i in range(2000)]
    for row in members[1:]:
        row[members[0].index("性别")] = "?"
    outcome = refused(store, sample_files(tmp_path, members=members))
    assert outcome.plan.report.errors == 2047
    lines = outcome.plan.report.lines()
    assert len(lines) == 21
    assert lines[-1] == "members.csv, column 性别: 2,027 more rows with the same problem as row 2 (not listed)"
    assert outcome.plan.report.lines("zh")[-1] == "members.csv “性别”列：另有2,027行存在与第2行相同的问题（未逐条列出）"


def test_dry_run_writes_nothing_even_when_the_files_are_good(store: Engine, tmp_path: Path) -> None:
    members = edited("members", 6, "学历", "研究生")
    before = checksums(store)
    outcome = run_import(store, sample_files(tmp_path, members=members), dry_run=True)
    assert outcome.plan.report.ok and outcome.plan.summary()["members"]["changed"] == 1 and not outcome.written
    assert checksums(store) == before
