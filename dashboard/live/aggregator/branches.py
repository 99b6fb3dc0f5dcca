"""Branch-level rules: 三会一课 and themed-day completion, and rule breaks.

For each branch the latest time each meeting kind was held anywhere in it
(the branch itself or its groups) is kept; a branch's flags are derived from
those times, the current period boundaries and the branch's own member
counters. Flags are re-derived only for the branches an update touched, and
the difference is rolled up; period changes re-derive all of them.
"""

from __future__ import annotations

import numpy as np

from dashboard.domain.events import MeetingKind
from dashboard.live.aggregator.calendar import Periods
from dashboard.live.aggregator.counters import RolledCounters
from dashboard.live.aggregator.layout import TreeLayout
from dashboard.live.aggregator.spec import (
    FEW_MEMBERS_BELOW,
    GROUP_KIND,
    GROUP_MEETING,
    MONTHLY_MEETINGS,
    QUARTERLY_MEETINGS,
    THEMED_DAY,
)

MEETING_KINDS: dict[str, int] = {kind.value: i for i, kind in enumerate(MeetingKind)}
_ANY = len(MEETING_KINDS)
_MONTHLY = [MEETING_KINDS[k] for k in MONTHLY_MEETINGS if k != GROUP_MEETING]
_GROUP = MEETING_KINDS[GROUP_MEETING]
_QUARTERLY = [MEETING_KINDS[k] for k in QUARTERLY_MEETINGS]

# Columns of the branch counters: two static counts, then one per flag.
ORGANISATIONS, BRANCHES, THREE_MEETINGS, THEMED, FEW_MEMBERS, NO_SECRETARY, NO_MEETING = range(7)
_FLAGS = slice(THREE_MEETINGS, NO_MEETING + 1)
COLUMNS = NO_MEETING + 1


class BranchBook:
    def __init__(self, layout: TreeLayout, counters: RolledCounters) -> None:
        self._layout = layout
        self._counters = counters
        self._held = np.zeros((layout.size + 1, _ANY + 1), dtype=np.int64)  # 0 = never
        self._flags = np.zeros((layout.size + 1, COLUMNS), dtype=np.int64)
        self._has_groups = np.zeros(layout.size + 1, dtype=bool)  # branches with a 党小组 must hold 党小组会
        groups = [layout.row_of[i] for i, n in layout.tree.nodes.items() if n.kind == GROUP_KIND]
        chains = layout.ancestors[groups, 1:] if groups else np.zeros((0, 1), dtype=np.int64)
        self._has_groups[chains[layout.is_branch[chains]]] = True

    @property
    def nbytes(self) -> int:
        return self._held.nbytes + self._flags.nbytes

    def record_meetings(self, rows: np.ndarray, kinds: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Note meetings held at ``rows``; returns the branches that contain any of them."""
        chains = self._layout.ancestors[rows]
        inside = self._layout.is_branch[chains]
        branch = chains[inside]
        width = self._held.shape[1]
        times = np.broadcast_to(times[:, None], chains.shape)[inside]
        kinds = np.broadcast_to(kinds[:, None], chains.shape)[inside]
        held = self._held.reshape(-1)
        np.maximum.at(held, branch * width + kinds, times)
        np.maximum.at(held, branch * width + _ANY, times)
        return np.unique(branch)

    def _derive(self, branches: np.ndarray, periods: Periods, full: np.ndarray, secretaries: np.ndarray) -> np.ndarray:
        held = self._held[branches]
        flags = np.zeros((len(branches), COLUMNS), dtype=np.int64)
        group_met = (held[:, _GROUP] >= periods.month_start_ms) | ~self._has_groups[branches]
        flags[:, THREE_MEETINGS] = (
            (held[:, _MONTHLY] >= periods.month_start_ms).all(axis=1)
            & group_met
            & (held[:, _QUARTERLY] >= periods.quarter_start_ms).all(axis=1)
        )
        flags[:, THEMED] = held[:, MEETING_KINDS[THEMED_DAY]] >= periods.month_start_ms
        flags[:, FEW_MEMBERS] = full < FEW_MEMBERS_BELOW
        flags[:, NO_SECRETARY] = secretaries == 0
        flags[:, NO_MEETING] = held[:, _ANY] < periods.prev_month_start_ms
        return flags

    def refresh(self, branches: np.ndarray, periods: Periods, full: np.ndarray, secretaries: np.ndarray) -> None:
        """Re-derive the flags of ``branches`` (given their full-member and secretary counts) and roll up the change."""
        if len(branches) == 0:
            return
        new = self._derive(branches, periods, full, secretaries)
        delta = new - self._flags[branches]
        self._flags[branches] = new
        b, col = np.nonzero(delta)
        self._counters.add(branches[b], col, delta[b, col])

    def recount(self, periods: Periods, full: np.ndarray, secretaries: np.ndarray) -> None:
        """Re-derive every branch's flags (full/secretary counts given for ``layout.branch_rows``) and all totals."""
        branches = self._layout.branch_rows
        self._flags[:] = 0
        self._flags[branches] = self._derive(branches, periods, full, secretaries)
        own = self._flags.copy()
        own[: self._layout.size, ORGANISATIONS] = 1
        own[branches, BRANCHES] = 1
        self._counters.reset(own)
