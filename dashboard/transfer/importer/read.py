"""Reading one import file into a table of text cells under canonical column keys.

Every cell stays text (pandas ``dtype=str``): codes keep their leading zeros
and nothing is guessed. Columns with few distinct values (categories, organisation
codes, dates) are read as pandas categoricals, so a million-row roster takes a
few hundred MB, not gigabytes. Rows keep their spreadsheet number (the header
is row 1) for messages; rows with every cell empty are dropped.
"""

from __future__ import annotations

import csv
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from dashboard.transfer.formulas import restore_frame
from dashboard.transfer.importer.columns import COLUMNS, IGNORED_HEADERS, Column, FileKind, normalise_header
from dashboard.transfer.importer.grid import GridUnreadable, Sheet, html_sheets, workbook_sheet, workbook_sheet_names
from dashboard.transfer.importer.layout import (
    HEAD_ROWS,
    HeaderAt,
    Overrides,
    classify_rows,
    fill_merged,
    find_header,
    first_text,
    recognised,
)
from dashboard.transfer.importer.problems import Problem
from dashboard.transfer.importer.sniff import FileRejected, Sniffed, settle_encoding, sniff

# Columns read as categoricals: few distinct values however long the file.
CATEGORICAL = frozenset({"kind", "unit_type", "region", "status", "stage", "gender", "ethnicity", "birth", "education",
                         "occupation", "post", "join_date", "org", "since"})
CSV_CHUNK_ROWS = 250_000
# Text columns whose full-width characters are made ASCII as they are read (categorical ones always are;
# phones and ID numbers are normalised where they are checked).
WIDTH_FOLDED = frozenset({"code", "parent", "lon", "lat"})
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")

Progress = Callable[[float], None]


@dataclass
class Table:
    """One file's rows: ``frame`` has a column per recognised key; ``rows`` their spreadsheet numbers."""

    kind: FileKind
    label: str
    frame: pd.DataFrame
    rows: np.ndarray
    headers: dict[str, str]  # key → the header as written in the file
    problems: list[Problem] = field(default_factory=list)

    def header(self, key: str) -> str | None:
        return self.headers.get(key)

    def __len__(self) -> int:
        return len(self.frame)


def read_table(
    path: Path,
    kind: FileKind,
    label: str | None = None,
    progress: Progress | None = None,
    *,
    sheet: str | None = None,
    overrides: Overrides | None = None,
) -> Table:
    """Read ``path`` as a ``kind`` file. FileRejected if it cannot be read as a table with the needed columns.

    ``sheet`` names the workbook sheet to read (default: the one whose header names the most known columns);
    ``overrides`` maps header cells to column keys, before the built-in spellings (see layout.Overrides).
    """
    label = label or path.name
    sniffed = sniff(path, label)
    try:
        return _read(path, kind, label, sniffed, progress, sheet, overrides or {})
    except UnicodeDecodeError:  # UTF-8 at the head only: find out what the whole file is, then read it as that
        return _read(path, kind, label, settle_encoding(path, label, sniffed), progress, sheet, overrides or {})


def _read(path: Path, kind: FileKind, label: str, sniffed: Sniffed, progress: Progress | None, sheet: str | None,
          overrides: Overrides) -> Table:
    notes: list[Problem] = []
    if sniffed.format == "csv":
        head = _csv_head(path, sniffed, label)
        at = _header(head, kind, overrides)
        mapping, problems = map_headers(at.names, kind, label, overrides, at.row + 1)
        if mapping is None:
            raise FileRejected(*problems)
        frame, rows = _read_csv(path, label, sniffed, at, mapping, progress, notes)
    else:
        chosen, at = _choose_sheet(path, sniffed, kind, label, sheet, overrides, notes)
        mapping, problems = map_headers(at.names, kind, label, overrides, at.row + 1)
        if mapping is None:
            raise FileRejected(*problems)
        frame, rows = _grid_frame(chosen.rows[at.row + 1:], at, label, notes)
        frame = _tidy(frame, mapping)
        if progress is not None:
            progress(1.0)
    if at.row + 1 > at.span:
        first = at.row + 2 - at.span
        header_rows = f"{first}–{at.row + 1}" if at.span > 1 else str(first)
        notes.insert(0, Problem("header_below", label, first, params={"rows": header_rows, "above": first - 1},
                                warning=True))
    frame = frame.rename(columns=mapping)
    if len(frame) == 0 and kind != "links":  # no cross-links is a state; no tree or nobody on the roll is a mistake
        raise FileRejected(Problem("no_rows", label))
    headers = {key: at.names[i] for i, key in mapping.items()}
    return Table(kind, label, frame, rows, headers, [*notes, *problems])


