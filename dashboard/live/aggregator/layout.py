"""The organisation tree as dense row numbers, for counters kept in numpy arrays.

Every organisation gets a row; one extra *sink* row absorbs what belongs to no
organisation (padding of short ancestor chains, members transferred out of the
tree), so the hot path never branches on "is there an ancestor here?".
"""

from __future__ import annotations

import numpy as np

from dashboard.live.aggregator.spec import BRANCH_KIND
from dashboard.store.tree import OrgTree


class TreeLayout:
    def __init__(self, tree: OrgTree) -> None:
        ids = sorted(tree.nodes, key=lambda i: (len(tree.ancestors[i]), i))
        self.tree = tree
        self.size = len(ids)
        self.sink = self.size
        self.org_ids = np.array(ids, dtype=np.int64)
        self.row_of: dict[int, int] = {org_id: row for row, org_id in enumerate(ids)}
        self.row_of_code: dict[str, int] = {tree.nodes[i].code: r for i, r in self.row_of.items()}
        self.depth = max((len(chain) for chain in tree.ancestors.values()), default=1)
        self.ancestors = np.full((self.size + 1, self.depth), self.sink, dtype=np.int64)
        for org_id, row in self.row_of.items():
            chain = [self.row_of[a] for a in tree.ancestors[org_id]]
            self.ancestors[row, : len(chain)] = chain
        self.parent = self.ancestors[:, 1].copy() if self.depth > 1 else np.full(self.size + 1, self.sink)
        self.parent[self.sink] = self.sink
        self.is_branch = np.zeros(self.size + 1, dtype=bool)
        self.is_branch[[self.row_of[i] for i, n in tree.nodes.items() if n.kind == BRANCH_KIND]] = True
        self.branch_rows = np.flatnonzero(self.is_branch)
        self.children = {self.row_of[p]: [self.row_of[c] for c in kids] for p, kids in tree.children.items()}
        levels = np.array([len(tree.ancestors[i]) for i in ids], dtype=np.int64)
        self._rows_by_depth = [np.flatnonzero(levels == d) for d in range(self.depth, 1, -1)]

    def chain_rows(self, row: int) -> tuple[int, ...]:
        """``row`` and the rows of all its ancestors."""
        return tuple(int(r) for r in self.ancestors[row] if r != self.sink)

    def branch_ancestors(self, rows: np.ndarray) -> np.ndarray:
        """The branches that contain any of ``rows`` (each row itself included), once each."""
        chains = self.ancestors[rows]
        return np.unique(chains[self.is_branch[chains]])

    def rollup(self, own: np.ndarray) -> np.ndarray:
        """Per-organisation counts (one row each, sink last) → subtree totals.

        Children are added to their parents level by level, deepest first; the
        sink row is cleared, since nothing in it belongs to an organisation.
        """
        total = own.copy()
        total[self.sink] = 0
        for rows in self._rows_by_depth:
            parents = self.parent[rows]
            order = np.argsort(parents, kind="stable")
            rows, parents = rows[order], parents[order]
            starts = np.flatnonzero(np.r_[True, parents[1:] != parents[:-1]])
            total[parents[starts]] += np.add.reduceat(total[rows], starts, axis=0)
        return total
