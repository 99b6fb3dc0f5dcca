"""The running system in one place: store, tree, bus, aggregator, ingest.

Like Home Assistant's ``core``: the single object that owns where events and
state live. The web layer (``dashboard.api.app``, the Dash app) reaches it as
``request.app.state.runtime`` and never opens storage on its own.

The concurrency contract (docs/live.md, "Threads and the event loop"): the
Runtime owns everything long-lived — the frame sections of every view (the
map's, the topology's), the reload listeners — and wires all of it in
``start``, so a Runtime without any Dash view is complete. Views only read
it. Coroutines and ``@event_loop_only`` functions run on the event loop;
bus subscribers (the aggregator feed, the publisher's intake) run on the
bus's delivery thread and the frame tick on a worker thread, never on the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dashboard.access.audit import AuditLog
from dashboard.access.keys import load_signing_key
from dashboard.access.scopes import ScopeSigner
from dashboard.access.throttle import LoginThrottle
from dashboard.access.viewer import Access
from dashboard.domain.events import StoredEvent
from dashboard.ingest.ingestor import Ingestor
from dashboard.live.aggregator import Aggregator
from dashboard.live.aggregator.replay import iter_stored_events, read_members
from dashboard.live.aggregator.snapshot import SnapshotWriter, fingerprint, restore_or_rebuild, snapshot_key
from dashboard.live.bus import Bus, InProcessBus
from dashboard.live.cluster import SIGNAL_RELOAD, Cluster
from dashboard.live.history import read_latest_events
from dashboard.live.publisher import FEED_BACKLOG, FramePublisher
from dashboard.live.redis_bus import RedisBus
from dashboard.map.frames import MapFrames
from dashboard.map.regions import RegionMap, load_regions
from dashboard.runtime.membership import Membership, join_cluster
from dashboard.settings import Settings
from dashboard.store.engine import open_store
from dashboard.store.lease import StoreLease
from dashboard.store.names import MemberDirectory
from dashboard.store.tree import OrgTree
from dashboard.topology.frames import topology_sections
from dashboard.topology.service import Topology

log = logging.getLogger(__name__)

ReloadListener = Callable[[OrgTree, Aggregator], None]
# A cluster's bus is told the seqs of the newest events a replay counted, so that it
# neither counts them again nor misses one committed late below them.
PRIMED_SEQS = 50_000


@dataclass
class Replay:
    """An aggregator rebuilt from the store, with the last seq it counted and the newest seqs."""

    aggregator: Aggregator
    last_seq: int
    newest: deque[int]


def replay_store(engine: Engine, tree: OrgTree, tz: ZoneInfo) -> Replay:
    """Members from the members table, then every stored event in seq order. Blocking: seconds per million events."""
    aggregator = Aggregator(tree, tz=tz)
    aggregator.upsert_members(read_members(engine))
    replay = Replay(aggregator, 0, deque(maxlen=PRIMED_SEQS))
    for batch in iter_stored_events(engine):
        aggregator.apply(batch)
        replay.last_seq = batch[-1].seq
        replay.newest.extend(e.seq for e in batch)
    return replay


def open_bus(settings: Settings, engine: Engine) -> Bus:
    """In-process without ``redis_url``; else the cluster's Redis bus (BusUnavailable names what is wrong)."""
    if not settings.redis_url:
        return InProcessBus()
    return RedisBus.connect(settings.redis_url, settings.database_url, engine)


