"""The roster after the import: who is added, changed, moved or removed, and the branches' full members.

Members are matched by their id (人员编号). The members file covers the part
of the tree the organisations file replaces: stored members there who are not
in the file are removed; members in the file are added or updated wherever
they were before. A member whose organisation changes is *moved*, and the
move is recorded as a transfer in the event history (see write.py).

Without a members file the roster stays as stored, which is only possible if
no organisation that still has members is removed.

A branch (党支部, with its 党小组) needs at least three full members. The
check covers the branches in the organisations file and every branch the
import takes full members from; a branch elsewhere that was already short is
the aggregator's rule-break KPI, not this import's problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.transfer.importer.members import KEPT_WHEN_ABSENT
from dashboard.transfer.importer.orgs import TreePlan
from dashboard.transfer.importer.problems import Problem, Report
from dashboard.transfer.importer.stored import MEMBER_FIELDS, StoredOrg, StoredState

MIN_FULL_MEMBERS = 3
COMPARED = tuple(f for f in MEMBER_FIELDS if f != "code")


@dataclass(frozen=True, slots=True)
class Move:
    member_id: int
    code: str
    from_code: str
    to_code: str
    to_id: int


@dataclass
class RosterPlan:
    added: pd.DataFrame  # columns: id, *MEMBER_FIELDS
    changed: pd.DataFrame  # columns: id, *MEMBER_FIELDS
    removed_ids: np.ndarray
    moves: list[Move] = field(default_factory=list)
    unchanged: int = 0
    kept: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))  # stored rows neither in the file nor removed

    @classmethod
    def untouched(cls) -> RosterPlan:
        nothing = pd.DataFrame(columns=["id", *MEMBER_FIELDS])
        return cls(nothing, nothing, np.empty(0, dtype=np.int64))


def plan_roster(
    rows: pd.DataFrame,
    stored_members: pd.DataFrame,
    given: set[str],
    tree: TreePlan,
    stored: StoredState,
) -> RosterPlan:
    """Compare the file's members (``parse_members``) with the stored roster."""
    rows = _keep_absent_columns(rows, stored_members, given)
    if len(rows) and (rows["code"] == "").any():
        rows = _codes_by_id_number(rows, stored_members)
    at = pd.Index(stored_members["code"]).get_indexer(rows["code"])
    existing = at >= 0
    new_rows = rows[~existing]
    new_ids = np.arange(stored.next_member_id, stored.next_member_id + len(new_rows))
    added = new_rows.drop(columns="row").assign(id=new_ids)
    unnamed = (added["code"] == "").to_numpy()
    if unnamed.any():
        added.loc[unnamed, "code"] = [assigned_code(int(i)) for i in new_ids[unnamed]]
    old = stored_members.iloc[at[existing]].reset_index(drop=True)
    now = rows[existing].reset_index(drop=True)
    differs = np.zeros(len(now), dtype=bool)
    for column in COMPARED:
        differs |= now[column].to_numpy(dtype=object) != old[column].to_numpy(dtype=object)
    changed = now[differs].drop(columns="row").assign(id=old["id"].to_numpy()[differs])
    moved = (now["org_id"].to_numpy() != old["org_id"].to_numpy())
    moves = [
        Move(int(member_id), code, stored.code_of(int(before)) or "", tree_code, int(after))
        for member_id, code, before, after, tree_code in zip(
            old["id"].to_numpy()[moved], now["code"].to_numpy()[moved], old["org_id"].to_numpy()[moved],
            now["org_id"].to_numpy()[moved], _codes(tree, now["org_id"].to_numpy()[moved]),
        )
    ]
    in_file = np.zeros(len(stored_members), dtype=bool)
    in_file[at[existing]] = True
    removed = stored_members["org_id"].isin(tree.scope_ids).to_numpy() & ~in_file
    return RosterPlan(
        added=added[["id", *MEMBER_FIELDS]],
        changed=changed[["id", *MEMBER_FIELDS]],
        removed_ids=stored_members["id"].to_numpy()[removed],
        moves=moves,
        unchanged=int((~differs).sum()),
        kept=~in_file & ~removed,
    )


def assigned_code(member_id: int) -> str:
    """The member code the product gives a member imported without one (never derived from the ID number)."""
    return f"LX-{member_id:08d}"


