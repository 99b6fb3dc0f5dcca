"""The organisations file: its rows checked, and the tree the database will hold after the import.

What a file replaces: the file holds one tree. If its top organisation has no
parent, the file is the whole organisation and everything else goes; if the
top hangs under an organisation already stored, the file replaces that
organisation's subtree (as stored) and the rest of the tree stays. Within
that part, organisations are matched by code: same code, same organisation
(kept id, updated in place); new codes are added; stored codes missing from
the file are removed.

The resulting tree is checked whole: every parent exists, one top, no cycles,
党小组 only under 党支部 and so on, before anything is written.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from dashboard.transfer.importer.problems import Problem, Report
from dashboard.transfer.importer.read import Table
from dashboard.transfer.importer.refs import OrgFinder
from dashboard.transfer.importer.stored import StoredOrg, StoredState
from dashboard.transfer.importer.values import (
    CODE_PATTERN,
    REGION_PATTERN,
    cells,
    empty,
    malformed,
    per_value,
    report_rows,
    value_at,
    vocabulary_values,
)
from dashboard.transfer.importer.vocab import ORG_KIND, UNIT_TYPE

NAME_LIMIT = 200
# kind → (the kinds its parent may have, the rule in words)
ALLOWED_PARENTS: dict[str, tuple[frozenset[str], str]] = {
    "committee": (frozenset({"committee"}), "a committee belongs to a committee"),
    "general_branch": (frozenset({"committee"}), "a general branch belongs to a committee"),
    "branch": (frozenset({"committee", "general_branch"}), "a branch belongs to a committee or a general branch"),
    "group": (frozenset({"branch"}), "a party group belongs to a branch"),
}
# Optional fields and their column: a column the file does not have keeps the stored value.
OPTIONAL_FIELDS = {"region_code": "region", "lon": "lon", "lat": "lat", "unit_type": "unit_type"}


@dataclass
class OrgRow:
    """An organisation as the file gives it; None where the cell is empty (or bad, with a problem reported)."""

    code: str
    row: int
    name: str | None
    kind: str | None
    parent: str | None
    region_code: str | None
    lon: float | None
    lat: float | None
    unit_type: str | None
    given: frozenset[str]  # the optional fields whose column the file has


@dataclass
class FinalOrg:
    """An organisation as it will be stored."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    level: int
    path: str
    region_code: str | None
    lon: float | None
    lat: float | None
    unit_type: str | None
    row: int | None = None  # its row in the file, if it is in the file

    def stored_tuple(self) -> tuple[object, ...]:
        return (self.id, self.code, self.name, self.kind, self.parent_id, self.level, self.path, self.region_code,
                self.lon, self.lat, self.unit_type)


@dataclass
class TreePlan:
    orgs: dict[str, FinalOrg]
    added: list[FinalOrg]
    changed: list[FinalOrg]
    removed: list[StoredOrg]
    unchanged: int
    scope_ids: set[int]  # stored organisations inside the part of the tree the file replaces
    file_codes: set[str] = field(default_factory=set)

    def id_of(self, code: str) -> int | None:
        org = self.orgs.get(code)
        return org.id if org else None


def parse_orgs(table: Table, report: Report) -> dict[str, OrgRow]:
    """The file's organisations by code (rows with a bad or repeated code left out, with a problem each)."""
    code, name, kind_cells, parent = (cells(table, k) for k in ("code", "name", "kind", "parent"))
    kinds, bad_kind = vocabulary_values(kind_cells, ORG_KIND)
    units, bad_unit = vocabulary_values(cells(table, "unit_type"), UNIT_TYPE)
    report_rows(report, table, empty(code), "missing_value", "code")
    bad_code = malformed(code, CODE_PATTERN)
    report_rows(report, table, bad_code, "bad_code", "code", value_at(code))
    report_rows(report, table, empty(name), "missing_value", "name")
    report_rows(report, table, (name.str.len() > NAME_LIMIT).to_numpy(), "too_long", "name",
                lambda p: {"value": name.iat[p], "limit": NAME_LIMIT})
    report_rows(report, table, empty(kind_cells), "missing_value", "kind")
    report_rows(report, table, bad_kind, "unknown_value", "kind",
                lambda p: {"value": kind_cells.iat[p], "vocabulary": "kind", "accepted": ORG_KIND.accepted()})
    report_rows(report, table, malformed(cells(table, "region"), REGION_PATTERN), "bad_region", "region",
                value_at(cells(table, "region")))
    report_rows(report, table, bad_unit, "unknown_value", "unit_type",
                lambda p: {"value": cells(table, "unit_type").iat[p], "vocabulary": "unit type", "accepted": UNIT_TYPE.accepted()})
    lon = _coordinates(table, report, "lon", 180.0)
    lat = _coordinates(table, report, "lat", 90.0)
    report_rows(report, table, np.isnan(lon) != np.isnan(lat), "coordinates_pair", "lon" if "lon" in table.headers else "lat")

    given = frozenset(f for f, key in OPTIONAL_FIELDS.items() if key in table.headers)
    rows: dict[str, OrgRow] = {}
    usable = ~(empty(code) | bad_code)
    codes, names, parents, regions = (c.tolist() for c in (code, name, parent, cells(table, "region")))
    lons = [None if np.isnan(x) else float(x) for x in lon]
    lats = [None if np.isnan(x) else float(x) for x in lat]
    for pos in np.flatnonzero(usable).tolist():
        row_code, row = codes[pos], int(table.rows[pos])
        if row_code in rows:
            report.add(Problem("duplicate_code", table.label, row, table.header("code"),
                               {"value": row_code, "first": rows[row_code].row}))
            continue
        rows[row_code] = OrgRow(row_code, row, names[pos] or None, kinds[pos], parents[pos] or None, regions[pos] or None,
                                lons[pos], lats[pos], units[pos], given)
    return rows


