"""What a wall rotates through: ``?rotate=SECONDS`` and ``?playlist=map:20,topology:15,...``.

An item is ``wall`` (the whole composition), ``map``, ``topology``, ``kpi``
(the KPI board), ``org:CODE`` (a spotlight on one top-level unit of the
wall's scope) or ``units`` (every top-level unit in turn), each optionally
followed by ``:SECONDS``. Parsing never fails: what cannot be understood is
skipped and reported as a ``Problem`` (an i18n key and the offending text),
which the wall shows on the screen while it goes on with the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_SECONDS = 20.0
MIN_SECONDS = 3.0
MAX_SECONDS = 3600.0
VIEWS = ("wall", "map", "topology", "kpi")
# The order of a rotation asked for with ?rotate= alone (and of exhibition mode).
DEFAULT_ORDER = ("wall", "map", "topology", "kpi", "units")
MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class PlaylistItem:
    kind: str  # wall | map | topology | kpi | org
    seconds: float
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    key: str  # i18n key of the message, e.g. "playlist.unknown_item"
    value: str  # what was given, shortened for display


@dataclass(frozen=True, slots=True)
class Playlist:
    items: tuple[PlaylistItem, ...]
    problems: tuple[Problem, ...]

    @property
    def rotating(self) -> bool:
        return len(self.items) > 1


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def parse_seconds(text: str) -> float | None:
    """Seconds between MIN_SECONDS and MAX_SECONDS, or None for anything else (``abc``, ``-5``, ``1e9``, ``nan``)."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and MIN_SECONDS <= value <= MAX_SECONDS else None


def _one(name: str, value: object, problems: list[Problem]) -> str | None:
    """A query parameter given once; repeated or non-text values are reported and ignored."""
    if value is None or isinstance(value, str):
        return value
    problems.append(Problem(f"playlist.repeated_{name}", name))
    return None


def parse_playlist(rotate: object, playlist: object, units: Sequence[str], *, exhibition: bool = False) -> Playlist:
    """The rotation a wall's query asks for; ``units`` are the codes of its scope's top-level units.

    No ``rotate`` and no ``playlist``: the wall stands still, unless ``exhibition`` (then the default
    rotation runs). A malformed ``rotate`` is reported and the default duration used; a ``playlist``
    whose every item is unknown is reported and the default order used.
    """
    problems: list[Problem] = []
    rotate_text, playlist_text = _one("rotate", rotate, problems), _one("playlist", playlist, problems)
    seconds = DEFAULT_SECONDS
    if rotate_text is not None:
        parsed = parse_seconds(rotate_text)
        if parsed is None:
            problems.append(Problem("playlist.bad_rotate", _shown(rotate_text)))
        else:
            seconds = parsed
    if rotate_text is None and playlist_text is None and not exhibition:
        return Playlist((PlaylistItem("wall", seconds),), tuple(problems))
    items: list[PlaylistItem] = []
    if playlist_text is not None:
        items = _items(playlist_text[:MAX_TEXT], seconds, units, problems)
        if not items:
            problems.append(Problem("playlist.empty", _shown(playlist_text)))
    if not items:
        items = _items(",".join(DEFAULT_ORDER), seconds, units, [])
    return Playlist(tuple(items), tuple(problems))


def _items(text: str, seconds: float, units: Sequence[str], problems: list[Problem]) -> list[PlaylistItem]:
    known_units = set(units)
    items: list[PlaylistItem] = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        parts = raw.split(":")
        name = parts[0].strip().lower()
        code = parts[1].strip() if name == "org" and len(parts) > 1 else None
        rest = parts[2:] if name == "org" else parts[1:]
        if name == "org" and code not in known_units:
            problems.append(Problem("playlist.unknown_org", _shown(code or raw)))
            continue
        if name not in (*VIEWS, "units", "org"):
            problems.append(Problem("playlist.unknown_item", _shown(raw)))
            continue
        duration = seconds
        if len(rest) > 1 or (rest and parse_seconds(rest[0]) is None):
            problems.append(Problem("playlist.bad_seconds", _shown(raw)))
        elif rest:
            duration = parse_seconds(rest[0]) or seconds
        if name == "units":
            items.extend(PlaylistItem("org", duration, c) for c in units)
        else:
            items.append(PlaylistItem(name, duration, code))
    return items
