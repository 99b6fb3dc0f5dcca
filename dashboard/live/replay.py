"""Replay: a past period through the live screens, frame by frame, at 1× to 600×.

A replay is one screen's own ``HistoryState`` (the live aggregator driven through
the stored events in time order, dashboard/live/history.py) with its own
``FramePublisher`` on a private bus: the frames are built by the same code as
live frames, for the screen's scope, masked the same way (a public replay
carries no names). Live screens and other replays are untouched: each replay
owns its state and is dropped when its screen leaves.

``?replay=FROM..TO&speed=X`` on any live page: FROM and TO are ISO dates or
date-times, local time unless they carry an offset; a date alone as TO means
the end of that day.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from dashboard.access.scopes import Scope
from dashboard.live.bus import InProcessBus
from dashboard.live.history import HistoryState
from dashboard.live.publisher import Channel, FramePublisher, FrameSection
from dashboard.store.names import MemberDirectory
from dashboard.store.tree import OrgTree

MIN_SPEED, MAX_SPEED = 1.0, 600.0
DEFAULT_SPEED = 60.0
MAX_DAYS = 31
SPEEDS = (1, 10, 60, 120, 300, 600)


class ReplayError(ValueError):
    """A replay that cannot run; ``code`` names the problem for the page's catalogue (``replay.error.<code>``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ReplayRequest:
    start_ms: int
    end_ms: int
    speed: float


def _instant(text: str, tz: dt.tzinfo, end: bool) -> int:
    value = dt.datetime.fromisoformat(text.strip())
    if len(text.strip()) == 10 and end:  # a date alone as the end: through that whole day
        value += dt.timedelta(days=1)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return int(value.timestamp() * 1000) - (1 if len(text.strip()) == 10 and end else 0)


def parse_speed(text: object) -> float:
    try:
        speed = float(text) if text not in (None, "") else DEFAULT_SPEED  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ReplayError("speed", f"speed {text!r} is not a number") from None
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ReplayError("speed", f"speed {speed:g} is out of range ({MIN_SPEED:g}–{MAX_SPEED:g})")
    return speed


def parse_replay(
    period: str, speed: object, tz: dt.tzinfo, now_ms: int, history: tuple[int, int] | None
) -> ReplayRequest:
    """Check a replay request against the clock and the history kept; ReplayError says what is wrong."""
    if ".." not in period:
        raise ReplayError("period", f"replay {period!r}: expected FROM..TO")
    first, last = period.split("..", 1)
    try:
        start_ms, end_ms = _instant(first, tz, end=False), _instant(last, tz, end=True)
    except ValueError:
        raise ReplayError("period", f"replay {period!r}: FROM and TO must be ISO dates or date-times") from None
    if end_ms <= start_ms:
        raise ReplayError("reversed", f"replay {period!r} is reversed: it ends before it starts")
    if end_ms > now_ms:
        raise ReplayError("future", f"replay {period!r} reaches into the future")
    if end_ms - start_ms > MAX_DAYS * 86_400_000:
        raise ReplayError("too_long", f"replay {period!r} is longer than {MAX_DAYS} days")
    if history is None or start_ms < history[0]:
        raise ReplayError("history", f"replay {period!r} starts before the history kept")
    return ReplayRequest(start_ms, end_ms, parse_speed(speed))


SectionsFor = Callable[[FramePublisher], Sequence[FrameSection]]


class ReplaySession:
    """One screen's replay: its own history state, publisher and channel.

    ``sections_for(publisher)`` builds the views' frame sections (map, units …) over the
    replay's own publisher and aggregator, as the views build theirs over the live ones.
    """

    def __init__(
        self,
        engine: Engine,
        tree: OrgTree,
        tz: dt.tzinfo,
        members: MemberDirectory,
        request: ReplayRequest,
        scope: Scope,
        sections_for: SectionsFor = lambda publisher: (),
    ) -> None:
        self._engine, self._tree, self._tz, self._members = engine, tree, tz, members
        self._sections_for = sections_for
        self.request, self.scope = request, scope
        self.speed = request.speed
        self.playing = True
        self._last_command: object = None
        self._open(request.start_ms)

    def _open(self, at_ms: int) -> None:
        """(Re)build the state at ``at_ms``: history only moves forward, so a jump back starts again."""
        self.history = HistoryState(self._engine, self._tree, self._tz, at_ms, horizon_ms=self.request.end_ms)
        self.history.advance_to(at_ms)
        self._bus = InProcessBus()
        self.publisher = FramePublisher(
            self._tree, self.history.aggregator, self._bus, self._members, clock=lambda: self.history.now_ms / 1000
        )
        self.publisher.sections.extend(self._sections_for(self.publisher))
        self.channel: Channel = self.publisher.attach(self.scope)
        self._mark()

    @property
    def at_ms(self) -> int:
        return self.history.now_ms

    @property
    def ended(self) -> bool:
        return self.at_ms >= self.request.end_ms

    def state(self) -> dict[str, Any]:
        r = self.request
        clock = dt.datetime.fromtimestamp(self.at_ms / 1000, self._tz).strftime("%Y-%m-%d %H:%M:%S")
        return {"from": r.start_ms, "to": r.end_ms, "at": self.at_ms, "clock": clock, "speed": self.speed,
                "playing": self.playing and not self.ended, "ended": self.ended}

    def _mark(self) -> None:
        self.publisher.seq += 1
        self.channel.update({"replay": self.state()}, self.publisher.seq)

    def step(self, real_seconds: float) -> None:
        """Play ``real_seconds`` of wall time at the current speed, then build the frame state."""
        if self.playing and not self.ended:
            target = min(self.request.end_ms, self.at_ms + max(1, int(real_seconds * self.speed * 1000)))
            self._bus.publish(self.history.advance_to(target))
        self.publisher.tick()
        self._mark()

    def control(self, command: Any) -> None:
        """Apply the page's replay bar: ``{"n": k, "playing": bool, "speed": x, "jump": epoch ms}`` (bad values ignored)."""
        if not isinstance(command, dict) or command.get("n") == self._last_command:
            return  # the page keeps its last command in its store: each is applied once
        self._last_command = command.get("n")
        if isinstance(command.get("playing"), bool):
            self.playing = command["playing"]
        try:
            self.speed = parse_speed(command.get("speed", self.speed))
        except ReplayError:
            pass
        jump = command.get("jump")
        if isinstance(jump, int | float) and not isinstance(jump, bool):
            target = int(min(max(jump, self.request.start_ms), self.request.end_ms))
            if target < self.at_ms:
                self._open(target)
            else:
                self._bus.publish(self.history.advance_to(target))
        self._mark()

    def frame_after(self, seq: int) -> dict[str, Any]:
        """The channel's frame, stamped with the wall clock (the page's lag is the link's, not the period's age)."""
        return self.channel.frame_after(seq, int(time.time() * 1000))

    def close(self) -> None:
        self.publisher.close()
