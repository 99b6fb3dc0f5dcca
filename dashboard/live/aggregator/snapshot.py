"""Snapshots of the live state, so a start replays the events after the newest one, not the whole history.

A snapshot (table ``live_snapshots``) is the aggregator's state as of
``last_seq`` (every stored event up to it counted, none after). A start loads
the newest usable one and applies the events with seq > last_seq: the result
is what a rebuild from every event gives (tests/test_snapshot.py checks it
against the rebuild and against dashboard/live/recompute.py).

A snapshot is used only when it was counted over what the store holds now
and by this code — its fingerprint covers the organisation tree, the size of
the roll (members' count and highest id), the count of edits of members'
counted fields (``roster_edits``, bumped by database triggers on every UPDATE
of them and every DELETE, whoever writes: an import, an admin, a hand-written
UPDATE — less the moves of completed transfers, which are events and replayed
after the snapshot) and the aggregator's source — and
when its signature (HMAC with the server's key) holds, so a row written by
anything but a Lianxin server is never loaded. Otherwise the start rebuilds
from all events, as before, and says why in the log.

Written by ``SnapshotWriter`` every ``interval_s`` when events came since the
last one, after each reload, and at a clean stop; the newest ``KEEP`` stay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, func, insert, select

from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator.codec import StateError
from dashboard.live.aggregator.core import SHANGHAI, Aggregator
from dashboard.live.aggregator.replay import iter_stored_events, read_members
from dashboard.store.models import LiveSnapshot, Member, RosterEdits
from dashboard.store.tree import OrgTree

log = logging.getLogger(__name__)

FORMAT = 1
KEEP = 2
DEFAULT_INTERVAL_S = 300.0

_CODE = hashlib.sha256(
    b"".join(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py")))
).hexdigest()


def snapshot_key(signing_key: bytes) -> bytes:
    """The key snapshots are signed with, derived from the server's signing key (dashboard.access.keys)."""
    return hmac.new(signing_key, b"lianxin live snapshot", hashlib.sha256).digest()


def fingerprint(engine: Engine, tree: OrgTree) -> str:
    """What a snapshot's counts depend on besides the events: the tree, the roll's size and edits, the code."""
    h = hashlib.sha256(_CODE.encode())
    for org_id in sorted(tree.nodes):
        node = tree.nodes[org_id]
        h.update(f"{org_id}|{node.code}|{node.parent_id}|{node.kind}\n".encode())
    with engine.connect() as conn:
        count, highest = conn.execute(select(func.count(), func.max(Member.id)).select_from(Member)).one()
        edits = conn.execute(select(RosterEdits.n - RosterEdits.own).where(RosterEdits.id == 1)).scalar()
    h.update(f"members {count} {highest} edits {edits}".encode())
    return h.hexdigest()


def _sign(key: bytes, fingerprint_: str, last_seq: int, state: bytes) -> str:
    mac = hmac.new(key, f"{FORMAT}|{fingerprint_}|{last_seq}|".encode(), hashlib.sha256)
    mac.update(state)
    return mac.hexdigest()


def save_snapshot(engine: Engine, aggregator: Aggregator, key: bytes, fingerprint_: str) -> int:
    """Write the aggregator's state now; keep the newest KEEP. Returns the seq it counts up to."""
    state, last_seq = aggregator.export_state()
    values = {
        "taken_at": dt.datetime.now(dt.UTC),
        "last_seq": last_seq,
        "format": FORMAT,
        "fingerprint": fingerprint_,
        "signature": _sign(key, fingerprint_, last_seq, state),
        "state": state,
    }
    with engine.begin() as conn:
        conn.execute(insert(LiveSnapshot).values(**values))
        keep = list(conn.execute(select(LiveSnapshot.id).order_by(LiveSnapshot.id.desc()).limit(KEEP)).scalars())
        conn.execute(delete(LiveSnapshot).where(LiveSnapshot.id.not_in(keep)))
    return last_seq


@dataclass(frozen=True)
class Restored:
    aggregator: Aggregator
    from_snapshot: bool
    snapshot_seq: int  # 0 when rebuilt from all events
    replayed: int  # events applied after the snapshot (all of them on a rebuild)
    reason: str  # why no snapshot was used ("" when one was)