def header_columns(path: Path, kind: FileKind, *, sheet: str | None = None,
                   overrides: Overrides | None = None) -> list[tuple[str, str]]:
    """The columns of a file's header as found, each with the column key it is read as ("" for none) — what the
    column-mapping step shows; [] for a file that cannot be read as a table (the report says why)."""
    try:
        sniffed = sniff(path, path.name)
        if sniffed.format == "csv":
            try:
                at = _header(_csv_head(path, sniffed, path.name), kind, overrides or {})
            except UnicodeDecodeError:
                sniffed = settle_encoding(path, path.name, sniffed)
                at = _header(_csv_head(path, sniffed, path.name), kind, overrides or {})
        else:
            at = _choose_sheet(path, sniffed, kind, path.name, sheet, overrides or {}, [])[1]
    except FileRejected:
        return []
    return [(name, column.key if (column := recognised(name, kind, overrides)) else "") for name in at.names if name]


def _header(head: list[list[str]], kind: FileKind, overrides: Overrides) -> HeaderAt:
    """The header found, else the first non-empty row (whose cells the report then names)."""
    at = find_header(head, kind, overrides)
    if at is None:
        first = next((i for i, row in enumerate(head) if any(row)), 0)
        return HeaderAt(first, 1, head[first] if head else [], 0)
    return at


def _choose_sheet(path: Path, sniffed: Sniffed, kind: FileKind, label: str, wanted: str | None, overrides: Overrides,
                  notes: list[Problem]) -> tuple[Sheet, HeaderAt]:
    """The sheet to read: the one named, else the one whose header names the most known columns."""
    try:
        if sniffed.format == "html":
            sheets = html_sheets(path.read_text(encoding=sniffed.encoding or "utf-8", errors="replace"))
            names = [s.name for s in sheets]
            load = {s.name: s for s in sheets}.__getitem__
        else:
            names = workbook_sheet_names(path)
            load = functools.partial(workbook_sheet, path)
        if wanted is not None:
            if wanted not in names:
                raise FileRejected(Problem("sheet_missing", label, params={"sheet": wanted, "sheets": "、".join(names)}))
            names = [wanted]
        best: tuple[Sheet, HeaderAt] | None = None
        for name in names:
            candidate = load(name)
            fill_merged(candidate.rows, candidate.merged)
            at = find_header(candidate.rows, kind, overrides)
            if at is not None and (best is None or at.known > best[1].known):
                best = (candidate, at)
    except GridUnreadable:
        code = "bad_xls" if sniffed.format == "xls" else "bad_xlsx"
        raise FileRejected(Problem(code, label)) from None
    if not names:
        raise FileRejected(Problem("no_table", label))
    if best is None:
        first = load(names[0])
        best = (first, _header(first.rows, kind, overrides))
    if sniffed.format == "html":
        notes.append(Problem("read_as_html", label, warning=True))
    if len(names) > 1:
        others = "、".join(n for n in names if n != best[0].name)
        notes.append(Problem("sheet_chosen", label, params={"sheet": best[0].name, "others": others}, warning=True))
    return best


