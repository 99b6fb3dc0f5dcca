"""The concurrency contract of the core: one owner of the live state, and no shared state broken across threads.

Each test here would have failed on the code before the contract: the map's
sections were wired by the Dash view, the aggregator counted on the event loop
(so a long hold of its lock — the midnight recount — froze every screen), the
publisher iterated its notices while the bus inserted into them, and frame
sequence numbers were incremented from two threads without a lock.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from dashboard.access.scopes import Scope
from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import Aggregator
from dashboard.live.bus import InProcessBus
from dashboard.live.loop import NotOnEventLoop, event_loop_only
from dashboard.live.publisher import FramePublisher
from dashboard.runtime.core import AggregatorFeed, Runtime
from dashboard.settings import Settings
from dashboard.store.names import MemberDirectory
from dashboard.store.tree import OrgTree
from tests.import_support import sample_store

pytestmark = pytest.mark.unit


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    engine = sample_store(tmp_path / "x.db")
    rt = Runtime.start(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", simulate=False), engine)
    yield rt
    rt.close()


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads every microsecond, so a race that needs an unlucky switch shows at once."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_a_runtime_without_views_has_every_frame_section_and_rebinds_them(runtime: Runtime) -> None:
    keys = {section.key for section in runtime.publisher.sections}
    assert {"map_regions", "map_flashes", "map_transfers", "map_notices", "topo_pulse", "topo_health"} <= keys
    old_tree = runtime.tree
    runtime.reload()
    assert runtime.tree is not old_tree
    map_regions = next(s for s in runtime.publisher.sections if s.key == "map_regions")
    assert map_regions.frames.state.tree is runtime.tree  # type: ignore[attr-defined]
    assert map_regions.frames.state.aggregator is runtime.aggregator  # type: ignore[attr-defined]
    assert runtime.topology.tree is runtime.tree


def test_the_event_loop_goes_on_while_the_aggregator_lock_is_held(runtime: Runtime) -> None:
    """The midnight recount holds the aggregator's lock for ~0.5–0.9 s at 1M members: ingest must wait, the loop must not."""
    lock = runtime.aggregator._lock
    released = threading.Event()
    loop_turns_while_held = 0

    def hold() -> None:
        with lock:
            released.wait(timeout=30)  # a deadlock guard only: the test releases it as soon as the loop has shown life

    holder = threading.Thread(target=hold)

    async def scenario() -> int:
        nonlocal loop_turns_while_held
        holder.start()
        while not lock.locked():
            await asyncio.sleep(0.001)
        ack = asyncio.ensure_future(runtime.ingestor.submit(
            [{"id": "held-1", "type": "study", "org": "SX-01-01", "member": "SX00003", "data": {"points": 1, "title": "t"}}]
        ))
        while loop_turns_while_held < 20 and lock.locked():
            await asyncio.sleep(0.001)  # each turn: the loop ran other work while an ack was pending on the lock
            loop_turns_while_held += 1 if lock.locked() else 0
        released.set()
        result = await ack
        return result.accepted

    accepted = asyncio.run(scenario())
    holder.join()
    assert loop_turns_while_held == 20
    assert accepted == 1
    assert runtime.aggregator.snapshot(runtime.tree.root_id)["events_total"] == 1


def _notice(seq: int, org_id: int) -> StoredEvent:
    return StoredEvent(seq, f"n{seq}", "notice", int(time.time() * 1000), org_id, None, {"title": f"notice {seq}", "ttl_s": 3600})


