"""Organisation-relationship transfers (组织关系转接) in flight and overdue.

A transfer is known by ``data.transfer``. The first event seen for it opens it
(its time is the opening time; its ``from_org``/``to_org`` are its two ends —
an end whose code is not in the tree is taken as the event's organisation); a
``transfer_completed`` or ``transfer_rejected`` closes it for good, and later
events for a closed transfer change nothing. An open transfer counts in every
subtree that holds either end, once; it is overdue once it has been open for
more than TRANSFER_OVERDUE_DAYS. Only open transfers are held in full; a
closed one is remembered by its id alone.

``version`` changes whenever the set of open transfers or their overdue flags
do, so a reader (the map's flying lines) can tell when to read them again.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from dashboard.live.aggregator.counters import RolledCounters
from dashboard.live.aggregator.layout import TreeLayout
from dashboard.live.aggregator.spec import TRANSFER_CLOSING_TYPES, TRANSFER_OVERDUE_DAYS

OVERDUE_AFTER_MS = TRANSFER_OVERDUE_DAYS * 86_400_000


@dataclass(frozen=True, slots=True)
class TransferInFlight:
    """An open transfer: its id, its two ends (organisation ids), when it opened, overdue or not."""

    transfer: str
    from_org: int
    to_org: int
    opened_ms: int
    overdue: bool


@dataclass(slots=True)
class _OpenTransfer:
    rows: tuple[int, ...]  # both ends and all their ancestors, each once
    ends: tuple[int, int]  # the rows of the two ends, from and to
    opened_ms: int
    overdue: bool = False


class TransferBook:
    def __init__(self, layout: TreeLayout, counters: RolledCounters, in_flight_col: int, overdue_col: int) -> None:
        self._layout = layout
        self._counters = counters
        self._in_flight_col = in_flight_col
        self._overdue_col = overdue_col
        self._open: dict[str, _OpenTransfer] = {}
        self._closed: set[str] = set()
        self._deadlines: list[tuple[int, str]] = []
        self.version = 0

    def __len__(self) -> int:
        return len(self._open)

    def record(self, kind: str, data: dict[str, Any], event_row: int, ts_ms: int, now_ms: int) -> None:
        transfer_id = data.get("transfer")
        if not isinstance(transfer_id, str) or transfer_id in self._closed:
            return
        closing = kind in TRANSFER_CLOSING_TYPES
        current = self._open.get(transfer_id)
        if current is None and not closing:
            ends = self._end_row(data.get("from_org"), event_row), self._end_row(data.get("to_org"), event_row)
            rows = self._layout.chain_rows(ends[0])
            rows += tuple(r for r in self._layout.chain_rows(ends[1]) if r not in rows)
            current = self._open[transfer_id] = _OpenTransfer(rows, ends, ts_ms)
            self.version += 1
            self._counters.add_to_rows(rows, self._in_flight_col, 1)
            heapq.heappush(self._deadlines, (ts_ms + OVERDUE_AFTER_MS, transfer_id))
            self.expire(now_ms)
        elif closing:
            self._closed.add(transfer_id)
            if current is not None:
                del self._open[transfer_id]
                self.version += 1
                self._counters.add_to_rows(current.rows, self._in_flight_col, -1)
                if current.overdue:
                    self._counters.add_to_rows(current.rows, self._overdue_col, -1)

    def expire(self, now_ms: int) -> None:
        """Mark the transfers whose deadline has passed as overdue."""
        while self._deadlines and self._deadlines[0][0] < now_ms:
            _, transfer_id = heapq.heappop(self._deadlines)
            current = self._open.get(transfer_id)
            if current is not None and not current.overdue:
                current.overdue = True
                self.version += 1
                self._counters.add_to_rows(current.rows, self._overdue_col, 1)

    def in_flight(self) -> tuple[TransferInFlight, ...]:
        """The open transfers in the order they were opened."""
        org_ids = self._layout.org_ids
        return tuple(
            TransferInFlight(tid, int(org_ids[t.ends[0]]), int(org_ids[t.ends[1]]), t.opened_ms, t.overdue)
            for tid, t in self._open.items()
        )

    def _end_row(self, code: object, event_row: int) -> int:
        return self._layout.row_of_code.get(code, event_row) if isinstance(code, str) else event_row