def map_headers(
    names: list[str], kind: FileKind, label: str, overrides: Overrides | None = None, row: int = 1
) -> tuple[dict[int, str] | None, list[Problem]]:
    """Header cells → {position: column key}; None if the header cannot be used — then every reason is given,
    each saying what to do, followed by the warnings."""
    mapping: dict[int, str] = {}
    seen: dict[str, str] = {}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for position, name in enumerate(names):
        column = recognised(name, kind, overrides)
        if column is None:
            ignored = normalise_header(name) in IGNORED_HEADERS or (overrides or {}).get(normalise_header(name)) == ""
            if name.strip() and not ignored:
                warnings.append(Problem("unused_column", label, row, name, warning=True))
            continue
        if column.key in seen:
            errors.append(Problem("duplicate_column", label, row, name, {"other": seen[column.key], "column": column.zh}))
            continue
        seen[column.key] = name
        mapping[position] = column.key
    if not mapping:
        examples = ", ".join(f"{c.zh} / {c.en}" for c in COLUMNS[kind] if c.required)
        return None, [Problem("no_known_columns", label, row, params={"examples": examples})]
    missing = [c for c in COLUMNS[kind] if c.required and c.key not in seen]
    if kind == "members" and "status" not in seen and "stage" not in seen:
        missing.append(next(c for c in COLUMNS[kind] if c.key == "stage"))
    if kind == "members" and "code" not in seen and "id_number" not in seen:
        missing.append(next(c for c in COLUMNS[kind] if c.key == "code"))
    errors = [*(_missing(c, label, row) for c in missing), *errors]
    if errors:
        return None, [*errors, *warnings]
    return mapping, warnings


def _missing(column: Column, label: str, row: int) -> Problem:
    headers = " / ".join(list(dict.fromkeys(column.spellings()))[:4])
    return Problem("missing_column", label, row, params={"column": column.zh + " (" + column.en + ")", "headers": headers})


def _csv_head(path: Path, sniffed: Sniffed, label: str) -> list[list[str]]:
    """The first rows of a CSV as cells (the csv module: title rows may have fewer cells than the header)."""
    try:
        with path.open(encoding=sniffed.encoding, newline="") as f:
            return [[c.strip() for c in row] for row in itertools.islice(csv.reader(f, delimiter=sniffed.delimiter),
                                                                          HEAD_ROWS)]
    except csv.Error:
        raise FileRejected(Problem("csv_malformed", label)) from None


def _read_csv(
    path: Path, label: str, sniffed: Sniffed, at: HeaderAt, mapping: dict[int, str], progress: Progress | None,
    notes: list[Problem],
) -> tuple[pd.DataFrame, np.ndarray]:
    total = max(path.stat().st_size, 1)
    first_header = at.row + 1 - at.span  # rows above the header (a title), skipped as lines
    chunks: list[pd.DataFrame] = []
    row_numbers: list[np.ndarray] = []
    next_row = at.row + 2  # the spreadsheet number of the first data row
    skipped = _Skipped(label)
    try:
        with path.open("rb") as handle, pd.read_csv(
            handle,
            encoding=sniffed.encoding,
            sep=sniffed.delimiter,
            dtype=str,  # every column read (no usecols), so a row with more cells than the header is an error
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            skiprows=first_header,
            chunksize=CSV_CHUNK_ROWS,
            engine="c",
        ) as reader:
            for chunk in reader:
                chunk.columns = range(chunk.shape[1])
                if at.span == 2 and not chunks and not row_numbers:
                    chunk = chunk.iloc[1:].reset_index(drop=True)  # the header's second row
                numbers = np.arange(next_row, next_row + len(chunk))
                next_row += len(chunk)
                kept = skipped.classify(chunk, numbers)
                chunks.append(restore_frame(_tidy(chunk[kept].reset_index(drop=True), mapping)))  # formulas un-neutralised
                row_numbers.append(numbers[kept])
                if progress is not None:
                    progress(min(handle.tell() / total, 1.0))
    except pd.errors.ParserError as exc:
        match = _RAGGED.search(str(exc))
        if match:
            expected, line, found = (int(g) for g in match.groups())
            raise FileRejected(Problem("ragged_row", label, line + first_header,
                                       params={"found": found, "expected": expected})) from None
        raise FileRejected(Problem("csv_malformed", label)) from None
    except UnicodeDecodeError:
        raise
    except ValueError:
        raise FileRejected(Problem("csv_malformed", label)) from None
    except pd.errors.EmptyDataError:
        raise FileRejected(Problem("file_empty", label)) from None
    notes.extend(skipped.notes())
    if not chunks:
        return pd.DataFrame({i: pd.Series([], dtype=str) for i in mapping}), np.empty(0, dtype=np.int64)
    return _concat(chunks), np.concatenate(row_numbers)