def _coordinates(table: Table, report: Report, key: str, limit: float) -> np.ndarray:
    column = cells(table, key)
    numbers = per_value(column, _number, float)  # Python's float(): the exact value an export wrote
    not_number = np.isnan(numbers) & ~empty(column)
    report_rows(report, table, not_number, "bad_number", key, value_at(column))
    outside = ~np.isnan(numbers) & (np.abs(numbers) > limit)
    report_rows(report, table, outside, "out_of_range", key, lambda p: {"value": column.iat[p], "low": -limit, "high": limit})
    numbers[not_number | outside] = np.nan
    return numbers


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def plan_tree(rows: dict[str, OrgRow], stored: StoredState, report: Report, label: str, header: dict[str, str]) -> TreePlan:
    """The tree after the import, checked whole, and how it differs from the stored one."""
    column = header.get
    unresolved = _resolve_parents(rows, stored, report, label, column("parent"))
    parents: dict[str, str | None] = {}
    tops: list[OrgRow] = []
    for r in rows.values():
        parents[r.code] = None  # until its parent is known good: a broken row stands alone, so checks go on
        if r.code in unresolved:
            continue
        if r.parent == r.code:
            report.add(Problem("own_parent", label, r.row, column("parent")))
        elif r.parent is None or r.parent in rows:
            parents[r.code] = r.parent
            if r.parent is None:
                tops.append(r)
        elif r.parent in stored.orgs:
            parents[r.code] = r.parent
            tops.append(r)
        else:
            report.add(Problem("unknown_parent", label, r.row, column("parent"), {"value": r.parent}))
    if len(tops) > 1:
        names = ", ".join(f"{t.code} (row {t.row})" for t in tops[:10]) + (" …" if len(tops) > 10 else "")
        report.add(Problem("several_tops", label, params={"count": len(tops), "tops": names}))

    scope = _replaced_part(tops, stored)
    for r in rows.values():
        if r.parent is not None and r.parent not in rows and r.parent in scope:
            report.add(Problem("parent_removed", label, r.row, column("parent"), {"value": r.parent}))
    for code, org in stored.orgs.items():
        if code not in rows and code not in scope:
            parents[code] = stored.code_of(org.parent_id)
    _report_cycles(parents, rows, report, label, column("parent"))
    _check_kinds(rows, parents, stored, report, label, column("kind"))
    return _final_tree(rows, parents, stored, scope)


def _resolve_parents(rows: dict[str, OrgRow], stored: StoredState, report: Report, label: str,
                     column: str | None) -> set[str]:
    """Parents given by name, or by a code that lost its leading zeros, replaced by the code (see refs.py);
    a single top whose parent is nowhere is taken as the top of the tree ("attach here"), with a warning.
    Returns the codes whose parent is ambiguous (reported here)."""
    ambiguous: set[str] = set()
    finder = OrgFinder([(code, r.name or "") for code, r in rows.items()]
                       + [(code, o.name) for code, o in stored.orgs.items() if code not in rows])
    nowhere: list[OrgRow] = []
    for r in rows.values():
        if r.parent is None or r.parent in rows or r.parent in stored.orgs:
            continue
        found = finder.find(r.parent)
        if found.how == "ambiguous":
            report.add(Problem("ambiguous_parent", label, r.row, column,
                               {"value": r.parent, "candidates": ", ".join(found.candidates)}))
            ambiguous.add(r.code)
        elif found.code is not None:
            if found.how == "zeros":
                report.add(Problem("lost_zeros", label, r.row, column, {"value": r.parent, "code": found.code}, warning=True))
            r.parent = found.code
        else:
            nowhere.append(r)
    if len(nowhere) == 1 and all(r.parent is not None for r in rows.values()):
        top = nowhere[0]
        report.add(Problem("outside_parent", label, top.row, column, {"value": top.parent}, warning=True))
        top.parent = None
    return ambiguous