def _codes_by_id_number(rows: pd.DataFrame, stored_members: pd.DataFrame) -> pd.DataFrame:
    """Rows without a member code take the code of the stored member with the same ID number (by its keyed hash)."""
    known = stored_members[stored_members["id_hash"] != ""]
    code_of = dict(zip(known["id_hash"].tolist(), known["code"].tolist()))
    rows = rows.copy()
    blank = (rows["code"] == "").to_numpy()
    rows.loc[blank, "code"] = [code_of.get(h, "") for h in rows["id_hash"].to_numpy()[blank]]
    return rows


def _codes(tree: TreePlan, org_ids: np.ndarray) -> list[str]:
    code_of = {org.id: code for code, org in tree.orgs.items()}
    return [code_of.get(int(i), "") for i in org_ids]


def _keep_absent_columns(rows: pd.DataFrame, stored_members: pd.DataFrame, given: set[str]) -> pd.DataFrame:
    """For optional columns the file does not have, existing members keep their stored value."""
    absent = [c for c in KEPT_WHEN_ABSENT if c not in given]
    if not absent:
        return rows
    at = pd.Index(stored_members["code"]).get_indexer(rows["code"])
    rows = rows.copy()
    for column in absent:
        stored_values = stored_members[column].to_numpy(dtype=object)
        rows[column] = np.where(at >= 0, stored_values[np.maximum(at, 0)] if len(stored_values) else "", "")
    return rows


def full_members_by_org(frame: pd.DataFrame) -> pd.Series:
    """org id → full members, from a roster frame (``org_id``, ``stage``)."""
    full = frame["org_id"][(frame["stage"] == "full").to_numpy(dtype=bool)]
    return full.value_counts()


def check_branches(
    before: pd.Series,
    after: pd.Series,
    tree: TreePlan,
    stored: StoredState,
    report: Report,
    orgs_label: str,
    members_label: str | None,
    kind_header: str | None,
) -> None:
    """Branches left with fewer than three full members (see the module docstring).

    ``before`` / ``after``: full members per organisation id, as stored and after the import.
    """
    after_by_branch = _per_branch(after, [(o.id, o.parent_id, o.kind, o.level) for o in tree.orgs.values()])
    before_by_branch = _per_branch(before, [(o.id, o.parent_id, o.kind, o.level) for o in stored.orgs.values()])
    for code, org in tree.orgs.items():
        if org.kind != "branch":
            continue
        count = int(after_by_branch.get(org.id, 0))
        lost = count < int(before_by_branch.get(org.id, 0))
        if count >= MIN_FULL_MEMBERS or not (code in tree.file_codes or lost):
            continue
        params = {"code": code, "name": org.name, "count": count, "minimum": MIN_FULL_MEMBERS}
        if org.row is not None:
            report.add(Problem("few_full_members", orgs_label, org.row, kind_header, params))
        else:
            report.add(Problem("few_full_members", members_label or orgs_label, params=params))


def _per_branch(full_by_org: pd.Series, orgs: list[tuple[int, int | None, str, int]]) -> dict[int, int]:
    """Full members per branch: each organisation's count goes to the branch at or above it.

    ``orgs``: (id, parent id, kind, level); parents are placed before their children by level.
    """
    branch_of: dict[int, int | None] = {}
    for org_id, parent_id, kind, _ in sorted(orgs, key=lambda o: o[3]):
        branch_of[org_id] = org_id if kind == "branch" else branch_of.get(parent_id) if parent_id is not None else None
    totals: dict[int, int] = {}
    for org_id, count in full_by_org.items():
        branch = branch_of.get(int(org_id))
        if branch is not None:
            totals[branch] = totals.get(branch, 0) + int(count)
    return totals


def members_left_behind(counts: pd.DataFrame, removed: list[StoredOrg], report: Report, label: str) -> None:
    """Without a members file: organisations this import removes that still have members."""
    members = dict(zip(counts["org_id"].tolist(), counts["members"].tolist()))
    for org in removed:
        if members.get(org.id):
            report.add(Problem("members_left_behind", label, params={"code": org.code, "name": org.name,
                                                                     "count": members[org.id]}))
