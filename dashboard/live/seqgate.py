"""Each stored event delivered once, though it may come twice and out of order.

With several ingest processes on PostgreSQL, events reach a consumer through
the Redis stream in commit order, which is not seq order (a transaction that
took seq 100 may commit after one that took 101), and the same event may also
come from the store when a consumer catches up after a gap. The gate keeps
``low`` — every seq at or below it has been delivered or is settled — and the
delivered seqs above it.

``low`` moves up two ways: over a run of delivered seqs with no hole (the
common case with one writer), and, for holes that stay open (PostgreSQL
sequences skip the numbers of duplicates and of rolled-back transactions), to
the highest seq delivered ``settle_s`` ago: a transaction still uncommitted
that long after a later seq was seen is not waited for (its events are in the
store and count after the next rebuild; ingest transactions last well under a
second). So the set stays small: the seqs of the last ``settle_s`` above the
first open hole.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence

from dashboard.domain.events import StoredEvent

SETTLE_S = 30.0


class SeqGate:
    def __init__(self, low: int = 0, settle_s: float = SETTLE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.low = low
        self._seen: set[int] = set()
        self._settle_s = settle_s
        self._clock = clock
        self._marks: deque[tuple[float, int]] = deque()  # (when, highest seq delivered by then)
        self.high = low

    def admit(self, events: Sequence[StoredEvent]) -> list[StoredEvent]:
        """The events not delivered before, in seq order; they count as delivered from now on."""
        fresh = sorted((e for e in events if e.seq > self.low and e.seq not in self._seen), key=lambda e: e.seq)
        unique: list[StoredEvent] = []
        for event in fresh:
            if not unique or unique[-1].seq != event.seq:
                unique.append(event)
        self.mark(e.seq for e in unique)
        return unique

    def mark(self, seqs: Iterable[int]) -> None:
        """Record ``seqs`` as delivered (a replay from the store marks what it counted)."""
        self._seen.update(seqs)
        if self._seen:
            self.high = max(self.high, max(self._seen))
        self._settle()

    def missing(self, stored: Iterable[int]) -> list[int]:
        """Of the seqs the store holds above ``low``, those not delivered yet."""
        return [s for s in stored if s > self.low and s not in self._seen]

    def _settle(self) -> None:
        now = self._clock()
        if not self._marks or self._marks[-1][1] != self.high:
            self._marks.append((now, self.high))
        settled = self.low
        while self._marks and self._marks[0][0] <= now - self._settle_s:
            settled = max(settled, self._marks.popleft()[1])
        low, seen = settled, self._seen
        while low + 1 in seen:
            low += 1
        if low != self.low:
            self.low = low
            self._seen = {s for s in seen if s > low}

    def __len__(self) -> int:
        return len(self._seen)
