"""The frame publisher: what screens receive, per scope, a few times a second.

Each scope in use (a subtree plus a privacy level) has a channel holding its
current state, key by key, with the frame sequence number at which each key
last changed. A tick (default 4 Hz) drains the aggregator's changed
organisations and the recent events, updates the channels whose subtree was
touched, and wakes their screens.

A screen holds nothing but the last sequence number it has taken. When it asks
for the next frame it gets every key that changed after that number — one
frame that merges all it missed. So a slow or stalled screen skips to the
latest state, never queues frames, and costs no memory while it lags; a new
or reconnecting screen (sequence 0) gets the full state of its scope.

Threads: bus delivery (``_on_events``, off the loop), the tick (a worker
thread) and the screens (the event loop) share this object. The recent
events and the notices change only under ``_lock`` and are read as copies
taken under it; sequence numbers come from ``_next_seq`` under its own lock;
the channels' map is changed under ``_channels_lock``; waking screens is
``@event_loop_only``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dashboard.access.scopes import Scope, mask_snapshot
from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import Aggregator
from dashboard.live.bus import Bus
from dashboard.live.loop import event_loop_only
from dashboard.store.names import MemberDirectory
from dashboard.store.tree import OrgTree

log = logging.getLogger(__name__)

FEED_LENGTH = 12
RECENT_EVENTS = 4096
# Latest events kept for screens that join: their feed opens on the latest activity of their scope
# (at a quiet hour the next event may be minutes away) instead of an empty list.
FEED_BACKLOG = 2048
HEARTBEAT_S = 1.0  # a screen judges its link from these (assets/live.js: reconnecting after 2 s without one)
# Snapshot keys that are not KPIs of the subtree and never go to screens as such.
PRIVATE_KEYS = frozenset({"ts"})


class FrameSection(Protocol):
    """A part of every frame owned by one view (the map's regions, the topology's pulses …).

    ``compute`` runs in the tick thread for each channel on every tick, with the
    organisations whose KPIs changed and the events since the last tick; it
    returns the section's current value for that scope (JSON-able) — the
    channel sends it only when it differs from the last one — or None to leave
    it unchanged. It must respect the scope: nothing outside the subtree, no
    personal data at the public level.
    """

    key: str

    def compute(self, scope: Scope, changed_orgs: set[int], recent: Sequence[StoredEvent]) -> Any | None: ...


@dataclass(frozen=True, slots=True)
class Notice:
    event_seq: int
    org_id: int
    title: str
    level: str
    body: str | None
    expires_ms: int

    def as_frame(self, tree: OrgTree) -> dict[str, Any]:
        org = tree.nodes.get(self.org_id)
        return {
            "id": self.event_seq,
            "org": org.name if org else "",
            "title": self.title,
            "level": self.level,
            "body": self.body,
            "expires": self.expires_ms,
        }


@dataclass
class Channel:
    """The live state of one scope and the sequence number of each key's last change.

    The tick thread replaces ``values``, ``changed`` and ``feed`` whole (never
    mutates them in place), so a screen reading them on the event loop always
    sees one consistent state.
    """

    scope: Scope
    values: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    feed: tuple[tuple[int, dict[str, Any]], ...] = ()
    seq: int = 0
    screens: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def update(self, values: dict[str, Any], seq: int) -> bool:
        """Take a new state; True if any key changed."""
        changed = {k: seq for k, v in values.items() if self.values.get(k, _MISSING) != v}
        if not changed:
            return False
        self.changed = {**self.changed, **changed}
        self.values = {**self.values, **{k: values[k] for k in changed}}
        self.seq = seq
        return True

    def add_feed(self, items: Sequence[dict[str, Any]], seq: int) -> bool:
        if not items:
            return False
        self.feed = (*self.feed, *((seq, item) for item in items))[-FEED_LENGTH:]
        self.seq = seq
        return True

    def frame_after(self, after: int, now_ms: int) -> dict[str, Any]:
        """Everything that changed after sequence ``after``; everything if ``after`` is 0 or unknown."""
        values, changed, feed, seq = self.values, self.changed, self.feed, self.seq
        full = after <= 0 or after > seq
        kpi = dict(values) if full else {k: v for k, v in values.items() if changed.get(k, 0) > after}
        return {"seq": seq, "ts": now_ms, "full": full, "kpi": kpi, "feed": [item for s, item in feed if full or s > after]}


_MISSING = object()


class FramePublisher:
    """Builds frames per scope from the aggregator and the bus; screens wait on ``next_frame``."""

    def __init__(
        self,
        tree: OrgTree,
        aggregator: Aggregator,
        bus: Bus,
        members: MemberDirectory,
        hz: float = 4.0,
        clock: Callable[[], float] = time.time,
        sections: Sequence[FrameSection] = (),
    ) -> None:
        self.tree = tree
        self.aggregator = aggregator
        self.members = members
        self.period = 1.0 / hz
        self.clock = clock
        self.sections: list[FrameSection] = list(sections)
        self.seq = 0
        self.channels: dict[Scope, Channel] = {}
        self.notices: dict[int, Notice] = {}
        self._recent: deque[StoredEvent] = deque(maxlen=RECENT_EVENTS)
        self._latest: deque[StoredEvent] = deque(maxlen=FEED_BACKLOG)
        self._lock = threading.Lock()
        self._seq_lock = threading.Lock()
        self._channels_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kick: asyncio.Event | None = None
        # Smoothed milliseconds per tick and per section, for /api/health and the admin page.
        self.stats: dict[str, float] = {"tick_ms": 0.0}
        self._unsubscribe = bus.subscribe(self._on_events)

    # --- inputs -------------------------------------------------------------

    def prime_feed(self, events: Sequence[StoredEvent]) -> None:
        """The stored events before this start (oldest first), for the feed of screens that join."""
        with self._lock:
            self._latest.extend(ev for ev in events if ev.type != "notice")

    def _on_events(self, events: Sequence[StoredEvent]) -> None:
        """Bus subscriber: keep the latest events for the feed and every notice (never sampled)."""
        with self._lock:
            self._recent.extend(events)
            self._latest.extend(ev for ev in events if ev.type != "notice")
            for ev in events:
                if ev.type == "notice":
                    self._kick_soon()
                    ttl = int(ev.data.get("ttl_s", 3600))
                    self.notices[ev.seq] = Notice(
                        ev.seq, ev.org_id, str(ev.data.get("title", "")), str(ev.data.get("level", "info")),
                        ev.data.get("body"), ev.ts_ms + ttl * 1000,
                    )

    def _kick_soon(self) -> None:
        loop, kick = self._loop, self._kick
        if loop is not None and kick is not None:
            loop.call_soon_threadsafe(kick.set)

    # --- screens ------------------------------------------------------------

    def attach(self, scope: Scope) -> Channel:
        """A screen joins ``scope``; the channel is created (with its full state) on first use."""
        with self._channels_lock:
            channel = self.channels.get(scope)
            if channel is not None:
                channel.screens += 1
                return channel
        fresh = Channel(scope)
        seq = self._next_seq()
        fresh.update({**self._scope_values(scope), **self._section_values(scope, set(), ())}, seq)
        with self._lock:
            latest = list(self._latest)
        fresh.add_feed(self._feed_items(latest, scope), seq)
        with self._channels_lock:
            channel = self.channels.setdefault(scope, fresh)  # another screen may have made it meanwhile
            channel.screens += 1
        return channel

    def detach(self, channel: Channel) -> None:
        with self._channels_lock:
            channel.screens -= 1
            if channel.screens <= 0 and self.channels.get(channel.scope) is channel:
                del self.channels[channel.scope]

    def rebind(self, tree: OrgTree, aggregator: Aggregator) -> None:
        """Take a reloaded tree and aggregator; channels of organisations no longer in the tree end."""
        self.tree, self.aggregator = tree, aggregator
        with self._channels_lock:
            for scope in [s for s in self.channels if s.org_id not in tree]:
                del self.channels[scope]

    def _next_seq(self) -> int:
        """The next frame sequence number (the tick thread and attaching screens both take them)."""
        with self._seq_lock:
            self.seq += 1
            return self.seq

    def screen_count(self) -> int:
        with self._channels_lock:
            return sum(c.screens for c in self.channels.values())

    async def next_frame(self, channel: Channel, after: int, heartbeat_s: float = HEARTBEAT_S) -> dict[str, Any]:
        """The next frame for a screen that has taken ``after``; a heartbeat if nothing changes."""
        if channel.seq <= after and after > 0:
            wake = channel.wake
            try:
                await asyncio.wait_for(wake.wait(), heartbeat_s)
            except TimeoutError:
                return {"seq": after, "ts": self._now_ms(), "heartbeat": True}
        return channel.frame_after(after, self._now_ms())

    # --- the tick -------------------------------------------------------------

    async def run(self) -> None:
        """Tick for ever (until cancelled); the work of a tick runs in a thread, off the event loop.

        A notice does not wait for the next tick: it kicks one at once.
        """
        self._loop = asyncio.get_running_loop()
        self._kick = asyncio.Event()
        while True:
            started = time.monotonic()
            self._kick.clear()
            try:
                self._async_wake(await asyncio.to_thread(self.tick))
            except Exception:
                log.exception("frame tick failed; the next tick goes on")
            elapsed = time.monotonic() - started
            self.stats["tick_ms"] = round(0.8 * self.stats["tick_ms"] + 0.2 * elapsed * 1000, 2)
            try:
                await asyncio.wait_for(self._kick.wait(), max(0.0, self.period - elapsed))
            except TimeoutError:
                pass

    @event_loop_only
    def _async_wake(self, channels: list[Channel]) -> None:
        """Wake the screens waiting on ``channels`` (asyncio events: loop only)."""
        for channel in channels:
            channel.wake.set()
            channel.wake = asyncio.Event()

    def tick(self) -> list[Channel]:
        """Update every channel touched since the last tick; returns the channels to wake."""
        with self._lock:
            recent = list(self._recent)
            self._recent.clear()
            now_ms = self._now_ms()
            expired = [k for k, n in self.notices.items() if n.expires_ms <= now_ms]
            for k in expired:
                del self.notices[k]
            new_notice_orgs = {ev.org_id for ev in recent if ev.type == "notice"}
        self.aggregator.tick()  # time passes without events too: windows expire, days roll over
        changed_orgs = self.aggregator.drain_changed()
        seq = self._next_seq()
        woken = []
        with self._channels_lock:
            channels = list(self.channels.values())
        for channel in channels:
            scope = channel.scope
            touched = False
            if scope.org_id in changed_orgs or expired or self._notice_reaches(new_notice_orgs, scope):
                touched |= channel.update(self._scope_values(scope), seq)
            touched |= channel.update(self._section_values(scope, changed_orgs, recent), seq)
            touched |= channel.add_feed(self._feed_items(recent, scope), seq)
            if touched:
                woken.append(channel)
        return woken

    # --- what a scope sees ------------------------------------------------------

    def _notice_reaches(self, notice_orgs: set[int], scope: Scope) -> bool:
        chain = self.tree.ancestors.get(scope.org_id, ())
        return any(org in chain for org in notice_orgs)

    def _scope_values(self, scope: Scope) -> dict[str, Any]:
        snap = self.aggregator.snapshot(scope.org_id)
        values = mask_snapshot({k: v for k, v in snap.items() if k not in PRIVATE_KEYS}, scope)
        chain = set(self.tree.ancestors.get(scope.org_id, ()))
        notices = sorted((n for n in self._notices_now() if n.org_id in chain), key=lambda n: -n.event_seq)
        values["notices"] = [n.as_frame(self.tree) for n in notices]
        return values

    def _section_values(self, scope: Scope, changed_orgs: set[int], recent: Sequence[StoredEvent]) -> dict[str, Any]:
        values = {}
        for section in self.sections:
            started = time.perf_counter()
            try:
                value = section.compute(scope, changed_orgs, recent)
            except Exception:  # a broken section must not stop the frames of the others
                log.exception("frame section %r failed", section.key)
                continue
            key = f"section_{section.key}_ms"
            self.stats[key] = round(0.8 * self.stats.get(key, 0.0) + 0.2 * (time.perf_counter() - started) * 1000, 2)
            if value is not None:
                values[section.key] = value
        return values

    def _feed_items(self, events: Sequence[StoredEvent], scope: Scope) -> list[dict[str, Any]]:
        """The newest events of the scope's subtree, oldest first; names only at the full level."""
        picked: list[StoredEvent] = []
        for ev in reversed(events):
            if ev.type != "notice" and self.tree.is_within(ev.org_id, scope.org_id):
                picked.append(ev)
                if len(picked) == FEED_LENGTH:
                    break
        picked.reverse()
        names = self.members.names([ev.member_id for ev in picked if ev.member_id]) if not scope.public else {}
        return [self._feed_item(ev, names.get(ev.member_id) if ev.member_id else None) for ev in picked]

    def _feed_item(self, ev: StoredEvent, who: str | None) -> dict[str, Any]:
        org = self.tree.nodes.get(ev.org_id)
        item: dict[str, Any] = {"id": ev.seq, "ts": ev.ts_ms, "type": ev.type, "org": org.name if org else ""}
        if who:
            item["who"] = who
        title = ev.data.get("title")
        if isinstance(title, str):
            item["title"] = title
        for key in ("points", "kind", "hours", "amount"):
            if key in ev.data:
                item[key] = ev.data[key]
        if org is not None and org.region_code:
            item["region"] = org.region_code
        return item

    def _notices_now(self) -> tuple[Notice, ...]:
        """The notices in force, copied under the lock the bus delivery thread adds them under."""
        with self._lock:
            return tuple(self.notices.values())

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def close(self) -> None:
        self._unsubscribe()
