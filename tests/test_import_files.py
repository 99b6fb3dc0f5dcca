"""Reading the files: encodings, Excel, header spellings — and files that are no table at all, each with a
clear message and the database unchanged."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine

from dashboard.transfer.importer import ImportFiles, run_import
from dashboard.transfer.importer.read import read_table
from tests.import_support import SAMPLES, checksums, sample_files, sample_rows, sample_store, write_rows


@pytest.fixture
def store(tmp_path: Path) -> Engine:
    return sample_store(tmp_path / "lianxin.db")


def rejected(engine: Engine, orgs: Path) -> str:
    """Import ``orgs`` (with the sample roster); assert a refusal with no table changed; the report's one line."""
    before = checksums(engine)
    outcome = run_import(engine, ImportFiles(orgs, SAMPLES / "members.csv", SAMPLES / "links.csv"))
    assert not outcome.written and not outcome.plan.report.ok
    assert checksums(engine) == before
    lines = outcome.plan.report.lines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_read_the_same(tmp_path: Path, encoding: str) -> None:
    path = write_rows(tmp_path / "members.csv", sample_rows("members"), encoding)
    table = read_table(path, "members")
    assert len(table) == 47 and table.frame["name"].iat[0] == sample_rows("members")[1][1]
    assert table.headers["ethnicity"] == "民族" and table.frame["ethnicity"].iat[0] == "汉族"


def test_a_gb18030_import_equals_a_utf8_one(store: Engine, tmp_path: Path) -> None:
    files = {kind: write_rows(tmp_path / f"{kind}.csv", sample_rows(kind), "gb18030") for kind in ("orgs", "members", "links")}
    before = checksums(store)
    outcome = run_import(store, ImportFiles(files["orgs"], files["members"], files["links"]))
    assert outcome.plan.report.ok and outcome.plan.changes == 0
    assert checksums(store) == before


def test_english_headers_and_values_in_excel_equal_chinese_csv(store: Engine) -> None:
    outcome = run_import(store, ImportFiles(SAMPLES / "orgs.xlsx", SAMPLES / "members.xlsx", SAMPLES / "links.xlsx"))
    assert outcome.plan.report.ok and outcome.plan.changes == 0


def test_header_spellings(tmp_path: Path) -> None:
    rows = sample_rows("orgs")
    rows[0] = ["组织代码（必填）", "Name", "org type", "Parent_Code", "区划代码", "lng", "LAT", "单位性质", "备注"]
    table = read_table(write_rows(tmp_path / "orgs.csv", rows), "orgs")
    assert set(table.headers) == {"code", "name", "kind", "parent", "region", "lon", "lat", "unit_type"}
    assert [(p.code, p.column) for p in table.problems] == [("unused_column", "备注")]


def test_tab_separated_text(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orgs.txt"
    path.write_text("\n".join("\t".join(r) for r in sample_rows("orgs")) + "\n", encoding="utf-8")
    outcome = run_import(store, ImportFiles(path, SAMPLES / "members.csv", SAMPLES / "links.csv"))
    assert outcome.plan.report.ok and outcome.plan.changes == 0


def test_empty_file(store: Engine, tmp_path: Path) -> None:
    empty = tmp_path / "orgs.csv"
    empty.write_bytes(b"")
    assert rejected(store, empty) == "orgs.csv: the file is empty"
    empty.write_bytes(b"\xef\xbb\xbf\r\n \n")
    assert rejected(store, empty) == "orgs.csv: the file is empty"


def test_header_without_rows(store: Engine, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "orgs.csv", sample_rows("orgs")[:1] + [[""] * 8, [""] * 8])
    assert rejected(store, path) == "orgs.csv: the file has a header but no data rows"


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(64), "binary data"),
    ],
)
def test_not_a_table(store: Engine, tmp_path: Path, content: bytes, what: str) -> None:
    path = tmp_path / "orgs.csv"
    path.write_bytes(content)
    assert rejected(store, path) == f"orgs.csv: this is {what}, not a CSV or Excel (.xlsx, .xls) file"


