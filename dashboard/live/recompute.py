"""The KPIs of a subtree recomputed from the store, from scratch — the check on
the live aggregator.

Written independently of dashboard/live/aggregator: it reads the organisations
(subtrees by their materialised ``path``), the members table and the whole
event log with pandas, derives each member's current state from the log
(last recruitment step wins, last completed transfer wins) and counts. Only
the definitions in dashboard/live/aggregator/spec.py are shared. Slow by design
(it reads everything): for tests, audits and the crash-recovery check, never
for screens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Engine

from dashboard.domain.events import MeetingKind
from dashboard.live.aggregator.spec import (
    ACTIVE_WINDOW_MINUTES,
    AGE_BANDS,
    BRANCH_KIND,
    DAILY_FLOW_TYPES,
    FEW_MEMBERS_BELOW,
    GENDERS,
    GROUP_KIND,
    GROUP_MEETING,
    HAN_VALUES,
    LOST_CONTACT_DAYS,
    MONTHLY_MEETINGS,
    PARTY_STAGES,
    PIPELINE_STAGES,
    QUARTERLY_MEETINGS,
    RATE_WINDOW_SECONDS,
    RECRUIT_STAGE,
    SECRETARY_POST,
    THEMED_DAY,
    THREE_MEETING_KINDS,
    TOP_STUDY_LIMIT,
    TRANSFER_CLOSING_TYPES,
    TRANSFER_OVERDUE_DAYS,
    TRANSFER_TYPES,
    TREND_DAYS,
    TREND_MINUTES,
    fraction,
)
from dashboard.store.tree import OrgTree

DAY_MS = 86_400_000


def _ms(stamp: pd.Timestamp) -> int:
    return int(stamp.timestamp() * 1000)


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _under(paths: pd.Series, prefix: str) -> pd.Series:
    """Which of ``paths`` (NaN for none) lie in the subtree whose path is ``prefix``."""
    return paths.fillna("").astype(str).str.startswith(prefix)


def _points(value: object) -> int:
    return value if type(value) is int and value > 0 else 0


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class _Bounds:
    now_ms: int
    today_ms: int
    month_ms: int
    prev_month_ms: int
    quarter_ms: int
    lost_before_ms: int
    month_text: str
    year: int

    @classmethod
    def at(cls, now: float, tz: dt.tzinfo) -> _Bounds:
        local = pd.Timestamp(now, unit="s", tz="UTC").tz_convert(tz)
        today = local.date()
        first = today.replace(day=1)
        prev_first = (pd.Timestamp(first) - pd.DateOffset(months=1)).date()
        quarter_first = first.replace(month=3 * ((first.month - 1) // 3) + 1)

        def midnight(day: dt.date) -> int:
            return _ms(pd.Timestamp(day).tz_localize(tz))

        return cls(
            now_ms=int(now * 1000),
            today_ms=midnight(today),
            month_ms=midnight(first),
            prev_month_ms=midnight(prev_first),
            quarter_ms=midnight(quarter_first),
            lost_before_ms=midnight(today - dt.timedelta(days=LOST_CONTACT_DAYS - 1)),
            month_text=f"{today.year:04d}-{today.month:02d}",
            year=today.year,
        )


class StoreState:
    """Everything read once; ``snapshot(org_id)`` then counts one subtree."""

    def __init__(
        self, orgs: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame, now: float, tz: dt.tzinfo, as_of: bool = False
    ):
        self.bounds = b = _Bounds.at(now, tz)
        self.orgs = orgs.set_index("id", drop=False)
        self._code_to_id = dict(zip(orgs["code"], orgs["id"]))
        self._categories = {dim: sorted(members[dim].astype(str).unique()) for dim in ("education", "occupation")}
        if as_of:
            # The record as it stood at ``now``, read in time order (a replay, a report): nothing
            # after ``now`` exists yet, and the system started with the earliest event.
            events = events[events["ts_ms"] <= b.now_ms].sort_values(["ts_ms", "seq"], kind="stable")
        # The system started with the first stored event (lowest seq), wherever it happened.
        self.started_ms = min(int(events["ts_ms"].iloc[0]), b.now_ms) if len(events) else None
        events = events[events["org_id"].isin(self.orgs.index)].copy()
        events["eff"] = events["ts_ms"].clip(upper=b.now_ms)
        events["local_date"] = pd.to_datetime(events["eff"], unit="ms", utc=True).dt.tz_convert(tz).dt.date
        self.events = events
        today = pd.Timestamp(now, unit="s", tz="UTC").tz_convert(tz).date()
        self._last_days = [today - dt.timedelta(days=d) for d in range(TREND_DAYS - 1, -1, -1)]
        self.members = self._current_members(members, events, tz)
        self._member_days = self._active_member_days(events)
        self._branch_path = self._nearest_branch_paths()
        self.transfers = self._transfers(events)
        self.branch_flags = self._branch_flags()

    @classmethod
    def load(cls, engine: Engine, now: float, tz: dt.tzinfo, as_of: bool = False) -> StoreState:
        """Read the store; ``as_of``: only the events up to ``now``, as a replay to ``now`` applies them."""
        with engine.connect() as conn:
            orgs = pd.read_sql("SELECT id, code, name, kind, parent_id, path FROM organisations", conn)
            members = pd.read_sql(
                "SELECT id, org_id, stage, gender, ethnicity, birth_year, education, occupation, post, join_date FROM members",
                conn,
            )
            events = pd.read_sql("SELECT seq, type, ts_ms, org_id, member_id, data FROM events ORDER BY seq", conn)
        events["data"] = events["data"].map(_json)
        return cls(orgs, members, events, now, tz, as_of)

    # ---------------------------------------------------------------- derived state

    def _current_members(self, members: pd.DataFrame, events: pd.DataFrame, tz: dt.tzinfo) -> pd.DataFrame:
        b = self.bounds
        m = members.set_index("id", drop=False).copy()
        m["org_id"] = m["org_id"].where(m["org_id"].isin(self.orgs.index))
        mine = events[events["member_id"].isin(m.index)]
        steps = mine[mine["type"].isin(list(RECRUIT_STAGE))].drop_duplicates("member_id", keep="last")
        m.loc[steps["member_id"].astype("int64"), "stage"] = steps["type"].map(RECRUIT_STAGE).to_numpy()
        completed = mine[mine["type"] == "transfer_completed"].copy()
        completed["to_code"] = completed["data"].map(lambda d: _text(d.get("to_org")))
        completed = completed.dropna(subset=["to_code"]).drop_duplicates("member_id", keep="last")
        m.loc[completed["member_id"].astype("int64"), "org_id"] = completed["to_code"].map(self._code_to_id).to_numpy()
        m["last_ms"] = mine.groupby("member_id")["eff"].max().reindex(m.index).fillna(0).astype("int64")
        dues = mine[mine["type"] == "dues_paid"]
        paid = dues.loc[dues["data"].map(lambda d: d.get("month") == b.month_text).astype(bool), "member_id"].unique()
        m["dues_paid"] = m.index.isin(paid)
        m["party"] = m["stage"].isin(PARTY_STAGES)
        joined = pd.to_datetime(m["join_date"]).dt.tz_localize(tz)
        join_ms = joined.map(lambda t: 0 if pd.isna(t) else _ms(t)).astype("int64")
        if self.started_ms is None:
            m["lost"] = False
        else:
            latest = np.maximum(np.maximum(m["last_ms"], join_ms), self.started_ms)
            m["lost"] = m["party"] & (latest < b.lost_before_ms)
        m["active_today"] = m["party"] & (m["last_ms"] >= b.today_ms)
        now_minute = b.now_ms // 60_000
        m["active_15m"] = m["party"] & (m["last_ms"] > 0) & (m["last_ms"] // 60_000 > now_minute - ACTIVE_WINDOW_MINUTES)
        edges = [-np.inf] + [high for _, _, high in AGE_BANDS[:-1]] + [np.inf]
        m["age_band"] = pd.cut(b.year - m["birth_year"], bins=edges, right=True, labels=[label for label, _, _ in AGE_BANDS])
        m["han"] = m["ethnicity"].isin(HAN_VALUES)
        m["path"] = m["org_id"].map(self.orgs["path"])
        return m[m["path"].notna()]

    def _active_member_days(self, events: pd.DataFrame) -> pd.DataFrame:
        """(member, local day) once for each day a party member on the roll had an event, with their current path."""
        party = self.members[self.members["party"]]
        mine = events[events["member_id"].isin(party.index)]
        pairs = mine[["member_id", "local_date"]].drop_duplicates()
        return pairs.assign(path=pairs["member_id"].map(party["path"]).to_numpy())

    def _nearest_branch_paths(self) -> dict[int, str | None]:
        """Each organisation's nearest branch (itself included) by walking up the parents: its path, or None."""
        kind, parent, path = self.orgs["kind"].to_dict(), self.orgs["parent_id"].to_dict(), self.orgs["path"].to_dict()
        found: dict[int, str | None] = {}
        for org in self.orgs.index:
            at: Any = org
            while at in kind and kind[at] != BRANCH_KIND:
                at = parent[at]
            found[org] = path[at] if at in kind else None
        return found

    def _daily(self, ev: pd.DataFrame, path: str) -> dict[str, list[int]]:
        """The ``daily`` series of the subtree at ``path``, whose events are ``ev``."""
        days = self._last_days

        def per_day(frame: pd.DataFrame, weights: pd.Series | None = None) -> list[int]:
            sums = (weights if weights is not None else pd.Series(1, index=frame.index)).groupby(frame["local_date"]).sum()
            return [int(sums.get(day, 0)) for day in days]

        def distinct(frame: pd.DataFrame, key: str) -> list[int]:
            found = frame.groupby("local_date")[key].nunique()
            return [int(found.get(day, 0)) for day in days]

        study = ev[ev["type"] == "study"]
        held = ev[ev["type"] == "meeting_held"]
        kinds = held["data"].map(lambda d: d.get("kind"))
        out = {
            "study_points": per_day(study, study["data"].map(lambda d: _points(d.get("points")))),
            "meetings": per_day(held[kinds.isin(list(THREE_MEETING_KINDS))]),
            "themed_days": per_day(held[kinds == THEMED_DAY]),
        }
        for kind, name in DAILY_FLOW_TYPES.items():
            out[name] = per_day(ev[ev["type"] == kind])
        members = self._member_days[_under(self._member_days["path"], path)]
        out["active"] = distinct(members, "member_id")
        out["active_orgs"] = distinct(ev, "org_id")
        branches = ev.assign(branch=ev["org_id"].map(self._branch_path)).dropna(subset=["branch"])
        branches = branches[_under(branches["branch"], path)]
        out["active_branches"] = distinct(branches, "branch")
        return out

    def _transfers(self, events: pd.DataFrame) -> pd.DataFrame:
        t = events[events["type"].isin(list(TRANSFER_TYPES))].copy()
        t["transfer"] = t["data"].map(lambda d: _text(d.get("transfer")))
        t = t.dropna(subset=["transfer"])
        closed = set(t.loc[t["type"].isin(list(TRANSFER_CLOSING_TYPES)), "transfer"])
        first = t.drop_duplicates("transfer", keep="first")
        first = first[~first["transfer"].isin(closed)]

        def end(row: pd.Series, key: str) -> int:
            return self._code_to_id.get(_text(row["data"].get(key)), row["org_id"])

        return pd.DataFrame(
            {
                "from_path": [self.orgs.at[end(r, "from_org"), "path"] for _, r in first.iterrows()],
                "to_path": [self.orgs.at[end(r, "to_org"), "path"] for _, r in first.iterrows()],
                "overdue": (first["eff"] < self.bounds.now_ms - TRANSFER_OVERDUE_DAYS * DAY_MS).to_numpy(),
            }
        )

    def _branch_flags(self) -> pd.DataFrame:
        """One row per branch: its rule and completion flags."""
        b = self.bounds
        branches = self.orgs[self.orgs["kind"] == BRANCH_KIND]
        held = self.events[self.events["type"] == "meeting_held"].copy()
        held["kind"] = held["data"].map(lambda d: d.get("kind"))
        held = held[held["kind"].isin([k.value for k in MeetingKind])]
        held["path"] = held["org_id"].map(self.orgs["path"])
        group_paths = self.orgs.loc[self.orgs["kind"] == GROUP_KIND, "path"]
        rows = []
        for path in branches["path"]:
            has_groups = bool(_under(group_paths, path).any())
            inside = held[_under(held["path"], path)]
            latest = inside.groupby("kind")["eff"].max()

            def since(kind: str, start: int, latest: pd.Series = latest) -> bool:
                return bool(latest.get(kind, 0) >= start)

            people = self.members[_under(self.members["path"], path)]
            full = int((people["stage"] == "full").sum())
            secretaries = int((people["party"] & (people["post"] == SECRETARY_POST)).sum())
            rows.append(
                {
                    "path": path,
                    "three": all(since(k, b.month_ms) for k in MONTHLY_MEETINGS if k != GROUP_MEETING or has_groups)
                    and all(since(k, b.quarter_ms) for k in QUARTERLY_MEETINGS),
                    "themed": since(THEMED_DAY, b.month_ms),
                    "few": full < FEW_MEMBERS_BELOW,
                    "no_secretary": secretaries == 0,
                    "no_meeting": not (len(inside) and inside["eff"].max() >= b.prev_month_ms),
                }
            )
        return pd.DataFrame(rows, columns=["path", "three", "themed", "few", "no_secretary", "no_meeting"])

    # ---------------------------------------------------------------- one subtree

    def snapshot(self, org_id: int) -> dict[str, Any]:
        b = self.bounds
        org = self.orgs.loc[org_id]
        path = org["path"]
        orgs = self.orgs[_under(self.orgs["path"], path)]
        ev = self.events[self.events["org_id"].isin(orgs.index)]
        people = self.members[_under(self.members["path"], path)]
        party = people[people["party"]]
        branches = self.branch_flags[_under(self.branch_flags["path"], path)]
        transfers = self.transfers[_under(self.transfers["from_path"], path) | _under(self.transfers["to_path"], path)]

        today = ev[ev["eff"] >= b.today_ms]
        study_today = today[today["type"] == "study"]["data"].map(lambda d: _points(d.get("points")))
        minute_now = b.now_ms // 60_000
        per_minute = (ev["eff"] // 60_000).value_counts()
        per_day = ev["local_date"].value_counts()
        stages = people["stage"].value_counts()
        pipeline = {s: int(stages.get(s, 0)) for s in PIPELINE_STAGES}
        pipeline["applicant"] += int(((ev["type"] == "recruit_applied") & ev["member_id"].isna()).sum())
        full, probationary = pipeline["full"], pipeline["probationary"]
        n_branches = len(branches)

        def counts(column: str, values: list[str]) -> dict[str, int]:
            found = party[column].astype(str).value_counts()
            return {v: int(found.get(v, 0)) for v in values}

        return {
            "org": org["code"],
            "name": org["name"],
            "kind": org["kind"],
            "members": full + probationary,
            "full_members": full,
            "probationary": probationary,
            "organisations": len(orgs),
            "branches": n_branches,
            "events_total": len(ev),
            "events_today": len(today),
            "active_today": int(party["active_today"].sum()),
            "active_15m": int(party["active_15m"].sum()),
            "events_per_min": int((ev["eff"] // 1000 > b.now_ms // 1000 - RATE_WINDOW_SECONDS).sum()),
            "events_trend": [int(per_minute.get(m, 0)) for m in range(minute_now - TREND_MINUTES + 1, minute_now + 1)],
            "events_daily": [int(per_day.get(day, 0)) for day in self._last_days],
            "daily": self._daily(ev, path),
            "study_points_today": int(study_today.sum()),
            "meetings": {
                "three_meetings_completion": fraction(int(branches["three"].sum()), n_branches),
                "themed_day_completion": fraction(int(branches["themed"].sum()), n_branches),
                "three_meetings_branches": int(branches["three"].sum()),
                "themed_day_branches": int(branches["themed"].sum()),
            },
            "dues_rate": fraction(int(party["dues_paid"].sum()), full + probationary),
            "dues_paid": int(party["dues_paid"].sum()),
            "transfers": {"in_flight": len(transfers), "overdue": int(transfers["overdue"].sum())},
            "rule_breaks": {
                "few_members": int(branches["few"].sum()),
                "no_secretary": int(branches["no_secretary"].sum()),
                "no_meeting": int(branches["no_meeting"].sum()),
            },
            "lost_contact": int(party["lost"].sum()),
            "pipeline": pipeline,
            "structure": {
                "gender": counts("gender", list(GENDERS)),
                "age_band": counts("age_band", [label for label, _, _ in AGE_BANDS]),
                "ethnicity": {"han": int(party["han"].sum()), "minority": int((~party["han"]).sum())},
                "education": counts("education", self._categories["education"]),
                "occupation": counts("occupation", self._categories["occupation"]),
                "status": {"full": full, "probationary": probationary},
            },
            "top_study": self._top_study(org_id, today),
            "ts": b.now_ms / 1000,
        }

    def _top_study(self, org_id: int, today: pd.DataFrame) -> list[dict[str, Any]]:
        study = today[today["type"] == "study"]
        points = study["data"].map(lambda d: _points(d.get("points")))
        paths = study["org_id"].map(self.orgs["path"])
        children = self.orgs[self.orgs["parent_id"] == org_id]
        board = [
            {"org": c["code"], "name": c["name"], "points": int(points[_under(paths, c["path"])].sum())}
            for _, c in children.iterrows()
        ]
        return sorted(board, key=lambda r: (-r["points"], r["org"]))[:TOP_STUDY_LIMIT]


def recompute_snapshot(engine: Engine, tree: OrgTree, org_id: int, now: float, tz: dt.tzinfo) -> dict[str, Any]:
    """The same KPIs as ``Aggregator.snapshot(org_id)``, from the store alone.

    ``tree`` is the live tree: an organisation it does not hold raises KeyError,
    as the aggregator does.
    """
    if org_id not in tree:
        raise KeyError(org_id)
    return StoreState.load(engine, now, tz).snapshot(org_id)
