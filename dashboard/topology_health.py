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

The score is their mean; ≥ 0.75 is good, ≥ 0.5 fair, below poor. All of it
is computed for every organisation at once from ``Aggregator.table()`` in a
few numpy passes, at most once per ``period_s``, and shared by the page and
the frames of every screen.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dashboard.aggregator import Aggregator
from dashboard.topology import TreeIndex

UNKNOWN, GOOD, FAIR, POOR = 0, 1, 2, 3
GOOD_FROM, FAIR_FROM = 0.75, 0.5
COMPONENTS = ("meetings", "dues", "activity", "alerts")


@dataclass(frozen=True)
class Health:
    """Per preorder position: members, the four components (NaN where they do not apply), score, class."""

    members: np.ndarray
    active_share: np.ndarray  # members active today / members (NaN without members)
    components: dict[str, np.ndarray]
    score: np.ndarray
    cls: np.ndarray  # uint8: UNKNOWN, GOOD, FAIR, POOR
    computed_at: float

    def packed(self, start: int, stop: int) -> str:
        """Classes of positions ``[start, stop)``, four to a byte (low bits first), base64."""
        return pack_classes(self.cls[start:stop])


def pack_classes(cls: np.ndarray) -> str:
    padded = np.zeros(-(-len(cls) // 4) * 4, dtype=np.uint8)
    padded[: len(cls)] = cls
    quads = padded.reshape(-1, 4)
    packed = quads[:, 0] | (quads[:, 1] << 2) | (quads[:, 2] << 4) | (quads[:, 3] << 6)
    return base64.b64encode(packed.astype(np.uint8).tobytes()).decode("ascii")


def unpack_classes(text: str, n: int) -> np.ndarray:
    packed = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    quads = np.stack([(packed >> s) & 3 for s in (0, 2, 4, 6)], axis=1).reshape(-1)
    return quads[:n].astype(np.uint8)


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def compute_health(index: TreeIndex, table: dict[str, np.ndarray], now: float) -> Health:
    """Health of every organisation from the aggregator's ``table()`` (rows in any order)."""
    pos = index.pre(table["org_id"])
    keep = pos >= 0

    def col(name: str) -> np.ndarray:
        out = np.zeros(len(index), dtype=np.float64)
        out[pos[keep]] = table[name][keep]
        return out

    members, branches = col("members"), col("branches")
    active = _share(col("active_today"), members)
    overall = active[0] if len(active) and np.isfinite(active[0]) and active[0] > 0 else np.nan
    breaks = col("few_members") + col("no_secretary") + col("no_meeting") + col("transfers_overdue")
    components = {
        "meetings": _share(col("three_meetings_branches"), branches),
        "dues": _share(col("dues_paid"), members),
        "activity": np.minimum(1.0, active / overall) if np.isfinite(overall) else np.full(len(index), np.nan),
        "alerts": np.where((branches > 0) | (breaks > 0), 1.0 - np.minimum(1.0, breaks / np.maximum(branches, 1)), np.nan),
    }
    stacked = np.stack([components[c] for c in COMPONENTS])
    counted = np.isfinite(stacked).sum(axis=0)
    with np.errstate(invalid="ignore"):
        score = np.where(counted > 0, np.nansum(stacked, axis=0) / np.maximum(counted, 1), np.nan)
    cls = np.full(len(index), UNKNOWN, dtype=np.uint8)
    cls[score >= GOOD_FROM] = GOOD
    cls[(score >= FAIR_FROM) & (score < GOOD_FROM)] = FAIR
    cls[score < FAIR_FROM] = POOR
    return Health(members.astype(np.int64), active, components, score, cls, now)


class HealthBoard:
    """The latest ``Health``, recomputed when asked for and older than ``period_s`` (thread-safe)."""

    def __init__(self, index: TreeIndex, aggregator: Aggregator, period_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.index = index
        self.aggregator = aggregator
        self.period_s = period_s
        self.clock = clock
        self._lock = threading.Lock()
        self._health: Health | None = None

    def current(self) -> Health:
        now = self.clock()
        health = self._health
        if health is not None and now - health.computed_at < self.period_s:
            return health
        with self._lock:
            if self._health is None or now - self._health.computed_at >= self.period_s:
                self._health = compute_health(self.index, self.aggregator.table(), now)
            return self._health
