"""The event bus between the pipeline and its consumers.

Ingest publishes each durably committed batch with ``await bus.async_publish``;
the aggregator and the frame publisher subscribe. The interface is async so
that a network bus (dashboard/live/redis_bus.py) never blocks the event loop.

The in-process bus delivers each batch to every subscriber, in publish order,
on one delivery thread of its own — never on the event loop, so a consumer
that waits for a lock (the aggregator during its midnight recount) holds up
neither screens nor other requests. ``async_publish`` returns once every
subscriber has taken the batch, so an acknowledged event is already counted.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from dashboard.domain.events import StoredEvent

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[StoredEvent]], None]


class Bus(Protocol):
    async def async_publish(self, events: Sequence[StoredEvent]) -> None:
        """Deliver a committed batch to every subscriber, in order (runs on the event loop)."""

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Register ``handler`` (called off the event loop); returns a function that unsubscribes it."""

    def close(self) -> None:
        """Stop delivering."""


class InProcessBus:
    """Delivers to subscribers on one delivery thread, one batch at a time, in publish order."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()
        self._delivery = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bus-delivery")

    async def async_publish(self, events: Sequence[StoredEvent]) -> None:
        if events:
            await asyncio.get_running_loop().run_in_executor(self._delivery, self.publish, events)

    def publish(self, events: Sequence[StoredEvent]) -> None:
        """Deliver in the calling thread (tests, and callers already off the loop)."""
        if not events:
            return
        with self._lock:
            for handler in list(self._handlers):
                try:
                    handler(events)
                except Exception:  # one broken consumer must not stop the others
                    log.exception("bus subscriber %r failed on a batch of %d events", handler, len(events))

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def close(self) -> None:
        self._delivery.shutdown(wait=True)
