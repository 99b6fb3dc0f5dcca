"""Health of every organisation's subtree, for colouring the topology: good, fair, poor or unknown.

Four signals from the aggregator, each a share between 0 and 1 (missing when
it does not apply — no branches, no members):

* meetings — branches that completed 三会一课 this period;
* dues — party members who paid this month;
* activity — the subtree's share of members active today, against the whole
  tree's share (an organisation as active as the average scores 1; this keeps
  the colours meaningful at 8 a.m. and just after midnight);
* alerts — 1 less the rule breaks (few full members, no secretary, no
  meeting) and overdue transfers per branch, down to 0.

The score is their mean, drawn as a level from 1 (score below 0.1) to 10
(0.9 and above), 0 where nothing applies; in words, levels 9–10 are good,
6–8 fair, 1–5 poor (needs attention). Ten steps rather than three keep
the picture informative when a whole tree is poor or good at once (the first
days of a month, before meetings are held). All of it is computed for every
organisation at once from ``Aggregator.table()`` in a few numpy passes, at
most once per ``period_s``, and shared by the page and the frames of every
screen.

The public level gets a Health of its own, computed the same way from the
counts the public level shows (``public_table``: counts of people through
``scopes.public_counts``, hidden ones as 0), so its member counts, shares,
alert counts and even its colours say nothing the masked snapshot hides.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dashboard.access.scopes import public_counts
from dashboard.live.aggregator import Aggregator
from dashboard.topology.radial import TreeIndex

UNKNOWN = 0
LEVELS = 10
GOOD_FROM_LEVEL, FAIR_FROM_LEVEL = 9, 6
COMPONENTS = ("meetings", "dues", "activity", "alerts")
# Columns of ``Aggregator.table()`` that count people (an overdue transfer is one member's).
PEOPLE_COLUMNS = frozenset({"members", "dues_paid", "active_today", "transfers_overdue"})


@dataclass(frozen=True)
class Health:
    """Per preorder position: members, the four components (NaN where they do not apply), score, level."""

    members: np.ndarray
    active_share: np.ndarray  # members active today / members (NaN without members)
    breaks: np.ndarray  # open alerts in the subtree: rule breaks of its branches + overdue transfers
    components: dict[str, np.ndarray]
    score: np.ndarray
    level: np.ndarray  # uint8: UNKNOWN (0) or 1..LEVELS
    computed_at: float

    def packed(self, start: int, stop: int) -> str:
        """Levels of positions ``[start, stop)``, two to a byte (low nibble first), base64."""
        return pack_levels(self.level[start:stop])


def health_word(level: int) -> str:
    """good / fair / poor / unknown: the level in words."""
    if level == UNKNOWN:
        return "unknown"
    return "good" if level >= GOOD_FROM_LEVEL else "fair" if level >= FAIR_FROM_LEVEL else "poor"


def pack_levels(level: np.ndarray) -> str:
    padded = np.zeros(len(level) + len(level) % 2, dtype=np.uint8)
    padded[: len(level)] = level
    pairs = padded.reshape(-1, 2)
    return base64.b64encode((pairs[:, 0] | (pairs[:, 1] << 4)).astype(np.uint8).tobytes()).decode("ascii")


def unpack_levels(text: str, n: int) -> np.ndarray:
    packed = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    return np.stack([packed & 15, packed >> 4], axis=1).reshape(-1)[:n].astype(np.uint8)


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def public_table(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``table`` as the public level shows it: every count of people through ``public_counts``."""
    return {k: public_counts(v) if k in PEOPLE_COLUMNS else v for k, v in table.items()}


def compute_health(index: TreeIndex, table: dict[str, np.ndarray], now: float, public: bool = False) -> Health:
    """Health of every organisation from the aggregator's ``table()`` (rows in any order).

    With ``public`` the table is a ``public_table``: a 0 count of people there
    means hidden, so a share of members over it is unknown (NaN), not 0.
    """
    pos = index.pre(table["org_id"])
    keep = pos >= 0

    def col(name: str) -> np.ndarray:
        out = np.zeros(len(index), dtype=np.float64)
        out[pos[keep]] = table[name][keep]
        return out

    def people(name: str) -> np.ndarray:
        counts = col(name)
        return np.where(counts == 0, np.nan, counts) if public else counts

    members, branches = col("members"), col("branches")
    active = _share(people("active_today"), members)
    overall = active[0] if len(active) and np.isfinite(active[0]) and active[0] > 0 else np.nan
    breaks = col("few_members") + col("no_secretary") + col("no_meeting") + col("transfers_overdue")
    components = {
        "meetings": _share(col("three_meetings_branches"), branches),
        "dues": _share(people("dues_paid"), members),
        "activity": np.minimum(1.0, active / overall) if np.isfinite(overall) else np.full(len(index), np.nan),
        "alerts": np.where((branches > 0) | (breaks > 0), 1.0 - np.minimum(1.0, breaks / np.maximum(branches, 1)), np.nan),
    }
    stacked = np.stack([components[c] for c in COMPONENTS])
    counted = np.isfinite(stacked).sum(axis=0)
    with np.errstate(invalid="ignore"):
        score = np.where(counted > 0, np.nansum(stacked, axis=0) / np.maximum(counted, 1), np.nan)
    level = np.where(np.isfinite(score), 1 + np.minimum(LEVELS - 1, np.floor(np.nan_to_num(score) * LEVELS)), UNKNOWN)
    return Health(members.astype(np.int64), active, breaks.astype(np.int64), components, score, level.astype(np.uint8), now)


class HealthBoard:
    """The latest ``Health`` of each level, recomputed when asked for and older than ``period_s`` (thread-safe)."""

    def __init__(self, index: TreeIndex, aggregator: Aggregator, period_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.index = index
        self.aggregator = aggregator
        self.period_s = period_s
        self.clock = clock
        self._lock = threading.Lock()
        self._health: dict[bool, Health] = {}

    def current(self, public: bool = False) -> Health:
        """The full level's health, or with ``public`` the public level's (from the shown counts)."""
        now = self.clock()
        health = self._health.get(public)
        if health is not None and now - health.computed_at < self.period_s:
            return health
        with self._lock:
            health = self._health.get(public)
            if health is None or now - health.computed_at >= self.period_s:
                table = self.aggregator.table()
                health = self._health[public] = compute_health(self.index, public_table(table) if public else table, now, public)
            return health
