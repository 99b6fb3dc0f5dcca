"""Cells that a spreadsheet would run as formulas, made inert on export and restored on import.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is a formula (or DDE payload) to Excel, LibreOffice and WPS when a CSV
is opened: a member named ``=HYPERLINK("http://x","y")`` would become a live
link. ``neutralise`` prefixes such a cell with an apostrophe (shown by no
spreadsheet as part of the value when typed, and harmless when read as text);
a cell that already starts with an apostrophe gets one too, so ``restore``,
which removes exactly one apostrophe before any of these characters, gives
back every exported value exactly. Plain numbers (``-12.5``) are left as
they are: they are not formulas, and coordinates stay numbers.

In .xlsx the export writes every data cell as a string cell instead, which
a spreadsheet never evaluates, so no apostrophe is needed there.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_NEUTRALISED = re.compile(r"'[=+\-@\t\r']")


def neutralise(value: Any) -> Any:
    """``value`` as a CSV cell no spreadsheet evaluates (non-text values unchanged)."""
    if not isinstance(value, str) or not value.startswith((*FORMULA_LEADS, QUOTE)):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return QUOTE + value


def restore(text: str) -> str:
    """The value ``neutralise`` was given, from the cell it wrote (other text unchanged)."""
    return text[1:] if _NEUTRALISED.match(text) else text


def restore_column(column: pd.Series) -> pd.Series:
    """``restore`` over a column of text cells (a categorical: over its categories only)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories.astype(str)
        restored = [restore(c) for c in categories]
        if restored == list(categories):
            return column
        if len(set(restored)) == len(restored):
            return column.cat.rename_categories(restored)
        return column.astype(str).map(restore).astype("category")
    if not column.str.startswith(QUOTE).any():
        return column
    return column.map(restore)


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column of a table read from a CSV the export may have written, restored."""
    for name in frame.columns:
        frame[name] = restore_column(frame[name])
    return frame
