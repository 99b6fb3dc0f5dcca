"""The ``daily`` series of a snapshot: one count per local day for the last
TREND_DAYS days, so every KPI tile has a 30-day trend from the first second
after a start with a stored past (docs/aggregates.md, "Daily series").

Two kinds, kept apart because they change differently:

* **flows** (spec.DAILY_FLOWS) — sums by the event's organisation and the
  event's local day, rolled up like every event counter; a day leaving the
  window clears its ring column;
* **marks** (spec.DAILY_MARKS) — distinct things active on a day: party
  members (by their *current* organisation and stage, as ``active_today``),
  organisations, branches. Each thing has a bit mask (bit k: active k local
  days before the current one), so a member counted once on a day is never
  counted again that day, whatever the order events arrive in. A member who
  moves or changes stage takes their days along (old contribution out, new
  in); at local midnight the masks shift and the mark counts are recounted
  from them.
"""

from __future__ import annotations

import numpy as np

from dashboard.live.aggregator.counters import RolledCounters
from dashboard.live.aggregator.layout import TreeLayout
from dashboard.live.aggregator.spec import DAILY_FLOWS, DAILY_MARKS, TREND_DAYS

FLOW_INDEX = {name: i for i, name in enumerate(DAILY_FLOWS)}
ACTIVE, ACTIVE_ORGS, ACTIVE_BRANCHES = range(len(DAILY_MARKS))
_WINDOW = np.uint32((1 << TREND_DAYS) - 1)
_AGES = np.arange(TREND_DAYS, dtype=np.uint32)


