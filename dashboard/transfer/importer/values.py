"""Checking and converting a column of cells, vectorised, and reporting the bad ones by row.

Categorical columns are checked once per distinct value and the answer spread
to every row through the category codes, so a million rows with fifty distinct
values cost fifty checks.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from dashboard.transfer.importer.problems import SHOWN_PER_KIND, Problem, Report
from dashboard.transfer.importer.read import Table
from dashboard.transfer.importer.vocab import Vocabulary

CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}"
PHONE_PATTERN = r"\+?[0-9]{5,20}"  # as stored: spaces, '-' and brackets taken out first (see phones)
REGION_PATTERN = r"[0-9]{6}"
_PHONE_SPACING = re.compile(r"[\s\-()]")
_EIGHT_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# 2019-07-01, 2019/7/1, 2019.07.01, 2019年7月1日 — and year-months: 2019-07, 2019.7, 2019年7月
_DATE_PARTS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?|\s*月?)$")
# Excel's day numbers (1900 date system) written out as numbers: 10000 is 1927-05-18, 73415 is 2100-12-31.
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIALS = range(10000, 73416)


def cells(table: Table, key: str) -> pd.Series:
    """The column's cells as text ('' for a column the file does not have)."""
    if key in table.frame:
        return table.frame[key]
    return pd.Series(pd.Categorical([""] * len(table)), index=table.frame.index)


def per_value(column: pd.Series, fn: Callable[[str], Any], dtype: Any = object) -> np.ndarray:
    """``fn`` of every cell, computed once per distinct value (through the categories of a categorical)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    categories = column.cat.categories.tolist()
    answers = np.array([fn(str(c)) for c in categories] + [fn("")], dtype=dtype)
    codes = column.cat.codes.to_numpy()
    return answers[np.where(codes >= 0, codes, len(categories))]


def empty(column: pd.Series) -> np.ndarray:
    return (column == "").to_numpy(dtype=bool)


def malformed(column: pd.Series, pattern: str) -> np.ndarray:
    """Rows whose non-empty cell does not match ``pattern`` whole.

    A text column is first scanned whole — its cells joined by newlines, one
    C-speed search for a line that is neither empty nor a match — so a column
    without a bad cell (the usual case) costs one pass; only then cell by cell.
    """
    regex = re.compile(pattern)
    if isinstance(column.dtype, pd.CategoricalDtype):
        return per_value(column, lambda v: bool(v) and regex.fullmatch(v) is None, bool)
    values = column.tolist()
    joined = "\n".join(values)
    if joined.count("\n") == len(values) - 1 and not _bad_line(pattern).search(joined):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter((bool(v) and regex.fullmatch(v) is None for v in values), dtype=bool, count=len(values))


@functools.cache
def _bad_line(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^(?!(?:{pattern})?$).*$", re.MULTILINE)


def vocabulary_values(column: pd.Series, vocabulary: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """(stored value per row or None, rows whose non-empty cell is not an accepted spelling)."""
    values = per_value(column, lambda v: vocabulary.value_of(v) if v else None)
    unknown = per_value(column, lambda v: bool(v) and vocabulary.value_of(v) is None, bool)
    return values, unknown


def parse_date(text: str) -> dt.date | None:
    """A date written as people and Excel write them (see _DATE_PARTS; also 20190701, an Excel cell's
    ``2019-07-01 00:00:00``, an Excel day number such as 29527, full-width digits). A year-month is its month's
    first day — ``month_only`` tells them apart."""
    text = unicodedata.normalize("NFKC", text).strip().removesuffix(" 00:00:00")
    if text.isdigit() and len(text) == 5:
        return EXCEL_EPOCH + dt.timedelta(days=int(text)) if int(text) in EXCEL_SERIALS else None
    match = _EIGHT_DIGITS.match(text) or _DATE_PARTS.match(text)
    if match is None:
        return None
    year, month, day = match.groups()
    try:
        return dt.date(int(year), int(month), int(day or 1))
    except ValueError:
        return None


def month_only(text: str) -> bool:
    """Whether a date cell gives a year and month but no day (1985.03, 1985年3月)."""
    match = _DATE_PARTS.match(unicodedata.normalize("NFKC", text).strip())
    return match is not None and match.group(3) is None


def ambiguous_month(text: str) -> bool:
    """1985.1 — January, or October typed as a number (Excel keeps 1985.10 as 1985.1)?"""
    return re.fullmatch(r"\d{4}\.1", unicodedata.normalize("NFKC", text).strip()) is not None


def phones(column: pd.Series) -> pd.Series:
    """Phone numbers as stored: full-width digits made ASCII, spaces, '-' and brackets taken out
    (a column already in that form is returned as it is, after one scan)."""
    values = column.tolist()
    if re.fullmatch(r"[0-9+\n]*", "\n".join(values)):
        return column
    return pd.Series([_PHONE_SPACING.sub("", unicodedata.normalize("NFKC", v)) for v in values], index=column.index,
                     dtype=object)


def dates(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(date per row or None, rows whose non-empty cell is not a date)."""
    values = per_value(column, lambda v: parse_date(v) if v else None)
    bad = per_value(column, lambda v: bool(v) and parse_date(v) is None, bool)
    return values, bad


def report_rows(
    report: Report,
    table: Table,
    mask: np.ndarray,
    code: str,
    key: str | None,
    params: Callable[[int], dict[str, Any]] | None = None,
    warning: bool = False,
) -> None:
    """One problem per flagged row (the first SHOWN_PER_KIND built in full, the rest counted)."""
    positions = np.flatnonzero(mask)
    if not len(positions):
        return
    column = table.header(key) if key else None
    for pos in positions[:SHOWN_PER_KIND]:
        report.add(Problem(code, table.label, int(table.rows[pos]), column, params(int(pos)) if params else {}, warning))
    report.count(code, table.label, column, len(positions) - SHOWN_PER_KIND, warning)


def value_at(column: pd.Series) -> Callable[[int], dict[str, Any]]:
    """``params`` for report_rows: the row's cell as ``value``."""
    return lambda pos: {"value": str(column.iat[pos])}
