"""The aggregator's list of open transfers, which the map draws as flying lines."""

from __future__ import annotations

from dashboard.live.aggregator import Aggregator
from dashboard.live.aggregator.transfers import TransferInFlight
from tests.test_aggregator import Clock, event, local, make_store, store_and_apply


def test_open_transfers_are_listed_with_their_ends_until_closed(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 6, 10, 12, 0))
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    version, open_now = aggregator.transfers_in_flight()
    assert open_now == ()

    aggregator.apply([
        event(1, "transfer_requested", clock.now, org=4, member=4, transfer="T1", from_org="B1", to_org="B3"),
        event(2, "transfer_requested", clock.now, org=5, member=5, transfer="T2", from_org="B2", to_org="NOWHERE"),
    ])
    opened_ms = round(clock.now * 1000)
    v1, open_now = aggregator.transfers_in_flight()
    assert v1 != version
    # An end not in the tree is taken as the event's organisation, as the counters do.
    assert open_now == (TransferInFlight("T1", 4, 6, opened_ms, False), TransferInFlight("T2", 5, 5, opened_ms, False))

    aggregator.apply([event(3, "transfer_approved", clock.now, org=4, member=4, transfer="T1", from_org="B1", to_org="B3")])
    assert aggregator.transfers_in_flight()[0] == v1  # a step that neither opens nor closes changes nothing

    clock.advance(31 * 86_400)
    v2, open_now = aggregator.transfers_in_flight()
    assert v2 != v1 and [t.overdue for t in open_now] == [True, True]

    aggregator.apply([
        event(4, "transfer_completed", clock.now, org=6, member=4, transfer="T1", from_org="B1", to_org="B3"),
        event(5, "transfer_rejected", clock.now, org=5, member=5, transfer="T2", from_org="B2", to_org="NOWHERE"),
    ])
    v3, open_now = aggregator.transfers_in_flight()
    assert v3 != v2 and open_now == ()
    assert aggregator.snapshot(1)["transfers"] == {"in_flight": 0, "overdue": 0}


def test_rebuild_from_the_store_lists_the_same_open_transfers(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 6, 10, 12, 0))
    live = Aggregator.rebuild(engine, tree, clock=clock)
    store_and_apply(engine, live, [
        event(1, "transfer_requested", clock.now, org=4, member=4, transfer="T1", from_org="B1", to_org="B3"),
        event(2, "transfer_requested", clock.now, org=7, member=6, transfer="T2", from_org="B4", to_org="B2"),
        event(3, "transfer_completed", clock.now, org=6, member=4, transfer="T1", from_org="B1", to_org="B3"),
    ])
    rebuilt = Aggregator.rebuild(engine, tree, clock=clock)
    assert rebuilt.transfers_in_flight()[1] == live.transfers_in_flight()[1]
    assert [t.transfer for t in rebuilt.transfers_in_flight()[1]] == ["T2"]
