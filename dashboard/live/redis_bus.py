"""The bus of a cluster: committed events through a Redis Stream, the store as the record.

Every process of a cluster (same database, same Redis) runs one. Ingest
publishes each committed batch with ``XADD`` to the cluster's stream (one
entry a batch: the events with their store seq); every process reads the
stream with ``XREAD BLOCK`` from where it started and delivers what it reads to
its own subscribers (its aggregator and frame publisher) — its own events too,
so every process counts the same events the same way. A stream, not pub/sub:
a reader that falls behind or reconnects resumes from the entry it last read
instead of losing what was sent meanwhile; ``MAXLEN ~`` keeps the stream to
the last few minutes.

Redis is never the only copy: the store is. A batch committed by a process
that died before its ``XADD``, or lost by a Redis restart, is found by the
catch-up: every ``CATCH_UP_S`` the reader lists the seqs the store holds
above its gate's low mark (dashboard/live/seqgate.py) and, for any seq
still undelivered on the next round, reads the events from the store and
delivers them. The gate drops the second copy of anything that comes both
ways, so nothing is lost and nothing counted twice.

A publish that fails (Redis down) is logged and not retried: the events are
stored and acknowledged, and every reader catches them up from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis
from sqlalchemy import Engine, select

from dashboard.domain.events import StoredEvent
from dashboard.live.bus import Handler, InProcessBus
from dashboard.live.seqgate import SeqGate
from dashboard.store.models import Event

log = logging.getLogger(__name__)

MIN_REDIS = (5, 0)  # Streams
STREAM_MAXLEN = 200_000
READ_BLOCK_MS = 1000
CATCH_UP_S = 2.0
RETRY_S = 1.0


class BusUnavailable(RuntimeError):
    """The Redis of ``--redis-url`` cannot carry the bus: a one-line reason fit for a terminal."""


def cluster_prefix(database_url: str) -> str:
    """The prefix of every Redis key of a cluster: processes on the same database (same URL) share it, others never do."""
    return "lianxin:" + hashlib.sha256(database_url.encode()).hexdigest()[:16]


def stream_key(database_url: str) -> str:
    """The cluster's event stream."""
    return cluster_prefix(database_url) + ":events"


