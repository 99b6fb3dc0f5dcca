"""Which functions run only on the event loop, and saying so.

The convention (Home Assistant's ``async_`` prefix and ``@callback`` are the
model): a coroutine function runs on the loop by nature; a plain function that
touches loop-owned state (asyncio events, the screens' channels) and must be
called from the loop's own thread carries ``@event_loop_only``. It checks,
on every call, that the calling thread is running an event loop — about a
tenth of a microsecond — so a call from the tick thread, the bus delivery
thread or an executor fails loudly at once instead of corrupting state
sometimes. Everything else (the tick, bus subscribers, the aggregator) runs
off the loop and takes its own locks.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class NotOnEventLoop(RuntimeError):
    """A function marked ``@event_loop_only`` was called from a thread that runs no event loop."""


def event_loop_only(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark ``fn`` as running only on the event loop's thread, and check it on each call."""

    @functools.wraps(fn)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise NotOnEventLoop(f"{fn.__qualname__} runs only on the event loop, not in thread-side code") from None
        return fn(*args, **kwargs)

    checked.event_loop_only = True  # type: ignore[attr-defined]
    return checked
