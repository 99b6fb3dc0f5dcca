"""One report from request to file: every check first (output path, period, organisation, history),
then the figures, then the drawing — so bad input costs nothing and leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlalchemy import Engine

from dashboard.access.scopes import Level
from dashboard.live.history import history_bounds
from dashboard.report.figures import ReportError, build_report
from dashboard.report.period import PeriodError, check_reportable, parse_period
from dashboard.report.render import RenderError, check_output, render_report
from dashboard.store.tree import OrgTree

REPORT_ERRORS = (ReportError, PeriodError, RenderError)


def make_report(
    engine: Engine,
    org_code: str,
    period_text: str,
    out: Path,
    tz: dt.tzinfo,
    lang: str = "zh",
    level: Level = "full",
    tree: OrgTree | None = None,
    now_ms: int | None = None,
) -> Path:
    """Write the report of ``org_code`` for ``period_text`` to ``out``; one of REPORT_ERRORS for bad input."""
    check_output(out)
    period = parse_period(period_text)
    tree = tree or OrgTree.load(engine)
    if tree.get(org_code) is None:
        raise ReportError(f"unknown organisation {org_code!r}")
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    check_reportable(period, tz, now_ms, history_bounds(engine))
    report = build_report(engine, tree, org_code, period, tz, level, now_ms)
    return render_report(report, out, lang)
