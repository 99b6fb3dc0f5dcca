"""A corpus of realistic import files — a made-up township committee, generated names, never real people — in
the shapes committees really have: exports of the national party-member management system and hand-kept
Excel/WPS rosters (title rows, two-row headers, merged cells, sections, totals, a 填表说明 sheet, old .xls,
HTML saved as .xls), with the values such files hold (year-months, Excel day numbers, full-width digits, …).

Each ``Person`` carries what the product must store for it, so a test can check every field of an accepted
file. ``python -m tests.import_corpus DIR`` writes every variant into DIR to look at.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import xlwt
from openpyxl import Workbook

from dashboard.transfer.importer.idnumber import check_digit

TOWN = "青禾镇"
TOWN_CODE = "0330127001"
REGION = "330127"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文"
GIVEN = "安柏晨晖涵翰浩泓嘉钧俊凯朗乐磊霖龙明楠鹏琪锐睿森澍涛婷薇文曦翔昕欣炎阳怡逸颖雨泽哲臻志卓梓"
# (unit type as written, stored), (occupation as written, stored)
UNITS = [("行政村", "village"), ("社区（居委会）", "community"), ("公立医院", "institution"),
         ("中小学校", "institution"), ("民营企业", "enterprise"), ("乡镇", "government")]
POSTS = [("党政机关公务员", "party_government"), ("事业单位专业技术人员", "professional"),
         ("非公有制经济控制企业工人", "worker"), ("企事业单位、社会组织专业技术人员", "professional"),
         ("企事业单位、社会组织管理人员", "manager"), ("农牧渔民", "farmer"), ("离退休人员", "retired"),
         ("公有制经济控制企业管理人员", "manager"), ("学生", "student"), ("其他职业人员", "other")]
EDUCATIONS = [("初中及以下", "secondary"), ("高中", "secondary"), ("中专", "secondary"), ("大学专科", "college"),
              ("大学本科", "bachelor"), ("硕士/博士研究生", "postgraduate")]
ETHNICITIES = [("汉族", "Han"), ("汉", "Han"), ("畲族", "She"), ("回族", "Hui"), ("满", "Manchu")]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class Org:
    code: str
    full_name: str  # as the national system writes it: 中共…支部委员会
    short_name: str  # as people write it: …党支部
    kind_written: str
    kind: str
    unit_written: str
    unit: str
    parent: Org | None


@dataclass(frozen=True)
class Person:
    name: str
    gender: str  # M / F
    ethnicity_written: str
    ethnicity: str
    birth: dt.date
    id_number: str
    education_written: str
    education: str
    stage: str  # full / probationary
    joined: dt.date
    full_since: dt.date | None
    post_written: str
    occupation: str
    branch: Org
    phone: str
    membership: str = "正常"


def id_number(birth: dt.date, serial: int, male: bool) -> str:
    body = f"{REGION}{birth:%Y%m%d}{serial:02d}{(serial * 2 + (1 if male else 0)) % 10}"
    return body + check_digit(body)


def township(seed: int = 7, people_per_branch: int = 6) -> tuple[list[Org], list[Person]]:
    """The committee, a general branch and its branches, and their members (all full or probationary)."""
    rng = random.Random(seed)
    town = Org(TOWN_CODE, f"中共{TOWN}委员会", f"{TOWN}党委", "党的基层委员会", "committee", "乡镇", "government", None)
    general = Org(TOWN_CODE + "90", f"中共{TOWN}卫生院总支部委员会", f"{TOWN}卫生院党总支", "党总支", "general_branch",
                  "公立医院", "institution", town)
    places = ["东山村", "西岭村", "南塘社区", "中心小学", "禾丰农业有限公司", "镇机关"]
    orgs = [town, general]
    for i, place in enumerate(places):
        unit_written, unit = UNITS[i % len(UNITS)]
        orgs.append(Org(f"{TOWN_CODE}{i + 1:02d}", f"中共{TOWN}{place}支部委员会", f"{place}党支部", "党支部", "branch",
                        unit_written, unit, town))
    orgs.append(Org(f"{TOWN_CODE}91", f"中共{TOWN}卫生院第一支部委员会", "卫生院第一党支部", "党支部", "branch",
                    "公立医院", "institution", general))
    people = []
    serial = 0
    for branch in (o for o in orgs if o.kind == "branch"):
        for k in range(people_per_branch):
            serial += 1
            male = rng.random() < 0.7
            birth = dt.date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28))
            joined = dt.date(birth.year + rng.randint(19, 24), rng.randint(1, 12), rng.randint(1, 28))
            stage = "probationary" if k == people_per_branch - 1 else "full"
            if stage == "probationary":
                joined = dt.date(2025, rng.randint(1, 6), rng.randint(1, 28))
            education_written, education = rng.choice(EDUCATIONS)
            post_written, occupation = POSTS[serial % len(POSTS)]
            ethnicity_written, ethnicity = ETHNICITIES[serial % len(ETHNICITIES)]
            people.append(Person(
                name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
                gender="M" if male else "F",
                ethnicity_written=ethnicity_written, ethnicity=ethnicity,
                birth=birth, id_number=id_number(birth, serial % 100, male),
                education_written=education_written, education=education,
                stage=stage, joined=joined,
                full_since=dt.date(joined.year + 1, joined.month, joined.day) if stage == "full" else None,
                post_written=post_written, occupation=occupation, branch=branch,
                phone=f"13{rng.randint(100000000, 999999999)}",
            ))
    return orgs, people


ORG_HEADER = ["组织代码", "党组织名称", "党组织类别", "上级党组织", "单位性质"]
MEMBER_HEADER = ["序号", "姓名", "性别", "民族", "公民身份号码", "出生日期", "学历", "人员类别", "入党日期", "转正日期",
                 "工作岗位", "所在党支部", "联系电话", "党籍状态"]


def org_rows(orgs: list[Org]) -> list[list[str]]:
    return [ORG_HEADER] + [[o.code, o.full_name, o.kind_written, o.parent.full_name if o.parent else "", o.unit_written]
                           for o in orgs]


def member_cells(p: Person, n: int) -> list[object]:
    """One roster row as the national system exports it (dates as text, the branch by its short name)."""
    return [n, p.name, "男" if p.gender == "M" else "女", p.ethnicity_written, p.id_number, p.birth.isoformat(),
            p.education_written, "正式党员" if p.stage == "full" else "预备党员", p.joined.isoformat(),
            p.full_since.isoformat() if p.full_since else "", p.post_written, p.branch.short_name, p.phone, p.membership]


def member_rows(people: list[Person]) -> list[list[str]]:
    return [MEMBER_HEADER] + [[str(c) for c in member_cells(p, n)] for n, p in enumerate(people, start=1)]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def hand_kept_xlsx(path: Path, people: list[Person], *, id_as_number: bool = False) -> Path:
    """The roster as staff keep it: a 填表说明 sheet first; on 花名册 a title row, a two-row header (“入党” over
    “日期”), one section heading per branch, the branch column merged down its rows, date cells, a totals row."""
    book = Workbook()
    notes = book.active
    notes.title = "填表说明"
    notes.append(["1. 本表由各党支部填写，日期请按年月日填写。"])
    notes.append(["2. 公民身份号码请设置为文本格式。"])
    sheet = book.create_sheet("花名册")
    width = 12
    sheet.append([f"{TOWN}党委党员花名册（截至2025年12月）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.append(["序号", "所在\n党支部", "姓名", "性别", "民族", "公民身份号码", "出生日期", "学历", "人员类别", "入党", None,
                  "工作岗位"])
    sheet.append([None, None, None, None, None, None, None, None, None, "日期", "转正日期", None])
    sheet.merge_cells("J2:K2")
    for col in "ABCDEFGHIL":
        sheet.merge_cells(f"{col}2:{col}3")
    n = 0
    for branch in dict.fromkeys(p.branch for p in people):
        sheet.append([f"{branch.short_name}"] + [None] * (width - 1))
        sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=width)
        first = sheet.max_row + 1
        for p in (q for q in people if q.branch == branch):
            n += 1
            number: object = int(p.id_number) if id_as_number and p.id_number[-1] != "X" else p.id_number
            sheet.append([n, branch.short_name if sheet.max_row + 1 == first else None, p.name,
                          "男" if p.gender == "M" else "女", p.ethnicity_written, number, p.birth, p.education_written,
                          "正式党员" if p.stage == "full" else "预备党员", p.joined, p.full_since, p.post_written])
        sheet.merge_cells(start_row=first, start_column=2, end_row=sheet.max_row, end_column=2)
    sheet.append(["合计", None, f"共{n}人"])
    book.save(path)
    return path


def old_xls(path: Path, people: list[Person]) -> Path:
    """The national export's columns in an old binary .xls, under a title row, the branch column merged down."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("党员信息")
    header = MEMBER_HEADER
    sheet.write_merge(0, 0, 0, len(header) - 1, f"{TOWN}党委党员信息")
    for c, name in enumerate(header):
        sheet.write(1, c, name)
    row = 2
    branch_col = header.index("所在党支部")
    for branch in dict.fromkeys(p.branch for p in people):
        members = [p for p in people if p.branch == branch]
        for p in members:
            for c, value in enumerate(member_cells(p, row - 1)):
                if c != branch_col:
                    sheet.write(row, c, value)
            row += 1
        sheet.write_merge(row - len(members), row - 1, branch_col, branch_col, branch.short_name)
    book.save(str(path))
    return path


