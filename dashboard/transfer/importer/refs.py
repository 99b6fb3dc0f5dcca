"""Finding the organisation a cell refers to: by code, by full or short name, or by a code Excel shortened.

National-system exports name a member's branch (所在党支部) and an
organisation's parent (上级党组织) by name, and write the same organisation
in several ways: ``中共青禾村支部委员会`` is ``青禾村党支部``. Names are compared
after NFKC and without spaces, then in a short form — the 中共 / 中国共产党
prefix dropped and the ending reduced (支部委员会 / 党支部 → 支部, 总支部委员会 /
党总支 → 总支, 委员会 / 党委 → 委). A branch is often called by its
local name only (``东山村党支部`` for ``中共青禾镇东山村支部委员会``): a short name
that ends exactly one organisation's short name is that organisation. A name
two organisations share is not guessed: the cell is reported with the
candidates' codes.

A numeric code that Excel stored as a number has lost its leading zeros
(``0102`` → ``102``); a reference found only that way is taken, with a
warning naming the cause.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from dashboard.transfer.importer.vocab import normalise

_PREFIX = re.compile(r"^(中国共产党|中共)")
_ENDINGS = (
    ("党总支部委员会", "总支"), ("总支部委员会", "总支"), ("党总支部", "总支"), ("党总支", "总支"),
    ("党支部委员会", "支部"), ("支部委员会", "支部"), ("党支部", "支部"),
    ("党工作委员会", "工委"), ("党工委", "工委"), ("党委员会", "委"), ("委员会", "委"), ("党委", "委"),
)

MIN_ENDING = 3  # 村支部 — shorter endings (支部) would name every branch
How = Literal["code", "name", "zeros", "ambiguous", "unknown"]


def short_name(name: str) -> str:
    text = _PREFIX.sub("", normalise(name))
    for ending, short in _ENDINGS:
        if text.endswith(ending):
            return text[: -len(ending)] + short
    return text


@dataclass(frozen=True)
class Found:
    code: str | None
    how: How
    candidates: tuple[str, ...] = ()


class OrgFinder:
    """Organisations by code, by name, by short name and by code without leading zeros."""

    def __init__(self, orgs: Iterable[tuple[str, str]]) -> None:
        self.codes: set[str] = set()
        self.names: dict[str, set[str]] = {}
        self.shorts: dict[str, set[str]] = {}
        self.unpadded: dict[str, set[str]] = {}
        self._endings: dict[str, set[str]] | None = None
        for code, name in orgs:
            self.codes.add(code)
            if name:
                self.names.setdefault(normalise(name), set()).add(code)
                self.shorts.setdefault(short_name(name), set()).add(code)
            if code.startswith("0") and code.isdigit():
                self.unpadded.setdefault(code.lstrip("0"), set()).add(code)

    def find(self, text: str) -> Found:
        if text in self.codes:
            return Found(text, "code")
        digits = text.strip()
        tries: tuple[tuple[set[str] | None, How], ...] = (
            (self.names.get(normalise(text)), "name"),
            (self.shorts.get(short_name(text)), "name"),
            (self.ending_with(short_name(text)), "name"),
            (self.unpadded.get(digits.lstrip("0")) if digits.isdigit() else None, "zeros"),
        )
        for codes, how in tries:
            if codes and len(codes) > 1:
                return Found(None, "ambiguous", tuple(sorted(codes)))
            if codes:
                return Found(next(iter(codes)), how)
        return Found(None, "unknown")

    def ending_with(self, short: str) -> set[str] | None:
        """Organisations whose short name ends with ``short`` (at least MIN_ENDING characters), by an index of
        endings built on first use."""
        if len(short) < MIN_ENDING:
            return None
        if self._endings is None:
            self._endings = {}
            for name, codes in self.shorts.items():
                for start in range(1, len(name) - MIN_ENDING + 1):
                    self._endings.setdefault(name[start:], set()).update(codes)
        return self._endings.get(short)
