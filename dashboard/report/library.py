"""The reports kept on disk and who may have them: the scheduled ones (``--reports-dir``) and the ones
made on demand at /admin/reports, listed and found for a scope.

A report's file name says whose it is — ``CODE_PERIOD_LANG_LEVEL.pdf|png`` — so the listing and the
download route decide from the name alone (no index to keep in step): a scope may have a report of an
organisation in its subtree, and at the public level only a public one. The download route asks
``find`` again for every download; a name that is not visible to the scope is answered like one that
does not exist. Reading names only, this module loads no drawing library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dashboard.access.scopes import Scope
from dashboard.store.tree import OrgTree

FILE_NAME = re.compile(
    r"^(?P<org>[^_/\\]+)_(?P<period>\d{4}-(?:W\d{2}|\d{2})|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})"
    r"_(?P<lang>zh|en)_(?P<level>full|public)\.(?P<fmt>pdf|png)$"
)
FORMATS = ("pdf", "png")


def report_name(org_code: str, period_label: str, lang: str, level: str, fmt: str = "pdf") -> str:
    return f"{org_code}_{period_label}_{lang}_{level}.{fmt}"


@dataclass(frozen=True)
class ReportFile:
    path: Path
    org: str
    period: str
    lang: str
    level: str
    fmt: str
    made: bool  # made on demand (else written by the schedule)

    @property
    def name(self) -> str:
        return self.path.name


def _visible(path: Path, tree: OrgTree, scope: Scope, made: bool) -> ReportFile | None:
    match = FILE_NAME.match(path.name)
    org = tree.get(match["org"]) if match else None
    if match is None or org is None or not tree.is_within(org.id, scope.org_id) or not path.is_file():
        return None
    if scope.public and match["level"] != "public":
        return None
    return ReportFile(path, match["org"], match["period"], match["lang"], match["level"], match["fmt"], made)


def list_reports(folder: Path, tree: OrgTree, scope: Scope, made: bool = False) -> list[ReportFile]:
    """The reports in ``folder`` that ``scope`` may download: of organisations in its subtree, and only
    the public ones at the public level; newest period first."""
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        report = _visible(path, tree, scope, made)
        if report is not None:
            found.append(report)
    return sorted(found, key=lambda r: (r.period, r.org, r.lang, r.level, r.fmt), reverse=True)


@dataclass(frozen=True)
class ReportLibrary:
    """The scheduled reports' folder (None without ``--reports-dir``) and the made reports' folder."""

    scheduled: Path | None
    made: Path

    def visible(self, tree: OrgTree, scope: Scope) -> list[ReportFile]:
        """What ``scope`` may download: the made reports first, then the scheduled ones."""
        scheduled = list_reports(self.scheduled, tree, scope) if self.scheduled is not None else []
        return [*list_reports(self.made, tree, scope, made=True), *scheduled]

    def find(self, name: str, tree: OrgTree, scope: Scope) -> ReportFile | None:
        """The report called ``name`` if ``scope`` may have it; None for unknown and not-yours alike."""
        if FILE_NAME.match(name) is None:  # also keeps any path (/, .., \\) out
            return None
        for folder, made in ((self.made, True), (self.scheduled, False)):
            if folder is not None:
                report = _visible(folder / name, tree, scope, made)
                if report is not None:
                    return report
        return None