def html_xls(path: Path, people: list[Person]) -> Path:
    """What a web system exports as “.xls”: an HTML page with one table (GBK, as such pages often are)."""
    head = "".join(f"<th>{h}</th>" for h in MEMBER_HEADER)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in member_cells(p, n)) + "</tr>"
                   for n, p in enumerate(people, start=1))
    page = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"></head><body>'
            f"<table border=1><tr>{head}</tr>{body}</table></body></html>")
    path.write_bytes(page.encode("gb18030"))
    return path


def messy_values_csv(path: Path, people: list[Person]) -> tuple[Path, list[Person]]:
    """Values as hand-kept files have them: year-month dates three ways, Excel day numbers, full-width digits,
    phones with spaces, a header with a trailing space and a line break. The join dates become year-months:
    the expected people carry the first of the month."""
    forms: list[Callable[[dt.date], str]] = [
        lambda d: f"{d.year}.{d.month:02d}", lambda d: f"{d.year}年{d.month}月", lambda d: f"{d.year}-{d.month:02d}"]
    rows = [[h + " " if h == "姓名" else ("出生\n日期" if h == "出生日期" else h) for h in MEMBER_HEADER]]
    expected = []
    for n, p in enumerate(people, start=1):
        cells = [str(c) for c in member_cells(p, n)]
        cells[5] = str((p.birth - dt.date(1899, 12, 30)).days) if n % 2 else f"{p.birth.year}.{p.birth.month:02d}"
        cells[8] = forms[n % 3](p.joined)
        cells[12] = f"{p.phone[:3]} {p.phone[3:7]} {p.phone[7:]}".translate(FULL_WIDTH) if n % 2 else p.phone
        rows.append(cells)
        expected.append(replace(p, joined=p.joined.replace(day=1)))
    return write_csv(path, rows), expected


def write_all(directory: Path) -> None:
    orgs, people = township()
    directory.mkdir(parents=True, exist_ok=True)
    write_csv(directory / "orgs.csv", org_rows(orgs))
    write_csv(directory / "members_national.csv", member_rows(people))
    hand_kept_xlsx(directory / "members_hand_kept.xlsx", people)
    old_xls(directory / "members_old.xls", people)
    html_xls(directory / "members_web.xls", people)
    messy_values_csv(directory / "members_messy.csv", people)


if __name__ == "__main__":
    write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus"))
