"""The files committees actually have (tests/import_corpus.py): national-system exports and hand-kept rosters
accepted with every field right, or refused with the message that says what to do — and no ID number stored."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dash import dcc
from openpyxl import Workbook
from sqlalchemy import Engine, inspect, text

from dashboard.store.engine import open_store
from dashboard.transfer.importer import ImportFiles, ImportOutcome, run_import
from dashboard.transfer.importer.idnumber import keyed_hash
from dashboard.transfer.importer.jobs import ImportJobs
from dashboard.transfer.importer.layout import classify_rows, find_header
from dashboard.transfer.importer.mapping import MappingError, mapping_json, parse_mapping
from layouts.admin_import import choices_mapping, columns_view
from tests import import_corpus as corpus
from tests.import_support import ROOT

KEY = b"corpus-test-key"
ORGS, PEOPLE = corpus.township()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_store(f"sqlite:///{tmp_path / 'lianxin.db'}")


@pytest.fixture
def orgs_csv(tmp_path: Path) -> Path:
    return corpus.write_csv(tmp_path / "orgs.csv", corpus.org_rows(ORGS))


def imported(engine: Engine, orgs: Path, members: Path | None = None, **files: object) -> ImportOutcome:
    outcome = run_import(engine, ImportFiles(orgs, members, **files), id_key=KEY)  # type: ignore[arg-type]
    assert outcome.plan.report.ok, outcome.plan.report.lines()
    return outcome


def refused(engine: Engine, orgs: Path, members: Path) -> list[str]:
    outcome = run_import(engine, ImportFiles(orgs, members), id_key=KEY)
    assert not outcome.written and not outcome.plan.report.ok
    return outcome.plan.report.lines()


def stored_members(engine: Engine) -> dict[str, dict[str, object]]:
    """The roster as stored, by ID-number hash."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT m.code, m.name, o.code AS org, m.stage, m.gender, m.ethnicity, m.birth_year, m.education, "
            "m.occupation, m.join_date, m.phone, m.id_hash, m.id_tail FROM members m JOIN organisations o "
            "ON o.id = m.org_id")).mappings().all()
    return {str(r["id_hash"]): dict(r) for r in rows}


def assert_every_field(engine: Engine, people: list[corpus.Person], phones: bool = True) -> None:
    stored = stored_members(engine)
    assert len(stored) == len(people)
    for p in people:
        row = stored[keyed_hash(p.id_number, KEY)]
        assert str(row["code"]).startswith("LX-")
        expected = {"name": p.name, "org": p.branch.code, "stage": p.stage, "gender": p.gender,
                    "ethnicity": p.ethnicity, "birth_year": p.birth.year, "education": p.education,
                    "occupation": p.occupation, "join_date": p.joined.isoformat(),
                    "phone": p.phone if phones else None, "id_tail": p.id_number[-4:]}
        assert {k: row[k] for k in expected} == expected, p


def assert_no_id_number_stored(engine: Engine, people: list[corpus.Person]) -> None:
    with engine.connect() as conn:
        dump = "\n".join(repr(conn.execute(text(f'SELECT * FROM "{t}"')).all()) for t in inspect(engine).get_table_names())
    assert not [p.id_number for p in people if p.id_number in dump or p.id_number[:17] in dump]


def test_the_national_export_as_it_is(engine: Engine, orgs_csv: Path, tmp_path: Path) -> None:
    members = corpus.write_csv(tmp_path / "members.csv", corpus.member_rows(PEOPLE))
    outcome = imported(engine, orgs_csv, members)
    assert outcome.written and outcome.plan.report.warnings == 0
    assert_every_field(engine, PEOPLE)
    assert_no_id_number_stored(engine, PEOPLE)
    with engine.connect() as conn:
        orgs = {r.code: r for r in conn.execute(text(
            "SELECT o.code, o.kind, o.unit_type, p.code AS parent FROM organisations o "
            "LEFT JOIN organisations p ON p.id = o.parent_id"))}
    assert {c: (r.kind, r.unit_type, r.parent) for c, r in orgs.items()} == {
        o.code: (o.kind, o.unit, o.parent.code if o.parent else None) for o in ORGS}


