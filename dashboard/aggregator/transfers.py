"""Organisation-relationship transfers (组织关系转接) in flight and overdue.

A transfer is known by ``data.transfer``. The first event seen for it opens it
(its time is the opening time; its ``from_org``/``to_org`` are its two ends —
an end whose code is not in the tree is taken as the event's organisation); a
``transfer_completed`` or ``transfer_rejected`` closes it for good, and later
events for a closed transfer change nothing. An open transfer counts in every
subtree that holds either end, once; it is overdue once it has been open for
more than TRANSFER_OVERDUE_DAYS. Only open transfers are held in full; a
closed one is remembered by its id alone.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from dashboard.aggregator.counters import RolledCounters
from dashboard.aggregator.layout import TreeLayout
from dashboard.aggregator.spec import TRANSFER_CLOSING_TYPES, TRANSFER_OVERDUE_DAYS

OVERDUE_AFTER_MS = TRANSFER_OVERDUE_DAYS * 86_400_000


@dataclass(slots=True)
class _OpenTransfer:
    rows: tuple[int, ...]  # both ends and all their ancestors, each once
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

    def __len__(self) -> int:
        return len(self._open)

    def record(self, kind: str, data: dict[str, Any], event_row: int, ts_ms: int, now_ms: int) -> None:
        transfer_id = data.get("transfer")
        if not isinstance(transfer_id, str) or transfer_id in self._closed:
            return
        closing = kind in TRANSFER_CLOSING_TYPES
        current = self._open.get(transfer_id)
        if current is None and not closing:
            rows = self._layout.chain_rows(self._end_row(data.get("from_org"), event_row))
            rows += tuple(r for r in self._layout.chain_rows(self._end_row(data.get("to_org"), event_row)) if r not in rows)
            current = self._open[transfer_id] = _OpenTransfer(rows, ts_ms)
            self._counters.add_to_rows(rows, self._in_flight_col, 1)
            heapq.heappush(self._deadlines, (ts_ms + OVERDUE_AFTER_MS, transfer_id))
            self.expire(now_ms)
        elif closing:
            self._closed.add(transfer_id)
            if current is not None:
                del self._open[transfer_id]
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
                self._counters.add_to_rows(current.rows, self._overdue_col, 1)

    def _end_row(self, code: object, event_row: int) -> int:
        return self._layout.row_of_code.get(code, event_row) if isinstance(code, str) else event_row
