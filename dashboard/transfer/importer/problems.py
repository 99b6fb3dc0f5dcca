"""What is wrong with an import, said so a person can find and fix it.

A ``Problem`` names the file, the spreadsheet row (the header is row 1, as
Excel shows it) and the column as headed in that file, and carries a message
code with its values; ``text(lang)`` renders it in English or Chinese. A
``Report`` collects them, keeps at most ``SHOWN_PER_KIND`` of each kind per
column (a million bad dates make one line with a count, not a million lines)
and says whether anything blocks the import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SHOWN_PER_KIND = 20

# code → (English, Chinese); {placeholders} come from Problem.params.
MESSAGES: dict[str, tuple[str, str]] = {
    # the file itself
    "file_missing": ("file not found", "找不到文件"),
    "file_empty": ("the file is empty", "文件是空的"),
    "not_a_table": (
        "this is {what}, not a CSV or Excel (.xlsx, .xls) file",
        "这是{what_zh}，不是 CSV 或 Excel（.xlsx、.xls）文件",
    ),
    "bad_xlsx": (
        "the Excel workbook cannot be read (it is damaged or not really a workbook); open it in Excel or WPS and "
        "save it again as .xlsx",
        "无法读取该 Excel 工作簿（文件已损坏，或并非真正的工作簿）；请用 Excel 或 WPS 打开后重新另存为 .xlsx",
    ),
    "bad_xls": (
        "this old-format Office file cannot be read as an Excel (.xls) workbook (a Word document?); "
        "open it in Excel or WPS and save it as .xlsx",
        "无法将此旧版 Office 文件读作 Excel（.xls）工作簿（是否为 Word 文档？）；请用 Excel 或 WPS 打开后另存为 .xlsx",
    ),
    "no_table": ("the file holds no table", "文件中没有表格"),
    "sheet_missing": (
        "the workbook has no sheet {sheet}; its sheets: {sheets}",
        "工作簿中没有名为“{sheet}”的工作表；现有工作表：{sheets}",
    ),
    "sheet_chosen": (
        "read sheet {sheet}, which holds the table; not read: {others} (name another with --sheet)",
        "已读取含有表格的工作表“{sheet}”；未读取：{others}（如需读取其他工作表，请用 --sheet 指定）",
    ),
    "read_as_html": (
        "this file is an HTML page (as web systems export “.xls”), read as the table it holds",
        "此文件是 HTML 网页（网页系统导出的“.xls”常为此格式），已按其中的表格读取",
    ),
    "header_below": (
        "the column headers are in row {rows}; the {above} row(s) above (a title) are not read",
        "表头位于第{rows}行；其上方的{above}行（标题）未读取",
    ),
    "section_row": (
        "{value} is a section heading, not a record: row skipped",
        "“{value}”是分组标题而非记录：已跳过此行",
    ),
    "totals_row": ("{value} is a totals row: row skipped", "“{value}”是合计行：已跳过此行"),
    "blank_rows": ("{count} blank row(s) skipped", "已跳过{count}个空行"),
    "encoding_unknown": (
        "line {line} is neither UTF-8 nor GB18030 text; save the file as “CSV UTF-8” and try again",
        "第{line}行既不是 UTF-8 也不是 GB18030 编码的文本；请另存为“CSV UTF-8”后重试",
    ),
    "encoding_mixed": (
        "the file mixes text encodings: line {utf8_line} is UTF-8 but line {other_line} is not (it looks like GBK/GB18030); "
        "save the whole file again in one encoding (“CSV UTF-8” is best)",
        "文件混用了多种文字编码：第{utf8_line}行是 UTF-8，第{other_line}行却不是（像是 GBK/GB18030）；"
        "请把整个文件用同一种编码重新保存（推荐“CSV UTF-8”）",
    ),
    "csv_malformed": (
        "the CSV cannot be read: a quote is not closed, or a line is cut; open it in Excel or WPS and save it again as CSV",
        "无法解析该 CSV：有未闭合的引号或被截断的行；请用 Excel 或 WPS 打开后重新另存为 CSV",
    ),
    "ragged_row": (
        "this row has {found} cells but the header has {expected} columns (a comma too many, or an unclosed quote?)",
        "该行有{found}个单元格，而表头只有{expected}列（多了逗号，或引号未闭合？）",
    ),
    "no_known_columns": (
        "no column header is recognised in the first 30 rows; the table needs a header row with names such as "
        "{examples} (or map the columns in /admin/import, or with --mapping)",
        "前30行中未识别出任何列名；表格须有一行表头，例如 {examples}（也可在 /admin/import 或用 --mapping 指定各列含义）",
    ),
    "missing_column": ("the column {column} is missing (write one of: {headers})", "缺少“{column}”列（表头可写作：{headers}）"),
    "duplicate_column": ("this column and {other} both mean {column}; keep one", "此列与“{other}”都表示“{column}”，请只保留一列"),
    "unused_column": ("this column is not used and is ignored", "未使用此列，已忽略"),
    "no_rows": ("the file has a header but no data rows", "文件只有表头，没有数据行"),
    # values
    "missing_value": ("a value is required", "此项必填"),
    "bad_code": (
        "{value} is not a valid code: use letters, digits, '-', '_' or '.', at most 64 characters",
        "“{value}”不是有效编码：只能使用字母、数字、“-”“_”“.”，最多64个字符",
    ),
    "too_long": ("{value} is longer than {limit} characters", "“{value}”超过{limit}个字符"),
    "unknown_value": ("{value} is not an accepted {vocabulary}; accepted: {accepted}", "“{value}”不是可接受的{vocabulary_zh}；可填：{accepted}"),
    "bad_region": ("region code {value} must be 6 digits, e.g. 110000", "行政区划代码“{value}”应为6位数字，例如 110000"),
    "bad_number": ("{value} is not a number", "“{value}”不是数字"),
    "out_of_range": ("{value} is outside {low} … {high}", "“{value}”超出范围 {low} … {high}"),
    "coordinates_pair": ("give both longitude and latitude, or neither", "经度和纬度须同时填写或同时留空"),
    "bad_date": ("{value} is not a date; write it like 2019-07-01", "“{value}”不是日期，请写成 2019-07-01 的形式"),
    "bad_birth": ("{value} is neither a year nor a date; write it like 1985 or 1985-03-12", "“{value}”既不是年份也不是日期，请写成 1985 或 1985-03-12"),
    "future_date": ("{value} is in the future (today is {today})", "{value}晚于今天（{today}）"),
    "too_early": ("{value} is before {earliest}", "{value}早于{earliest}"),
    "ambiguous_month": (
        "{value} could be January or October (Excel keeps 1985.10 as the number 1985.1); write 1985-01 or 1985-10, "
        "or format the column as text before typing",
        "“{value}”可能是1月也可能是10月（Excel 会把 1985.10 存成数字 1985.1）；请写成 1985-01 或 1985-10，或先把该列设为文本格式再录入",
    ),
    "bad_phone": ("{value} is not a phone number (digits, optionally +, spaces or '-')", "“{value}”不是电话号码（数字，可含 +、空格或“-”）"),
    # organisations
    "duplicate_code": ("organisation code {value} is also in row {first}", "组织代码“{value}”与第{first}行重复"),
    "own_parent": ("an organisation cannot be its own parent", "组织不能以自身为上级"),
    "unknown_parent": (
        "parent {value} is neither in this file nor in the database (by code or by name); if this organisation is "
        "the top of what you import, leave its parent empty or give a stored organisation to attach it to",
        "上级组织“{value}”既不在本文件中，也不在数据库中（按代码和名称均未找到）；如此组织是本次导入的顶层，"
        "请将上级留空，或填写要挂靠的已有组织",
    ),
    "ambiguous_parent": (
        "parent {value} names more than one organisation ({candidates}); write the parent's code instead",
        "上级组织“{value}”对应多个组织（{candidates}），请改填上级组织代码",
    ),
    "parent_removed": (
        "parent {value} is not in the file but lies inside the part of the tree this file replaces, so it would be removed",
        "上级组织“{value}”不在本文件中，但位于本文件所替换的组织树范围内，导入后将被删除",
    ),
    "cycle": (
        "organisations {chain} form a cycle (each is the parent of the next; rows {rows})",
        "组织 {chain} 构成循环（每个都是下一个的上级；第{rows}行）",
    ),
    "several_tops": (
        "the file holds {count} separate trees, topped by {tops}; an import holds one tree: "
        "give every organisation but the top one a parent in the file",
        "文件包含{count}棵互不相连的组织树（顶层：{tops}）；一次导入只能有一棵树：除顶层组织外，每个组织都要在文件中有上级",
    ),
    "kind_under": ("a {kind} cannot be under a {parent_kind} ({parent}): {rule}", "{kind_zh}不能隶属于{parent_kind_zh}（{parent}）：{rule_zh}"),
    "few_full_members": (
        "branch {code} ({name}) would have {count} full members; a branch needs at least {minimum}",
        "党支部 {code}（{name}）导入后只有{count}名正式党员，党支部至少需要{minimum}名",
    ),
    "members_left_behind": (
        "organisation {code} ({name}) is in the database but not in this file, so this import would remove it, "
        "yet {count} members belong to it: import the roster too (members file) or keep the organisation",
        "组织 {code}（{name}）在数据库中但不在本文件中，导入将删除它，但它仍有{count}名成员：请同时导入人员名册，或保留该组织",
    ),
    "referenced_elsewhere": (
        "organisation {code} ({name}) would be removed, but {count} row(s) of table {table} refer to it; change those first",
        "组织 {code}（{name}）将被删除，但表 {table} 中仍有{count}行引用它，请先修改这些记录",
    ),
    "tokens_removed": (
        "{count} token(s) scoped to organisations this import removes will be deleted: {labels}",
        "有{count}个令牌的范围是本次导入将删除的组织，这些令牌将被删除：{labels}",
    ),
    # members
    "duplicate_member": ("member id {value} is also in row {first}", "人员编号“{value}”与第{first}行重复"),
    "unknown_org": (
        "organisation {value} is neither in the organisations file nor in the database",
        "组织“{value}”既不在组织文件中，也不在数据库中",
    ),
    "status_conflict": ("status {status} and stage {stage} disagree", "党员状态“{status}”与发展阶段“{stage}”不一致"),
    "join_date_required": ("a {stage} member needs a join date", "{stage_zh}须填写入党时间"),
    "join_date_forbidden": ("a {stage} has not joined yet: leave the join date empty", "{stage_zh}尚未入党，入党时间应留空"),
    "post_not_full": ("only full members hold a post; this person is a {stage}", "只有正式党员可以担任党内职务，此人是{stage_zh}"),
    "joined_young": (
        "joined at about {age} (born {birth}, joined {join}); members join at 18 or older",
        "约{age}岁入党（{birth}年出生，{join}入党），入党须年满18岁",
    ),
    "member_referenced": (
        "{count} member(s) this import removes are referred to by table {table}; change those rows first",
        "本次导入将删除的成员中有{count}人仍被表 {table} 引用，请先修改这些记录",
    ),
    "id_number_excel": (
        "{value} is an ID number Excel has turned into a number, losing its last digits (Excel keeps 15); "
        "nothing from this cell is used: in the source, format the column as text (or export it as text) and "
        "re-enter or re-export the numbers",
        "“{value}”是被 Excel 转成数字的公民身份号码，末几位已丢失（Excel 只保留15位有效数字），此单元格不予采用："
        "请在源文件中把该列设为文本格式（或以文本导出）后重新录入或导出",
    ),
    "id_number_check": (
        "{value} is not a valid ID number: its check digit (the 18th character) does not match; check the digits",
        "“{value}”不是有效的公民身份号码：校验码（第18位）不符，请核对号码",
    ),
    "id_number_shape": (
        "{value} is not an 18-character ID number (17 digits and a digit or X)",
        "“{value}”不是18位公民身份号码（17位数字加1位数字或 X）",
    ),
    "duplicate_id_number": (
        "this ID number (ending {tail}) is also in row {first}",
        "该公民身份号码（末四位 {tail}）与第{first}行重复",
    ),
    "not_in_good_standing": (
        "党籍状态 {value}: not imported (only members in good standing are counted); a stored record of this person "
        "is removed",
        "党籍状态为“{value}”：不导入（只统计党籍正常的党员），已存的此人记录将被删除",
    ),
    "ambiguous_org": (
        "{value} names more than one organisation ({candidates}); write the organisation's code instead",
        "“{value}”对应多个组织（{candidates}），请改填组织代码",
    ),
    "lost_zeros": (
        "{value} is taken as organisation {code}: the code lost its leading zeros (Excel stored it as a number); "
        "format the column as text to keep them",
        "“{value}”按组织 {code} 处理：代码的前导零已丢失（Excel 将其存成了数字），请把该列设为文本格式以保留前导零",
    ),
    "outside_parent": (
        "parent {value} is neither in this file nor in the database; this organisation is taken as the top of the "
        "tree (leave the cell empty to say so)",
        "上级组织“{value}”既不在本文件中，也不在数据库中；此组织按整棵组织树的顶层导入（如确为顶层，可将此单元格留空）",
    ),
    # links
    "self_link": ("an organisation cannot be linked with itself", "组织不能与自身共建"),
    "duplicate_link": ("the link {a} — {b} is also in row {first}", "共建关系 {a} — {b} 与第{first}行重复"),
}

# Words that go into messages in each language.
WHAT_ZH = {
    "a PDF document": "PDF 文档",
    "a PNG image": "PNG 图片",
    "a JPEG image": "JPEG 图片",
    "a GIF image": "GIF 图片",
    "a gzip archive": "gzip 压缩包",
    "a ZIP archive": "ZIP 压缩包",
    "binary data": "二进制数据",
}
KIND_ZH = {"committee": "党委", "general_branch": "党总支", "branch": "党支部", "group": "党小组"}
STAGE_ZH = {
    "applicant": "入党申请人",
    "activist": "入党积极分子",
    "development_target": "发展对象",
    "probationary": "预备党员",
    "full": "正式党员",
}
VOCABULARY_ZH = {
    "kind": "组织类别",
    "unit type": "单位类型",
    "stage": "发展阶段",
    "status": "党员状态",
    "gender": "性别",
    "education": "学历",
    "occupation": "职业",
    "post": "党内职务",
    "ethnicity": "民族",
    "link kind": "共建类型",
    "membership": "党籍状态",
}
RULE_ZH = {
    "nothing goes under a party group": "党小组之下不能再设组织",
    "a party group belongs to a branch": "党小组应隶属于党支部",
    "a general branch belongs to a committee": "党总支应隶属于党委",
    "a branch belongs to a committee or a general branch": "党支部应隶属于党委或党总支",
    "a committee belongs to a committee": "党委应隶属于党委",
}


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


@dataclass(frozen=True)
class Problem:
    code: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    warning: bool = False

    def message(self, lang: str = "en") -> str:
        en, zh = MESSAGES[self.code]
        values = {k: _shown(v) if k == "value" else v for k, v in self.params.items()}  # a cell could be long
        if lang == "zh":
            values |= _chinese_words(self.params)
            return zh.format_map(_Defaulting(values))
        return en.format_map(_Defaulting(values))

    def where(self, lang: str = "en") -> str:
        if lang == "zh":
            parts = [self.file or ""]
            if self.row is not None:
                parts.append(f"第{self.row}行")
            if self.column:
                parts.append(f"“{self.column}”列")
            return " ".join(p for p in parts if p)
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def text(self, lang: str = "en") -> str:
        where = self.where(lang)
        sep = "：" if lang == "zh" else ": "
        return f"{where}{sep}{self.message(lang)}" if where else self.message(lang)

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "code": self.code,
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "warning": self.warning,
            "message": self.message(lang),
        }


class _Defaulting(dict):  # type: ignore[type-arg]
    """format_map that leaves an unknown placeholder visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _chinese_words(params: dict[str, Any]) -> dict[str, str]:
    words = {}
    if "what" in params:
        words["what_zh"] = WHAT_ZH.get(params["what"], params["what"])
    for key in ("kind", "parent_kind"):
        if key in params:
            words[f"{key}_zh"] = KIND_ZH.get(params[key], params[key])
    if "stage" in params:
        words["stage_zh"] = STAGE_ZH.get(params["stage"], params["stage"])
    if "vocabulary" in params:
        words["vocabulary_zh"] = VOCABULARY_ZH.get(params["vocabulary"], params["vocabulary"])
    if "rule" in params:
        words["rule_zh"] = RULE_ZH.get(params["rule"], params["rule"])
    return words


