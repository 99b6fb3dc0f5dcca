"""/admin/import: the page and the callback that follows an import job (check, confirm, progress).

The browser uploads the files itself (assets/admin_import.js) and hands over
the job id; from then on one callback polls the job, renders its progress and
report, and starts the write when the administrator confirms. Every request
checks again that its caller administers the whole tree (the page's admin
token, or a signed-in admin).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, no_update

from callbacks.access import page_viewer
from callbacks.context import ViewContext
from dashboard.access.viewer import AccessRefused, Viewer
from dashboard.api.imports import whole_tree_admin
from dashboard.transfer.importer.jobs import JobError, jobs_for
from dashboard.transfer.importer.mapping import MappingError, mapping_json, parse_mapping
from layouts.admin_import import choices_mapping, import_layout, status_view
from layouts.i18n import normalise_lang, t
from layouts.login import refusal_layout

FINISHED = frozenset({"checked", "done", "failed"})
OUTPUTS = ("import-progress.value", "import-progress.label", "import-stage.children", "import-message.children",
           "import-summary.children", "import-columns.children", "import-report.children", "import-confirm.disabled",
           "import-poll.disabled")
COLUMN_CHOICES = {"type": "import-column", "kind": ALL, "header": ALL}


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
            job = jobs.apply(job_id, viewer.actor) if ctx.triggered_id == "import-confirm" else jobs.find(str(job_id))
        except AccessRefused as refused:
            return _only_message(t(f"access.{refused.code}", lang))
        except JobError as exc:
            return _only_message(f"{t('import.failed', lang)} {exc}")
        status = job.status()
        percent, label, stage, message, summary, columns, report = status_view(status, lang)
        ready = status["state"] == "checked" and bool(status["summary"].get("ok")) and bool(status["summary"].get("changes"))
        return percent, label, stage, message, summary, columns, report, not ready, status["state"] in FINISHED

    @callback(
        Output("import-poll", "disabled", allow_duplicate=True),
        Output("import-message", "children", allow_duplicate=True),
        Input("import-remap", "n_clicks"),
        Input("import-load-mapping", "contents"),
        State("import-load-mapping", "filename"),
        State(COLUMN_CHOICES, "id"),
        State(COLUMN_CHOICES, "value"),
        State("import-job", "data"),
        State("import-token", "data"),
        State("import-lang", "data"),
        prevent_initial_call=True,
    )
    def remap(_click: Any, contents: Any, filename: Any, ids: list[dict[str, str]], values: list[Any], job_id: Any,
              token: Any, lang: Any) -> tuple[Any, Any]:
        """Check again with the columns as chosen on the page, or as a saved mapping file says."""
        lang = normalise_lang(lang)
        try:
            _admin(view, token)
            if ctx.triggered_id == "import-load-mapping":
                mappings = parse_mapping(_uploaded(contents), str(filename or "mapping.json"))
            else:
                mappings = choices_mapping(ids, values)
            jobs_for(view.runtime).remap(str(job_id), mappings)
        except AccessRefused as refused:
            return True, t(f"access.{refused.code}", lang)
        except (JobError, MappingError) as exc:
            return True, f"{t('import.failed', lang)} {exc}"
        return False, None

    @callback(
        Output("import-mapping-download", "data"),
        Input("import-save-mapping", "n_clicks"),
        State(COLUMN_CHOICES, "id"),
        State(COLUMN_CHOICES, "value"),
        State("import-token", "data"),
        prevent_initial_call=True,
    )
    def save_mapping(_click: Any, ids: list[dict[str, str]], values: list[Any], token: Any) -> Any:
        """The columns as chosen, as a mapping file to reuse here or with the CLI's --mapping."""
        try:
            _admin(view, token)
        except AccessRefused:
            return no_update
        return {"content": mapping_json(choices_mapping(ids, values)), "filename": "lianxin-mapping.json"}


def _uploaded(contents: Any) -> bytes:
    """dcc.Upload's ``data:…;base64,…`` as bytes; MappingError if it is not that."""
    try:
        return base64.b64decode(str(contents).split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error):
        raise MappingError("the mapping file could not be read") from None


def _only_message(text: str) -> tuple[Any, ...]:
    return no_update, no_update, no_update, text, no_update, no_update, no_update, True, True
