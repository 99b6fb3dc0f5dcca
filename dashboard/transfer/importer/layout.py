"""Where the table is in a sheet: the header row (below any title rows, possibly two rows joined) and which
rows below it are data, section headings, totals or blank.

A hand-kept roster rarely starts at A1: a title (“XX党委党员花名册（截至2025年12月）”)
sits above the header, a group title spans two columns above their own headers
(“入党” over “日期”), the roster is cut into sections by heading rows
(“一、第一党支部”) and ends with a totals row (“合计 共181人”). The header is the
row, among the first ``HEAD_ROWS``, whose cells name the most known columns —
or that row joined with the next, when the pair names more. Below it, a row with one
filled cell, or one text merged across the whole row, is a section heading, a
row with a total in it is a totals row; both are skipped and noted, never
read as people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.transfer.importer.columns import COLUMNS, Column, FileKind, header_index, normalise_header

HEAD_ROWS = 30
# 合计 / 总计 / 小计 / 共计 …, “共181人”, “Total”: a row that sums up, not a record.
TOTALS = re.compile(r"^\s*(合\s*计|总\s*计|小\s*计|共\s*计|总\s*数|共\s*\d+\s*[人名个条]|total\b)", re.IGNORECASE)


@dataclass(frozen=True)
class HeaderAt:
    """The header: its last row (0-based in the sheet), how many rows it spans, and each column's header text."""

    row: int
    span: int
    names: list[str]
    known: int


Overrides = dict[str, str]  # normalised header → column key ("" = ignore the column)


def recognised(name: str, kind: FileKind, overrides: Overrides | None = None) -> Column | None:
    """The column a header cell names, if any (a user's mapping first)."""
    normalised = normalise_header(name)
    if overrides and normalised in overrides:
        key = overrides[normalised]
        return next((c for c in COLUMNS[kind] if c.key == key), None)
    return header_index(kind).get(normalised)


def find_header(rows: list[list[str]], kind: FileKind, overrides: Overrides | None = None) -> HeaderAt | None:
    """The header among the first rows, or None if no row names any known column."""
    best: HeaderAt | None = None
    head = rows[:HEAD_ROWS]
    for i, row in enumerate(head):
        candidates = [HeaderAt(i, 1, list(row), _known(row, kind, overrides))]
        if i + 1 < len(head):  # two rows as one only when they name more than the lower row alone
            joined = _joined(row, head[i + 1], kind, overrides)
            known = _known(joined, kind, overrides)
            if known > _known(head[i + 1], kind, overrides):
                candidates.append(HeaderAt(i + 1, 2, joined, known))
        for candidate in candidates:
            if candidate.known and (best is None or candidate.known > best.known):
                best = candidate
    return best


def _known(names: list[str], kind: FileKind, overrides: Overrides | None) -> int:
    return len({c.key for name in names if (c := recognised(name, kind, overrides)) is not None})


def _joined(upper: list[str], lower: list[str], kind: FileKind, overrides: Overrides | None) -> list[str]:
    """Two header rows as one: the lower cell under its group title (carried right over merged cells),
    the lower cell alone when that is what is known, or the upper one where the lower is empty."""
    width = max(len(upper), len(lower))
    upper = [*upper, *[""] * (width - len(upper))]
    lower = [*lower, *[""] * (width - len(lower))]
    names, group = [], ""
    for top, bottom in zip(upper, lower):
        if top:
            group = top
        if not bottom or bottom == top:  # nothing below, or one cell merged down over both rows
            names.append(top)
        elif recognised(group + bottom, kind, overrides) is not None:
            names.append(group + bottom)
        elif recognised(bottom, kind, overrides) is not None or not group:
            names.append(bottom)
        else:
            names.append(group + bottom)
    return names


def fill_merged(rows: list[list[str]], merged: list[tuple[int, int, int, int]]) -> None:
    """Give every cell of a merged area the text of its first cell (Excel keeps it only there)."""
    for first_row, first_col, last_row, last_col in merged:
        if first_row >= len(rows):
            continue
        source = rows[first_row]
        text = source[first_col] if first_col < len(source) else ""
        for r in range(first_row, min(last_row, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(first_col, min(last_col, len(row) - 1) + 1):
                row[c] = text


@dataclass
class RowKinds:
    """Per data row: blank, section heading, totals — each skipped; ``data`` the rest."""

    blank: np.ndarray
    section: np.ndarray
    totals: np.ndarray

    @property
    def data(self) -> np.ndarray:
        return ~(self.blank | self.section | self.totals)


def classify_rows(frame: pd.DataFrame) -> RowKinds:
    """Classify the rows of ``frame`` (every column of the sheet, text) — vectorised, for any number of rows.

    Only rows with few filled cells (or one text repeated, as a merged heading leaves it) are looked at closely.
    """
    values = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    count = np.zeros(len(frame), dtype=np.int64)
    for v in values:
        count += v != ""
    blank = count == 0
    first = values[0].copy() if values else np.empty(0, dtype=object)
    for v in values[1:]:
        first = np.where(first == "", v, first)
    one_text = np.ones(len(frame), dtype=bool)
    for v in values:
        one_text &= (v == first) | (v == "")
    few = max(2, len(values) // 3)
    look = (count > 0) & ((count <= few) | one_text)
    candidates = np.flatnonzero(look) if len(values) > 2 else np.empty(0, dtype=np.int64)
    section = np.zeros(len(frame), dtype=bool)
    totals = np.zeros(len(frame), dtype=bool)
    for pos in candidates.tolist():
        texts = [str(v[pos]) for v in values if v[pos] != ""]
        if any(TOTALS.match(t) for t in texts):
            totals[pos] = True
        elif len(set(texts)) == 1 and len(texts) in (1, len(values)):  # one cell, or one merged across the row
            section[pos] = True
    return RowKinds(blank, section, totals)


def first_text(frame: pd.DataFrame, pos: int) -> str:
    """The first non-empty cell of a row (what a note about a skipped row quotes)."""
    return next((str(frame[c].iat[pos]) for c in frame.columns if frame[c].iat[pos] != ""), "")
