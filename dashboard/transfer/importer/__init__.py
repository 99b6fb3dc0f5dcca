"""Bring your own organisation: import organisation trees, rosters and cross-links from CSV or Excel.

``plan_import`` reads and checks the files against the database and works out
what would change, writing nothing; ``write_plan`` applies a plan without
errors in one transaction; ``run_import`` does both. See docs/import.md.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from dashboard.transfer.importer.plan import ImportFiles, ImportPlan, Progress, plan_import
from dashboard.transfer.importer.problems import Problem, Report
from dashboard.transfer.importer.write import ImportNotWritable, write_plan

__all__ = [
    "ImportFiles",
    "ImportNotWritable",
    "ImportOutcome",
    "ImportPlan",
    "Problem",
    "Report",
    "plan_import",
    "run_import",
    "write_plan",
]


@dataclass
class ImportOutcome:
    plan: ImportPlan
    written: bool
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {**self.plan.summary(), "written": self.written, "seconds": round(self.seconds, 2)}


def run_import(
    engine: Engine,
    files: ImportFiles,
    *,
    dry_run: bool = False,
    today: dt.date | None = None,
    progress: Progress | None = None,
    id_key: bytes | None = None,
) -> ImportOutcome:
    """Check ``files``; unless ``dry_run`` or there are errors, write the changes (all or nothing)."""
    started = time.perf_counter()
    plan = plan_import(engine, files, today=today, progress=progress, id_key=id_key)
    written = False
    if not dry_run and plan.writable and plan.changes:
        write_plan(engine, plan, (lambda f: progress("write", f)) if progress else None)
        written = True
    return ImportOutcome(plan, written, time.perf_counter() - started)
