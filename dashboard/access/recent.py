"""Recent checks of tokens and sessions, remembered for a few seconds: one bounded, time-limited cache.

Token and session checks read the store; remembering each answer (negative
ones too, so a flood of bad tokens stays cheap) for ``ttl_s`` seconds keeps
that off the hot path, at the price that a revocation takes effect within
them. The clock is a parameter so tests step time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentChecks(Generic[K, V]):
    """Answers by key for ``ttl_s`` seconds of ``clock``, at most ``size`` of them (least recently put go first)."""

    def __init__(self, ttl_s: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> tuple[bool, V | None]:
        """(True, the answer) while one is remembered, else (False, None)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or hit[0] < self.clock():
                return False, None
            return True, hit[1]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl_s, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