VARIANTS: dict[str, Callable[[Path], tuple[Path, list[corpus.Person], bool]]] = {
    "hand-kept xlsx": lambda d: (corpus.hand_kept_xlsx(d / "花名册.xlsx", PEOPLE), PEOPLE, False),
    "old xls": lambda d: (corpus.old_xls(d / "members.xls", PEOPLE), PEOPLE, True),
    "html saved as xls": lambda d: (corpus.html_xls(d / "members.xls", PEOPLE), PEOPLE, True),
    "messy values": lambda d: (*corpus.messy_values_csv(d / "members.csv", PEOPLE), True),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_reads_every_field_right(engine: Engine, orgs_csv: Path, tmp_path: Path, variant: str) -> None:
    path, people, phones = VARIANTS[variant](tmp_path)
    imported(engine, orgs_csv, path)
    assert_every_field(engine, people, phones)
    assert_no_id_number_stored(engine, people)


def test_the_hand_kept_layout_is_noted(engine: Engine, orgs_csv: Path, tmp_path: Path) -> None:
    outcome = imported(engine, orgs_csv, corpus.hand_kept_xlsx(tmp_path / "花名册.xlsx", PEOPLE))
    notes = {(p.code, p.row) for p in outcome.plan.report.problems if p.warning}
    assert ("sheet_chosen", None) in notes and ("header_below", 2) in notes
    [header_note] = [p for p in outcome.plan.report.problems if p.code == "header_below"]
    assert header_note.text() == ("花名册.xlsx, row 2: the column headers are in row 2–3; the 1 row(s) above (a title) "
                                  "are not read")
    assert sum(code == "section_row" for code, _ in notes) == len({p.branch for p in PEOPLE})
    assert ("totals_row", 3 + len(PEOPLE) + len({p.branch for p in PEOPLE}) + 1) in notes


def test_rows_below_the_header_are_told_apart() -> None:
    frame = pd.DataFrame([
        ["1", "张三", "东山村党支部", "男"],
        ["二、西岭村党支部", "", "", ""],
        ["西岭村党支部"] * 4,  # a heading merged across the row
        ["A", "A", "", ""],  # two equal cells are data (a link of an organisation with itself, say)
        ["", "", "", ""],
        ["合计", "", "共3人", ""],
    ])
    kinds = classify_rows(frame)
    assert kinds.section.tolist() == [False, True, True, False, False, False]
    assert kinds.totals.tolist() == [False, False, False, False, False, True]
    assert kinds.data.tolist() == [True, False, False, True, False, False]


def test_a_two_row_header_is_joined_only_when_it_names_more() -> None:
    grid = [["花名册", "", "", ""], ["姓名", "入党", "入党", "性别"], ["", "日期", "转正日期", "性别"], ["张三", "2001", "", "男"]]
    at = find_header(grid, "members")
    assert at is not None and (at.row, at.span) == (2, 2)
    assert at.names == ["姓名", "入党日期", "转正日期", "性别"]
    single = find_header([["标题", "标题"], ["姓名", "性别"], ["张三", "男"]], "members")
    assert single is not None and (single.row, single.span, single.names) == (1, 1, ["姓名", "性别"])


def test_a_roster_without_codes_is_matched_again_by_id_number(engine: Engine, orgs_csv: Path, tmp_path: Path) -> None:
    rows = corpus.member_rows(PEOPLE)
    members = corpus.write_csv(tmp_path / "members.csv", rows)
    imported(engine, orgs_csv, members)
    codes = {h: r["code"] for h, r in stored_members(engine).items()}
    again = imported(engine, orgs_csv, members)
    assert again.plan.changes == 0 and not again.written
    rows[1][corpus.MEMBER_HEADER.index("联系电话")] = "13900000001"
    rows.append(rows.pop(1))  # order does not matter
    changed = imported(engine, orgs_csv, corpus.write_csv(tmp_path / "members.csv", rows))
    assert changed.summary()["members"] == {"added": 0, "changed": 1, "removed": 0, "moved": 0, "unchanged": len(PEOPLE) - 1}
    assert {h: r["code"] for h, r in stored_members(engine).items()} == codes


def with_cell(rows: list[list[str]], row: int, header: str, value: str) -> list[list[str]]:
    rows = [list(r) for r in rows]
    rows[row][rows[0].index(header)] = value
    return rows


@pytest.mark.parametrize(("value", "code", "message"), [
    ("3.30127E+17", "id_number_excel", "is an ID number Excel has turned into a number, losing its last digits"),
    ("330127198011020000", "id_number_excel", "format the column as text (or export it as text)"),
    ("330127198011020015", "id_number_check", "its check digit (the 18th character) does not match"),
    ("33012719801102001", "id_number_shape", "is not an 18-character ID number"),
])
def test_damaged_id_numbers_are_refused(engine: Engine, orgs_csv: Path, tmp_path: Path, value: str, code: str,
                                        message: str) -> None:
    members = corpus.write_csv(tmp_path / "members.csv", with_cell(corpus.member_rows(PEOPLE), 3, "公民身份号码", value))
    lines = refused(engine, orgs_csv, members)
    assert lines[0].startswith(f"members.csv, row 4, column 公民身份号码: {value}") and message in lines[0], lines


def test_an_id_number_excel_stored_as_a_number_is_refused(engine: Engine, orgs_csv: Path, tmp_path: Path) -> None:
    path = corpus.hand_kept_xlsx(tmp_path / "花名册.xlsx", PEOPLE, id_as_number=True)
    outcome = run_import(engine, ImportFiles(orgs_csv, path), id_key=KEY)
    damaged = [p for p in outcome.plan.report.problems if p.code == "id_number_excel"]
    assert not outcome.written and damaged and all("E+17" in p.message() for p in damaged)
    assert damaged[0].message("zh").endswith("请在源文件中把该列设为文本格式（或以文本导出）后重新录入或导出")


def test_a_year_month_that_excel_made_a_number_is_asked_about(engine: Engine, orgs_csv: Path, tmp_path: Path) -> None:
    members = corpus.write_csv(tmp_path / "members.csv", with_cell(corpus.member_rows(PEOPLE), 2, "入党日期", "1985.1"))
    lines = refused(engine, orgs_csv, members)
    assert lines[0].startswith("members.csv, row 3, column 入党日期: 1985.1 could be January or October"), lines


def test_every_header_problem_in_one_run(engine: Engine, orgs_csv: Path, tmp_path: Path) -> None:
    rows = corpus.member_rows(PEOPLE)
    header = ["序号", "名单", "称呼", "民族", "公民身份号码", "出生日期", "学历", "人员类别", "党员状态 ", "入党日期",
              "转正日期", "工作岗位", "所在党支部", "联系电话", "党籍状态", "备用电话"]
    members = corpus.write_csv(tmp_path / "members.csv", [header] + [r[:8] + [r[7]] + r[8:] + [""] for r in rows[1:]])
    lines = refused(engine, orgs_csv, members)
    assert lines == [
        "members.csv, row 1: the column 姓名 (name) is missing (write one of: 姓名 / name / 党员姓名 / 名字)",
        "members.csv, row 1: the column 性别 (gender) is missing (write one of: 性别 / gender / sex)",
        "members.csv, row 1, column 党员状态: this column and 人员类别 both mean 党员状态; keep one",
        "warning: members.csv, row 1, column 名单: this column is not used and is ignored",
        "warning: members.csv, row 1, column 称呼: this column is not used and is ignored",
        "warning: members.csv, row 1, column 备用电话: this column is not used and is ignored",
    ]


def test_the_command_line_prints_the_summary_whatever_the_header(orgs_csv: Path, tmp_path: Path) -> None:
    rows = corpus.member_rows(PEOPLE)
    rows[0] = [h + " " if h == "人员类别" else h for h in rows[0]]
    members = corpus.write_csv(tmp_path / "members.csv", rows)
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "import", "--database-url", f"sqlite:///{tmp_path / 'cli.db'}",
         "--orgs", str(orgs_csv), "--members", str(members), "--quiet", "--dry-run"],
        capture_output=True, text=True, cwd=ROOT, env={"LIANXIN_SECRET_KEY": "cli-test", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["members"]["added"] == len(PEOPLE)


def test_references_by_name_and_by_shortened_codes(engine: Engine, orgs_csv: Path, tmp_path: Path) -> None:
    rows = corpus.member_rows(PEOPLE)
    column = rows[0].index("所在党支部")
    for n, (row, p) in enumerate(zip(rows[1:], PEOPLE)):
        row[column] = [p.branch.full_name, p.branch.code.lstrip("0"), p.branch.short_name][n % 3]
    outcome = imported(engine, orgs_csv, corpus.write_csv(tmp_path / "members.csv", rows))
    lost = [p for p in outcome.plan.report.problems if p.code == "lost_zeros"]
    assert lost and all(p.warning and "lost its leading zeros" in p.message() for p in lost)
    assert_every_field(engine, PEOPLE)


def test_an_ambiguous_branch_name_is_reported_with_its_candidates(engine: Engine, tmp_path: Path) -> None:
    org_rows = corpus.org_rows(ORGS)
    first, second = (r for r in org_rows[1:] if r[2] == "党支部" and "村" in r[1])
    org_rows = with_cell(org_rows, org_rows.index(second), "党组织名称", first[1])
    orgs = corpus.write_csv(tmp_path / "orgs.csv", org_rows)
    members = corpus.write_csv(tmp_path / "members.csv", corpus.member_rows(PEOPLE))
    lines = refused(engine, orgs, members)
    assert f"names more than one organisation ({first[0]}, {second[0]}); write the organisation's code instead" in "\n".join(lines)


def test_a_subtree_export_keeps_its_outside_parent(engine: Engine, tmp_path: Path) -> None:
    org_rows = with_cell(corpus.org_rows(ORGS), 1, "上级党组织", "中共临安区委员会")
    outcome = imported(engine, corpus.write_csv(tmp_path / "orgs.csv", org_rows),
                       corpus.write_csv(tmp_path / "members.csv", corpus.member_rows(PEOPLE)))
    [note] = [p for p in outcome.plan.report.problems if p.code == "outside_parent"]
    assert note.warning and note.row == 2 and "taken as the top of the tree" in note.message()
    assert outcome.written


def test_members_not_in_good_standing_are_left_out(engine: Engine, orgs_csv: Path, tmp_path: Path) -> None:
    rows = with_cell(corpus.member_rows(PEOPLE), 2, "党籍状态", "停止党籍")
    outcome = imported(engine, orgs_csv, corpus.write_csv(tmp_path / "members.csv", rows))
    [note] = [p for p in outcome.plan.report.problems if p.code == "not_in_good_standing"]
    assert note.row == 3 and note.warning
    assert keyed_hash(PEOPLE[1].id_number, KEY) not in stored_members(engine)
    assert len(stored_members(engine)) == len(PEOPLE) - 1


def test_sheet_named_and_mapping_given(engine: Engine, orgs_csv: Path, tmp_path: Path) -> None:
    path = corpus.hand_kept_xlsx(tmp_path / "花名册.xlsx", PEOPLE)
    outcome = run_import(engine, ImportFiles(orgs_csv, path, sheets={"members": "目录"}), id_key=KEY)
    assert outcome.plan.report.lines()[0] == "花名册.xlsx: the workbook has no sheet 目录; its sheets: 填表说明、花名册"
    rows = corpus.member_rows(PEOPLE)
    rows[0] = ["支部名" if h == "所在党支部" else h for h in rows[0]]
    members = corpus.write_csv(tmp_path / "members.csv", rows)
    imported(engine, orgs_csv, members, mappings={"members": {"支部名": "所在组织代码"}})
    assert_every_field(engine, PEOPLE)


def test_the_column_mapping_step_of_an_admin_import(engine: Engine, orgs_csv: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANXIN_SECRET_KEY", "mapping-step")
    rows = corpus.member_rows(PEOPLE)
    rows[0] = ["支部名" if h == "所在党支部" else h for h in rows[0]]
    members = corpus.write_csv(tmp_path / "members.csv", rows)
    jobs = ImportJobs(engine, reload=lambda: None, root=tmp_path)
    job = jobs.create()
    for kind, path in (("orgs", orgs_csv), ("members", members)):
        upload = jobs.upload(job.id, kind, path.name)
        upload.write(path.read_bytes())
        upload.finish()

    def checked() -> dict[str, Any]:
        deadline = time.monotonic() + 300
        while job.state not in ("checked", "failed"):
            assert time.monotonic() < deadline, job.state
            time.sleep(0.05)
        return job.status()

    jobs.check(job.id)
    status = checked()
    assert not status["summary"]["ok"] and ["支部名", ""] in status["columns"]["members"]
    assert ["姓名", "name"] in status["columns"]["members"] and ["序号", ""] in status["columns"]["members"]
    dropdowns = [c for c in _walk(columns_view(status, "zh")) if isinstance(c, dcc.Dropdown)]
    ids = [d.id for d in dropdowns]
    values = ["org" if d.id["header"] == "支部名" else d.value for d in dropdowns]
    mapping = choices_mapping(ids, values)
    assert mapping["members"]["支部名"] == "org" and parse_mapping(mapping_json(mapping).encode(), "m.json") == mapping
    jobs.remap(job.id, mapping)
    status = checked()
    assert status["summary"]["ok"] and status["summary"]["members"]["added"] == len(PEOPLE), status["report"]
    assert status["mappings"] == mapping
    jobs.close()


def _walk(component: Any) -> list[Any]:
    children = getattr(component, "children", None)
    children = children if isinstance(children, list) else [children] if children is not None else []
    return [component, *(c for child in children for c in _walk(child))]


def test_a_bad_mapping_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="“parent_code_x” is not a column of members files"):
        parse_mapping(json.dumps({"members": {"支部": "parent_code_x"}}).encode(), "m.json")
    with pytest.raises(MappingError, match="is not JSON text"):
        parse_mapping(b"\xff\x00", "m.json")


def test_mixed_category_spellings_of_the_national_system(engine: Engine, tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(corpus.ORG_HEADER)
    for o in ORGS:
        book.active.append([o.code, o.full_name, o.kind_written, o.parent.full_name if o.parent else "", o.unit_written])
    orgs = tmp_path / "orgs.xlsx"
    book.save(orgs)
    with (tmp_path / "members.csv").open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(corpus.member_rows(PEOPLE))
    imported(engine, orgs, tmp_path / "members.csv")
    assert_every_field(engine, PEOPLE)
    assert dt.date.today() > max(p.joined for p in PEOPLE)