class AggregatorFeed:
    """The bus subscriber that feeds the live aggregator.

    While a reload rebuilds the next aggregator from the store, the feed also
    holds every batch for it; ``switch`` hands it the held events its replay
    did not reach and makes it the live one. Ingest publishes a batch after its
    commit, so a replay can already have counted a batch that reaches the bus
    only after the switch: events the replay counted are skipped from then on
    too. Which those are: with one writer (commits in seq order), every seq at
    or below the replay's last; with several (a cluster), a seq below the
    replay's last may have committed after the replay read past it, so within
    the replay's newest seqs (``counted``) only those it saw are skipped. No
    event is lost or counted twice.
    """

    def __init__(self, aggregator: Aggregator) -> None:
        self._target = aggregator
        self._replayed_seq = 0
        self._counted: frozenset[int] = frozenset()
        self._counted_from = 0  # seqs from here to the replayed seq: skipped only if in _counted
        self._held: list[StoredEvent] | None = None
        self._lock = threading.Lock()

    def __call__(self, events: Sequence[StoredEvent]) -> None:
        with self._lock:
            if self._held is not None:
                self._held.extend(events)
            target = self._target
        if events and events[0].seq <= self._replayed_seq:  # batches come in seq order
            events = self._not_replayed(events)
        target.apply(events)

    def _not_replayed(self, events: Sequence[StoredEvent]) -> list[StoredEvent]:
        replayed_seq, counted, counted_from = self._replayed_seq, self._counted, self._counted_from
        return [e for e in events if e.seq > replayed_seq or (e.seq >= counted_from and e.seq not in counted)]

    def hold(self) -> None:
        with self._lock:
            self._held = []

    def drop(self) -> None:
        with self._lock:
            self._held = None

    def switch(self, aggregator: Aggregator, replayed_seq: int, counted: Collection[int] = ()) -> None:
        """Make ``aggregator`` (rebuilt from the store up to ``replayed_seq``) the live one.

        ``counted``: the replay's newest seqs, for a cluster (empty: one writer, everything up to
        ``replayed_seq`` was counted)."""
        with self._lock:
            held, self._held = self._held or [], None
            self._replayed_seq = replayed_seq
            self._counted = frozenset(counted)
            self._counted_from = min(self._counted) if self._counted else replayed_seq + 1
            aggregator.apply(self._not_replayed(held))
            self._target = aggregator


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    tree: OrgTree
    bus: Bus
    aggregator: Aggregator
    feed: AggregatorFeed
    ingestor: Ingestor
    audit: AuditLog
    access: Access
    publisher: FramePublisher
    signer: ScopeSigner
    topology: Topology
    regions: RegionMap
    started_at: float = field(default_factory=time.time)
    lease: StoreLease | None = None  # this process's claim on the database (dashboard/store/lease.py)
    snapshots: SnapshotWriter | None = None
    state_fingerprint: str = ""
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)  # in Redis for a cluster (runtime/membership.py)
    cluster: Cluster | None = None  # signals and shared records with the other processes (docs/scale.md)
    membership: Membership | None = None  # what joining the cluster wired (runtime/membership.py)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _reload_listeners: list[ReloadListener] = field(default_factory=list, repr=False)

    @classmethod
    def start(cls, settings: Settings, engine: Engine | None = None, regions: RegionMap | None = None) -> Runtime:
        """Open the store, load the tree, rebuild the live state from the store, wire the bus and every frame section.

        ``regions`` are the map's boundaries (read from ``settings.regions_file``
        when not given; RegionFileError if that file is unusable).
        """
        regions = regions or load_regions(settings.regions_file, settings.region_property)
        engine = engine or open_store(settings.database_url)
        tree = OrgTree.load(engine)
        for problem in tree.problems:
            log.warning("organisation tree: %s", problem)
        tz = ZoneInfo(settings.timezone)
        bus = open_bus(settings, engine)  # before the replay: a cluster reads the stream from here on
        signing_key = load_signing_key(engine, settings.secret_key_file)
        started = time.monotonic()
        newest: deque[int] = deque(maxlen=PRIMED_SEQS)
        restored = restore_or_rebuild(
            engine, tree, snapshot_key(signing_key), tz=tz, on_batch=lambda batch: newest.extend(e.seq for e in batch)
        )
        aggregator = restored.aggregator
        if restored.from_snapshot:
            log.info("live state restored from the snapshot at seq %d plus %d events in %.1f s",
                     restored.snapshot_seq, restored.replayed, time.monotonic() - started)
        else:
            log.info("live state rebuilt from all %d events in %.1f s (%s)", restored.replayed, time.monotonic() - started, restored.reason)
        if isinstance(bus, RedisBus):
            bus.primed(newest[0] - 1 if newest else aggregator.last_seq, list(newest))
        audit = AuditLog(engine)
        feed = AggregatorFeed(aggregator)
        bus.subscribe(feed)
        ingestor = Ingestor(engine, tree, bus)
        publisher = FramePublisher(tree, aggregator, bus, MemberDirectory(engine), hz=settings.frame_hz)
        publisher.prime_feed(read_latest_events(engine, FEED_BACKLOG))
        topology = Topology.start(engine, tree, aggregator, deferred=True)  # begun by background(): after the start
        map_frames = MapFrames(tree, aggregator, regions, publisher.notices)
        publisher.sections.extend([*map_frames.sections, *topology_sections(topology)])
        runtime = cls(
            settings=settings,
            engine=engine,
            tree=tree,
            bus=bus,
            audit=audit,
            access=Access(engine, tree, settings, audit),
            aggregator=aggregator,
            feed=feed,
            ingestor=ingestor,
            publisher=publisher,
            signer=ScopeSigner(signing_key),
            topology=topology,
            regions=regions,
            state_fingerprint=fingerprint(engine, tree),
        )
        runtime.on_reload(map_frames.rebind)
        runtime.on_reload(topology.rebind)
        writer = SnapshotWriter(
            engine, snapshot_key(signing_key), lambda: (runtime.aggregator, runtime.state_fingerprint), settings.snapshot_interval_s
        )
        if settings.redis_url:  # a cluster: the snapshot lease's holder writes them (runtime/membership.py)
            runtime.cluster = Cluster.member(settings.redis_url, settings.database_url, settings.host, settings.port)
            runtime.membership = join_cluster(runtime, runtime.cluster, writer)
        else:
            runtime.snapshots = writer.start(saved_seq=restored.snapshot_seq if restored.from_snapshot else -1)
        return runtime

    @property
    def reloading(self) -> bool:
        """True while ``reload`` rebuilds the live state (readiness reports it)."""
        return self._reload_lock.locked()

    def on_reload(self, listener: ReloadListener) -> None:
        """Call ``listener(tree, aggregator)`` after every reload (for parts that keep their own references)."""
        self._reload_listeners.append(listener)

    def reload(self, announce: bool = True) -> None:
        """Rebuild the tree and the aggregator from the store and swap them in (after an import).

        In a cluster the other processes are told to reload theirs
        (``announce``; False when this reload answers another's announcement).

        The old state keeps serving while the new aggregator replays the store;
        events published meanwhile are held and applied after the replay (those
        it already counted are skipped by seq — the single ingest writer commits
        in seq order). Then ingest, the publisher and the reload listeners get
        the new tree. Organisation ids of kept organisations do not change in an
        import, so open screens stay on their scope. Blocking: seconds per million events.
        """
        with self._reload_lock:
            tree = OrgTree.load(self.engine)
            for problem in tree.problems:
                log.warning("organisation tree: %s", problem)
            self.feed.hold()
            try:
                replay = replay_store(self.engine, tree, ZoneInfo(self.settings.timezone))
                aggregator, replayed_seq = replay.aggregator, replay.last_seq
                self.ingestor.reload_members()
            except BaseException:
                self.feed.drop()
                raise
            self.feed.switch(aggregator, replayed_seq, replay.newest if self.cluster is not None else ())
            self.tree, self.aggregator = tree, aggregator
            self.ingestor.tree = tree
            self.publisher.rebind(tree, aggregator)
            self.access = Access(self.engine, tree, self.settings, self.audit)  # scopes resolve in the new tree
            for listener in self._reload_listeners:
                listener(tree, aggregator)
            self.state_fingerprint = fingerprint(self.engine, tree)
            if self.snapshots is not None:
                self.snapshots.write_now(force=True)  # older snapshots were counted over the old tree or roll
        log.info("live state reloaded: %d organisations", len(tree))
        if announce and self.cluster is not None:
            self.cluster.announce(SIGNAL_RELOAD)

    def background(self) -> list[Coroutine[None, None, None]]:
        """The long-lived tasks to run on the server's event loop: the frame tick, and a cluster's stream reader.

        Asked for once the server is up, which is also when the topology's analysis begins.
        """
        self.topology.begin()
        tasks = [self.publisher.run()]
        if isinstance(self.bus, RedisBus):
            tasks.append(self.bus.run())
        if self.membership is not None:
            tasks.extend(self.membership.tasks())
        return tasks

    def close(self) -> None:
        self.topology.close()
        self.publisher.close()
        self.ingestor.close()
        if self.snapshots is not None:
            self.snapshots.close()
        self.bus.close()
        if self.membership is not None:
            self.membership.close()
        if self.lease is not None:
            self.lease.release()
        self.engine.dispose()
