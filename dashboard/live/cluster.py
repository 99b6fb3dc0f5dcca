"""What a cluster's processes share through Redis beside the event stream: signals and shared records.

- **Signals** (pub/sub, channel ``<prefix>:signals``): "something was
  revoked, look again" and "the tree and roster were reloaded after an
  import, reload yours". Pub/sub fits them: a signal is worth something only
  now, and the store stays the record. A process that was cut off from Redis
  may have missed some: when it reconnects it runs the handlers marked
  ``after_gap`` (clearing the check caches is cheap; a reload is not, and the
  import that asked for it is rare and visible in the audit log).
- **Shared records** (string keys holding JSON with an expiry,
  ``<prefix>:<kind>:<id>``): the import jobs' status, written by the process
  that runs the job and read by any other.

The sign-in budgets and the audit throttle are shared too, by the access
layer's own Redis backends (dashboard/access/shared.py) on the same client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis

from dashboard.live.redis_bus import cluster_prefix

log = logging.getLogger(__name__)

SIGNAL_REVOKED = "revoked"
SIGNAL_RELOAD = "reload"
RETRY_S = 1.0


@dataclass(frozen=True)
class _Handler:
    run: Callable[[], None]
    after_gap: bool


class SharedRecords:
    """Records of one kind (e.g. import jobs) by id, visible to every process of the cluster until they expire."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def put(self, record_id: str, record: dict[str, Any], ttl_s: float) -> None:
        try:
            self._client.set(self._prefix + record_id, orjson.dumps(record), px=max(1, int(ttl_s * 1000)))
        except redis.RedisError as exc:
            log.warning("shared record %s not written to Redis: %s", record_id, exc)

    def get(self, record_id: str) -> dict[str, Any] | None:
        raw: Any = self._client.get(self._prefix + record_id)
        return orjson.loads(raw) if raw else None

    def drop(self, record_id: str) -> None:
        with contextlib.suppress(redis.RedisError):
            self._client.delete(self._prefix + record_id)


_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""


class Lease:
    """A lease in Redis (``SET NX PX``, renewed by its holder every third of its time): one holder at a time,
    and a holder that dies frees it within ``ttl_s``. ``held`` says whether this process holds it now."""

    def __init__(self, url: str, key: str, me: str, ttl_s: float) -> None:
        self._url, self.key, self._me, self.ttl_s = url, key, me, ttl_s
        self.held = False

    async def run(self) -> None:
        """Take or renew the lease until cancelled; lose it (``held`` False) while Redis does not answer."""
        client = aioredis.Redis.from_url(self._url, socket_connect_timeout=3, socket_timeout=3)
        hold = client.register_script(_HOLD)
        try:
            while True:
                try:
                    held = bool(await hold(keys=[self.key], args=[self._me, int(self.ttl_s * 1000)]))
                except (redis.RedisError, OSError):
                    held = False
                if held != self.held:
                    log.info("%s the lease %s", "took" if held else "lost", self.key)
                self.held = held
                await asyncio.sleep(self.ttl_s / 3)
        finally:
            self.held = False
            with contextlib.suppress(Exception):
                await client.aclose()


class Cluster:
    """This process's membership of a cluster: its name, the shared Redis client, the signals it sends and handles."""

    def __init__(self, url: str, database_url: str, name: str) -> None:
        self.url = url
        self.prefix = cluster_prefix(database_url)
        self.name = name  # who this process is, for the other processes' records and logs
        self._me = f"{name}#{uuid.uuid4().hex[:8]}"  # this life of it: a restart on the same port is another sender
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._handlers: dict[str, list[_Handler]] = {}
        self.received: dict[str, int] = {}
        self._handling: set[asyncio.Task[None]] = set()

    @classmethod
    def member(cls, url: str, database_url: str, host: str, port: int) -> Cluster:
        return cls(url, database_url, f"{host}:{port} (pid {os.getpid()})")

    @property
    def channel(self) -> str:
        return self.prefix + ":signals"

    def records(self, kind: str) -> SharedRecords:
        return SharedRecords(self.client, f"{self.prefix}:{kind}:")

    def lease(self, name: str, ttl_s: float) -> Lease:
        return Lease(self.url, f"{self.prefix}:lease:{name}", self._me, ttl_s)

    def on_signal(self, signal: str, handler: Callable[[], None], *, after_gap: bool = False) -> None:
        """Run ``handler`` (in a worker thread) when another process sends ``signal``; also after a gap if ``after_gap``."""
        self._handlers.setdefault(signal, []).append(_Handler(handler, after_gap))

    def announce(self, signal: str) -> None:
        """Tell the other processes (from any thread). A Redis that does not answer is logged: the store is the record."""
        try:
            self.client.publish(self.channel, orjson.dumps({"signal": signal, "from": self._me}))
        except redis.RedisError as exc:
            log.warning("signal %r not sent to the cluster (%s)", signal, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    async def run(self) -> None:
        """Listen for the other processes' signals until cancelled; after a lost connection, run the ``after_gap`` handlers."""
        gap = False
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=3, health_check_interval=10)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if gap:
                    await self._handle(None)
                    gap = False
                async for message in pubsub.listen():
                    await self._receive(message.get("data"))
            except (redis.RedisError, OSError) as exc:
                log.warning("cluster signals: Redis connection lost (%s); listening again", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                gap = True
                await asyncio.sleep(RETRY_S)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def _receive(self, data: Any) -> None:
        try:
            message = orjson.loads(data)
            signal, sender = str(message["signal"]), str(message["from"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("cluster signals: ignored a message that is not a signal")
            return
        if sender != self._me:
            self.received[signal] = self.received.get(signal, 0) + 1
            # Handled beside the listener: a reload takes seconds, a revocation behind it must not wait.
            task = asyncio.create_task(self._handle(signal))
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)

    async def _handle(self, signal: str | None) -> None:
        """Run the handlers of ``signal`` (None: every ``after_gap`` handler), each in a worker thread, in turn."""
        chosen = [h for hs in self._handlers.values() for h in hs if h.after_gap] if signal is None else self._handlers.get(signal, [])
        for handler in chosen:
            try:
                await asyncio.to_thread(handler.run)
            except Exception:
                log.exception("cluster signal %r: handler failed", signal)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
