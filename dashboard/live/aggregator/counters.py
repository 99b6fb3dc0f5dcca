"""Counters rolled up to every ancestor, in one numpy matrix per family.

``values[row, col]`` is the count for the subtree of ``row``. An update names
the organisation where something happened; it is added to that row and every
ancestor row (O(depth)) with one unbuffered scatter over the flattened matrix,
which numpy runs as a tight loop. Rows touched since the last drain are marked
in a shared byte mask so the frame publisher can ask what changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dashboard.live.aggregator.layout import TreeLayout


class RolledCounters:
    def __init__(self, layout: TreeLayout, columns: int, changed: np.ndarray, dtype: type = np.int64) -> None:
        """``dtype``: int32 halves the memory of counts that never pass 2^31 (a day of a subtree)."""
        self.layout = layout
        self.values: np.ndarray = np.zeros((layout.size + 1, columns), dtype=dtype)
        self._changed = changed

    @property
    def columns(self) -> int:
        return self.values.shape[1]

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        """Add ``vals[i]`` at column ``cols[i]`` of organisation ``rows[i]`` and all its ancestors."""
        if len(rows) == 0:
            return
        chains = self.layout.ancestors[rows]
        flat = chains * self.columns + np.asarray(cols, dtype=np.int64)[:, None]
        np.add.at(self.values.reshape(-1), flat.reshape(-1), np.repeat(np.asarray(vals, dtype=self.values.dtype), chains.shape[1]))
        self._changed[chains] = True

    def add_to_rows(self, rows: Sequence[int], col: int, val: int) -> None:
        """Add ``val`` at ``col`` of exactly these rows (a union of chains, already deduplicated)."""
        index = np.fromiter(rows, dtype=np.int64)
        self.values[index, col] += val
        self._changed[index] = True

    def clear_columns(self, cols: Sequence[int]) -> None:
        """Zero these columns of every row; the rows that held anything there are marked changed.

        A ring's columns come as at most two runs of neighbours (it wraps once): each run is read
        through a slice — a view — and only its non-zero rows are written, instead of copying the
        whole block out and back (the cost of every replay step on a large tree, docs/replay.md).
        """
        for first, stop in _runs(cols):
            rows = np.flatnonzero(self.values[:, first:stop].any(axis=1))
            self._changed[rows] = True
            self.values[rows, first:stop] = 0

    def reset(self, own: np.ndarray) -> None:
        """Replace every count by the roll-up of per-organisation counts ``own``."""
        self.values = self.layout.rollup(own).astype(self.values.dtype, copy=False)
        self._changed[:] = True

    def own_counts(self, rows: np.ndarray, cols: np.ndarray, columns: int) -> np.ndarray:
        """Per-organisation counts (not rolled up), ``columns`` wide: one for each ``cols[i, j]`` at ``rows[i]``."""
        flat = (rows[:, None] * columns + cols).reshape(-1)
        counts = np.bincount(flat, minlength=(self.layout.size + 1) * columns)
        return counts.reshape(self.layout.size + 1, columns)


def _runs(cols: Sequence[int]) -> list[tuple[int, int]]:
    """``cols`` as half-open runs of neighbouring columns: [6, 7, 9, 8, 64] → [(6, 10), (64, 65)]."""
    runs: list[tuple[int, int]] = []
    for col in sorted(set(cols)):
        if runs and runs[-1][1] == col:
            runs[-1] = (runs[-1][0], col + 1)
        else:
            runs.append((col, col + 1))
    return runs
