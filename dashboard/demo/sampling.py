"""Vectorised draws that hit published shares: exact counts, and categories
that depend on a cell (age band, region …) while their overall shares stay the
published ones.

The second kind uses iterative proportional fitting: start from "how many
people are in each cell" times "how likely is this category in this cell"
(an affinity table, the generator's assumption), then rescale columns to the
published category totals and rows to the cell sizes until both hold. The
result keeps every published marginal and follows the affinities as closely
as the marginals allow (farmers mostly in village branches, students young).
"""

from __future__ import annotations

import numpy as np

_FIT_ROUNDS = 500


def exact_counts(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` by ``shares`` into integers summing to ``total`` (largest remainder)."""
    shares = np.asarray(shares, dtype=float)
    raw = shares / shares.sum() * total
    counts = np.floor(raw).astype(np.int64)
    short = total - int(counts.sum())
    if short:
        counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts


def shuffled_labels(rng: np.random.Generator, total: int, shares: np.ndarray) -> np.ndarray:
    """``total`` category indices in random order, each category exactly its share (rounded)."""
    labels = np.repeat(np.arange(len(shares), dtype=np.int16), exact_counts(total, shares))
    rng.shuffle(labels)
    return labels


def fit_joint(row_totals: np.ndarray, column_totals: np.ndarray, affinity: np.ndarray) -> np.ndarray:
    """A table with these row sums and (as nearly as possible) these column sums,
    shaped like ``row_totals[:, None] * affinity``.

    A cell with zero affinity stays zero. When the zeros make the column sums
    unreachable (a tiny organisation with nobody in the only cells a category
    may occupy), the row sums still hold and the columns come as close as they
    can; ``row_totals`` and ``column_totals`` should have the same sum.
    """
    rows = np.asarray(row_totals, dtype=float)
    columns = np.asarray(column_totals, dtype=float)
    joint = rows[:, None] * np.asarray(affinity, dtype=float)
    for _ in range(_FIT_ROUNDS):
        column_sums = joint.sum(axis=0)
        joint *= np.divide(columns, column_sums, out=np.zeros_like(columns), where=column_sums > 0)
        row_sums = joint.sum(axis=1)
        joint *= np.divide(rows, row_sums, out=np.zeros_like(rows), where=row_sums > 0)[:, None]
        if np.allclose(joint.sum(axis=0), columns, rtol=1e-9, atol=1e-6):
            break
    return joint


def conditional_shares(joint: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Each row of ``joint`` as shares; an empty row gets its row of ``fallback`` (or ``fallback`` itself if 1-D)."""
    sums = joint.sum(axis=1, keepdims=True)
    return np.where(sums > 0, joint / np.where(sums > 0, sums, 1.0), fallback)


def draw_by_cell(rng: np.random.Generator, cells: np.ndarray, shares_by_cell: np.ndarray) -> np.ndarray:
    """One category per row, drawn from ``shares_by_cell[cell of the row]``."""
    categories = np.empty(len(cells), dtype=np.int16)
    uniforms = rng.random(len(cells))
    cumulative = np.cumsum(shares_by_cell, axis=1)
    cumulative /= cumulative[:, -1:]
    for cell in np.unique(cells):
        rows = np.flatnonzero(cells == cell)
        picked = np.searchsorted(cumulative[cell], uniforms[rows], side="right")
        categories[rows] = np.minimum(picked, shares_by_cell.shape[1] - 1)
    return categories
