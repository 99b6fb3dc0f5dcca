"""The event bus between the pipeline and its consumers.

Ingest publishes each durably committed batch; the aggregator (and later the
frame publisher) subscribe. The in-process bus delivers synchronously, in
publish order, on the publisher's thread or loop. A Redis implementation
(Streams) will take the same interface, so nothing outside this module may
assume one process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from dashboard.domain.events import StoredEvent

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[StoredEvent]], None]


class Bus(Protocol):
    def publish(self, events: Sequence[StoredEvent]) -> None:
        """Deliver a committed batch to every subscriber, in order."""

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Register ``handler``; returns a function that unsubscribes it."""


class InProcessBus:
    """Delivers to subscribers in the publishing thread; one batch at a time."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()

    def publish(self, events: Sequence[StoredEvent]) -> None:
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
