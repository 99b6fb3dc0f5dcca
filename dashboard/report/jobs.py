"""Reports made on demand (/admin/reports): checked at once, drawn off the request thread, kept for download.

``submit`` checks everything that can be checked quickly — the organisation (known and inside the
caller's scope: one answer for both, so a scope learns nothing about codes outside it), the period
(malformed, reversed, too long, in the future, before the history kept), the language, level and
format — and raises ``ReportRequestError`` with a code the page translates. What passes is drawn by
the same code as the command line (``make_report``) on one worker thread, so a burst of requests
queues instead of loading the server, and written into the library's made folder as
``CODE_PERIOD_LANG_LEVEL.pdf|png``, where the reports page and the download route find it.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dashboard.access.scopes import Scope
from dashboard.live.history import history_bounds
from dashboard.report.library import FORMATS, ReportLibrary, report_name
from dashboard.report.period import Period, PeriodError, check_reportable, parse_period
from dashboard.store.tree import OrgTree

if TYPE_CHECKING:
    from dashboard.runtime.core import Runtime

log = logging.getLogger(__name__)

LANGS = ("zh", "en")
KEEP_JOBS = 200


class ReportRequestError(ValueError):
    """A report that cannot be made; ``code`` names the problem (``reports.error.<code>``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class ReportJob:
    id: str
    actor: str
    name: str
    state: str = "queued"  # queued | running | done | failed
    error: str | None = None
    seconds: float | None = None
    submitted: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class ReportRequest:
    org_code: str
    period: Period
    lang: str
    level: str
    fmt: str

    @property
    def name(self) -> str:
        return report_name(self.org_code, self.period.label, self.lang, self.level, self.fmt)


def check_request(
    tree: OrgTree, scope: Scope, org_code: object, period_text: object, lang: object, level: object, fmt: object,
    tz: dt.tzinfo, now_ms: int, history: tuple[int, int] | None,
) -> ReportRequest:
    """The request as a report can be made of it, or ReportRequestError naming what is wrong."""
    if lang not in LANGS or level not in ("full", "public") or fmt not in FORMATS:
        raise ReportRequestError("choice", "language, level or format not offered")
    if scope.public and level != "public":
        raise ReportRequestError("level", "a public-level viewer may make public reports only")
    node = tree.get(org_code.strip()) if isinstance(org_code, str) else None
    if node is None or not tree.is_within(node.id, scope.org_id):
        raise ReportRequestError("org", f"unknown organisation {str(org_code)[:64]!r} (or outside your scope)")
    try:
        period = parse_period(period_text if isinstance(period_text, str) else "")
        check_reportable(period, tz, now_ms, history)
    except PeriodError as exc:
        raise ReportRequestError(exc.code, str(exc)) from None
    return ReportRequest(node.code, period, str(lang), str(level), str(fmt))


class ReportJobs:
    """The reports made on demand in one running system, drawn one at a time."""

    def __init__(self, engine: Engine, tree: Callable[[], OrgTree], tz: dt.tzinfo, library: ReportLibrary,
                 record: Callable[[str, str, bool, str], None] = lambda actor, name, ok, error: None) -> None:
        self.engine, self._tree, self.tz, self.library, self._record = engine, tree, tz, library, record
        self._jobs: OrderedDict[str, ReportJob] = OrderedDict()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report")

    def submit(self, actor: str, scope: Scope, org_code: object, period_text: object, lang: object, level: object,
               fmt: object) -> ReportJob:
        tree = self._tree()
        request = check_request(tree, scope, org_code, period_text, lang, level, fmt, self.tz,
                                int(time.time() * 1000), history_bounds(self.engine))
        job = ReportJob(secrets.token_urlsafe(12), actor, request.name)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.popitem(last=False)
        self._executor.submit(self._draw, job, request, tree)
        return job

    def _draw(self, job: ReportJob, request: ReportRequest, tree: OrgTree) -> None:
        # imported here: the drawing loads matplotlib, which a server that makes no report never needs
        from dashboard.report.make import REPORT_ERRORS, make_report

        job.state, started = "running", time.monotonic()
        try:
            make_report(self.engine, request.org_code, request.period.label, self.library.made / request.name, self.tz,
                        request.lang, request.level, tree=tree)  # type: ignore[arg-type]
            job.state = "done"
        except REPORT_ERRORS as exc:
            job.state, job.error = "failed", str(exc)
        except Exception as exc:  # anything else is a bug: the page says the report failed, the log has it
            job.state, job.error = "failed", f"internal error: {type(exc).__name__}"
            log.exception("report %s failed", job.name)
        finally:
            job.seconds = round(time.monotonic() - started, 2)
            self._record(job.actor, job.name, job.state == "done", job.error or "")

    def get(self, job_id: object, actor: str) -> ReportJob | None:
        """The job ``job_id`` if ``actor`` submitted it."""
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        return job if job is not None and job.actor == actor else None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_registry: dict[int, ReportJobs] = {}
_registry_lock = threading.Lock()


def made_folder(reports_dir: Path | None) -> Path:
    """``DIR/made`` with ``--reports-dir DIR``; else a temporary folder that lasts as long as the process."""
    if reports_dir is not None:
        folder = reports_dir / "made"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    folder = Path(tempfile.mkdtemp(prefix="lianxin-reports-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def reports_for(runtime: Runtime) -> ReportJobs:
    """The report jobs and library of a running system (one per Runtime: the page and the API share it)."""
    with _registry_lock:
        jobs = _registry.get(id(runtime))
        if jobs is None:
            settings, audit = runtime.settings, runtime.audit

            def record(actor: str, name: str, ok: bool, error: str) -> None:
                audit.record(actor, "report.make", target=name, ok=ok, detail={"error": error} if error else None)

            library = ReportLibrary(settings.reports_dir, made_folder(settings.reports_dir))
            jobs = _registry[id(runtime)] = ReportJobs(runtime.engine, lambda: runtime.tree,
                                                       ZoneInfo(settings.timezone), library, record)
            atexit.register(jobs.close)
        return jobs
