"""/admin/import: the page and the callback that follows an import job (check, confirm, progress).

The browser uploads the files itself (assets/admin_import.js) and hands over
the job id; from then on one callback polls the job, renders its progress and
report, and starts the write when the administrator confirms. Every request
checks again that its caller administers the whole tree (the page's admin
token, or a signed-in admin).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, ctx, no_update

from callbacks.access import page_viewer
from callbacks.context import ViewContext
from dashboard.access.viewer import AccessRefused, Viewer
from dashboard.api.imports import whole_tree_admin
from dashboard.transfer.importer.jobs import JobError, jobs_for
from layouts.admin_import import import_layout, status_view
from layouts.i18n import normalise_lang, t
from layouts.login import refusal_layout

FINISHED = frozenset({"checked", "done", "failed"})
OUTPUTS = ("import-progress.value", "import-progress.label", "import-stage.children", "import-message.children",
           "import-summary.children", "import-report.children", "import-confirm.disabled", "import-poll.disabled")


def _admin(view: ViewContext, token: Any) -> Viewer:
    viewer = page_viewer(view, token=token, purpose="admin import")
    if not whole_tree_admin(view.runtime, viewer):
        anonymous = viewer.role == "anonymous"
        raise AccessRefused(401 if anonymous else 403, "sign_in" if anonymous else "forbidden", "administrators only")
    return viewer


def register(view: ViewContext) -> None:
    def layout(lang: str | None = None, token: Any = None, **_query: Any) -> Any:
        lang = normalise_lang(lang)
        try:
            _admin(view, token)
        except AccessRefused as refused:
            return refusal_layout(refused.code, lang, "/admin/import")
        return import_layout(lang, token if isinstance(token, str) else None)

    dash.register_page("admin_import", path="/admin/import", layout=layout, title=t("import.title"))

    @callback(
        *(Output(*o.split(".")) for o in OUTPUTS),
        Input("import-job", "data"),
        Input("import-poll", "n_intervals"),
        Input("import-confirm", "n_clicks"),
        State("import-token", "data"),
        State("import-lang", "data"),
        prevent_initial_call=True,
    )
    def follow(job_id: Any, _tick: Any, _confirm: Any, token: Any, lang: Any) -> tuple[Any, ...]:
        lang = normalise_lang(lang)
        try:
            viewer = _admin(view, token)
            jobs = jobs_for(view.runtime)
            job = jobs.apply(job_id, viewer.actor) if ctx.triggered_id == "import-confirm" else jobs.get(str(job_id))
        except AccessRefused as refused:
            return _only_message(t(f"access.{refused.code}", lang))
        except JobError as exc:
            return _only_message(f"{t('import.failed', lang)} {exc}")
        status = job.status()
        percent, label, stage, message, summary, report = status_view(status, lang)
        ready = status["state"] == "checked" and bool(status["summary"].get("ok")) and bool(status["summary"].get("changes"))
        return percent, label, stage, message, summary, report, not ready, status["state"] in FINISHED


def _only_message(text: str) -> tuple[Any, ...]:
    return no_update, no_update, no_update, text, no_update, no_update, True, True
