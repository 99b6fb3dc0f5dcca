"""What a file is before pandas sees it: CSV (and in which encoding), an Excel workbook (.xlsx or old .xls),
or an HTML page with a table (what web systems export and name .xls).

Looking first keeps bad files cheap and their messages clear: a PDF, an
image, an old ``.xls`` or 100 MB of random bytes is named in one line after
reading a few kilobytes, never handed to a CSV parser.

Encodings: a UTF-8 or UTF-16 BOM decides; so does a first 64 KB that is
valid UTF-8 — the rest is proven while pandas decodes it strictly, and if it
fails there ``settle_encoding`` looks at the whole file. Otherwise each line
is tried as UTF-8 and as GB18030 — Chinese Excel saves "CSV" in GB18030/GBK —
and a file with lines of both is refused as mixed, with a line of each named,
rather than read into mojibake.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dashboard.transfer.importer.problems import Problem

HEAD_BYTES = 64 * 1024
CHUNK_BYTES = 16 * 1024 * 1024
DELIMITERS = (",", "\t", ";")

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Office files: .xls (read by calamine), .doc (refused when read)
_HTML_STARTS = (b"<!doctype html", b"<html", b"<table", b"<meta", b"<head", b"<?xml")


class FileRejected(Exception):
    """The file cannot be read as a table; ``problems`` say why (the first is the reason, the rest come with it)."""

    def __init__(self, problem: Problem, *more: Problem) -> None:
        super().__init__(problem.text())
        self.problem = problem
        self.problems = [problem, *more]


@dataclass(frozen=True)
class Sniffed:
    format: Literal["csv", "xlsx", "xls", "html"]
    encoding: str | None = None  # a Python codec name, for CSV
    delimiter: str = ","


def sniff(path: Path, label: str) -> Sniffed:
    """Decide how to read ``path``; FileRejected (naming ``label``) if it is not a readable table."""
    def reject(code: str, **params: object) -> FileRejected:
        return FileRejected(Problem(code, label, params=params))

    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    except FileNotFoundError:
        raise reject("file_missing") from None
    if size == 0 or not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise reject("file_empty")
    if head.startswith(b"PK\x03\x04"):
        if _is_workbook(path):
            return Sniffed("xlsx")
        raise reject("not_a_table", what="a ZIP archive")
    if head.startswith(OLE):
        return Sniffed("xls")
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise reject("not_a_table", what=what)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Sniffed("csv", "utf-16", _delimiter(head.decode("utf-16", errors="ignore")))
    if b"\x00" in head:
        raise reject("not_a_table", what="binary data")
    if head.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif _utf8_so_far(head):
        encoding = "utf-8"
    else:
        encoding = _detect_encoding(path, label)
    text = head.decode(encoding.replace("-sig", ""), errors="ignore")
    if _is_html(text):
        return Sniffed("html", encoding)
    return Sniffed("csv", encoding, _delimiter(text))


def _is_html(text: str) -> bool:
    start = text.lstrip("\ufeff \t\r\n")[:200].lower().encode()
    return start.startswith(_HTML_STARTS) and "<table" in text.lower()


def settle_encoding(path: Path, label: str, sniffed: Sniffed) -> Sniffed:
    """The encoding of a file that turned out not to be UTF-8 past its head; FileRejected if mixed or unknown."""
    if sniffed.encoding == "utf-8-sig":  # a file that announces UTF-8 with a BOM must be UTF-8 throughout
        bad_line = _first_non_utf8_line(path, skip=3)
        raise FileRejected(Problem("encoding_mixed", label, params={"utf8_line": 1, "other_line": bad_line}))
    return Sniffed("csv", _detect_encoding(path, label), sniffed.delimiter)


def _utf8_so_far(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)  # not final: a character cut at the end is fine
    except UnicodeDecodeError:
        return False
    return True


def _is_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def _delimiter(text: str) -> str:
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _chunks(path: Path, skip: int = 0) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(skip)
        while chunk := f.read(CHUNK_BYTES):
            yield chunk


def _first_non_utf8_line(path: Path, skip: int = 0) -> int | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    for chunk in _chunks(path, skip):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return lines_before + chunk.count(b"\n", 0, exc.start) + 1
        lines_before += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return lines_before + 1
    return None


def _detect_encoding(path: Path, label: str) -> str:
    if _first_non_utf8_line(path) is None:
        return "utf-8"
    utf8_line = gb_line = None
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8_line = utf8_line or number
            except UnicodeDecodeError:
                try:
                    line.decode("gb18030")
                except UnicodeDecodeError:
                    raise FileRejected(Problem("encoding_unknown", label, params={"line": number})) from None
                gb_line = gb_line or number
            if utf8_line and gb_line:
                raise FileRejected(
                    Problem("encoding_mixed", label, params={"utf8_line": utf8_line, "other_line": gb_line})
                )
    return "gb18030"
