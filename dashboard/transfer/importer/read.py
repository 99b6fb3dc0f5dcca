"""Reading one import file into a table of text cells under canonical column keys.

Every cell stays text (pandas ``dtype=str``): codes keep their leading zeros
and nothing is guessed. Columns with few distinct values (categories, organisation
codes, dates) are read as pandas categoricals, so a million-row roster takes a
few hundred MB, not gigabytes. Rows keep their spreadsheet number (the header
is row 1) for messages; rows with every cell empty are dropped.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from dashboard.transfer.formulas import restore_frame
from dashboard.transfer.importer.columns import COLUMNS, Column, FileKind, header_index, normalise_header
from dashboard.transfer.importer.problems import Problem
from dashboard.transfer.importer.sniff import FileRejected, Sniffed, settle_encoding, sniff

# Columns read as categoricals: few distinct values however long the file.
CATEGORICAL = frozenset({"kind", "unit_type", "region", "status", "stage", "gender", "ethnicity", "birth", "education",
                         "occupation", "post", "join_date", "org", "since"})
CSV_CHUNK_ROWS = 250_000
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


def read_table(path: Path, kind: FileKind, label: str | None = None, progress: Progress | None = None) -> Table:
    """Read ``path`` as a ``kind`` file. FileRejected if it cannot be read as a table with the needed columns."""
    label = label or path.name
    sniffed = sniff(path, label)
    try:
        return _read(path, kind, label, sniffed, progress)
    except UnicodeDecodeError:  # UTF-8 at the head only: find out what the whole file is, then read it as that
        return _read(path, kind, label, settle_encoding(path, label, sniffed), progress)


def _read(path: Path, kind: FileKind, label: str, sniffed: Sniffed, progress: Progress | None) -> Table:
    names = _header_cells(path, sniffed, label)
    mapping, problems = map_headers(names, kind, label)
    if mapping is None:
        raise FileRejected(problems[0])
    if sniffed.format == "xlsx":
        frame = _read_xlsx(path, label, names, mapping)
    else:
        frame = _read_csv(path, label, sniffed, names, mapping, progress)
    frame = frame.rename(columns={names[i]: key for i, key in mapping.items()})
    rows = np.arange(2, len(frame) + 2)
    kept = _non_blank(frame)
    if not kept.all():
        frame, rows = frame[kept].reset_index(drop=True), rows[kept]
    if len(frame) == 0 and kind != "links":  # no cross-links is a state; no tree or nobody on the roll is a mistake
        raise FileRejected(Problem("no_rows", label))
    headers = {key: names[i] for i, key in mapping.items()}
    return Table(kind, label, frame, rows, headers, problems)


def map_headers(names: list[str], kind: FileKind, label: str) -> tuple[dict[int, str] | None, list[Problem]]:
    """Header cells → {position: column key}; None (with the reason first) if a required column is missing."""
    index = header_index(kind)
    mapping: dict[int, str] = {}
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    for position, name in enumerate(names):
        column = index.get(normalise_header(name))
        if column is None:
            if name.strip() and not name.startswith("Unnamed:"):
                problems.append(Problem("unused_column", label, 1, name, warning=True))
            continue
        if column.key in seen:
            problems.insert(0, Problem("duplicate_column", label, 1, name, {"other": seen[column.key], "column": column.zh}))
            return None, problems
        seen[column.key] = name
        mapping[position] = column.key
    if not mapping:
        examples = ", ".join(f"{c.zh} / {c.en}" for c in COLUMNS[kind] if c.required)
        return None, [Problem("no_known_columns", label, 1, params={"examples": examples}), *problems]
    missing = [c for c in COLUMNS[kind] if c.required and c.key not in seen]
    if kind == "members" and "status" not in seen and "stage" not in seen:
        missing.append(next(c for c in COLUMNS[kind] if c.key == "stage"))
    if missing:
        return None, [_missing(c, label) for c in missing] + problems
    return mapping, problems


def _missing(column: Column, label: str) -> Problem:
    headers = " / ".join(column.spellings()[:4])
    return Problem("missing_column", label, 1, params={"column": column.zh + " (" + column.en + ")", "headers": headers})


def _header_cells(path: Path, sniffed: Sniffed, label: str) -> list[str]:
    try:
        if sniffed.format == "xlsx":
            head = pd.read_excel(path, sheet_name=0, nrows=0, dtype=str, engine="openpyxl")
        else:
            head = pd.read_csv(path, nrows=0, dtype=str, encoding=sniffed.encoding, sep=sniffed.delimiter)
    except UnicodeDecodeError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        code = "bad_xlsx" if sniffed.format == "xlsx" else "csv_malformed"
        raise FileRejected(Problem(code, label, params={"reason": _first_line(exc)})) from None
    except pd.errors.EmptyDataError:
        raise FileRejected(Problem("file_empty", label)) from None
    return [str(c).strip() for c in head.columns]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_csv(
    path: Path, label: str, sniffed: Sniffed, names: list[str], mapping: dict[int, str], progress: Progress | None
) -> pd.DataFrame:
    total = max(path.stat().st_size, 1)
    chunks = []
    try:
        with path.open("rb") as handle, pd.read_csv(
            handle,
            encoding=sniffed.encoding,
            sep=sniffed.delimiter,
            dtype=str,  # every column read (no usecols), so a row with more cells than the header is an error
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            chunksize=CSV_CHUNK_ROWS,
            engine="c",
        ) as reader:
            for chunk in reader:
                chunks.append(restore_frame(_tidy(chunk, names, mapping)))  # compact before the next chunk; formulas un-neutralised
                if progress is not None:
                    progress(min(handle.tell() / total, 1.0))
    except pd.errors.ParserError as exc:
        match = _RAGGED.search(str(exc))
        if match:
            expected, line, found = (int(g) for g in match.groups())
            raise FileRejected(Problem("ragged_row", label, line, params={"found": found, "expected": expected})) from None
        raise FileRejected(Problem("csv_malformed", label, params={"reason": _first_line(exc)})) from None
    except UnicodeDecodeError:
        raise
    except ValueError as exc:
        raise FileRejected(Problem("csv_malformed", label, params={"reason": _first_line(exc)})) from None
    return _concat(chunks)


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


def _read_xlsx(path: Path, label: str, names: list[str], mapping: dict[int, str]) -> pd.DataFrame:
    try:
        frame = pd.read_excel(
            path, sheet_name=0, dtype=str, keep_default_na=False, na_filter=False, engine="openpyxl",
            usecols=[names[i] for i in mapping],
        )
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileRejected(Problem("bad_xlsx", label, params={"reason": _first_line(exc)})) from None
    frame = frame.map(_excel_text)
    return _tidy(frame, names, mapping)


def _excel_text(value: object) -> str:
    """A cell as the text a person sees: dates without a midnight time, whole numbers without ``.0``."""
    text = "" if value is None else str(value).strip()
    if text.endswith(" 00:00:00"):
        return text[:-9]
    if text.endswith(".0") and text[:-2].lstrip("-").isdigit():
        return text[:-2]
    return text


def _tidy(frame: pd.DataFrame, names: list[str], mapping: dict[int, str]) -> pd.DataFrame:
    """Cells stripped of surrounding spaces; the few-valued columns as categoricals of text."""
    out = {}
    for i, key in mapping.items():
        column = frame[names[i]].astype(str)
        if key in CATEGORICAL:
            out[names[i]] = _stripped_categories(column.astype("category"))
        else:
            out[names[i]] = column.str.strip() if _needs_strip(column) else column
    return pd.DataFrame(out).reset_index(drop=True)


_EDGE_SPACE = re.compile(r"^\s|\s$", re.MULTILINE)


def _needs_strip(column: pd.Series) -> bool:
    """Whether any cell starts or ends with white space (one C-speed scan of the joined column)."""
    return _EDGE_SPACE.search("\n".join(column.tolist())) is not None


def _stripped_categories(column: pd.Series) -> pd.Series:
    """Strip a categorical's categories — only they are touched, not every cell — merging any that become equal."""
    categories = column.cat.categories
    stripped = categories.str.strip()
    if stripped.equals(categories):
        return column
    merged = pd.Index(stripped.unique())
    codes = column.cat.codes.to_numpy()
    new_codes = np.where(codes >= 0, merged.get_indexer(stripped)[codes], -1)
    return pd.Series(pd.Categorical.from_codes(new_codes, categories=merged), index=column.index)


def _non_blank(frame: pd.DataFrame) -> np.ndarray:
    blank = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        blank &= (frame[name] == "").to_numpy(dtype=bool)
    return ~blank