def _grid_frame(data: list[list[str]], at: HeaderAt, label: str, notes: list[Problem]) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of a sheet below its header as a frame of text (short rows padded), with their spreadsheet numbers."""
    width = max([len(at.names), *(len(r) for r in data)]) if data else len(at.names)
    frame = pd.DataFrame([r + [""] * (width - len(r)) for r in data], columns=range(width), dtype=object)
    numbers = np.arange(at.row + 2, at.row + 2 + len(frame))
    skipped = _Skipped(label)
    kept = skipped.classify(frame, numbers)
    notes.extend(skipped.notes())
    return frame[kept].reset_index(drop=True), numbers[kept]


class _Skipped:
    """Rows left out of a table as it is read (blank, section headings, totals), for the notes."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.blank = 0
        self.skipped: list[Problem] = []

    def classify(self, frame: pd.DataFrame, numbers: np.ndarray) -> np.ndarray:
        """The rows of ``frame`` that are data; the others noted."""
        kinds = classify_rows(frame)
        self.blank += int(kinds.blank.sum())
        for code, mask in (("section_row", kinds.section), ("totals_row", kinds.totals)):
            self.skipped.extend(Problem(code, self.label, int(numbers[pos]), params={"value": first_text(frame, pos)},
                                        warning=True) for pos in np.flatnonzero(mask).tolist())
        return kinds.data

    def notes(self) -> list[Problem]:
        blank = [Problem("blank_rows", self.label, params={"count": self.blank}, warning=True)] if self.blank else []
        return [*self.skipped, *blank]


def _concat(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunks into one frame; categoricals stay categoricals (their categories united)."""
    if len(chunks) == 1:
        return chunks[0]
    columns = {}
    for name in chunks[0].columns:
        parts = [c[name] for c in chunks]
        if isinstance(parts[0].dtype, pd.CategoricalDtype):
            columns[name] = pd.Series(union_categoricals([p.array for p in parts]))
        else:
            columns[name] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(columns)


def _tidy(frame: pd.DataFrame, mapping: dict[int, str]) -> pd.DataFrame:
    """The mapped columns (by position), stripped of surrounding spaces; the few-valued ones as categoricals."""
    out = {}
    for i, key in mapping.items():
        column = frame[i].astype(str) if i in frame.columns else pd.Series([""] * len(frame), dtype=str)
        if key in CATEGORICAL:
            out[i] = _stripped_categories(column.astype("category"))
        else:
            column = column.str.strip() if _needs_strip(column) else column
            out[i] = _width_folded(column) if key in WIDTH_FOLDED else column
    return pd.DataFrame(out).reset_index(drop=True)


def _width_folded(column: pd.Series) -> pd.Series:
    """Full-width letters and digits made ASCII (NFKC) — after one scan shows the column is not ASCII already."""
    values = column.tolist()
    if "".join(values).isascii():
        return column
    return pd.Series([unicodedata.normalize("NFKC", v) for v in values], index=column.index, dtype=object)


_EDGE_SPACE = re.compile(r"^\s|\s$", re.MULTILINE)


def _needs_strip(column: pd.Series) -> bool:
    """Whether any cell starts or ends with white space (one C-speed scan of the joined column)."""
    return _EDGE_SPACE.search("\n".join(column.tolist())) is not None


def _stripped_categories(column: pd.Series) -> pd.Series:
    """Strip a categorical's categories and make their full-width characters ASCII (NFKC) — only they are
    touched, not every cell — merging any that become equal."""
    categories = column.cat.categories
    stripped = categories.str.normalize("NFKC").str.strip()
    if stripped.equals(categories):
        return column
    merged = pd.Index(stripped.unique())
    codes = column.cat.codes.to_numpy()
    new_codes = np.where(codes >= 0, merged.get_indexer(stripped)[codes], -1)
    return pd.Series(pd.Categorical.from_codes(new_codes, categories=merged), index=column.index)
