"""The columns of each kind of import file and the headers accepted for them.

Each column has a key (used in code), the header an export writes in Chinese
and in English, and other spellings seen in member-management systems'
exports. Header cells are compared after NFKC, case-folding, dropping spaces,
``_``, ``-`` and ``*`` (a "required" mark), and anything in brackets, so
``组织代码（必填）``, ``Parent Code`` and ``parent_code`` all match.

Several columns take a reference by name as well as by code (``上级党组织``,
``所在党支部``): the cell is looked up as a code first, then as a name (see
refs.py). A few columns every national-system export carries but the product
has no use for (序号) are ignored without a warning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

FileKind = Literal["orgs", "members", "links"]
FILE_KINDS: tuple[FileKind, ...] = ("orgs", "members", "links")


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    exported: bool = True  # False: read from files, never written by an export (the ID number, 党籍状态 …)

    def spellings(self) -> tuple[str, ...]:
        return (self.zh, self.en, self.key, *self.aliases)


COLUMNS: dict[FileKind, tuple[Column, ...]] = {
    "orgs": (
        Column("code", "组织代码", "code", ("组织编码", "党组织代码", "代码", "编码", "org code", "organisation code"), True),
        Column("name", "组织名称", "name", ("党组织名称", "党组织全称", "名称", "全称", "org name"), True),
        Column("kind", "组织类别", "kind", ("组织类型", "党组织类别", "党组织类型", "类别", "类型", "type", "org type", "organisation type"), True),
        Column("parent", "上级组织代码", "parent code", ("上级代码", "上级组织", "上级党组织代码", "上级党组织", "上级党组织名称",
                                                     "上级组织名称", "上级党委", "parent")),
        Column("region", "行政区划代码", "region code", ("区划代码", "地区代码", "行政区划", "region")),
        Column("lon", "经度", "longitude", ("lon", "lng")),
        Column("lat", "纬度", "latitude", ("lat",)),
        Column("unit_type", "单位类型", "unit type", ("单位性质", "单位类别", "所在单位性质", "所在单位类型", "unit")),
    ),
    "members": (
        Column("code", "人员编号", "member id", ("党员编号", "编号", "人员代码", "id", "code", "member code")),
        Column("name", "姓名", "name", ("党员姓名", "名字"), True),
        Column("org", "所在组织代码", "organisation code", ("组织代码", "党组织代码", "所在党组织代码", "所在组织", "所在党支部", "所在党组织",
                                                             "所属党支部", "所属党组织", "所在支部", "党支部", "org", "org code",
                                                             "organization code"), True),
        Column("id_number", "公民身份号码", "ID number", ("身份证号码", "身份证号", "公民身份证号码", "身份证", "id card"),
               exported=False),
        Column("status", "党员状态", "status", ("人员类别", "党员类别")),
        Column("membership", "党籍状态", "membership", ("党籍",), exported=False),
        Column("stage", "发展阶段", "stage", ("阶段", "人员类型")),
        Column("gender", "性别", "gender", ("sex",), True),
        Column("ethnicity", "民族", "ethnicity", ("ethnic group",), True),
        Column("birth", "出生年份", "birth year", ("出生日期", "出生年月", "出生年", "birth date", "birthday", "date of birth", "born"), True),
        Column("education", "学历", "education", ("文化程度", "最高学历"), True),
        Column("occupation", "职业", "occupation", ("工作岗位", "职业类别"), True),
        Column("post", "党内职务", "post", ("职务", "党内职位", "position")),
        Column("join_date", "入党时间", "join date", ("入党日期", "入党年月", "joined")),
        Column("full_date", "转正时间", "full member since", ("转正日期", "转正年月"), exported=False),
        Column("phone", "联系电话", "phone", ("手机号码", "手机", "电话", "mobile", "telephone")),
    ),
    "links": (
        Column("from", "组织代码A", "from code", ("一方组织代码", "共建单位A", "甲方组织代码", "from", "a"), True),
        Column("to", "组织代码B", "to code", ("另一方组织代码", "共建单位B", "乙方组织代码", "to", "b"), True),
        Column("kind", "共建类型", "kind", ("类型", "关系类型", "type")),
        Column("since", "共建开始日期", "since", ("开始日期", "共建时间", "建立日期", "start date")),
    ),
}

# Headers every kind of file may carry that the product does not use: ignored without a warning.
IGNORED_HEADERS = frozenset({"序号", "no"})

_BRACKETED = re.compile(r"[(\[【〔<《][^)\]】〕>》]*[)\]】〕>》]")
_DROPPED = re.compile(r"[\W_]")  # spaces, line breaks, punctuation and markers such as * ※ ★ △ (必填 in brackets goes above)


def normalise_header(cell: object) -> str:
    """A header cell as it is compared: NFKC (full-width → ASCII), bracketed notes and every non-word character
    dropped, case-folded; never fails, whatever the cell holds."""
    text = unicodedata.normalize("NFKC", "" if cell is None else str(cell))
    return _DROPPED.sub("", _BRACKETED.sub("", text)).casefold()


def header_index(kind: FileKind) -> dict[str, Column]:
    """Normalised header spelling → column, for one kind of file."""
    index: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        for spelling in column.spellings():
            index.setdefault(normalise_header(spelling), column)
    return index


def header(column: Column, lang: str) -> str:
    """What an export writes at the top of the column."""
    return column.zh if lang == "zh" else column.en