def _replaced_part(tops: list[OrgRow], stored: StoredState) -> set[str]:
    """Codes of the stored organisations the file replaces."""
    scope: set[str] = set()
    for top in tops:
        if top.parent is None:
            return set(stored.orgs)
        if top.code in stored.orgs:
            prefix = stored.orgs[top.code].path
            scope |= {code for code, org in stored.orgs.items() if org.path.startswith(prefix)}
    return scope


def _report_cycles(parents: dict[str, str | None], rows: dict[str, OrgRow], report: Report, label: str,
                   column: str | None) -> None:
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    for start in parents:
        walk = []
        node: str | None = start
        while node is not None and node in parents and state.get(node, 0) == 0:
            state[node] = 1
            walk.append(node)
            node = parents[node]
        if node is not None and state.get(node) == 1:
            cycle = walk[walk.index(node):]
            in_file = [rows[c].row for c in cycle if c in rows]
            chain = " → ".join([*cycle, node])
            report.add(Problem("cycle", label, min(in_file) if in_file else None, column,
                               {"chain": chain, "rows": ", ".join(map(str, sorted(in_file)))}))
        for c in walk:
            state[c] = 2


def _check_kinds(rows: dict[str, OrgRow], parents: dict[str, str | None], stored: StoredState, report: Report,
                 label: str, column: str | None) -> None:
    def kind_of(code: str) -> str | None:
        return rows[code].kind if code in rows else (stored.orgs[code].kind if code in stored.orgs else None)

    for r in rows.values():
        parent = parents.get(r.code)
        if r.kind is None or parent is None:
            continue
        parent_kind = kind_of(parent)
        allowed, rule = ALLOWED_PARENTS[r.kind]
        if parent_kind is not None and parent_kind not in allowed:
            report.add(Problem("kind_under", label, r.row, column,
                               {"kind": r.kind, "parent_kind": parent_kind, "parent": parent, "rule": rule}))


def _final_tree(rows: dict[str, OrgRow], parents: dict[str, str | None], stored: StoredState, scope: set[str]) -> TreePlan:
    ids: dict[str, int] = {}
    next_id = stored.next_org_id
    for code in parents:
        if code in stored.orgs:
            ids[code] = stored.orgs[code].id
        else:
            ids[code] = next_id
            next_id += 1
    children: dict[str | None, list[str]] = {}
    for code, parent in parents.items():
        children.setdefault(parent if parent in parents else None, []).append(code)
    final: dict[str, FinalOrg] = {}
    queue = deque((code, None, 0, "/") for code in children.get(None, ()))
    while queue:
        code, parent, level, above = queue.popleft()
        path = f"{above}{ids[code]}/"
        final[code] = _final_org(code, ids[code], ids.get(parent) if parent else None, level, path, rows, stored)
        queue.extend((child, code, level + 1, path) for child in children.get(code, ()))
    for code in parents.keys() - final.keys():  # in a cycle (reported): placed alone so later checks still see it
        final[code] = _final_org(code, ids[code], None, 0, f"/{ids[code]}/", rows, stored)
    added, changed, unchanged = [], [], 0
    for code, org in final.items():
        before = stored.orgs.get(code)
        if before is None:
            added.append(org)
        elif org.stored_tuple() != before.as_tuple():
            changed.append(org)
        else:
            unchanged += 1
    removed = [org for code, org in stored.orgs.items() if code not in parents]
    return TreePlan(final, added, changed, removed, unchanged, {stored.orgs[c].id for c in scope}, set(rows))


def _final_org(code: str, org_id: int, parent_id: int | None, level: int, path: str, rows: dict[str, OrgRow],
               stored: StoredState) -> FinalOrg:
    before = stored.orgs.get(code)
    r = rows.get(code)
    if r is None:  # a stored organisation outside the file: only its place in the tree can change
        assert before is not None
        return FinalOrg(org_id, code, before.name, before.kind, parent_id, level, path, before.region_code, before.lon,
                        before.lat, before.unit_type)
    source = r if before is None or len(r.given) == len(OPTIONAL_FIELDS) else None
    if source is None:  # some optional columns absent: those keep the stored values
        region, lon, lat, unit = (getattr(r if f in r.given else before, f) for f in OPTIONAL_FIELDS)
    else:
        region, lon, lat, unit = source.region_code, source.lon, source.lat, source.unit_type
    return FinalOrg(org_id, code, r.name or "", r.kind or "", parent_id, level, path, region, lon, lat, unit, r.row)
