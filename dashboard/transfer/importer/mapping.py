"""A user's column mapping: which header means which column, saved as JSON and reused (CLI ``--mapping``,
/admin/import).

The file is ``{"members": {"所在党支部名称": "org", "备用电话": ""}, "orgs": {...}}``: per kind of file, the
header as written → the column (its key, or its Chinese or English header as in docs/import.md); "" ignores
the column. Built-in spellings still apply to the headers a mapping does not name.
"""

from __future__ import annotations

import json
from pathlib import Path

from dashboard.transfer.importer.columns import COLUMNS, FILE_KINDS, FileKind, normalise_header
from dashboard.transfer.importer.layout import Overrides


class MappingError(ValueError):
    """The mapping file cannot be used; the message says why."""


def target_key(kind: FileKind, target: str) -> str | None:
    """The column key a mapping's target names ("" to ignore), or None if it names no column of ``kind``."""
    if target == "":
        return ""
    wanted = normalise_header(target)
    return next((c.key for c in COLUMNS[kind] if wanted in {normalise_header(s) for s in (c.key, c.zh, c.en)}), None)


def overrides(mapping: dict[str, str] | None, kind: FileKind) -> Overrides:
    """A kind's mapping as the reader uses it: normalised header → column key (unknown targets dropped)."""
    out: Overrides = {}
    for header, target in (mapping or {}).items():
        key = target_key(kind, target)
        if key is not None:
            out[normalise_header(header)] = key
    return out


def load_mapping(path: Path) -> dict[str, dict[str, str]]:
    """Read and check a mapping file; MappingError naming what is wrong."""
    try:
        return parse_mapping(path.read_bytes(), path.name)
    except OSError as exc:
        raise MappingError(f"the mapping file {path.name} cannot be read ({type(exc).__name__})") from None


def parse_mapping(content: bytes, name: str) -> dict[str, dict[str, str]]:
    """A mapping file's bytes, checked; MappingError naming what is wrong."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MappingError(f"the mapping file {name} is not JSON text") from None
    if not isinstance(data, dict) or not set(data) <= set(FILE_KINDS):
        raise MappingError(f"the mapping file {name} must be an object with keys among {', '.join(FILE_KINDS)}")
    for kind, mapping in data.items():
        if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
            raise MappingError(f"{name}: “{kind}” must map header text to a column name")
        bad = [v for v in mapping.values() if target_key(kind, v) is None]
        if bad:
            names = ", ".join(c.key for c in COLUMNS[kind])
            raise MappingError(f"{name}: “{bad[0]}” is not a column of {kind} files; use one of {names}, or \"\"")
    return data


def mapping_json(mappings: dict[str, dict[str, str]]) -> str:
    """A mapping as the file the CLI's --mapping and the admin page read."""
    return json.dumps(mappings, ensure_ascii=False, indent=2) + "\n"
