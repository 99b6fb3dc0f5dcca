"""Snapshots of the live state (issue 21 item 3): snapshot + the events after it = a rebuild from every
event = the independent recomputation from the store; and a snapshot that does not fit is never used."""

from __future__ import annotations

import pickle
import random
import zlib

import pytest
from sqlalchemy import insert, update

from dashboard.demo.seed import seed_demo
from dashboard.ingest.ingestor import EventWriter
from dashboard.live.aggregator import SHANGHAI, Aggregator
from dashboard.live.aggregator.codec import StateError
from dashboard.live.aggregator.snapshot import (
    KEEP,
    SnapshotWriter,
    _sign,
    fingerprint,
    restore_or_rebuild,
    save_snapshot,
    snapshot_key,
)
from dashboard.store.engine import open_store
from dashboard.store.models import LiveSnapshot, Member
from dashboard.store.tree import OrgTree
from tests.test_aggregator import Clock, Stream, assert_matches_store, kpis, local, make_store, store_and_apply

pytestmark = pytest.mark.unit

KEY = snapshot_key(b"k" * 32)


def assert_same_state(a: Aggregator, b: Aggregator, tree: OrgTree) -> None:
    for org_id in tree.nodes:
        assert kpis(a.snapshot(org_id)) == kpis(b.snapshot(org_id)), tree.nodes[org_id].code
    assert a.last_seq == b.last_seq


def test_snapshot_plus_tail_equals_rebuild_equals_recomputation_across_midnight_and_month_end(tmp_path) -> None:
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 3, 31, 23, 40))  # the tail crosses local midnight, a month and a quarter end
    live = Aggregator.rebuild(engine, tree, clock=clock)
    stream = Stream(random.Random(5))
    for _ in range(30):
        clock.advance(12)
        store_and_apply(engine, live, stream.batch(300, int(clock.now * 1000)))
    snapped_at = save_snapshot(engine, live, KEY, fingerprint(engine, tree))
    assert snapped_at == live.last_seq == 9000
    for _ in range(80):  # 16 more minutes: past midnight
        clock.advance(12)
        store_and_apply(engine, live, stream.batch(300, int(clock.now * 1000)))

    restored = restore_or_rebuild(engine, tree, KEY, clock=clock)
    assert restored.from_snapshot, restored.reason
    assert restored.snapshot_seq == 9000 and restored.replayed == 80 * 300
    rebuilt = Aggregator.rebuild(engine, tree, clock=clock)
    assert_same_state(restored.aggregator, rebuilt, tree)
    assert_same_state(restored.aggregator, live, tree)
    assert_matches_store(engine, restored.aggregator, tree, clock.now)

    clock.advance(2 * 86_400)  # a start two days later: the restored state rolls its days like a rebuild
    later = restore_or_rebuild(engine, tree, KEY, clock=clock)
    assert later.from_snapshot
    assert_same_state(later.aggregator, Aggregator.rebuild(engine, tree, clock=clock), tree)
    assert_matches_store(engine, later.aggregator, tree, clock.now)


def test_a_snapshot_of_another_roll_is_not_used(tmp_path) -> None:
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 3, 10, 10))
    live = Aggregator.rebuild(engine, tree, clock=clock)
    store_and_apply(engine, live, Stream(random.Random(1)).batch(500, int(clock.now * 1000)))
    save_snapshot(engine, live, KEY, fingerprint(engine, tree))
    with engine.begin() as conn:
        conn.execute(insert(Member).values(id=61, code="M061", name="新成员", org_id=4, stage="activist", gender="F",
                                           ethnicity="han", birth_year=1990, education="college", occupation="worker"))  # fmt: skip
    restored = restore_or_rebuild(engine, tree, KEY, clock=clock)
    assert not restored.from_snapshot and "another tree, roll or code" in restored.reason
    assert_matches_store(engine, restored.aggregator, tree, clock.now)


@pytest.mark.parametrize("edit", ["UPDATE members SET stage = 'probationary' WHERE id = (SELECT min(id) FROM members WHERE stage = 'full')",
                                  "UPDATE members SET org_id = 5 WHERE id = (SELECT min(id) FROM members WHERE org_id = 4)",
                                  "UPDATE members SET post = 'secretary' WHERE id = (SELECT max(id) FROM members WHERE post IS NULL)"])
def test_a_snapshot_of_an_edited_roll_is_not_used(tmp_path, edit: str) -> None:
    """A member's counted field edited behind the server's back (plain SQL, same roll size): a full rebuild, equal to the store."""
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 3, 10, 10))
    live = Aggregator.rebuild(engine, tree, clock=clock)
    store_and_apply(engine, live, Stream(random.Random(2)).batch(500, int(clock.now * 1000)))
    save_snapshot(engine, live, KEY, fingerprint(engine, tree))
    assert restore_or_rebuild(engine, tree, KEY, clock=clock).from_snapshot, "usable before the edit"
    with engine.begin() as conn:
        assert conn.exec_driver_sql(edit).rowcount == 1
    restored = restore_or_rebuild(engine, tree, KEY, clock=clock)
    assert not restored.from_snapshot and "another tree, roll or code" in restored.reason
    assert_matches_store(engine, restored.aggregator, tree, clock.now)
    assert_same_state(restored.aggregator, Aggregator.rebuild(engine, tree, clock=clock), tree)