def _load_newest(
    engine: Engine, tree: OrgTree, key: bytes, fingerprint_: str, clock: Callable[[], float], tz: dt.tzinfo
) -> tuple[Aggregator | None, str]:
    with engine.connect() as conn:
        row = conn.execute(
            select(LiveSnapshot.last_seq, LiveSnapshot.format, LiveSnapshot.fingerprint, LiveSnapshot.signature, LiveSnapshot.state)
            .order_by(LiveSnapshot.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None, "no snapshot yet"
    last_seq, format_, stored_fingerprint, signature, state = row
    if format_ != FORMAT or stored_fingerprint != fingerprint_:
        return None, "the newest snapshot was counted over another tree, roll or code"
    if not hmac.compare_digest(str(signature), _sign(key, stored_fingerprint, last_seq, bytes(state))):
        return None, "the newest snapshot's signature does not hold (another key, or altered)"
    try:
        aggregator = Aggregator.from_state(bytes(state), tree, clock=clock, tz=tz)
    except StateError as exc:
        return None, f"the newest snapshot cannot be loaded: {exc}"
    if aggregator.last_seq != last_seq:
        return None, "the newest snapshot does not hold the seq it was filed under"
    return aggregator, ""


def restore_or_rebuild(
    engine: Engine,
    tree: OrgTree,
    key: bytes,
    clock: Callable[[], float] = time.time,
    tz: dt.tzinfo = SHANGHAI,
    chunk: int = 20_000,
    on_batch: Callable[[Sequence[StoredEvent]], None] | None = None,
) -> Restored:
    """The live state: the newest usable snapshot plus the events after it, else a rebuild from all events.

    ``on_batch`` sees each batch applied after the snapshot (a cluster's bus notes their seqs).
    """
    aggregator, reason = _load_newest(engine, tree, key, fingerprint(engine, tree), clock, tz)
    from_snapshot = aggregator is not None
    if aggregator is None:
        aggregator = Aggregator(tree, clock, tz)
        aggregator.upsert_members(read_members(engine))
    start = aggregator.last_seq
    replayed = 0
    for batch in iter_stored_events(engine, chunk, after_seq=start):
        aggregator.apply(batch)
        replayed += len(batch)
        if on_batch is not None:
            on_batch(batch)
    return Restored(aggregator, from_snapshot, start if from_snapshot else 0, replayed, reason)


class SnapshotWriter:
    """A thread that snapshots the live state every ``interval_s`` when new events were counted.

    ``current`` gives the live aggregator and the fingerprint of what it was
    counted over (they change on a reload). ``write_now`` snapshots at once
    (after a reload, at a clean stop). A failed write is logged and tried again
    at the next interval; the live state is not affected.
    """

    def __init__(
        self, engine: Engine, key: bytes, current: Callable[[], tuple[Aggregator, str]], interval_s: float = DEFAULT_INTERVAL_S
    ) -> None:
        self.engine = engine
        self.key = key
        self.current = current
        self.interval_s = interval_s
        self.saved_seq = -1
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="live-snapshots", daemon=True)

    def start(self, saved_seq: int) -> SnapshotWriter:
        self.saved_seq = saved_seq
        self._thread.start()
        return self

    def write_now(self, force: bool = False) -> bool:
        """Snapshot the live state if it counted events since the last snapshot (or ``force``); True if written."""
        with self._write_lock:
            aggregator, fingerprint_ = self.current()
            if not force and aggregator.last_seq <= self.saved_seq:
                return False
            try:
                started = time.monotonic()
                self.saved_seq = save_snapshot(self.engine, aggregator, self.key, fingerprint_)
            except Exception as exc:  # the store may be away; the next interval tries again
                log.warning("live snapshot not written: %s", exc)
                return False
            log.info("live snapshot at seq %d written in %.2f s", self.saved_seq, time.monotonic() - started)
            return True

    def _run(self) -> None:
        if self.saved_seq < 0:  # rebuilt from all events: snapshot at once, so the next start need not
            self.write_now()
        while not self._stop.wait(self.interval_s):
            self.write_now()

    def close(self) -> None:
        """Stop the thread and write a last snapshot, so the next start replays nothing."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.write_now()
