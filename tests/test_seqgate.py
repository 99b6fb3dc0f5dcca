"""The sequence gate: each stored event delivered once, whatever order and however many times it comes."""

from __future__ import annotations

import pytest

from dashboard.domain.events import StoredEvent
from dashboard.live.seqgate import SeqGate

pytestmark = pytest.mark.unit


def ev(seq: int) -> StoredEvent:
    return StoredEvent(seq, f"e{seq}", "login", 0, 1, None, {})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def seqs(events: list[StoredEvent]) -> list[int]:
    return [e.seq for e in events]


def test_out_of_order_and_repeated_events_pass_once_in_seq_order() -> None:
    gate = SeqGate()
    assert seqs(gate.admit([ev(2), ev(1), ev(2)])) == [1, 2]
    assert seqs(gate.admit([ev(5), ev(4)])) == [4, 5]  # 3 is still open: another writer's transaction
    assert seqs(gate.admit([ev(4), ev(1), ev(3)])) == [3]
    assert gate.low == 5 and len(gate) == 0  # no hole left: nothing kept


def test_a_hole_that_stays_open_settles_after_the_settle_time() -> None:
    clock = Clock()
    gate = SeqGate(settle_s=30, clock=clock)
    gate.admit([ev(1), ev(3)])  # 2 was a duplicate: PostgreSQL skipped the number for good
    assert gate.low == 1 and gate.missing([2, 3]) == [2]
    clock.now = 31
    gate.admit([ev(4)])
    assert gate.low == 4 and len(gate) == 0
    assert gate.admit([ev(3), ev(4)]) == []


def test_missing_names_what_the_store_holds_and_was_not_delivered() -> None:
    gate = SeqGate(low=10)
    gate.mark([12, 13])
    assert gate.missing([9, 10, 11, 12, 13, 14]) == [11, 14]