def test_the_servers_own_transfer_moves_keep_the_snapshot_usable(tmp_path) -> None:
    """A completed transfer moves the member in the same transaction as its event: replayed after the snapshot, not an edit."""
    engine, tree = make_store(tmp_path)
    before = fingerprint(engine, tree)
    with engine.begin() as conn:
        member, org = conn.exec_driver_sql("SELECT id, org_id FROM members ORDER BY id LIMIT 1").one()
        EventWriter._move(conn, [{"member": member, "org": 5 if org != 5 else 4}])
    assert fingerprint(engine, tree) == before
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE members SET org_id = ? WHERE id = ?", (org, member))
    assert fingerprint(engine, tree) != before, "the same move by anyone else is an edit"


def test_an_altered_or_foreign_snapshot_is_not_loaded(tmp_path) -> None:
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 3, 10, 10))
    live = Aggregator.rebuild(engine, tree, clock=clock)
    store_and_apply(engine, live, Stream(random.Random(2)).batch(500, int(clock.now * 1000)))
    save_snapshot(engine, live, KEY, fingerprint(engine, tree))

    assert not restore_or_rebuild(engine, tree, snapshot_key(b"another key....................."), clock=clock).from_snapshot
    with engine.begin() as conn:  # a state altered in the database: its signature no longer holds
        conn.execute(update(LiveSnapshot).values(last_seq=LiveSnapshot.last_seq - 1))
    restored = restore_or_rebuild(engine, tree, KEY, clock=clock)
    assert not restored.from_snapshot and "signature" in restored.reason
    assert_matches_store(engine, restored.aggregator, tree, clock.now)


class _Payload:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (print, ("this must never run",))


def test_a_blob_naming_anything_but_a_live_state_is_refused_even_when_signed(tmp_path) -> None:
    engine, tree = make_store(tmp_path)
    with pytest.raises(StateError, match="builtins.print"):
        Aggregator.from_state(zlib.compress(pickle.dumps({"x": _Payload()})), tree)
    with pytest.raises(StateError, match="cannot be read"):
        Aggregator.from_state(b"not a snapshot", tree)
    blob, fp = zlib.compress(pickle.dumps({"x": _Payload()})), fingerprint(engine, tree)
    with engine.begin() as conn:
        conn.execute(insert(LiveSnapshot).values(taken_at=__import__("datetime").datetime.now(), last_seq=0, format=1,
                                                 fingerprint=fp, signature=_sign(KEY, fp, 0, blob), state=blob))  # fmt: skip
    restored = restore_or_rebuild(engine, tree, KEY)
    assert not restored.from_snapshot and "cannot be loaded" in restored.reason


def test_the_writer_snapshots_when_events_came_keeps_the_newest_and_writes_at_close(tmp_path) -> None:
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 3, 10, 10))
    live = Aggregator.rebuild(engine, tree, clock=clock, tz=SHANGHAI)
    stream = Stream(random.Random(3))
    writer = SnapshotWriter(engine, KEY, lambda: (live, fingerprint(engine, tree)), interval_s=3600)
    writer.saved_seq = 0
    assert not writer.write_now(), "nothing new: no snapshot"
    for _ in range(KEEP + 2):
        store_and_apply(engine, live, stream.batch(100, int(clock.now * 1000)))
        assert writer.write_now()
    with engine.connect() as conn:
        seqs = conn.execute(LiveSnapshot.__table__.select().with_only_columns(LiveSnapshot.last_seq)).scalars().all()
    assert sorted(seqs) == [100 * (KEEP + 1), 100 * (KEEP + 2)][-KEEP:]
    store_and_apply(engine, live, stream.batch(100, int(clock.now * 1000)))
    writer.start(saved_seq=writer.saved_seq)
    writer.close()
    assert writer.saved_seq == live.last_seq
    restored = restore_or_rebuild(engine, tree, KEY, clock=clock)
    assert restored.from_snapshot and restored.replayed == 0


@pytest.mark.services
def test_the_roster_edit_counter_on_postgresql(postgres_url: str) -> None:
    """The same triggers on PostgreSQL (statement-level): an edit moves the fingerprint, the server's own move does not."""
    engine = open_store(postgres_url)
    seed_demo(engine, members=300, seed=3)
    tree = OrgTree.load(engine)
    before = fingerprint(engine, tree)
    with engine.begin() as conn:
        member, org = conn.exec_driver_sql("SELECT id, org_id FROM members ORDER BY id LIMIT 1").one()
        other = conn.exec_driver_sql("SELECT min(org_id) FROM members WHERE org_id <> %s", (org,)).scalar_one()
        EventWriter._move(conn, [{"member": member, "org": other}])
    assert fingerprint(engine, tree) == before
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE members SET stage = 'probationary' WHERE id = %s", (member,))
    assert fingerprint(engine, tree) != before
    engine.dispose()
