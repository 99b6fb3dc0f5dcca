"""The per-day series behind the KPI tiles' trends are counts of people at the public level too."""

from __future__ import annotations

from dashboard.access.scopes import Scope, mask_snapshot


def test_daily_series_are_masked_at_the_public_level_and_exact_at_the_full_level() -> None:
    snapshot = {"daily": {"active": [3, 12, 0, 47], "joined": [1, 0, 6, 5]}, "events_daily": [3, 12, 0, 47]}
    public = mask_snapshot(snapshot, Scope(1, "public"))
    assert public["daily"] == {"active": [None, 10, None, 50], "joined": [None, None, 10, 10]}
    assert public["events_daily"] == [3, 12, 0, 47]  # events, not people
    assert mask_snapshot(snapshot, Scope(1, "full")) == snapshot