def test_notices_arriving_while_the_tick_builds_frames(runtime: Runtime, busy_switching: None) -> None:
    bus = InProcessBus()
    publisher = FramePublisher(runtime.tree, runtime.aggregator, bus, MemberDirectory(runtime.engine))
    root = runtime.tree.root_id
    channel = publisher.attach(Scope(root, "full"))
    failures: list[BaseException] = []
    stop = threading.Event()
    sent = 5000
    bus.publish([_notice(seq, root) for seq in range(1, sent + 1)])  # a long list to iterate while more arrive

    def deliver() -> None:  # as the bus delivery thread does, while the tick thread builds frames
        nonlocal sent
        while not stop.is_set():
            sent += 1
            bus.publish([_notice(sent, root)])

    sender = threading.Thread(target=deliver)
    sender.start()
    try:
        for _ in range(30):
            try:
                publisher.tick()
            except RuntimeError as exc:  # "dictionary changed size during iteration"
                failures.append(exc)
    finally:
        stop.set()
        sender.join()
    publisher.tick()
    assert failures == []
    assert len(channel.values["notices"]) == sent
    publisher.close()
    bus.close()


def test_frame_sequence_numbers_are_unique_across_threads(runtime: Runtime, busy_switching: None) -> None:
    publisher = runtime.publisher
    scopes = [Scope(org_id, level) for org_id in runtime.tree.nodes for level in ("full", "public")]
    rounds, ticks = 8, 200
    start = publisher.seq
    first: list[int] = []  # the number each new channel's first state carries

    def attach_all(part: list[Scope]) -> None:
        for _ in range(rounds):
            channels = [publisher.attach(scope) for scope in part]
            first.extend(min(channel.changed.values()) for channel in channels)
            for channel in channels:
                publisher.detach(channel)

    def tick_many() -> None:
        for _ in range(ticks):
            publisher.tick()

    threads = [threading.Thread(target=attach_all, args=(scopes[k::2],)) for k in (0, 1)] + [threading.Thread(target=tick_many)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert publisher.seq - start == rounds * len(scopes) + ticks  # no increment lost
    # Two channels (or a channel and a tick) sharing a number would label different states alike,
    # and a screen that took one would never be sent the other.
    assert len(first) == rounds * len(scopes)
    assert len(set(first)) == len(first)
    assert publisher.channels == {}


def test_loop_only_functions_refuse_other_threads(runtime: Runtime) -> None:
    @event_loop_only
    def touch() -> str:
        return "on the loop"

    async def on_loop() -> str:
        return touch()

    assert asyncio.run(on_loop()) == "on the loop"
    # From a thread of their own: the test's main thread may hold Playwright's running loop
    # when browser tests ran before in the same session.
    refused = _error_in_thread(touch)
    assert isinstance(refused, NotOnEventLoop) and "runs only on the event loop" in str(refused)
    assert isinstance(_error_in_thread(lambda: runtime.publisher._async_wake([])), NotOnEventLoop)


def _error_in_thread(call: Callable[[], object]) -> BaseException | None:
    """What ``call`` raised when run in a new thread (which runs no event loop), or None."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return raised[0] if raised else None


def test_a_reload_in_a_cluster_counts_an_event_committed_below_the_replay_after_it_read_past(tmp_path: Path) -> None:
    """Several writers commit out of seq order: seq 15 commits after the replay read 1–14 and 16–20."""
    engine = sample_store(tmp_path / "x.db")
    tree = OrgTree.load(engine)
    org = tree.by_code["SX-01-01"]

    def events(seqs: Iterable[int]) -> list[StoredEvent]:
        return [StoredEvent(seq, f"e{seq}", "login", int(time.time() * 1000), org, None, {}) for seq in seqs]

    counted = [*range(1, 15), *range(16, 21)]
    for cluster in (True, False):
        new = Aggregator(tree)
        feed = AggregatorFeed(Aggregator(tree))
        feed.hold()
        feed(events(range(1, 6)))  # published during the replay, which counted them too
        new.apply(events(counted))
        feed.switch(new, replayed_seq=20, counted=counted if cluster else ())
        feed(events([15]))  # the late commit reaches the bus only now
        feed(events(range(16, 21)))  # already replayed: skipped
        feed(events(range(21, 23)))
        total = new.snapshot(tree.root_id)["events_total"]
        assert total == (22 if cluster else 21), cluster  # one writer: nothing below the replay can come late
    engine.dispose()
