"""Scheduled reports: every Monday at 08:00 the week before, on the 1st at 08:00 the month before,
written into a folder — for the top organisation (or the configured ones), in each configured
language and level.

No state is kept: the reports due are the last finished week and month whose 08:00 has passed,
and a report whose file exists is not made again. A restart, a missed hour or two schedulers on one
folder therefore write each report once. Files are named ``CODE_PERIOD_LANG_LEVEL.pdf``, so the
reports page can tell whose they are (dashboard/report/library.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from dashboard.access.scopes import Level
from dashboard.report.library import report_name
from dashboard.report.make import REPORT_ERRORS, make_report
from dashboard.report.period import Period
from dashboard.store.tree import OrgTree

log = logging.getLogger(__name__)

SEND_AT = dt.time(8, 0)
CHECK_EVERY_S = 60.0


def due_periods(now: dt.datetime) -> list[Period]:
    """The last finished week and month whose report time (Monday / the 1st, 08:00 local) has passed."""
    today = now.date()
    monday = today - dt.timedelta(days=today.weekday())
    if now.time() < SEND_AT and today == monday:
        monday -= dt.timedelta(days=7)  # this Monday's report is not due before 08:00
    week_first = monday - dt.timedelta(days=7)
    first = today.replace(day=1)
    if now.time() < SEND_AT and today == first:
        first = (first - dt.timedelta(days=1)).replace(day=1)
    month_last = first - dt.timedelta(days=1)
    return [Period("week", week_first, week_first + dt.timedelta(days=6)), Period("month", month_last.replace(day=1), month_last)]


@dataclass(frozen=True)
class ReportSchedule:
    folder: Path
    orgs: tuple[str, ...] = ()  # organisation codes; none: the top organisation
    langs: tuple[str, ...] = ("zh",)
    levels: tuple[Level, ...] = ("full",)

    def run_due(self, engine: Engine, tree: OrgTree, tz: dt.tzinfo, now_ms: int) -> list[Path]:
        """Write every due report not written yet; returns the files written. A report that cannot be
        made (no history for that period yet …) is logged and tried again at the next check."""
        now = dt.datetime.fromtimestamp(now_ms / 1000, tz)
        root = tree.root
        orgs = self.orgs or ((root.code,) if root else ())
        written = []
        for period in due_periods(now):
            for org in orgs:
                for lang in self.langs:
                    for level in self.levels:
                        out = self.folder / report_name(org, period.label, lang, level)
                        if out.exists():
                            continue
                        try:
                            make_report(engine, org, period.label, out, tz, lang, level, tree=tree, now_ms=now_ms)
                        except REPORT_ERRORS as exc:
                            log.warning("scheduled report %s not made: %s", out.name, exc)
                            continue
                        written.append(out)
        return written

    async def run(self, engine: Engine, tree: Callable[[], OrgTree], tz: dt.tzinfo, clock: Callable[[], float]) -> None:
        """Check every minute for ever (until cancelled); the reports are drawn in a thread."""
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            try:
                for path in await asyncio.to_thread(self.run_due, engine, tree(), tz, int(clock() * 1000)):
                    log.info("scheduled report written: %s", path)
            except Exception:
                log.exception("scheduled reports failed; trying again in a minute")
            await asyncio.sleep(CHECK_EVERY_S)
