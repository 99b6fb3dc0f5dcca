"""``python -m dashboard simulate``: the stream model sent to a server over ``WS /ws/ingest``.

Frames of ``batch`` events leave on an absolute schedule (frame k at
``k * batch / rate`` seconds, so a slow moment is caught up, not carried as
drift). Up to ``window`` frames are in flight; the server answers each, in
order, once its events are committed. A frame stays in hand until its answer
arrives: after a lost connection the client reconnects with backoff and sends
every unanswered frame again, with the same event ids, so events the server
had already stored come back as duplicates and nothing is counted twice.

The summary counts each frame once, by its last answer, so
``sent == accepted + duplicates + rejected`` whenever every frame was answered
(``unacknowledged`` says how many events were not).

How long: ``duration`` seconds of sending (then the last answers are awaited),
or ``events`` events, whichever comes first — never "rate × duration events
however long that takes". A server that closes with 1008 for its rate limit
is not a refusal: the client waits (1 s doubling to MAX_RATE_LIMIT_WAIT_S),
halves its rate, reconnects and resends; the summary says how often
(``rate_limited``) and at what rate it ended (``final_rate``). After
``max_rate_limited`` such closes it gives up with the server's own reason.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from dashboard.demo.simulator import model_from_store
from dashboard.ingest.ingestor import MAX_EVENTS_PER_FRAME
from dashboard.store.engine import DEFAULT_DATABASE_URL, StoreError, make_engine

TOKEN_ENV = "LIANXIN_INGEST_TOKEN"
WINDOW = 8
CONNECT_TIMEOUT_S = 5.0  # the first connection
RECONNECT_TIMEOUT_S = 60.0  # after a loss: long enough for a server to restart
DRAIN_TIMEOUT_S = 30.0  # waiting for the last answers
MAX_BACKOFF_S = 2.0
MAX_FRAME_ATTEMPTS = 5  # a frame the server could not store (it answered "error") is sent again
MAX_RATE_LIMITED = 8  # rate-limit closes before giving up
MAX_RATE_LIMIT_WAIT_S = 8.0
CLOSE_POLICY, CLOSE_TRY_AGAIN = 1008, 1013
_CLOSES_ON_OUR_FRAMES = {1003: "unsupported data", 1007: "invalid frame", 1009: "frame too big"}


class SimulationError(Exception):
    """The simulation cannot go on: a one-line reason fit for a terminal (and the summary so far, if any)."""

    def __init__(self, message: str, summary: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.summary = summary


class _RateLimited(Exception):
    """The server closed the connection for its rate limit: wait, slow down, go on."""


class EventSource(Protocol):
    """What the client sends from: the stream model, or anything that makes event dicts."""

    def next_batch(self, n: int) -> list[dict[str, Any]]: ...


@dataclass
class _Frame:
    events: int
    payload: bytes
    attempts: int = 0


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _Simulation:
    def __init__(
        self,
        url: str,
        source: EventSource,
        *,
        rate: float,
        duration: float | None,
        events: int | None,
        batch: int,
        token: str | None,
        window: int,
        connect_timeout: float,
        reconnect_timeout: float,
        drain_timeout: float,
        max_rate_limited: int,
    ) -> None:
        self.url = url
        self.source = source
        self.rate = rate
        self.batch = batch
        self.total = events  # None: as many as fit in the duration
        self.duration = duration  # None: until ``events`` are sent
        self.max_rate_limited = max_rate_limited
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.window = window
        self.connect_timeout = connect_timeout
        self.reconnect_timeout = reconnect_timeout
        self.drain_timeout = drain_timeout
        self.produced = 0
        self.unanswered: deque[_Frame] = deque()  # sent, in order, not answered yet
        self.to_resend: deque[_Frame] = deque()  # answered with "could not store", to send again
        self.answered = asyncio.Event()
        self.t0 = 0.0
        self.drain_deadline: float | None = None
        self.counts = {"sent": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "reconnects": 0, "resent": 0, "rate_limited": 0}
        self.first_rejection: str | None = None
        self.done_producing = False
        self.producing_s = 0.0
        self.started = 0.0

    # -- the run -------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        self.started = time.monotonic()
        ws = await self._connect(self.connect_timeout)
        self.t0 = loop.time()
        try:
            while True:
                try:
                    await self._session(ws)
                    break
                except ConnectionClosed as exc:
                    try:
                        self._raise_if_refused(exc)
                    except _RateLimited as limited:
                        await self._slow_down(str(limited))
                    except SimulationError as refused:
                        raise SimulationError(str(refused), self.summary()) from None
                if self._drained_or_expired():
                    break
                self.counts["reconnects"] += 1
                ws = await self._reconnect()
                if ws is None:
                    break
        finally:
            await ws.close()
        return self.summary()

    def summary(self) -> dict[str, Any]:
        seconds = time.monotonic() - self.started
        waiting = sum(f.events for f in (*self.unanswered, *self.to_resend))
        summary: dict[str, Any] = {
            **self.counts,
            "run": getattr(self.source, "run_id", None),
            "seconds": round(seconds, 3),
            "sending_s": round(self.producing_s, 3),
            "events_per_s": round(self.counts["sent"] / seconds, 1) if seconds > 0 else 0.0,
            "unacknowledged": waiting,
        }
        if self.counts["rate_limited"]:
            summary["final_rate"] = round(self.rate, 3)
        if self.first_rejection is not None:
            summary["first_rejection"] = self.first_rejection
        return summary

    async def _slow_down(self, reason: str) -> None:
        """After a rate-limit close: give up past max_rate_limited, else wait, halve the rate and go on."""
        self.counts["rate_limited"] += 1
        if self.counts["rate_limited"] > self.max_rate_limited:
            raise SimulationError(
                f"gave up after {self.max_rate_limited} rate-limit closes by the server (close code 1008: {reason}); "
                "send at a lower --rate or with a larger --batch",
                self.summary(),
            )
        await asyncio.sleep(min(MAX_RATE_LIMIT_WAIT_S, 2.0 ** (self.counts["rate_limited"] - 1)))
        loop = asyncio.get_running_loop()
        end = None if self.duration is None else self.t0 + self.duration  # the sending time stays what was asked
        self.rate /= 2
        self.t0 = loop.time() - self.produced / self.rate  # the schedule goes on from here at the new rate
        if end is not None:
            self.duration = end - self.t0

    def _producing(self) -> bool:
        """Whether more events are to be sent: the count not reached, the sending time not over."""
        if self.done_producing:
            return False
        loop = asyncio.get_running_loop()
        more = self.total is None or self.produced < self.total
        if self.duration is not None and loop.time() >= self.t0 + self.duration:
            more = False
        if not more:
            self.done_producing = True
            self.producing_s = time.monotonic() - self.started
        return more

    def _drained_or_expired(self) -> bool:
        if not self._producing() and not self.unanswered and not self.to_resend:
            return True
        loop = asyncio.get_running_loop()
        return self.drain_deadline is not None and loop.time() >= self.drain_deadline

    async def _reconnect(self) -> ClientConnection | None:
        """A new connection; None if the drain time ran out while trying (the summary tells)."""
        budget = self.reconnect_timeout
        if self.drain_deadline is not None:
            budget = min(budget, max(0.0, self.drain_deadline - asyncio.get_running_loop().time()))
        try:
            return await self._connect(budget)
        except SimulationError:
            if self.drain_deadline is not None:
                return None
            raise

    async def _session(self, ws: ClientConnection) -> None:
        """Send on one connection until every frame is answered (or the drain time is up)."""
        loop = asyncio.get_running_loop()
        receiver = asyncio.create_task(self._receive(ws))
        try:
            for frame in list(self.unanswered):
                self.counts["resent"] += frame.events
                await ws.send(frame.payload, text=True)
            while True:
                if self.to_resend and len(self.unanswered) < self.window:
                    frame = self.to_resend.popleft()
                    self.counts["resent"] += frame.events
                    await self._send(ws, frame)
                elif self._producing():
                    await self._until(receiver, lambda: len(self.unanswered) < self.window)
                    due = self.t0 + self.produced / self.rate
                    while (wait := due - loop.time()) > 0:
                        await self._until(receiver, lambda: False, timeout=wait)
                    if self._producing():
                        await self._send(ws, self._next_frame())
                else:
                    if self.drain_deadline is None:
                        self.drain_deadline = loop.time() + self.drain_timeout
                    if self._drained_or_expired():
                        return
                    remaining = self.drain_deadline - loop.time()
                    await self._until(receiver, lambda: not self.unanswered, timeout=remaining)
        finally:
            receiver.cancel()
            await asyncio.wait({receiver})
            if not receiver.cancelled():
                receiver.exception()  # seen: the error that matters is the one raised here

    def _next_frame(self) -> _Frame:
        n = self.batch if self.total is None else min(self.batch, self.total - self.produced)
        events = self.source.next_batch(n)
        self.produced += n
        self.counts["sent"] += n
        return _Frame(events=n, payload=orjson.dumps({"events": events}))

    async def _send(self, ws: ClientConnection, frame: _Frame) -> None:
        self.unanswered.append(frame)  # before sending: if the send fails, it is sent again
        await ws.send(frame.payload, text=True)

    async def _until(self, receiver: asyncio.Task[None], done: Any, timeout: float | None = None) -> None:
        """Wait until ``done()`` or the timeout; an ended connection raises its ConnectionClosed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not done():
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return
            self.answered.clear()
            waiter = asyncio.ensure_future(self.answered.wait())
            finished, _ = await asyncio.wait({waiter, receiver}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if receiver in finished:
                receiver.result()  # raises ConnectionClosed (or a SimulationError from an odd answer)
                raise SimulationError("the server stopped answering without closing the connection")

    # -- answers ---------------------------------------------------------------

    async def _receive(self, ws: ClientConnection) -> None:
        while True:
            message = await ws.recv()
            try:
                answer = orjson.loads(message)
            except orjson.JSONDecodeError:
                raise SimulationError(f"the server answered something that is not JSON: {message[:80]!r}") from None
            self._on_answer(answer)
            self.answered.set()

    def _on_answer(self, answer: Any) -> None:
        if not self.unanswered:
            raise SimulationError(f"the server answered a frame that was not sent: {answer!r:.120}")
        if not isinstance(answer, dict) or "accepted" not in answer:
            raise SimulationError(f"unexpected answer from the server: {answer!r:.120}")
        frame = self.unanswered.popleft()
        if answer.get("error"):
            # Nothing of the frame was stored (the store failed or the server is stopping): send it again.
            frame.attempts += 1
            if frame.attempts < MAX_FRAME_ATTEMPTS:
                self.to_resend.append(frame)
            else:
                self.counts["rejected"] += frame.events
                self.first_rejection = self.first_rejection or str(answer["error"])
            return
        rejected = answer.get("rejected") or []
        self.counts["accepted"] += int(answer["accepted"])
        self.counts["duplicates"] += int(answer.get("duplicates", 0))
        self.counts["rejected"] += len(rejected) if isinstance(rejected, list) else int(rejected)
        if rejected and self.first_rejection is None and isinstance(rejected, list):
            self.first_rejection = str(rejected[0].get("error", rejected[0]))

    # -- connecting ------------------------------------------------------------

    @staticmethod
    def _raise_if_refused(exc: ConnectionClosed) -> None:
        """Close codes that a reconnect cannot cure end the run with their reason."""
        close = exc.rcvd
        if close is None:
            return
        if close.code == CLOSE_POLICY:
            reason = close.reason or "policy violation"
            if reason.startswith("rate limit") or reason.startswith("too many connections"):
                raise _RateLimited(reason)
            hint = f"; pass --token or set {TOKEN_ENV}" if "token" in reason else ""
            raise SimulationError(f"the server refused the connection (close code 1008: {reason}){hint}")
        if close.code in _CLOSES_ON_OUR_FRAMES:
            reason = close.reason or _CLOSES_ON_OUR_FRAMES[close.code]
            raise SimulationError(f"the server refused a frame (close code {close.code}: {reason})")

    async def _connect(self, budget: float) -> ClientConnection:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        delay = 0.1
        attempts = 0
        while True:
            attempts += 1
            try:
                return await connect(
                    self.url,
                    additional_headers=self.headers,
                    compression=None,  # JSON frames to a nearby server: deflate costs more CPU than it saves
                    open_timeout=max(1.0, min(10.0, deadline - loop.time())),
                    close_timeout=2,
                    user_agent_header="lianxin-simulator",
                )
            except InvalidURI:
                raise SimulationError(f"not a websocket URL: {self.url!r} (expected ws://HOST:PORT/ws/ingest)") from None
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    raise SimulationError(
                        f"the server refused the websocket (HTTP {status}): check the path (/ws/ingest) "
                        f"and the token (--token or {TOKEN_ENV})"
                    ) from None
                if status < 500:
                    raise SimulationError(
                        f"no websocket ingest at {self.url} (HTTP {status}); the endpoint is ws://HOST:PORT/ws/ingest"
                    ) from None
                reason = f"HTTP {status}"
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                reason = _one_line(exc)
            if loop.time() + delay > deadline:
                raise SimulationError(f"cannot reach {self.url} ({attempts} attempts in {budget:.0f} s): {reason}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_S)


async def simulate(
    url: str,
    source: EventSource,
    *,
    rate: float,
    duration: float | None,
    events: int | None = None,
    batch: int = 100,
    token: str | None = None,
    window: int = WINDOW,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    reconnect_timeout: float = RECONNECT_TIMEOUT_S,
    drain_timeout: float = DRAIN_TIMEOUT_S,
    max_rate_limited: int = MAX_RATE_LIMITED,
) -> dict[str, Any]:
    """Send from ``source`` to ``url`` at ``rate`` for ``duration`` seconds or ``events`` events, whichever
    ends first; the summary of what the server answered."""
    _check_arguments(rate, duration, batch, events)
    return await _Simulation(
        url,
        source,
        rate=rate,
        duration=duration,
        events=events,
        batch=batch,
        token=token,
        window=window,
        connect_timeout=connect_timeout,
        reconnect_timeout=reconnect_timeout,
        drain_timeout=drain_timeout,
        max_rate_limited=max_rate_limited,
    ).run()


def _check_arguments(rate: float, duration: float | None, batch: int, events: int | None = None) -> None:
    if duration is None and events is None:
        raise SimulationError("say how long: --duration S (seconds of sending) or --events N (a count), or both")
    if not rate > 0 or (duration is not None and not duration > 0) or (events is not None and events < 1):
        raise SimulationError(f"rate, duration and events must be greater than 0 (got {rate}, {duration} and {events})")
    if not 1 <= batch <= MAX_EVENTS_PER_FRAME:
        raise SimulationError(f"--batch must be between 1 and {MAX_EVENTS_PER_FRAME:,} (the server's limit per frame)")


def _load_model(database_url: str, seed: int) -> EventSource:
    """The stream model over the organisation in the server's database."""
    url = make_url(database_url) if "://" in database_url else None
    if url is None:
        raise SimulationError(f"malformed database URL {database_url!r} (expected e.g. sqlite:///var/lianxin.db)")
    on_disk = url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:"
    if on_disk and not Path(str(url.database)).exists():
        raise SimulationError(
            f"no database at {url.database}: point --database-url at the server's database "
            "(the simulator takes its organisations and members from there)"
        )
    try:
        engine = make_engine(database_url)
    except StoreError as exc:
        raise SimulationError(str(exc)) from None
    try:
        if "members" not in inspect(engine).get_table_names():
            raise SimulationError(f"{url.render_as_string(hide_password=True)} is not a Lianxin database (no members table)")
        return model_from_store(engine, seed=seed)
    except ValueError as exc:
        raise SimulationError(f"{url.render_as_string(hide_password=True)}: {exc}") from None
    finally:
        engine.dispose()


def run_simulation(
    url: str,
    rate: float,
    duration: float | None,
    batch: int = 100,
    token: str | None = None,
    database_url: str = DEFAULT_DATABASE_URL,
    seed: int | None = None,
    events: int | None = None,
) -> dict[str, Any]:
    """The CLI's entry: load the organisation from ``database_url``, send, return the summary.

    ``token`` None means ``$LIANXIN_INGEST_TOKEN``. Raises SimulationError with a one-line reason.
    """
    _check_arguments(rate, duration, batch, events)
    token = token or os.environ.get(TOKEN_ENV) or None
    model = _load_model(database_url, seed if seed is not None else secrets.randbits(32))
    return asyncio.run(simulate(url, model, rate=rate, duration=duration, events=events, batch=batch, token=token))