def check_redis(url: str) -> None:
    """Connect once, at start: BusUnavailable names what is wrong (URL, reachability, version)."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    except ValueError as exc:
        raise BusUnavailable(f"--redis-url {url!r} is not a Redis URL ({exc}); use redis://HOST:PORT/DB") from None
    try:
        info: Any = client.info("server")
    except redis.RedisError as exc:
        raise BusUnavailable(f"Redis at {_where(url)} is not reachable: {str(exc).splitlines()[0]}") from None
    finally:
        client.close()
    version = tuple(int(p) for p in str(info.get("redis_version", "0")).split(".")[:2] if p.isdigit())
    if version < MIN_REDIS:
        raise BusUnavailable(
            f"Redis at {_where(url)} is version {info.get('redis_version')}; Streams need {MIN_REDIS[0]}.{MIN_REDIS[1]} or newer"
        )


def _where(url: str) -> str:
    """The host, port and database of a Redis URL, without a password."""
    kwargs = redis.connection.parse_url(url)
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def _encode(events: Sequence[StoredEvent]) -> bytes:
    return orjson.dumps([[e.seq, e.event_id, e.type, e.ts_ms, e.org_id, e.member_id, e.data] for e in events])


def _decode(payload: bytes) -> list[StoredEvent]:
    return [StoredEvent(*row) for row in orjson.loads(payload)]


class RedisBus:
    """Publishes committed batches to the cluster's stream and delivers the stream (and any catch-up) to local subscribers."""

    def __init__(self, url: str, key: str, engine: Engine) -> None:
        self.url = url
        self.key = key
        self._engine = engine
        self._local = InProcessBus()
        self.gate = SeqGate()
        self._start_id = "0-0"
        self._client: aioredis.Redis | None = None
        self._suspects: set[int] = set()
        self._admitted_lows: deque[int] = deque()  # the gate's low mark as each delivered batch was admitted
        self.published = 0
        self.publish_failures = 0
        self.caught_up = 0

    @classmethod
    def connect(cls, url: str, database_url: str, engine: Engine) -> RedisBus:
        """Check Redis (BusUnavailable if unusable) and note where in the stream this process starts reading."""
        check_redis(url)
        bus = cls(url, stream_key(database_url), engine)
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            last: Any = client.xrevrange(bus.key, count=1)
        finally:
            client.close()
        bus._start_id = last[0][0].decode() if last else "0-0"
        return bus

    # --- the Bus interface -------------------------------------------------------

    async def async_publish(self, events: Sequence[StoredEvent]) -> None:
        if not events:
            return
        try:
            await self._redis().xadd(self.key, {"b": _encode(events)}, maxlen=STREAM_MAXLEN, approximate=True)
            self.published += len(events)
        except (redis.RedisError, OSError) as exc:
            self.publish_failures += 1
            log.warning("Redis: %d stored events not published (%s); every process catches them up from the store",
                        len(events), str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        return self._local.subscribe(handler)

    def close(self) -> None:
        self._local.close()

    # --- reading ----------------------------------------------------------------------

    def primed(self, low: int, seqs: Sequence[int]) -> None:
        """After the rebuild from the store: ``seqs`` (the replay's newest) are counted, and everything up to ``low``."""
        self.gate = SeqGate(low)
        self.gate.mark(seqs)

    async def run(self) -> None:
        """Read the stream and catch up from the store until cancelled; reconnect after any Redis failure."""
        last_id = self._start_id
        catch_up = asyncio.create_task(self._catch_up_forever())
        try:
            while True:
                try:
                    entries: Any = await self._redis().xread({self.key: last_id}, block=READ_BLOCK_MS, count=100)
                except (redis.RedisError, OSError) as exc:
                    log.warning("Redis: reading the event stream failed (%s); retrying", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                    await self._reset_client()
                    await asyncio.sleep(RETRY_S)
                    continue
                for _key, items in entries:
                    for entry_id, fields in items:
                        last_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                        await self._deliver(_decode(fields[b"b"]))
        finally:
            catch_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await catch_up
            await self._reset_client()

    async def _deliver(self, events: Sequence[StoredEvent]) -> None:
        fresh = self.gate.admit(events)
        if fresh:
            self._admitted_lows.append(self.gate.low)
            await self._local.async_publish(fresh)  # submitted at once: the lows stay in delivery order

    def settled_low(self) -> int:
        """For a subscriber, on the delivery thread, once per batch: every seq at or below the answer has been
        delivered before or with this batch (or is a hole for good). Batches are delivered in admission order."""
        return self._admitted_lows.popleft()

    async def _catch_up_forever(self) -> None:
        while True:
            await asyncio.sleep(CATCH_UP_S)
            try:
                await self.catch_up()
            except Exception:
                log.exception("catching up from the store failed; trying again in %s s", CATCH_UP_S)

    async def catch_up(self) -> int:
        """Deliver from the store what the store holds and the stream has not brought twice in a row; returns how many."""
        low = self.gate.low
        stored = await asyncio.to_thread(self._stored_seqs_above, low)
        missing = set(self.gate.missing(stored))
        due, self._suspects = sorted(missing & self._suspects), missing - self._suspects
        if not due:
            return 0
        events = await asyncio.to_thread(self._read_events, due)
        before = len(events)
        await self._deliver(events)
        self.caught_up += before
        log.info("caught up %d events from the store that the stream did not bring", before)
        return before

    def _stored_seqs_above(self, low: int) -> list[int]:
        with self._engine.connect() as conn:
            return list(conn.execute(select(Event.seq).where(Event.seq > low).order_by(Event.seq)).scalars())

    def _read_events(self, seqs: list[int]) -> list[StoredEvent]:
        columns = (Event.seq, Event.event_id, Event.type, Event.ts_ms, Event.org_id, Event.member_id, Event.data)
        out: list[StoredEvent] = []
        with self._engine.connect() as conn:
            for start in range(0, len(seqs), 1000):
                rows = conn.execute(select(*columns).where(Event.seq.in_(seqs[start : start + 1000]))).all()
                out.extend(StoredEvent(seq, eid, kind, ts, org, member, orjson.loads(data) if data else {})
                           for seq, eid, kind, ts, org, member, data in rows)
        return out

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.Redis.from_url(self.url, socket_connect_timeout=3, health_check_interval=10)
        return self._client

    async def _reset_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    def stats(self) -> dict[str, Any]:
        return {"published": self.published, "publish_failures": self.publish_failures,
                "caught_up": self.caught_up, "low": self.gate.low, "pending": len(self.gate)}
