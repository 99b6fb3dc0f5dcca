"""``python -m dashboard export``: a subtree's tree, roster, links and current KPIs as CSV and .xlsx.

The tree, roster and links files are in the import format (docs/import.md),
so an export re-imports unchanged: the top organisation's parent column holds
its real parent, so importing a subtree's export puts it back in the same
place. Values are written as Chinese labels (``lang="zh"``, the default: 党支部,
正式党员, 汉族) or as the stored English values (``lang="en"``); both import.

The roster holds personal data and is written at the ``full`` level only; at
the ``public`` level the export has the tree, the links and the KPIs, with
small counts masked as on public screens.

No cell is ever a formula: CSV cells that a spreadsheet would evaluate are
neutralised (``dashboard.transfer.formulas``, undone by the importer) and
every .xlsx cell is a string cell. CSV is UTF-8 with a BOM (Excel then opens Chinese text correctly); rows are
streamed to both formats, so a million-member roster does not sit in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import Engine, select

from dashboard.access.scopes import Scope, mask_snapshot
from dashboard.live.aggregator import Aggregator
from dashboard.store.models import Member, Organisation, OrgLink
from dashboard.store.tree import OrgTree
from dashboard.transfer.formulas import neutralise
from dashboard.transfer.importer.columns import COLUMNS, FileKind, header
from dashboard.transfer.importer.vocab import (
    EDUCATION,
    ETHNICITY,
    GENDER,
    LINK_KIND,
    OCCUPATION,
    ORG_KIND,
    POST,
    STAGE,
    STATUS,
    UNIT_TYPE,
    Vocabulary,
)

FORMATS = ("csv", "xlsx")
FETCH_ROWS = 50_000
SHEET_TITLES = {"orgs": ("组织", "organisations"), "members": ("党员", "members"), "links": ("共建", "links"),
                "kpis": ("指标", "kpis")}
KPI_LEADING = {"code": ("组织代码", "code"), "name": ("组织名称", "name"), "kind": ("组织类别", "kind")}
KPI_SKIPPED = frozenset({"org", "name", "kind", "ts", "events_trend", "top_study"})


class ExportError(ValueError):
    """The export cannot run as asked (unknown organisation, format or level); one line for the user."""


@dataclass(frozen=True)
class Sheet:
    name: str  # file stem: orgs, members, links, kpis
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


def export_subtree(
    engine: Engine,
    out_dir: Path,
    *,
    org_code: str | None = None,
    level: str = "full",
    lang: str = "zh",
    formats: Sequence[str] = FORMATS,
    tree: OrgTree | None = None,
    aggregator: Aggregator | None = None,
) -> dict[str, Any]:
    """Write the files into ``out_dir``; returns what was written (JSON-able).

    ``tree`` and ``aggregator`` default to ones loaded from the store (a running
    server passes its live ones, so the KPIs are the current ones).
    """
    if level not in ("full", "public"):
        raise ExportError(f"unknown level {level!r}: use full or public")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ExportError(f"unknown format {', '.join(unknown) or '(none)'}: use csv, xlsx or both")
    tree = tree or OrgTree.load(engine)
    top = tree.get(org_code) if org_code else tree.root
    if top is None:
        raise ExportError(f"unknown organisation {org_code!r}" if org_code else "the database holds no organisation")
    aggregator = aggregator or Aggregator.rebuild(engine, tree)
    ids = list(tree.walk(top.id))
    scope = Scope(top.id, "full" if level == "full" else "public")
    sheets = [_orgs_sheet(tree, ids, lang), _links_sheet(engine, tree, set(ids), lang), _kpi_sheet(aggregator, tree, ids, scope, lang)]
    if level == "full":
        sheets.insert(1, _members_sheet(engine, tree, top.id, lang))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {sheet.name: _write(sheet, out_dir, formats, lang) for sheet in sheets}
    return {"org": top.code, "level": level, "lang": lang, "organisations": len(ids), "rows": written,
            "files": sorted(str(out_dir / f"{s.name}.{f}") for s in sheets for f in formats)}


def _headers(kind: FileKind, lang: str) -> list[str]:
    return [header(c, lang) for c in COLUMNS[kind] if c.exported]


def _label(vocabulary: Vocabulary, value: str | None, lang: str) -> str:
    if not value:
        return ""
    return vocabulary.label(value, lang) if value in vocabulary.terms else value


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def _orgs_sheet(tree: OrgTree, ids: list[int], lang: str) -> Sheet:
    def rows() -> Iterator[list[str]]:
        for org_id in ids:  # depth first from the top: every parent before its children
            n = tree.nodes[org_id]
            parent = tree.nodes[n.parent_id].code if n.parent_id in tree.nodes else ""
            yield [n.code, n.name, _label(ORG_KIND, n.kind, lang), parent, n.region_code or "", _number(n.lon),
                   _number(n.lat), _label(UNIT_TYPE, n.unit_type, lang)]

    return Sheet("orgs", _headers("orgs", lang), rows())


def _members_sheet(engine: Engine, tree: OrgTree, top_id: int, lang: str) -> Sheet:
    prefix = f"{_path(tree, top_id)}%"
    columns = (Member.code, Member.name, Organisation.code, Member.stage, Member.gender, Member.ethnicity,
               Member.birth_year, Member.education, Member.occupation, Member.post, Member.join_date, Member.phone)
    query = (select(*columns).join(Organisation, Member.org_id == Organisation.id)
             .where(Organisation.path.like(prefix)).order_by(Member.id))

    def rows() -> Iterator[list[Any]]:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(query)
            for code, name, org, stage, gender, ethnicity, birth_year, education, occupation, post, joined, phone in result:
                status = _label(STATUS, stage, lang) if stage in STATUS.terms else ""
                yield [code, name, org, status, _label(STAGE, stage, lang), _label(GENDER, gender, lang),
                       _label(ETHNICITY, ethnicity, lang), birth_year, _label(EDUCATION, education, lang),
                       _label(OCCUPATION, occupation, lang), _label(POST, post, lang),
                       joined.isoformat() if joined else "", phone or ""]

    return Sheet("members", _headers("members", lang), rows())


def _path(tree: OrgTree, org_id: int) -> str:
    return "/" + "/".join(str(i) for i in reversed(tree.ancestors[org_id])) + "/"


def _links_sheet(engine: Engine, tree: OrgTree, inside: set[int], lang: str) -> Sheet:
    with engine.connect() as conn:
        links = conn.execute(select(OrgLink.a_id, OrgLink.b_id, OrgLink.kind, OrgLink.since).order_by(OrgLink.id)).all()
    rows = [
        [tree.nodes[a].code, tree.nodes[b].code, _label(LINK_KIND, kind, lang), since.isoformat() if since else ""]
        for a, b, kind, since in links
        if (a in inside or b in inside) and a in tree.nodes and b in tree.nodes
    ]
    return Sheet("links", _headers("links", lang), rows)


def _kpi_sheet(aggregator: Aggregator, tree: OrgTree, ids: list[int], scope: Scope, lang: str) -> Sheet:
    """One row per organisation: its subtree's current KPIs, nested ones flattened to ``a.b`` columns.

    Every snapshot has the same keys, so the top's give the columns; rows are computed as they are written.
    """
    keys = list(_flat(aggregator.snapshot(ids[0])))
    heading = [KPI_LEADING[k][0 if lang == "zh" else 1] for k in KPI_LEADING] + keys

    def rows() -> Iterator[list[Any]]:
        for org_id in ids:
            snap = _flat(mask_snapshot(aggregator.snapshot(org_id), scope))
            node = tree.nodes[org_id]
            yield [node.code, node.name, _label(ORG_KIND, node.kind, lang), *("" if snap.get(k) is None else snap[k] for k in keys)]

    return Sheet("kpis", heading, rows())


def _flat(snapshot: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in snapshot.items():
        if not prefix and key in KPI_SKIPPED:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{name}."))
        elif not isinstance(value, list):
            out[name] = value
    return out


def _text_cell(worksheet: Any, value: Any) -> WriteOnlyCell:
    """A string cell whatever the value: a spreadsheet never evaluates it (``=…`` is not a formula here)."""
    cell = WriteOnlyCell(worksheet, value="" if value is None else str(value))
    cell.data_type = "s"
    return cell


def _write(sheet: Sheet, out_dir: Path, formats: Sequence[str], lang: str) -> int:
    """Stream the sheet's rows into every format at once; returns the number of rows."""
    count = 0
    with ExitStack() as stack:
        csv_writer = None
        workbook = None
        if "csv" in formats:
            handle = stack.enter_context((out_dir / f"{sheet.name}.csv").open("w", encoding="utf-8-sig", newline=""))
            csv_writer = csv.writer(handle)
            csv_writer.writerow(sheet.header)
        if "xlsx" in formats:
            workbook = Workbook(write_only=True)
            worksheet = workbook.create_sheet(SHEET_TITLES[sheet.name][0 if lang == "zh" else 1])
            worksheet.append(list(sheet.header))
        for row in sheet.rows:
            if csv_writer is not None:
                csv_writer.writerow([neutralise(value) for value in row])
            if workbook is not None:
                worksheet.append([_text_cell(worksheet, value) for value in row])
            count += 1
        if workbook is not None:
            workbook.save(out_dir / f"{sheet.name}.xlsx")
    return count
