"""The demo's own feed: the stream model run inside the server, straight into the ingestor.

``python app.py`` runs ``LiveSimulator(runtime, rate, seed).run()`` as an
asyncio task and cancels it at shutdown. Events take the same path as any
producer's (checked, stored, published), only without a websocket. It first
takes up the stored past (its open transfers, this month's payers, this
period's meetings) and, with no rate given, its pace: the rate the past had
in its last hour, carried along the day's rhythm, beginning with the events
owed since the past's last one (docs/simulator.md, "Continuing the past").
Events are owed at the current rate as the clock passes (its seconds, so a
test's faster clock gives the same events per clock minute); a tick more
than a second late (the store fell behind) drops what is owed beyond that
second rather than flooding it in.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import TYPE_CHECKING

from dashboard.demo.past import PastPace, PastState
from dashboard.demo.simulator import Clock, Population, StreamModel
from dashboard.ingest.ingestor import IngestUnavailable

if TYPE_CHECKING:
    from dashboard.runtime.core import Runtime

log = logging.getLogger(__name__)

TICK_S = 0.25


DEFAULT_RATE = 20.0  # events/s when there is no recent past to follow
CATCH_UP_BATCH = 1000
CATCH_UP_MAX_S = 600.0  # a longer gap is not filled: the past ended too long ago to join it
CATCH_UP_STEP_S = 1.0


class _ModelClock:
    """The model's clock: the feed's own, or a moment in the gap being caught up."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.fixed: float | None = None

    def __call__(self) -> float:
        return self.clock() if self.fixed is None else self.fixed


class LiveSimulator:
    def __init__(self, runtime: Runtime, rate: float | None, seed: int | None = None, clock: Clock = time.time) -> None:
        """``rate`` events/s; None: follow the stored past's pace (``PastPace``), or DEFAULT_RATE without one."""
        if rate is not None and not rate > 0:
            raise ValueError(f"the simulator's rate must be greater than 0, got {rate}")
        self.runtime = runtime
        self.rate = rate
        self.seed = seed if seed is not None else secrets.randbits(32)
        self.clock = clock
        self.pace: PastPace | None = None
        self.sent = 0
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0
        self.dropped = 0
        self.caught_up = 0

    def rate_at(self, epoch: float) -> float:
        """Events per second at a moment: the given rate, or the past's pace carried along the day."""
        if self.rate is not None:
            return self.rate
        return self.pace.rate_at(epoch) if self.pace is not None else DEFAULT_RATE

    async def run(self) -> None:
        """Continue the stored past, then generate and submit events a few times a second until cancelled."""
        engine = self.runtime.engine
        population = await asyncio.to_thread(Population.load, engine)
        past = await asyncio.to_thread(PastState.load, engine, self.clock())
        if self.rate is None:
            self.pace = await asyncio.to_thread(PastPace.measure, engine, self.clock())
        model_clock = _ModelClock(self.clock)
        try:
            model = StreamModel(
                self.runtime.tree, population, seed=self.seed, clock=model_clock,
                kpis=lambda org_id: self.runtime.aggregator.snapshot(org_id),
            )
        except ValueError as exc:
            log.warning("simulator not started: %s", exc)
            return
        model.continue_past(past)
        log.info("simulator: %.3g events/s now (%s), seed %s, %s members, %s open transfers continued",
                 self.rate_at(self.clock()), "given" if self.rate is not None else "the past's pace" if self.pace else "default",
                 self.seed, len(population), len(past.transfers))  # fmt: skip
        if self.pace is not None:
            await self._catch_up(model, model_clock, self.pace.last)
        loop = asyncio.get_running_loop()
        last, last_real = self.clock(), loop.time()
        owed = 0.0
        while True:
            await asyncio.sleep(TICK_S)
            now, real = self.clock(), loop.time()
            owed += self.rate_at(now) * max(0.0, now - last)
            # A tick more than a second late (the store fell behind): what is owed for the time
            # beyond that second is dropped, not flooded in.
            behind = max(0.0, real - last_real - TICK_S - 1.0) / max(real - last_real, TICK_S)
            last, last_real = now, real
            dropped = int(owed * behind)
            self.dropped += dropped
            owed -= dropped
            due = int(owed)
            if due > 0:
                owed -= due
                await self._submit(model.next_batch(due))

    async def _catch_up(self, model: StreamModel, model_clock: _ModelClock, since: float) -> None:
        """The events the past's pace owes between its last event and now (the seed and the start took
        that long), stamped at their moments: the per-minute trend has no gap where the feed joins."""
        end = self.clock()
        if end - since > CATCH_UP_MAX_S:
            return
        t, owed, events = since, 0.0, []
        while t < end:
            step = min(CATCH_UP_STEP_S, end - t)
            owed += self.rate_at(t) * step
            t += step
            if owed >= 1:
                model_clock.fixed = t
                events.extend(model.next_batch(int(owed)))
                owed -= int(owed)
        model_clock.fixed = None
        for i in range(0, len(events), CATCH_UP_BATCH):
            await self._submit(events[i : i + CATCH_UP_BATCH])
        self.caught_up = len(events)

    async def _submit(self, events: list[dict[str, object]]) -> None:
        self.sent += len(events)
        try:
            result = await self.runtime.ingestor.submit(events)
        except IngestUnavailable as exc:
            log.warning("simulator: %d events not stored: %s", len(events), exc)
            return
        self.accepted += result.accepted
        self.duplicates += result.duplicates
        self.rejected += len(result.rejected)
        if result.rejected:
            log.warning("simulator: %d events rejected, first: %s", len(result.rejected), result.rejected[0]["error"])

    def stats(self) -> dict[str, int | float]:
        return {
            "rate": self.rate_at(self.clock()),
            "sent": self.sent,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "dropped": self.dropped,
            "caught_up": self.caught_up,
        }
