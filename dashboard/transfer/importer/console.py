"""The import's progress on a terminal: one tqdm bar, its label the current stage."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

from dashboard.transfer.importer.plan import Progress

# Share of the whole bar each stage takes (reading and writing dominate big imports).
STAGE_WEIGHTS = {"read orgs": 5, "read members": 35, "read links": 2, "check": 18, "write": 40}


@contextmanager
def terminal_progress(enabled: bool = True) -> Iterator[Progress]:
    """A Progress callback drawing on stderr (nothing when ``enabled`` is False)."""
    starts, offset = {}, 0
    for stage, weight in STAGE_WEIGHTS.items():
        starts[stage] = offset
        offset += weight
    with tqdm(total=offset, desc="import", unit="%", file=sys.stderr, disable=not enabled,
              bar_format="{desc:<14} {bar} {percentage:3.0f}% {elapsed}") as bar:

        def progress(stage: str, fraction: float) -> None:
            bar.set_description_str(stage)
            bar.n = starts.get(stage, 0) + STAGE_WEIGHTS.get(stage, 0) * fraction
            bar.refresh()

        yield progress
        bar.n = bar.total
        bar.refresh()
