"""Planning an import: read the files, check everything, and work out what would change.

Nothing is written here. The plan holds the report (every problem found) and,
per table, what the transactional writer would add, change and remove; a plan
whose report has errors is never written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from dashboard.access.keys import load_signing_key
from dashboard.transfer.importer.columns import FileKind
from dashboard.transfer.importer.links import LinkPlan, parse_links, plan_links
from dashboard.transfer.importer.mapping import overrides
from dashboard.transfer.importer.members import KEPT_WHEN_ABSENT, parse_members
from dashboard.transfer.importer.orgs import TreePlan, parse_orgs, plan_tree
from dashboard.transfer.importer.problems import Problem, Report
from dashboard.transfer.importer.read import Table, read_table
from dashboard.transfer.importer.roster import (
    RosterPlan,
    check_branches,
    full_members_by_org,
    members_left_behind,
    plan_roster,
)
from dashboard.transfer.importer.sniff import FileRejected
from dashboard.transfer.importer.stored import StoredState, StoredToken, member_counts, read_members, read_state

# (stage, fraction of that stage done); stages: "read orgs", "read members", "read links", "check"
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ImportFiles:
    """The files of one import; ``names`` are what messages call them (default: the file names).

    ``sheets``: per kind, the workbook sheet to read; ``mappings``: per kind, the user's column mapping
    (header as written → column key, "" to ignore; see mapping.py)."""

    orgs: Path
    members: Path | None = None
    links: Path | None = None
    names: dict[str, str] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    mappings: dict[str, dict[str, str]] = field(default_factory=dict)

    def items(self) -> list[tuple[FileKind, Path]]:
        given = (("orgs", self.orgs), ("members", self.members), ("links", self.links))
        return [(kind, path) for kind, path in given if path is not None]  # type: ignore[misc]

    def label(self, kind: str) -> str:
        path = {"orgs": self.orgs, "members": self.members, "links": self.links}[kind]
        return self.names.get(kind) or (path.name if path else kind)


@dataclass
class ImportPlan:
    report: Report
    tree: TreePlan | None = None
    roster: RosterPlan = field(default_factory=RosterPlan.untouched)
    links: LinkPlan = field(default_factory=LinkPlan)
    tokens_removed: list[StoredToken] = field(default_factory=list)

    @property
    def writable(self) -> bool:
        return self.report.ok and self.tree is not None

    @property
    def changes(self) -> int:
        if self.tree is None:
            return 0
        t, r, lk = self.tree, self.roster, self.links
        return (len(t.added) + len(t.changed) + len(t.removed) + len(r.added) + len(r.changed) + len(r.removed_ids)
                + len(lk.added) + len(lk.changed) + len(lk.removed_ids) + len(self.tokens_removed))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.report.ok, "errors": self.report.errors, "warnings": self.report.warnings}
        if self.tree is not None:
            t, r, lk = self.tree, self.roster, self.links
            out["organisations"] = {"added": len(t.added), "changed": len(t.changed), "removed": len(t.removed),
                                    "unchanged": t.unchanged}
            out["members"] = {"added": len(r.added), "changed": len(r.changed), "removed": len(r.removed_ids),
                              "moved": len(r.moves), "unchanged": r.unchanged}
            out["links"] = {"added": len(lk.added), "changed": len(lk.changed), "removed": len(lk.removed_ids),
                            "unchanged": lk.unchanged}
            out["tokens_removed"] = len(self.tokens_removed)
            out["changes"] = self.changes
        return out


def plan_import(engine: Engine, files: ImportFiles, *, today: dt.date | None = None,
                progress: Progress | None = None, id_key: bytes | None = None) -> ImportPlan:
    """Read and check ``files`` against the database; see the module docstring.

    ``id_key``: the key ID numbers are hashed with (default: the installation's, loaded only if a roster has them).
    """
    today = today or dt.date.today()
    report = Report()
    tables = _read_all(files, report, progress)
    plan = ImportPlan(report)
    if "orgs" not in tables:
        return plan
    if progress:
        progress("check", 0.0)
    stored = read_state(engine)
    orgs_table = tables["orgs"]
    report.extend(orgs_table.problems)
    plan.tree = tree = plan_tree(parse_orgs(orgs_table, report), stored, report, orgs_table.label, orgs_table.headers)
    if progress:
        progress("check", 0.3)
    members_table = tables.get("members")
    if members_table is not None:
        report.extend(members_table.problems)
        plan.roster = _plan_members(engine, members_table, tree, stored, report, today, orgs_table,
                                    (lambda: id_key) if id_key is not None else (lambda: load_signing_key(engine)))
    elif files.members is None:
        _check_without_roster(engine, tree, stored, report, orgs_table)
    if progress:
        progress("check", 0.8)
    links_table = tables.get("links")
    if links_table is not None:
        report.extend(links_table.problems)
        plan.links = plan_links(parse_links(links_table, tree, report, today), tree, stored, "since" in links_table.headers)
    elif files.links is None:
        plan.links = plan_links(None, tree, stored)
    plan.tokens_removed = _references(tree, plan.roster, stored, report, orgs_table.label)
    if progress:
        progress("check", 1.0)
    return plan


def _read_all(files: ImportFiles, report: Report, progress: Progress | None) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for kind, path in files.items():
        stage = f"read {kind}"
        try:
            tables[kind] = read_table(path, kind, files.label(kind), (lambda f, s=stage: progress(s, f)) if progress else None,
                                      sheet=files.sheets.get(kind), overrides=overrides(files.mappings.get(kind), kind))
        except FileRejected as exc:
            report.extend(exc.problems)
            continue
        if progress:
            progress(stage, 1.0)
    return tables


def _plan_members(engine: Engine, table: Table, tree: TreePlan, stored: StoredState, report: Report, today: dt.date,
                  orgs_table: Table, id_key: Callable[[], bytes]) -> RosterPlan:
    rows = parse_members(table, tree, report, today, id_key)
    stored_members = read_members(engine)
    given = {c for c in KEPT_WHEN_ABSENT if c in table.headers}
    if "id_number" in table.headers:
        given |= {"id_hash", "id_tail"}
    roster = plan_roster(rows, stored_members, given, tree, stored)
    after = pd.concat([stored_members.loc[roster.kept, ["org_id", "stage"]], rows[["org_id", "stage"]]], ignore_index=True)
    check_branches(full_members_by_org(stored_members), full_members_by_org(after), tree, stored, report,
                   orgs_table.label, table.label, orgs_table.header("kind"))
    return roster


def _check_without_roster(engine: Engine, tree: TreePlan, stored: StoredState, report: Report, orgs_table: Table) -> None:
    counts = member_counts(engine)
    members_left_behind(counts, tree.removed, report, orgs_table.label)
    full = counts.set_index("org_id")["full"]
    kept_ids = {org.id for org in tree.orgs.values()}
    check_branches(full, full[full.index.isin(kept_ids)], tree, stored, report, orgs_table.label, None,
                   orgs_table.header("kind"))


def _references(tree: TreePlan, roster: RosterPlan, stored: StoredState, report: Report, label: str) -> list[StoredToken]:
    """Tokens scoped to removed organisations (deleted, with a warning); other tables' references block."""
    removed = {org.id: org for org in tree.removed}
    tokens = [t for t in stored.tokens if t.org_id in removed]
    if tokens:
        labels = ", ".join(f"{t.role} “{t.label or t.id}” ({removed[t.org_id].code})" for t in tokens[:10])
        report.add(Problem("tokens_removed", label, params={"count": len(tokens), "labels": labels}, warning=True))
    for (table, _column), ids in stored.foreign_org_refs.items():
        hits = pd.Series(ids)
        for org_id, count in hits[hits.isin(list(removed))].value_counts().items():
            org = removed[int(org_id)]
            report.add(Problem("referenced_elsewhere", label, params={"code": org.code, "name": org.name,
                                                                      "count": int(count), "table": table}))
    gone = set(roster.removed_ids.tolist())
    for (table, _column), ids in stored.foreign_member_refs.items():
        count = sum(1 for i in ids if i in gone)
        if count:
            report.add(Problem("member_referenced", label, params={"count": count, "table": table}))
    return tokens
