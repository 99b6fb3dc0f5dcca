"""Imports run from the admin page: upload, check, confirm — each in the background, with progress.

A job owns a temporary directory with the uploaded files. ``check`` plans the
import in a worker thread and keeps the report and the summary (not the plan:
a big roster's plan is hundreds of MB). ``apply`` plans again and writes — so
what is written is checked against the database as it is at that moment — and
then reloads the live state, all under one lock: one import at a time. Jobs
are dropped (files deleted) an hour after their last use.

In a cluster a job's files stay with the process that received them, and its
status is written to a ``JobBoard`` (the cluster's shared records in Redis,
dashboard/live/cluster.py) at every step: any process answers for it, and one
that does not hold it says which process does (docs/scale.md).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine

from dashboard.transfer.importer import ImportFiles, ImportPlan, plan_import, write_plan
from dashboard.transfer.importer.columns import FILE_KINDS
from dashboard.transfer.importer.mapping import overrides
from dashboard.transfer.importer.read import header_columns

if TYPE_CHECKING:
    from dashboard.runtime.core import Runtime

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
JOB_TTL_S = 3600.0
MAX_JOBS = 16
SHARE_PROGRESS_S = 0.5  # a cluster's board hears of progress at most this often
# Share of the bar each stage takes while checking and while applying.
CHECK_STAGES = {"read orgs": 0.05, "read members": 0.55, "read links": 0.05, "check": 0.35}
APPLY_STAGES = {"read orgs": 0.03, "read members": 0.25, "read links": 0.02, "check": 0.15, "write": 0.45, "reload": 0.10}


# (actor, action, ok, detail): how a finished apply is written to the audit log
Audit = Callable[[str, str, bool, dict[str, Any]], None]


class JobError(ValueError):
    """What the admin asked cannot be done now (unknown job, busy, nothing uploaded …); one line."""


class JobBoard(Protocol):
    """Where the status of every job is visible to the other processes of a cluster."""

    def put(self, record_id: str, record: dict[str, Any], ttl_s: float) -> None: ...

    def get(self, record_id: str) -> dict[str, Any] | None: ...

    def drop(self, record_id: str) -> None: ...


@dataclass
class RemoteJob:
    """A job another process of the cluster holds: its status can be read here, nothing done to it."""

    record: dict[str, Any]

    @property
    def state(self) -> str:
        return str(self.record.get("state", ""))

    def status(self) -> dict[str, Any]:
        return self.record


@dataclass
class ImportJob:
    id: str
    directory: Path
    files: dict[str, tuple[Path, str]] = field(default_factory=dict)  # kind → (stored file, name as uploaded)
    state: str = "new"  # new → checking → checked | failed → applying → done | failed
    stage: str = ""
    progress: float = 0.0
    report: list[dict[str, Any]] = field(default_factory=list)
    report_lines: dict[str, list[str]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    touched: float = field(default_factory=time.monotonic)
    mappings: dict[str, dict[str, str]] = field(default_factory=dict)  # the admin's column mapping (mapping.py)
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # kind → (header, key read as)

    def import_files(self) -> ImportFiles:
        if "orgs" not in self.files:
            raise JobError("upload the organisations file first")
        path = {kind: self.files[kind][0] if kind in self.files else None for kind in FILE_KINDS}
        return ImportFiles(path["orgs"], path["members"], path["links"],  # type: ignore[arg-type]
                           names={kind: name for kind, (_, name) in self.files.items()}, mappings=self.mappings)

    def status(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "stage": self.stage,
            "progress": round(self.progress, 3),
            "files": {kind: name for kind, (_, name) in self.files.items()},
            "summary": self.summary,
            "problems": self.report,
            "report": self.report_lines,
            "error": self.error,
            "columns": {kind: [list(c) for c in found] for kind, found in self.columns.items()},
            "mappings": self.mappings,
        }


class Upload:
    """A file arriving in parts (each request body a part, so no request is big); capped at MAX_UPLOAD_BYTES."""

    def __init__(self, job: ImportJob, kind: str, name: str, offset: int) -> None:
        self._job, self._kind, self._name = job, kind, name
        self._path = job.directory / f"{kind}{Path(name).suffix[:8]}"
        have = self._path.stat().st_size if offset and self._path.exists() else 0
        if offset != have:
            raise JobError(f"this part starts at byte {offset:,} but {have:,} bytes have arrived; send the file again")
        self._out = self._path.open("ab" if offset else "wb")
        self.size = offset

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_UPLOAD_BYTES:
            self.abort()
            raise JobError(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        self._out.write(chunk)

    def abort(self) -> None:
        self._out.close()
        self._path.unlink(missing_ok=True)

    def finish(self) -> None:
        self._out.close()
        job = self._job
        job.files[self._kind] = (self._path, self._name)
        job.state, job.summary, job.report, job.report_lines, job.error = "new", {}, [], {}, None


class ImportJobs:
    def __init__(self, engine: Engine, reload: Callable[[], None], audit: Audit | None = None,
                 root: Path | None = None, board: JobBoard | None = None, holder: str = "") -> None:
        self._engine = engine
        self._board = board
        self._holder = holder  # this process, as the board names it
        self._reload = reload
        self._audit = audit
        self._root = root
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="import")

    def create(self) -> ImportJob:
        self._expire()
        with self._lock:
            if len(self._jobs) >= MAX_JOBS:
                raise JobError(f"{MAX_JOBS} imports are open already; finish or discard one")
            job = ImportJob(uuid.uuid4().hex, Path(tempfile.mkdtemp(prefix="lianxin-import-", dir=self._root)))
            self._jobs[job.id] = job
        self.share(job)
        return job

    def get(self, job_id: str) -> ImportJob:
        job = self._jobs.get(job_id)
        if job is None:
            remote = self.remote(job_id)
            if remote is not None:
                raise JobError(f"this import is held by {remote.record.get('holder', 'another process')}, "
                               "where its files are: send its requests there (docs/scale.md)")
            raise JobError("no such import (it may have expired): start again")
        job.touched = time.monotonic()
        return job

    def find(self, job_id: str) -> ImportJob | RemoteJob:
        """The job for reading its status: held here, or (in a cluster) held by another process."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.touched = time.monotonic()
            return job
        remote = self.remote(job_id)
        if remote is None:
            raise JobError("no such import (it may have expired): start again")
        return remote

    def remote(self, job_id: str) -> RemoteJob | None:
        record = self._board.get(job_id) if self._board is not None else None
        return RemoteJob(record) if record is not None else None

    def share(self, job: ImportJob) -> None:
        """Write the job's status to the cluster's board (nothing alone)."""
        if self._board is not None:
            self._board.put(job.id, {**job.status(), "holder": self._holder}, JOB_TTL_S)

    def upload(self, job_id: str, kind: str, name: str, offset: int = 0) -> Upload:
        """Receive (part of) a file of ``kind``: offset 0 starts it, a later part continues it where it ends."""
        if kind not in FILE_KINDS:
            raise JobError(f"unknown file kind {kind!r}: use {', '.join(FILE_KINDS)}")
        job = self.get(job_id)
        if job.state in ("checking", "applying"):
            raise JobError("the import is busy; wait for it to finish")
        return Upload(job, kind, Path(name).name or kind, offset)

    def check(self, job_id: str) -> ImportJob:
        job = self._start(job_id, "checking", allowed=("new", "checked", "failed"))
        self._workers.submit(self._run_check, job)
        return job

    def remap(self, job_id: str, mappings: dict[str, dict[str, str]]) -> ImportJob:
        """Check the job's files again with a column mapping (mapping.parse_mapping's shape, already checked)."""
        job = self.get(job_id)
        if job.state in ("checking", "applying"):
            raise JobError("wait until the running check or import has finished")
        job.mappings = mappings
        return self.check(job_id)

    def apply(self, job_id: str, actor: str = "unknown") -> ImportJob:
        job = self.get(job_id)
        if job.state != "checked" or not job.summary.get("ok"):
            raise JobError("only a checked import without errors can be applied")
        self._start(job_id, "applying", allowed=("checked",))
        self._workers.submit(self._run_apply, job, actor)
        return job

    def discard(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.pop(job_id, None)
        if job is not None:
            shutil.rmtree(job.directory, ignore_errors=True)
            if self._board is not None:
                self._board.drop(job_id)

    def close(self) -> None:
        self._workers.shutdown(wait=False, cancel_futures=True)
        for job_id in list(self._jobs):
            self.discard(job_id)

    # ------------------------------------------------------------------ workers

    def _start(self, job_id: str, state: str, allowed: tuple[str, ...]) -> ImportJob:
        with self._lock:
            job = self.get(job_id)
            if job.state not in allowed:
                raise JobError(f"the import is {job.state}; it cannot start {state} now")
            job.import_files()  # JobError without an organisations file
            job.state, job.stage, job.progress, job.error = state, "", 0.0, None
        self.share(job)
        return job

    def _progress(self, job: ImportJob, weights: dict[str, float]) -> Callable[[str, float], None]:
        offsets, total = {}, 0.0
        for stage, weight in weights.items():
            offsets[stage] = total
            total += weight

        shared_at = [0.0]

        def progress(stage: str, fraction: float) -> None:
            job.stage = stage
            job.progress = min(offsets.get(stage, 0.0) + weights.get(stage, 0.0) * fraction, 1.0)
            if time.monotonic() - shared_at[0] >= SHARE_PROGRESS_S:
                shared_at[0] = time.monotonic()
                self.share(job)

        return progress

    def _remember(self, job: ImportJob, plan: ImportPlan) -> None:
        job.summary = plan.summary()
        job.report = [p.as_dict("zh") | {"message_en": p.message("en")} for p in plan.report.problems]
        job.report_lines = {lang: plan.report.lines(lang) for lang in ("zh", "en")}

    def _run_check(self, job: ImportJob) -> None:
        try:
            files = job.import_files()
            plan = plan_import(self._engine, files, progress=self._progress(job, CHECK_STAGES))
            self._remember(job, plan)
            job.columns = {kind: header_columns(path, kind, overrides=overrides(job.mappings.get(kind), kind))
                           for kind, path in files.items()}
            job.state, job.progress = "checked", 1.0
        except Exception as exc:  # the page must hear of any failure, not wait for ever (no library message)
            job.state, job.error = "failed", f"unexpected error ({type(exc).__name__}); please report it with the files"
        self.share(job)

    def _run_apply(self, job: ImportJob, actor: str) -> None:
        progress = self._progress(job, APPLY_STAGES)
        detail: str | None = None
        try:
            with self._writing:
                plan = plan_import(self._engine, job.import_files(), progress=progress)
                self._remember(job, plan)
                if not plan.writable:
                    job.state = "failed"
                    job.error = "the database changed since the check and the import now has problems; check again"
                else:
                    counts = write_plan(self._engine, plan, lambda f: progress("write", f))
                    progress("reload", 0.0)
                    if counts:
                        self._reload()
                    job.summary = {**job.summary, "written": bool(counts)}
                    job.state, job.stage, job.progress = "done", "reload", 1.0
        except Exception as exc:  # the admin reads a plain line; the audit log keeps what the library said
            job.state = "failed"
            job.error = f"the import could not be written ({type(exc).__name__}); nothing was changed — try again"
            detail = f"{type(exc).__name__}: {exc}"
        else:
            detail = job.error
        self.share(job)
        if self._audit is not None:
            self._audit(actor, "import.apply", job.state == "done",
                        {"files": {k: name for k, (_, name) in job.files.items()}, **job.summary,
                         **({"error": detail} if detail else {})})

    def _expire(self) -> None:
        cutoff = time.monotonic() - JOB_TTL_S
        for job_id, job in list(self._jobs.items()):
            if job.touched < cutoff and job.state not in ("checking", "applying"):
                self.discard(job_id)


_registry: dict[int, ImportJobs] = {}
_registry_lock = threading.Lock()


def jobs_for(runtime: Runtime) -> ImportJobs:
    """The import jobs of a running system (one set per Runtime, shared by the API and the admin page)."""
    with _registry_lock:
        jobs = _registry.get(id(runtime))
        if jobs is None:
            audit = runtime.audit

            def record(actor: str, action: str, ok: bool, detail: dict[str, Any]) -> None:
                audit.record(actor, action, target=", ".join(detail.get("files", {}).values()) or None, ok=ok,
                             detail=detail)

            cluster = runtime.cluster
            jobs = _registry[id(runtime)] = ImportJobs(
                runtime.engine, runtime.reload, record, board=cluster.records("import") if cluster is not None else None,
                holder=cluster.name if cluster is not None else "",
            )
            atexit.register(jobs.close)  # delete the uploaded files on the way out
        return jobs
