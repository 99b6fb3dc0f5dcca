"""Workbooks (.xlsx, old .xls) and HTML tables as grids of text cells, before any header is known.

Both Excel formats are read with calamine (python-calamine): a Rust reader,
about ten times faster than openpyxl on a big roster (benchmarks/import_xlsx.py)
and the only one here that also reads the old binary .xls. An "Excel" file
that is really an HTML page (what many web systems export as .xls) is parsed
as the HTML table it is.

A cell becomes the text a person sees in it: a date cell its ISO date, a whole
number without ``.0``. A number of 16 or more digits cannot be held exactly by
Excel (15 significant digits), so it is written in scientific notation
(``3.30127198011020E+17``) — the columns that need all their digits (ID
numbers) then refuse it and say why, rather than take wrong digits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook

EXACT_DIGITS = 10**15


@dataclass
class Sheet:
    """One sheet (or HTML table): its rows of text, and its merged areas (first row, first col, last row, last col)."""

    name: str
    rows: list[list[str]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


class GridUnreadable(Exception):
    """The workbook cannot be opened or a sheet cannot be read."""


def cell_text(value: object) -> str:
    """What the cell shows, as text (see the module docstring)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)
        if abs(value) >= EXACT_DIGITS:
            return f"{float(value):.14E}"
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def workbook_sheet_names(path: Path) -> list[str]:
    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except (CalamineError, OSError, ValueError) as exc:
        raise GridUnreadable(str(exc)) from None


def workbook_sheet(path: Path, name: str) -> Sheet:
    """One sheet of an .xlsx or .xls workbook."""
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_name(name)
        raw = sheet.to_python(skip_empty_area=False)
        merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
    except (CalamineError, OSError, ValueError) as exc:
        raise GridUnreadable(str(exc)) from None
    return Sheet(name, [[cell_text(v) for v in row] for row in raw], merged)


def html_sheets(text: str) -> list[Sheet]:
    """Every <table> of an HTML page, with colspan/rowspan spread over the cells they cover (as merged cells)."""
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    return [Sheet(f"table {i + 1}", _place(rows), []) for i, rows in enumerate(parser.tables) if rows]


Spanned = tuple[str, int, int]  # text, colspan, rowspan


def _place(rows: list[list[Spanned]]) -> list[list[str]]:
    """Lay cells with spans onto a grid: a spanned cell's text fills every position it covers."""
    grid: dict[tuple[int, int], str] = {}
    width = 0
    for r, cells in enumerate(rows):
        c = 0
        for text, colspan, rowspan in cells:
            while (r, c) in grid:
                c += 1
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = text
            c += colspan
            width = max(width, c)
    return [[grid.get((r, c), "") for c in range(width)] for r in range(len(rows))]


class _TableParser(HTMLParser):
    """Collects the cells of each table (nested tables are read as their own)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[Spanned]]] = []
        self._open: list[list[list[Spanned]]] = []
        self._cell: list[str] | None = None
        self._span = (1, 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._open.append([])
        elif tag == "tr" and self._open:
            self._open[-1].append([])
        elif tag in ("td", "th") and self._open:
            if not self._open[-1]:
                self._open[-1].append([])
            values = dict(attrs)
            self._span = (_span(values.get("colspan")), _span(values.get("rowspan")))
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._end_cell()
        elif tag == "table" and self._open:
            self._end_cell()
            self.tables.append(self._open.pop())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _end_cell(self) -> None:
        if self._cell is not None and self._open and self._open[-1]:
            self._open[-1][-1].append((" ".join("".join(self._cell).split()), *self._span))
        self._cell = None


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1
