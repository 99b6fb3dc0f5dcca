"""``python -m dashboard seed``: generate the demo organisation and store it.

The organisation is generated whole in memory with numpy (demo_shape,
demo_members, demo_links), deterministic for a given size and seed, then
written in one transaction through the driver's bulk path (bulk_write). A
replacement (``force``) deletes the old organisation in the same transaction,
so a failed or interrupted seed leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine
from tqdm import tqdm

from dashboard.demo.geo import region_shapes
from dashboard.demo.history import DEFAULT_DENSITY, HistoryPlan, HistoryRefused, check_days, history_rows
from dashboard.demo.links import MemberGroups, member_groups, partnerships
from dashboard.demo.members import MemberTable, draw_members
from dashboard.demo.shape import OrgTable, build_tree
from dashboard.demo.simulator import SHANGHAI
from dashboard.demo.stats import load_statistics
from dashboard.ingest.ingestor import EVENT_COLUMNS
from dashboard.store import bulk as bulk_write
from dashboard.store.engine import event_count, org_count
from dashboard.store.models import MemberStage, OrgKind

MEMBER_ROWS_PER_BATCH = 50_000


class SeedRefused(Exception):
    """The seed will not run; the message is one line for the terminal."""


@dataclass
class DemoOrganisation:
    orgs: OrgTable
    members: MemberTable
    links: list[tuple]
    groups: MemberGroups

    @property
    def rows(self) -> int:
        return len(self.orgs) + len(self.members) + len(self.links) + len(self.groups.rows) + len(
            self.groups.memberships
        )


def generate_demo(members: int, seed: int, as_of: dt.date | None = None) -> DemoOrganisation:
    """The demo organisation of ``members`` party members as it stands on ``as_of`` (default today).

    Same arguments, same organisation; without ``as_of`` that means on the same day
    (birth years and joining dates are counted back from it).
    """
    stats = load_statistics().as_of(as_of or dt.date.today())
    minimum = stats.min_full_members_per_branch
    if members < minimum:
        raise SeedRefused(f"a demo organisation needs at least {minimum} members (a branch needs {minimum} full members)")
    rng = np.random.default_rng(seed)
    orgs = build_tree(rng, members, stats, region_shapes())
    people = draw_members(rng, orgs, stats)
    return DemoOrganisation(orgs, people, partnerships(rng, orgs), member_groups(rng, orgs, people))


def seed_demo(
    engine: Engine,
    members: int,
    seed: int = 1,
    force: bool = False,
    progress: bool = False,
    history_days: int = 0,
    now: float | None = None,
    density: float = DEFAULT_DENSITY,
    detail_days: int | None = None,
) -> dict[str, Any]:
    """Store a generated demo organisation of ``members`` members, with ``history_days`` of past
    events up to ``now`` (default: the clock; ``detail_days``: see HistoryPlan); return a JSON-able summary.

    Refuses (SeedRefused) when the database already holds organisations, or
    events and a history is asked for, unless ``force``, which replaces them
    together with their members, events, links, member groups and
    organisation-scoped tokens. Nothing is written when it refuses.
    """
    started = time.perf_counter()
    try:
        check_days(history_days)
    except HistoryRefused as exc:
        raise SeedRefused(str(exc)) from None
    existing = org_count(engine)
    if existing and not force:
        raise SeedRefused(f"database already holds {existing} organisations; use --force to replace them")
    events = event_count(engine) if history_days else 0
    if events and not force:
        raise SeedRefused(f"database already holds {events} events; a history needs an empty log (use --force to replace them)")
    now = time.time() if now is None else now
    demo = generate_demo(members, seed, as_of=dt.datetime.fromtimestamp(now, SHANGHAI).date())
    plan = (
        HistoryPlan(demo.orgs, demo.members, days=history_days, seed=seed, now=now, density=density, detail_days=detail_days)
        if history_days
        else None
    )
    with (
        tqdm(total=demo.rows, desc="seeding", unit="row", unit_scale=True, file=sys.stderr, disable=not progress) as bar,
        bulk_write.bulk_writer(engine) as writer,
    ):
        deleted = writer.clear_demo() if existing or events else {}
        _write_all(writer, demo, bar.update)
        written = _write_history(writer, plan, bar) if plan else {}
        writer.commit()
    summary = _summary(demo, members, seed, deleted, time.perf_counter() - started)
    return {**summary, "history_days": history_days, "history_events": sum(written.values()), "history": written}


def _write_history(writer: bulk_write.BulkWriter, plan: HistoryPlan, bar: tqdm) -> dict[str, int]:
    """The past, a day at a time in time order; returns events written per type."""
    written: dict[str, int] = {}
    for rows in history_rows(plan):
        writer.write("events", EVENT_COLUMNS, rows)
        types, counts = np.unique(rows[:, 2].astype(str), return_counts=True)
        for etype, count in zip(types.tolist(), counts.tolist(), strict=True):
            written[etype] = written.get(etype, 0) + count
        bar.update(len(rows))
    return dict(sorted(written.items()))


def _write_all(writer: bulk_write.BulkWriter, demo: DemoOrganisation, advance: Callable[[int], object]) -> None:
    writer.write("organisations", bulk_write.ORG_COLUMNS, demo.orgs.rows())
    advance(len(demo.orgs))
    for start in range(0, len(demo.members), MEMBER_ROWS_PER_BATCH):
        stop = min(start + MEMBER_ROWS_PER_BATCH, len(demo.members))
        writer.write("members", bulk_write.MEMBER_COLUMNS, demo.members.block(start, stop))
        advance(stop - start)
    writer.write("org_links", bulk_write.LINK_COLUMNS, demo.links)
    writer.write("member_groups", bulk_write.MEMBER_GROUP_COLUMNS, demo.groups.rows)
    writer.write("member_group_members", bulk_write.MEMBER_GROUP_MEMBER_COLUMNS, demo.groups.memberships)
    advance(len(demo.links) + len(demo.groups.rows) + len(demo.groups.memberships))


def _summary(demo: DemoOrganisation, members: int, seed: int, deleted: dict[str, int], seconds: float) -> dict[str, Any]:
    orgs, people = demo.orgs, demo.members
    return {
        "members": members,
        "probationary": people.count(MemberStage.probationary),
        "applicants": people.count(MemberStage.applicant),
        "activists": people.count(MemberStage.activist),
        "development_targets": people.count(MemberStage.development_target),
        "organisations": len(orgs),
        "committees": orgs.count(OrgKind.committee),
        "general_branches": orgs.count(OrgKind.general_branch),
        "branches": orgs.count(OrgKind.branch),
        "party_groups": orgs.count(OrgKind.group),
        "links": len(demo.links),
        "groups": len(demo.groups.rows),
        "group_memberships": len(demo.groups.memberships),
        "adjusted_join_dates": people.adjusted_join_dates,
        "replaced": deleted,
        "seed": seed,
        "seconds": round(seconds, 2),
    }
