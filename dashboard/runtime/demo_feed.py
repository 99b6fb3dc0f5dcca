"""The demo's own feed: the stream model run inside the server, straight into the ingestor.

``python app.py`` runs ``LiveSimulator(runtime, rate, seed).run()`` as an
asyncio task and cancels it at shutdown. Events take the same path as any
producer's (checked, stored, published), only without a websocket. The rate is
kept on an absolute schedule (no drift); if the store falls behind, at most a
second of backlog is sent at once and the rest is dropped rather than flooded
in.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import TYPE_CHECKING

from dashboard.demo.simulator import Clock, Population, StreamModel
from dashboard.ingest.ingestor import IngestUnavailable

if TYPE_CHECKING:
    from dashboard.runtime.core import Runtime

log = logging.getLogger(__name__)

TICK_S = 0.25


class LiveSimulator:
    def __init__(self, runtime: Runtime, rate: float, seed: int | None = None, clock: Clock = time.time) -> None:
        if not rate > 0:
            raise ValueError(f"the simulator's rate must be greater than 0, got {rate}")
        self.runtime = runtime
        self.rate = rate
        self.seed = seed if seed is not None else secrets.randbits(32)
        self.clock = clock
        self.sent = 0
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0
        self.dropped = 0

    async def run(self) -> None:
        """Generate and submit events a few times a second until cancelled."""
        population = await asyncio.to_thread(Population.load, self.runtime.engine)
        try:
            model = StreamModel(
                self.runtime.tree, population, seed=self.seed, clock=self.clock,
                kpis=lambda org_id: self.runtime.aggregator.snapshot(org_id),
            )
        except ValueError as exc:
            log.warning("simulator not started: %s", exc)
            return
        log.info("simulator: %s events/s, seed %s, %s members", self.rate, self.seed, len(population))
        loop = asyncio.get_running_loop()
        start = loop.time()
        owed = 0
        tick = 0
        while True:
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * TICK_S - loop.time()))
            due = int(self.rate * (loop.time() - start)) - owed
            if due <= 0:
                continue
            batch = min(due, max(1, int(self.rate)))
            self.dropped += due - batch
            owed += due
            await self._submit(model.next_batch(batch))

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
            "rate": self.rate,
            "sent": self.sent,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "dropped": self.dropped,
        }
