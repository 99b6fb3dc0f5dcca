"""/admin/reports: the page, the callback that submits a report and the one that follows it.

Administrators make reports of any organisation; any other signed-in user or token of theirs in their own
subtree, at their own level at most (a public-level viewer makes public editions only). Every callback
asks again who the caller is (session cookie or the page's token) and takes the scope from that, never
from the page. The report is drawn on the core's worker thread (dashboard/report/jobs.py), not in the
callback; the page polls the job and offers the file when it is there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, callback, no_update

from callbacks.access import page_viewer
from callbacks.context import ViewContext
from dashboard.access.viewer import ANONYMOUS, AccessRefused, Viewer
from dashboard.report.jobs import ReportRequestError, reports_for
from layouts.admin_reports import job_status, make_form, period_text, refused, reports_layout, reports_table
from layouts.i18n import normalise_lang, t
from layouts.login import refusal_layout


def _viewer(view: ViewContext, token: Any) -> Viewer:
    viewer = page_viewer(view, token=token, purpose="reports")
    if viewer.role == ANONYMOUS:
        raise AccessRefused(401, "sign_in", "sign in to make or download reports")
    return viewer


def register(view: ViewContext) -> None:
    rt = view.runtime

    def layout(lang: str | None = None, token: Any = None, **_query: Any) -> Any:
        lang = normalise_lang(lang)
        try:
            viewer = _viewer(view, token)
        except AccessRefused as no:
            return refusal_layout(no.code, lang, "/admin/reports")
        token = token if isinstance(token, str) else None
        top = rt.tree.nodes[viewer.scope.org_id].code
        today = dt.datetime.now(ZoneInfo(rt.settings.timezone)).date()
        form = make_form(top, today, lang, viewer.scope.public)
        return reports_layout(viewer.actor, lang, token, form, reports_for(rt).library.visible(rt.tree, viewer.scope))

    dash.register_page("admin_reports", path="/admin/reports", layout=layout, title=t("reports.title"))

    @callback(
        Output("report-status", "children"),
        Output("report-job", "data"),
        Output("report-poll", "disabled"),
        Input("report-make", "n_clicks"),
        State("report-org", "value"),
        State("report-kind", "value"),
        State("report-month", "value"),
        State("report-week", "value"),
        State("report-from", "value"),
        State("report-to", "value"),
        State("report-lang", "value"),
        State("report-level", "value"),
        State("report-format", "value"),
        State("reports-token", "data"),
        State("reports-lang", "data"),
        prevent_initial_call=True,
    )
    def make(_click: Any, org: Any, kind: Any, month: Any, week: Any, first: Any, last: Any, report_lang: Any,
             level: Any, fmt: Any, token: Any, lang: Any) -> tuple[Any, Any, Any]:
        lang = normalise_lang(lang)
        try:
            viewer = _viewer(view, token)
            job = reports_for(rt).submit(viewer.actor, viewer.scope, org, period_text(kind, month, week, first, last),
                                         report_lang, level, fmt)
        except AccessRefused as no:
            return refused(t(f"access.{no.code}", lang)), None, True
        except ReportRequestError as exc:
            return refused(t(f"reports.error.{exc.code}", lang)), None, True
        return job_status(job.state, job.name, None, None, lang, None), job.id, False

    @callback(
        Output("report-status", "children", allow_duplicate=True),
        Output("report-poll", "disabled", allow_duplicate=True),
        Output("reports-list", "children"),
        Input("report-poll", "n_intervals"),
        State("report-job", "data"),
        State("reports-token", "data"),
        State("reports-lang", "data"),
        prevent_initial_call=True,
    )
    def follow(_tick: Any, job_id: Any, token: Any, lang: Any) -> tuple[Any, Any, Any]:
        lang = normalise_lang(lang)
        try:
            viewer = _viewer(view, token)
        except AccessRefused as no:
            return refused(t(f"access.{no.code}", lang)), True, no_update
        jobs = reports_for(rt)
        job = jobs.get(job_id, viewer.actor)
        if job is None:
            return refused(t("reports.error.job", lang)), True, no_update
        token = token if isinstance(token, str) else None
        status = job_status(job.state, job.name, job.error, job.seconds, lang, token)
        if job.state not in ("done", "failed"):
            return status, False, no_update
        return status, True, reports_table(jobs.library.visible(rt.tree, viewer.scope), lang, token)
