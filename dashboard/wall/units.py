"""The figures of a scope's direct sub-units, for the wall's spotlight and the tablet's cards.

One compact row per child organisation of the scope's root (the top-level
units of a wall: provinces under the demo committee, branches under a general
branch), in ``UNIT_FIELDS`` order, keyed by organisation code. The same rows
feed the page's first render (``unit_rows``) and the ``units`` frame section,
which sends them again only when they change. At the public level each row is
read from the masked snapshot (``mask_snapshot``): its counts of people and its
dues rate are the public API's, to the digit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dashboard.access.scopes import Scope, mask_snapshot
from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import Aggregator
from dashboard.store.tree import OrgTree

UNIT_FIELDS: tuple[str, ...] = (
    "members",
    "active_today",
    "events_today",
    "study_points_today",
    "three_meetings",
    "themed_day",
    "dues_rate",
    "branches",
    "few_members",
    "no_secretary",
    "no_meeting",
    "transfers_overdue",
)
# The fields that count people (a transfer is one member's); the dues rate is a share of them.
PEOPLE_FIELDS = frozenset({"members", "active_today", "transfers_overdue"})
# A wall shows at most this many units (the first in code order); a tablet pages through its children.
MAX_UNITS = 60


def unit_row(snap: dict[str, Any], scope: Scope) -> list[float | int | None]:
    """The ``UNIT_FIELDS`` of one organisation's snapshot as ``scope`` may see it (``mask_snapshot``)."""
    snap = mask_snapshot(snap, scope)
    meetings, breaks = snap["meetings"], snap["rule_breaks"]
    values = {
        "members": snap["members"],
        "active_today": snap["active_today"],
        "events_today": snap["events_today"],
        "study_points_today": snap["study_points_today"],
        "three_meetings": meetings["three_meetings_completion"],
        "themed_day": meetings["themed_day_completion"],
        "dues_rate": snap["dues_rate"],
        "branches": snap["branches"],
        "few_members": breaks["few_members"],
        "no_secretary": breaks["no_secretary"],
        "no_meeting": breaks["no_meeting"],
        "transfers_overdue": snap["transfers"]["overdue"],
    }
    return [values[f] for f in UNIT_FIELDS]


def unit_codes(tree: OrgTree, org_id: int, limit: int = MAX_UNITS) -> list[str]:
    """Codes of the direct children of ``org_id`` (at most ``limit``, in code order)."""
    kids = sorted((tree.nodes[c] for c in tree.children.get(org_id, ())), key=lambda n: n.code)
    return [n.code for n in kids[:limit]]


def unit_rows(tree: OrgTree, aggregator: Aggregator, org_ids: Sequence[int], scope: Scope) -> dict[str, list[float | int | None]]:
    """``unit_row`` of each organisation in ``org_ids``, keyed by code."""
    return {tree.nodes[i].code: unit_row(aggregator.snapshot(i), scope) for i in org_ids}


class UnitsSection:
    """Frame section ``units``: the rows of the scope root's children, recomputed when one of them changed."""

    key = "units"

    def __init__(self, state: Callable[[], tuple[OrgTree, Aggregator]]) -> None:
        self._state = state  # asked at each tick: a reload swaps the runtime's tree and aggregator

    def compute(self, scope: Scope, changed_orgs: set[int], recent: Sequence[StoredEvent]) -> dict[str, Any] | None:
        # Every changed organisation marks its ancestors, so a changed child shows as a changed scope root;
        # an empty set is the first frame of a channel (or a quiet tick, where recomputing is cheap and unsent).
        if changed_orgs and scope.org_id not in changed_orgs:
            return None
        tree, aggregator = self._state()
        if scope.org_id not in tree:
            return None
        codes = unit_codes(tree, scope.org_id)
        return unit_rows(tree, aggregator, [tree.by_code[c] for c in codes], scope)
