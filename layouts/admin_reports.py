"""/admin/reports: make a report, and the reports the viewer may download (desktop, Bootstrap).

Pure functions of what they are handed; callbacks/admin_reports.py checks the caller, submits the report
to the core's jobs (dashboard/report/jobs.py) and follows it. The download links go to the
authenticated route /api/reports/NAME, which checks the scope again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.report.library import ReportFile
from layouts.desktop import desktop_page
from layouts.i18n import t

POLL_MS = 700
PERIOD_KINDS = ("month", "week", "range")
LIST_COLUMNS = ("org", "period", "lang", "level", "format", "source")


def download_href(name: str, token: str | None) -> str:
    return f"/api/reports/{quote(name)}" + (f"?token={quote(token)}" if token else "")


def _field(label: str, control: Any, md: int | bool = True) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-1"), control], md=md)


def _select(control_id: str, options: Sequence[tuple[str, str]], value: str, disabled: bool = False) -> dbc.Select:
    return dbc.Select(id=control_id, options=[{"label": label, "value": v} for v, label in options], value=value,
                      disabled=disabled)


def make_form(org_code: str, today: dt.date, lang: str, public_only: bool) -> dbc.Card:
    """The choices of a report. The period inputs are the browser's own month, week and date pickers,
    whose values are already the report's period syntax (2026-11, 2026-W48, 2026-11-01)."""
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    year, week, _ = (today - dt.timedelta(days=7)).isocalendar()
    first_of_month = today.replace(day=1).isoformat()
    levels = [("public", t("reports.level.public", lang))] + ([] if public_only else [("full", t("reports.level.full", lang))])
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            _field(t("reports.org", lang), dbc.Input(id="report-org", value=org_code, maxLength=64)),
            _field(t("reports.kind", lang), dbc.RadioItems(
                id="report-kind", inline=True, value="month",
                options=[{"label": t(f"reports.kind.{k}", lang), "value": k} for k in PERIOD_KINDS])),
        ], className="g-2 mb-2"),
        dbc.Row([
            _field(t("reports.kind.month", lang), dbc.Input(id="report-month", type="month", value=last_month)),
            _field(t("reports.kind.week", lang), dbc.Input(id="report-week", type="week", value=f"{year:04d}-W{week:02d}")),
            _field(t("reports.from", lang), dbc.Input(id="report-from", type="date", value=first_of_month)),
            _field(t("reports.to", lang), dbc.Input(id="report-to", type="date", value=today.isoformat())),
        ], className="g-2 mb-2"),
        dbc.Row([
            _field(t("reports.lang", lang), _select("report-lang", (("zh", "中文"), ("en", "English")), lang)),
            _field(t("reports.level", lang), _select("report-level", levels, "public" if public_only else "full", public_only)),
            _field(t("reports.format", lang), _select("report-format", (("pdf", "PDF"), ("png", "PNG")), "pdf")),
            dbc.Col(dbc.Button(t("reports.make", lang), id="report-make", color="primary", className="mt-4"), md="auto"),
        ], className="g-2"),
    ]), className="mb-3")


def period_text(kind: Any, month: Any, week: Any, first: Any, last: Any) -> str:
    """The period as the report code reads it, from the form's inputs (their checks are the core's)."""
    if kind == "week":
        return str(week or "")
    if kind == "range":
        return f"{first or ''}..{last or ''}"
    return str(month or "")


def job_status(state: str, name: str, error: str | None, seconds: float | None, lang: str, token: str | None) -> dbc.Alert:
    """Where a report being made stands; when done, the link that downloads it."""
    if state == "done":
        link = html.A(f"{t('reports.download', lang)} {name}", href=download_href(name, token), id="report-download-link",
                      className="alert-link")
        return dbc.Alert([html.Div(t("reports.done", lang).format(seconds=seconds)), link], color="success",
                         id="report-outcome")
    if state == "failed":
        return dbc.Alert(f"{t('reports.failed', lang)} {error or ''}", color="danger", id="report-outcome")
    return dbc.Alert([dbc.Spinner(size="sm", spinner_class_name="me-2"), t(f"reports.state.{state}", lang), f" {name}"],
                     color="info", id="report-outcome")


def refused(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="danger", id="report-outcome")


def reports_table(reports: Sequence[ReportFile], lang: str, token: str | None) -> Any:
    """The reports the viewer may download, each a link to the authenticated route."""
    if not reports:
        return html.P(t("reports.none", lang), className="text-body-secondary", id="reports-empty")
    head = html.Thead(html.Tr([html.Th(t(f"reports.col.{c}", lang)) for c in LIST_COLUMNS] + [html.Th("")]))
    body = html.Tbody([
        html.Tr([
            html.Td(r.org), html.Td(r.period), html.Td(r.lang), html.Td(t(f"reports.level.{r.level}", lang)),
            html.Td(r.fmt.upper()), html.Td(t("reports.source.made" if r.made else "reports.source.scheduled", lang)),
            html.Td(html.A(t("reports.download", lang), href=download_href(r.name, token), className="report-link", title=r.name)),
        ])
        for r in reports
    ])
    return dbc.Table([head, body], size="sm", striped=True, hover=True, className="mb-0", id="reports-table")


def reports_layout(who: str, lang: str, token: str | None, form: dbc.Card, reports: Sequence[ReportFile]) -> html.Div:
    back = "/admin" + (f"?token={token}&lang={lang}" if token else f"?lang={lang}")
    return desktop_page([
        html.Div([html.H1(t("reports.title", lang), className="h4 mb-0"),
                  html.Span([html.Span(f"{t('login.signed_in_as', lang)}: {who}", className="me-3 small"),
                             html.A(t("reports.back", lang), href=back, className="btn btn-sm btn-outline-light")])],
                 className="d-flex justify-content-between align-items-center mb-3"),
        html.H2(t("reports.make_title", lang), className="h6"),
        form,
        html.Div(id="report-status", className="mb-3"),
        html.H2(t("reports.list_title", lang), className="h6"),
        html.Div(reports_table(reports, lang, token), id="reports-list", className="table-wrap"),
        dcc.Store(id="report-job"),
        dcc.Store(id="reports-token", data=token),
        dcc.Store(id="reports-lang", data=lang),
        dcc.Interval(id="report-poll", interval=POLL_MS, disabled=True),
    ], "reports-page")
