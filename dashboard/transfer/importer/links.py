"""The cross-links file (共建 partnerships): rows checked, and the links after the import.

A link is undirected and stored once (``a_id < b_id``), so A—B and B—A in a
file are the same link, reported as a repeat. With a links file, the stored
links touching the organisations in the organisations file are replaced by
the file's; without one, links are kept except those to removed organisations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from dashboard.transfer.importer.orgs import TreePlan
from dashboard.transfer.importer.problems import Problem, Report
from dashboard.transfer.importer.read import Table
from dashboard.transfer.importer.stored import StoredLink, StoredState
from dashboard.transfer.importer.values import CODE_PATTERN, cells, dates, empty, malformed, report_rows, value_at, vocabulary_values
from dashboard.transfer.importer.vocab import LINK_KIND

DEFAULT_KIND = "partnership"


@dataclass(frozen=True, slots=True)
class LinkRow:
    a_id: int
    b_id: int
    kind: str
    since: dt.date | None


@dataclass
class LinkPlan:
    added: list[tuple[int, int, int, str, dt.date | None]] = field(default_factory=list)  # id, a, b, kind, since
    changed: list[tuple[dt.date | None, int]] = field(default_factory=list)  # since, id
    removed_ids: list[int] = field(default_factory=list)
    unchanged: int = 0


def parse_links(table: Table, tree: TreePlan, report: Report, today: dt.date) -> list[LinkRow]:
    """The file's links, each pair once (rows with an unknown or bad end left out, with a problem each)."""
    ends = []
    for key in ("from", "to"):
        column = cells(table, key)
        report_rows(report, table, empty(column), "missing_value", key)
        bad = malformed(column, CODE_PATTERN)
        report_rows(report, table, bad, "bad_code", key, value_at(column))
        unknown = np.array([bool(c) and tree.id_of(c) is None for c in column], dtype=bool) & ~bad
        report_rows(report, table, unknown, "unknown_org", key, value_at(column))
        ends.append(column)
    kind_column = cells(table, "kind")
    kinds, bad_kind = vocabulary_values(kind_column, LINK_KIND)
    report_rows(report, table, bad_kind, "unknown_value", "kind",
                lambda p: {"value": kind_column.iat[p], "vocabulary": "link kind", "accepted": LINK_KIND.accepted()})
    since_column = cells(table, "since")
    since, bad_since = dates(since_column)
    report_rows(report, table, bad_since, "bad_date", "since", value_at(since_column))
    future = np.array([d is not None and d > today for d in since], dtype=bool)
    report_rows(report, table, future, "future_date", "since", lambda p: {"value": since_column.iat[p], "today": today.isoformat()})

    links: list[LinkRow] = []
    first_row: dict[tuple[int, int, str], int] = {}
    for pos, (a, b) in enumerate(zip(*ends)):
        a_id, b_id = tree.id_of(a), tree.id_of(b)
        if a_id is None or b_id is None:
            continue
        row = int(table.rows[pos])
        if a_id == b_id:
            report.add(Problem("self_link", table.label, row, table.header("to")))
            continue
        kind = kinds[pos] or DEFAULT_KIND
        key = (min(a_id, b_id), max(a_id, b_id), kind)
        if key in first_row:
            report.add(Problem("duplicate_link", table.label, row, table.header("to"), {"a": a, "b": b, "first": first_row[key]}))
            continue
        first_row[key] = row
        links.append(LinkRow(key[0], key[1], kind, since[pos]))
    return links


def plan_links(links: list[LinkRow] | None, tree: TreePlan, stored: StoredState, since_given: bool = True) -> LinkPlan:
    """``links`` None: no links file (keep the stored ones that still have both ends).

    ``since_given`` False: the file has no start-date column, so stored links keep theirs.
    """
    final_ids = {org.id for org in tree.orgs.values()}
    file_ids = {tree.orgs[c].id for c in tree.file_codes if c in tree.orgs}
    plan = LinkPlan()
    wanted = {(link.a_id, link.b_id, link.kind): link for link in links or ()}
    kept: set[tuple[int, int, str]] = set()
    for link in stored.links:
        key = (link.a_id, link.b_id, link.kind)
        gone = link.a_id not in final_ids or link.b_id not in final_ids
        replaced = links is not None and (link.a_id in file_ids or link.b_id in file_ids)
        if gone or (replaced and key not in wanted):
            plan.removed_ids.append(link.id)
        elif key in wanted:
            kept.add(key)
            _compare(link, wanted[key], plan, since_given)
        else:
            plan.unchanged += 1
    next_id = stored.next_link_id
    for key, link in wanted.items():
        if key not in kept:
            plan.added.append((next_id, link.a_id, link.b_id, link.kind, link.since))
            next_id += 1
    return plan


def _compare(stored: StoredLink, wanted: LinkRow, plan: LinkPlan, since_given: bool) -> None:
    if since_given and stored.since != wanted.since:
        plan.changed.append((wanted.since, stored.id))
    else:
        plan.unchanged += 1
