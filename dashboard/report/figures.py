"""The figures of one report: the state at the end of the period and of the one before, and what
happened in each.

*State at the end* (members, completion of 三会一课 / themed days, dues, rule breaks,
transfers in flight, lost contact, structure) is the live aggregator's snapshot, driven
through the stored history to the last millisecond of the period (dashboard/live/history.py)
— exactly what a replay shows when it reaches the period's end. *Activity in the period*
(events, study points, meetings held, recruitment steps, transfers opened and closed, the
daily trend, the leaderboard and the map) is counted from the events stored with a
timestamp inside the period, in the organisation's subtree.

At the public level every count of people is masked as on the screens (a count under 5
becomes None, "<5"); a report names organisations, never members, at either level.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import Engine, text

from dashboard.access.scopes import Level, Scope, mask_count, mask_snapshot
from dashboard.live.history import HistoryState
from dashboard.report.period import Period
from dashboard.store.tree import OrgNode, OrgTree

# Children listed by name in the tables; the rest are summed up in one line.
CHILD_ROWS = 15
RECRUIT_TYPES = ("recruit_applied", "recruit_activist", "recruit_development_target", "recruit_probationary", "recruit_full")
TRANSFER_COUNTED = ("transfer_requested", "transfer_completed", "transfer_rejected")
MEETING_TYPE = "meeting_held"
# Activity counts that count people, masked at the public level.
PEOPLE_ACTIVITY = frozenset({"active_members", *RECRUIT_TYPES, *TRANSFER_COUNTED})


class ReportError(ValueError):
    """A report that cannot be made (unknown organisation, outside the scope …); one line."""


@dataclass(frozen=True)
class Activity:
    """What happened in one period in the subtree."""

    counts: dict[str, int | float | None]  # events, study_points, active_members, meetings_held, volunteer_hours, per type
    daily: list[int]  # events per local day
    by_child: dict[str, dict[str, int]]  # child code -> {"events", "study_points"}
    by_region: dict[str, int]  # province code -> events


@dataclass(frozen=True)
class Report:
    org: OrgNode
    level: Level
    period: Period
    previous: Period
    end: dict[str, Any]  # snapshot at the end of the period (masked for the level)
    previous_end: dict[str, Any]
    children: list[dict[str, Any]]  # per direct child: code, name, snapshot at the end
    activity: Activity
    previous_activity: Activity
    generated_ms: int
    tz: dt.tzinfo


def _province(region: str | None) -> str | None:
    return f"{region[:2]}0000" if region and len(region) >= 2 else None


def _read_activity(engine: Engine, org: OrgNode, tree: OrgTree, period: Period, tz: dt.tzinfo, scope: Scope) -> Activity:
    start, end = period.start_ms(tz), period.end_ms(tz)
    query = text(
        "SELECT e.ts_ms, e.type, e.member_id, e.org_id, e.data FROM events e JOIN organisations o ON o.id = e.org_id"
        " WHERE o.path LIKE :prefix AND e.ts_ms >= :start AND e.ts_ms < :end"
    )
    with engine.connect() as conn:
        prefix: str = conn.execute(text("SELECT path FROM organisations WHERE id = :id"), {"id": org.id}).scalar_one()
        frame = pd.read_sql(query, conn, params={"prefix": f"{prefix}%", "start": start, "end": end})
    valued = frame["type"].isin(["study", "volunteer"])
    data = frame.loc[valued, "data"].map(lambda d: orjson.loads(d) if d else {})
    frame["value"] = 0
    if valued.any():  # pandas refuses an empty list for an empty selection (a period without study or volunteering)
        frame.loc[valued, "value"] = [
            v if type(v) is int and v > 0 else 0
            for v in (d.get("points" if t == "study" else "hours") if isinstance(d, dict) else None
                      for d, t in zip(data, frame.loc[valued, "type"]))
        ]
    types = frame["type"].value_counts()
    counts: dict[str, int | float | None] = {
        "events": len(frame),
        "study_points": int(frame.loc[frame["type"] == "study", "value"].sum()),
        "volunteer_hours": int(frame.loc[frame["type"] == "volunteer", "value"].sum()),
        "active_members": int(frame["member_id"].dropna().nunique()),
        "meetings_held": int(types.get(MEETING_TYPE, 0)),
        "dues_payments": int(types.get("dues_paid", 0)),
    }
    counts.update({t: int(types.get(t, 0)) for t in (*RECRUIT_TYPES, *TRANSFER_COUNTED)})
    counts = {k: mask_count(v, scope) if k in PEOPLE_ACTIVITY else v for k, v in counts.items()}
    day = (frame["ts_ms"] - start) // 86_400_000  # local days: the period starts at local midnight
    per_day = day.value_counts()
    child_of = {}
    for child in tree.children.get(org.id, ()):
        for member in tree.walk(child):
            child_of[member] = tree.nodes[child].code
    frame["child"] = frame["org_id"].map(child_of)
    grouped = frame.dropna(subset=["child"]).groupby("child")
    by_child = {
        str(code): {"events": int(len(g)), "study_points": int(g.loc[g["type"] == "study", "value"].sum())}
        for code, g in grouped
    }
    region_of = {i: _province(tree.nodes[i].region_code) for i in tree.walk(org.id)}
    regions = frame["org_id"].map(region_of)
    by_region = {str(k): int(v) for k, v in regions.dropna().value_counts().items()}
    return Activity(counts, [int(per_day.get(i, 0)) for i in range(period.days)], by_child, by_region)


def _child_row(child: OrgNode, snap: dict[str, Any]) -> dict[str, Any]:
    meetings = snap["meetings"]
    return {
        "code": child.code,
        "name": child.name,
        "members": snap["members"],
        "branches": snap["branches"],
        "three_meetings": meetings["three_meetings_completion"],
        "themed_day": meetings["themed_day_completion"],
        "dues_rate": snap["dues_rate"],
        "rule_breaks": sum(snap["rule_breaks"].values()),
    }


def build_report(
    engine: Engine, tree: OrgTree, org_code: str, period: Period, tz: dt.tzinfo, level: Level, now_ms: int
) -> Report:
    """Every figure of the report of ``org_code``'s subtree for ``period``, at ``level``."""
    org = tree.get(org_code)
    if org is None:
        raise ReportError(f"unknown organisation {org_code!r}")
    scope = Scope(org.id, level)
    previous = period.previous()
    history = HistoryState(engine, tree, tz, previous.end_ms(tz) - 1)
    history.advance_to(previous.end_ms(tz) - 1)
    previous_end = history.aggregator.snapshot(org.id)
    history.advance_to(period.end_ms(tz) - 1)
    end = history.aggregator.snapshot(org.id)
    children = [
        _child_row(tree.nodes[c], mask_snapshot(history.aggregator.snapshot(c), scope)) for c in tree.children.get(org.id, ())
    ]
    return Report(
        org=org,
        level=level,
        period=period,
        previous=previous,
        end=mask_snapshot(end, scope),
        previous_end=mask_snapshot(previous_end, scope),
        children=children,
        activity=_read_activity(engine, org, tree, period, tz, scope),
        previous_activity=_read_activity(engine, org, tree, previous, tz, scope),
        generated_ms=now_ms,
        tz=tz,
    )