def _bits(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index into ``masks``, age in days) of every set bit."""
    index, ages = np.nonzero((masks[:, None] >> _AGES) & 1)
    return index, ages


class DailyBook:
    def __init__(self, layout: TreeLayout, changed: np.ndarray) -> None:
        self._layout = layout
        # A day's count of one subtree stays far below 2^31: int32 halves the ~110 MB of 46k organisations.
        self.flows = RolledCounters(layout, len(DAILY_FLOWS) * TREND_DAYS, changed, np.int32)
        self.marks = RolledCounters(layout, len(DAILY_MARKS) * TREND_DAYS, changed, np.int32)
        self.org_days = np.zeros(layout.size + 1, dtype=np.uint32)
        self.branch_days = np.zeros(layout.size + 1, dtype=np.uint32)
        in_branch = layout.is_branch[layout.ancestors]
        nearest = layout.ancestors[np.arange(layout.size + 1), in_branch.argmax(axis=1)]
        self._branch_of = np.where(in_branch.any(axis=1), nearest, layout.sink)

    @property
    def nbytes(self) -> int:
        return self.flows.values.nbytes + self.marks.values.nbytes + self.org_days.nbytes + self.branch_days.nbytes + self._branch_of.nbytes

    @staticmethod
    def _column(series: int | np.ndarray, day: int | np.ndarray) -> np.ndarray:
        return np.asarray(series) * TREND_DAYS + np.asarray(day) % TREND_DAYS

    def series(self, row: int, today: int) -> dict[str, list[int]]:
        """Every series of ``row``'s subtree, oldest day first, today last."""
        days = np.arange(today - TREND_DAYS + 1, today + 1)
        flows, marks = self.flows.values[row], self.marks.values[row]
        out = {name: flows[self._column(i, days)].tolist() for i, name in enumerate(DAILY_FLOWS)}
        out.update({name: marks[self._column(i, days)].tolist() for i, name in enumerate(DAILY_MARKS)})
        return out

    def add_flows(self, rows: np.ndarray, series: np.ndarray, days: np.ndarray, values: np.ndarray, today: int) -> None:
        """Add ``values`` to flow ``series`` (-1: none) on ``days`` at ``rows``, inside the window."""
        keep = (series >= 0) & (days > today - TREND_DAYS) & (values != 0)
        self.flows.add(rows[keep], self._column(series[keep], days[keep]), values[keep])

    def mark_places(self, rows: np.ndarray, days: np.ndarray, today: int) -> None:
        """Events at ``rows`` on ``days``: their organisations and branches were active those days."""
        ages = today - days
        inside = ages < TREND_DAYS
        rows, ages = rows[inside], ages[inside]
        self._mark(self.org_days, rows, ages, ACTIVE_ORGS, today)
        branches = self._branch_of[rows]
        real = branches != self._layout.sink
        self._mark(self.branch_days, branches[real], ages[real], ACTIVE_BRANCHES, today)

    def _mark(self, masks: np.ndarray, rows: np.ndarray, ages: np.ndarray, series: int, today: int) -> None:
        if not len(rows):
            return
        pairs = np.unique(rows * 64 + ages)
        rows, ages = pairs // 64, pairs % 64
        bit = np.left_shift(np.uint32(1), ages.astype(np.uint32))
        new = (masks[rows] & bit) == 0
        rows, ages, bit = rows[new], ages[new], bit[new]
        np.bitwise_or.at(masks, rows, bit)  # a row may gain several days in one batch
        self.marks.add(rows, self._column(series, today - ages), np.ones(len(rows), dtype=np.int64))

    @staticmethod
    def set_member_days(member_days: np.ndarray, ids: np.ndarray, ages: np.ndarray) -> None:
        """Members ``ids`` were active ``ages`` days ago (only the window is kept)."""
        inside = ages < TREND_DAYS
        np.bitwise_or.at(member_days, ids[inside], np.left_shift(np.uint32(1), ages[inside].astype(np.uint32)))

    def move_members(
        self, before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray], today: int
    ) -> None:
        """Members' (row, counted days mask) before and after a batch: count the difference.

        A member on the same row adds only the days newly set; one who moved takes all their days
        from the old row to the new. A mask is 0 for someone who is not a party member.
        """
        rows_b, old = before
        rows_a, new = after
        moved = rows_b != rows_a
        plus = np.where(moved, new, new & ~old)
        minus = np.where(moved, old, old & ~new)
        i_plus, age_plus = _bits(plus)
        i_minus, age_minus = _bits(minus)
        rows = np.concatenate([rows_a[i_plus], rows_b[i_minus]])
        cols = self._column(ACTIVE, today - np.concatenate([age_plus, age_minus]).astype(np.int64))
        vals = np.concatenate([np.ones(len(i_plus), dtype=np.int64), np.full(len(i_minus), -1, dtype=np.int64)])
        self.marks.add(rows, cols, vals)

    def new_day(self, member_days: np.ndarray, old_day: int, day: int) -> None:
        """Local midnight passed (``day - old_day`` of them): days leave the window, masks age."""
        elapsed = day - old_day
        gone = range(max(old_day + 1, day - TREND_DAYS + 1), day + 1)
        self.flows.clear_columns([int(self._column(s, d)) for s in range(len(DAILY_FLOWS)) for d in gone])
        for masks in (member_days, self.org_days, self.branch_days):
            masks[:] = (masks << np.uint32(elapsed)) & _WINDOW if elapsed < TREND_DAYS else 0

    def recount(self, member_rows: np.ndarray, member_masks: np.ndarray, today: int) -> None:
        """The mark counts from the masks: members (their rows and party-only masks), organisations, branches."""
        size = self._layout.size + 1
        own = np.zeros((size, len(DAILY_MARKS) * TREND_DAYS), dtype=np.int64)
        for age in range(TREND_DAYS):
            bit = np.uint32(1 << age)
            col = today - age
            own[:, self._column(ACTIVE, col)] = np.bincount(member_rows[(member_masks & bit) != 0], minlength=size)
            own[:, self._column(ACTIVE_ORGS, col)] = (self.org_days & bit) != 0
            own[:, self._column(ACTIVE_BRANCHES, col)] = (self.branch_days & bit) != 0
        self.marks.reset(own)