def test_an_old_office_file_that_is_not_a_workbook(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orgs.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    assert rejected(store, path).startswith("orgs.xls: this old-format Office file cannot be read as an Excel (.xls) "
                                            "workbook (a Word document?)")


def test_a_zip_that_is_not_a_workbook(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orgs.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("orgs.csv", "组织代码,组织名称\n")
    assert rejected(store, path) == "orgs.xlsx: this is a ZIP archive, not a CSV or Excel (.xlsx, .xls) file"


def test_a_broken_workbook(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orgs.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook>not really</workbook>")
    assert rejected(store, path) == ("orgs.xlsx: the Excel workbook cannot be read (it is damaged or not really a "
                                     "workbook); open it in Excel or WPS and save it again as .xlsx")


def test_a_workbook_without_known_headers(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orgs.xlsx"
    book = Workbook()
    book.active.append(["甲", "乙"])
    book.active.append([1, 2])
    book.save(path)
    line = rejected(store, path)
    assert line.startswith("orgs.xlsx, row 1: no column header is recognised in the first 30 rows; the table needs a "
                           "header row with names such as ")
    assert "组织代码 / code" in line


def test_one_hundred_megabytes_of_garbage(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    with path.open("wb") as f:
        for _ in range(100):
            f.write(os.urandom(1024 * 1024))
    assert rejected(store, path) == "orgs.csv: this is binary data, not a CSV or Excel (.xlsx, .xls) file"


def test_one_hundred_megabytes_of_text_garbage(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    line = (b"lorem,ipsum,dolor,sit,amet\n" * 40_000)
    with path.open("wb") as f:
        for _ in range(100):
            f.write(line[: 1024 * 1024])
    assert rejected(store, path).startswith("orgs.csv, row 1: no column header is recognised")


def test_mixed_encodings(store: Engine, tmp_path: Path) -> None:
    rows = sample_rows("orgs")
    text = ["\n".join(",".join(r) for r in rows[:6]).encode("utf-8"), "\n".join(",".join(r) for r in rows[6:]).encode("gb18030")]
    path = tmp_path / "orgs.csv"
    path.write_bytes(text[0] + b"\n" + text[1] + b"\n")
    assert rejected(store, path) == (
        "orgs.csv: the file mixes text encodings: line 1 is UTF-8 but line 7 is not (it looks like GBK/GB18030); "
        "save the whole file again in one encoding (“CSV UTF-8” is best)"
    )


def test_mixed_encodings_gbk_first(store: Engine, tmp_path: Path) -> None:
    rows = sample_rows("orgs")
    head = "\n".join(",".join(r) for r in rows[:6]).encode("gb18030")
    tail = "\n".join(",".join(r) for r in rows[6:]).encode("utf-8")
    path = tmp_path / "orgs.csv"
    path.write_bytes(head + b"\n" + tail + b"\n")
    assert "mixes text encodings: line 7 is UTF-8 but line 1 is not" in rejected(store, path)


def test_undecodable_text(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_bytes("组织代码,组织名称,组织类别\n".encode() + b"SX,\x80\x80\xff,x\n")
    assert rejected(store, path).startswith("orgs.csv: line 2 is neither UTF-8 nor GB18030 text")


def test_missing_and_repeated_columns(store: Engine, tmp_path: Path) -> None:
    rows = [r[:2] + r[3:] for r in sample_rows("orgs")]  # no 组织类别
    assert rejected(store, write_rows(tmp_path / "orgs.csv", rows)) == (
        "orgs.csv, row 1: the column 组织类别 (kind) is missing (write one of: 组织类别 / kind / 组织类型 / 党组织类别)"
    )
    rows = [[*r, r[0]] for r in sample_rows("orgs")]
    rows[0][-1] = "code"
    assert rejected(store, write_rows(tmp_path / "orgs.csv", rows)) == (
        "orgs.csv, row 1, column code: this column and 组织代码 both mean 组织代码; keep one"
    )


def test_ragged_row(store: Engine, tmp_path: Path) -> None:
    rows = sample_rows("orgs")
    rows[4] = [*rows[4], "extra", "cells"]
    assert rejected(store, write_rows(tmp_path / "orgs.csv", rows)) == (
        "orgs.csv, row 5: this row has 10 cells but the header has 8 columns (a comma too many, or an unclosed quote?)"
    )


def test_a_bad_members_file_is_reported_beside_a_good_tree(store: Engine, tmp_path: Path) -> None:
    files = sample_files(tmp_path)
    files.members.write_bytes(b"")
    before = checksums(store)
    outcome = run_import(store, files)
    assert outcome.plan.report.lines() == ["members.csv: the file is empty"]
    assert checksums(store) == before


def test_mixed_encodings_far_into_a_big_file(store: Engine, tmp_path: Path) -> None:
    rows = sample_rows("orgs")
    body = "\n".join(",".join(r) for r in rows).encode("utf-8")
    filler = "".join(f"SX-F{i:05d},填充党支部{i},党支部,SX-01,330000,,,机关\n" for i in range(3000)).encode("utf-8")
    late = "SX-G1,很晚出现的党支部,党支部,SX-01,330000,,,机关\n".encode("gb18030")
    for bom in (b"", b"\xef\xbb\xbf"):
        path = tmp_path / "orgs.csv"
        path.write_bytes(bom + body + b"\n" + filler + late)
        line = rejected(store, path)
        assert line.startswith("orgs.csv: the file mixes text encodings: line ") and "but line 3016 is not" in line