@dataclass
class Report:
    """The problems of one import and, once planned, what it would change."""

    problems: list[Problem] = field(default_factory=list)
    hidden: Counter[tuple[str, str | None, str | None, bool]] = field(default_factory=Counter)
    summary: dict[str, Any] = field(default_factory=dict)
    _shown: Counter[tuple[str, str | None, str | None, bool]] = field(default_factory=Counter)

    def add(self, problem: Problem) -> None:
        key = (problem.code, problem.file, problem.column, problem.warning)
        if self._shown[key] < SHOWN_PER_KIND:
            self._shown[key] += 1
            self.problems.append(problem)
        else:
            self.hidden[key] += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.add(p)

    def count(self, code: str, file: str | None, column: str | None, n: int, warning: bool = False) -> None:
        """Note ``n`` more problems of a kind without building each (the cap would hide them anyway)."""
        if n > 0:
            self.hidden[(code, file, column, warning)] += n

    @property
    def errors(self) -> int:
        shown = sum(1 for p in self.problems if not p.warning)
        return shown + sum(n for key, n in self.hidden.items() if not key[3])

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.warning) + sum(n for key, n in self.hidden.items() if key[3])

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def lines(self, lang: str = "en") -> list[str]:
        """The report as text lines, file by file (in the order the files were read) and row by row,
        warnings last, then one line per kind of problem with more rows than are shown."""
        files = list(dict.fromkeys(p.file for p in self.problems))
        ordered = sorted(self.problems, key=lambda p: (p.warning, files.index(p.file), p.row or 0))
        out = [("提示：" if lang == "zh" else "warning: ") * p.warning + p.text(lang) for p in ordered]
        for key, n in self.hidden.items():
            code, file, column, warning = key
            where = Problem(code, file, None, column).where(lang)
            example = next((p.row for p in self.problems if (p.code, p.file, p.column, p.warning) == key), None)
            if lang == "zh":
                like = f"与第{example}行相同的问题" if example else "同类问题"
                out.append(f"{where}：另有{n:,}行存在{like}（未逐条列出）")
            else:
                like = f"the same problem as row {example}" if example else "the same problem"
                out.append(f"{where}: {n:,} more rows with {like} (not listed)")
        return out
