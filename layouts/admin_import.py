"""/admin/import: upload the files, read the check's report, confirm (desktop, Bootstrap).

Pure functions of what they are handed. The upload itself runs in the browser
(assets/admin_import.js: parts of a few MB to /api/admin/imports, the bar
moving part by part); callbacks/admin_import.py follows the job on the server
and fills in the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.transfer.importer.columns import COLUMNS
from dashboard.transfer.importer.columns import FILE_KINDS as IMPORT_KINDS
from layouts.desktop import desktop_page
from layouts.i18n import t

FILE_KINDS = ("orgs", "members", "links")
ACCEPTED_FILES = ".csv,.xlsx,.xls,.htm,.html,.txt,.tsv"
POLL_MS = 500
SUMMARY_TABLES = ("organisations", "members", "links")
SUMMARY_COLUMNS = ("added", "changed", "moved", "removed", "unchanged")
MAPPING_MAX_BYTES = 64 * 1024


def import_layout(lang: str, token: str | None) -> html.Div:
    back = "/admin" + (f"?token={token}&lang={lang}" if token else f"?lang={lang}")
    files = [
        dbc.Row([
            dbc.Col(dbc.Label(t(f"import.file.{kind}", lang), html_for=f"import-file-{kind}"), md=3),
            # assets/admin_import.js puts an <input type="file"> here (Dash has no file input of its own
            # that leaves the file in the browser; dcc.Upload would read a whole roster into memory)
            dbc.Col(html.Div(className="import-file-slot", **{"data-kind": kind, "data-accept": ACCEPTED_FILES}), md=9),
        ], className="mb-2")
        for kind in FILE_KINDS
    ]
    return desktop_page([
        html.Div([html.H1(t("import.title", lang), className="h4 mb-0"),
                  html.A(t("import.back", lang), href=back, className="btn btn-sm btn-outline-light")],
                 className="d-flex justify-content-between align-items-center mb-3"),
        html.P(t("import.intro", lang), className="text-body-secondary"),
        dbc.Card(dbc.CardBody([
            *files,
            html.Div([
                dbc.Button(t("import.check", lang), id="import-upload", color="primary", className="me-2"),
                dbc.Button(t("import.confirm", lang), id="import-confirm", color="danger", disabled=True),
            ], className="mt-3"),
        ]), className="mb-3"),
        dbc.Progress(id="import-progress", value=0, label="", striped=True, className="mb-2", style={"height": "1.4rem"}),
        html.Div(id="import-stage", className="small text-body-secondary mb-3"),
        html.Div(id="import-message"),
        html.Div(id="import-summary"),
        html.Div(id="import-columns"),
        html.Div([
            dbc.Button(t("import.remap", lang), id="import-remap", color="secondary", size="sm", className="me-2"),
            dbc.Button(t("import.save_mapping", lang), id="import-save-mapping", color="secondary", size="sm",
                       outline=True, className="me-2"),
            dcc.Upload(dbc.Button(t("import.load_mapping", lang), color="secondary", size="sm", outline=True),
                       id="import-load-mapping", accept=".json", max_size=MAPPING_MAX_BYTES,
                       style={"display": "inline-block"}),
            dcc.Download(id="import-mapping-download"),
        ], id="import-mapping-actions", className="mb-3"),
        html.Div(id="import-report"),
        dcc.Store(id="import-job"),
        dcc.Store(id="import-lang", data=lang),
        dcc.Store(id="import-token", data=token),
        dcc.Interval(id="import-poll", interval=POLL_MS, disabled=True),
        # what the upload script says in the page's language
        html.Div(id="import-texts", hidden=True, **{
            "data-need-orgs": t("import.need_orgs", lang),
            "data-uploading": t("import.uploading", lang),
            "data-failed": t("import.failed", lang),
        }),
    ], "import-page", lang)


def status_view(status: dict[str, Any], lang: str) -> tuple[int, str, str, Any, Any, Any, Any]:
    """(bar %, bar label, stage line, message, summary table, columns step, report) for a job's status."""
    state = status.get("state", "")
    percent = round(100 * float(status.get("progress") or 0))
    stage = status.get("stage") or ""
    stage_line = f"{t('import.stage', lang)}: {t('import.stage.' + stage.replace(' ', '_'), lang)}" if stage else ""
    summary = status.get("summary") or {}
    message = _message(state, summary, status.get("error"), lang)
    return (percent, f"{percent}%", stage_line, message, summary_table(summary, lang), columns_view(status, lang),
            report_view(status, lang))


def _message(state: str, summary: dict[str, Any], error: str | None, lang: str) -> Any:
    if state == "failed":
        return dbc.Alert([t("import.failed", lang), " ", error or ""], color="danger", id="import-outcome")
    if state == "done":
        key = "import.done" if summary.get("written") else "import.nothing"
        return dbc.Alert(t(key, lang), color="success", id="import-outcome")
    if state == "checked" and summary:
        if not summary.get("ok"):
            return dbc.Alert(t("import.has_errors", lang).format(n=summary.get("errors", 0)), color="danger",
                             id="import-outcome")
        key = "import.ready" if summary.get("changes") else "import.nothing"
        return dbc.Alert(t(key, lang), color="info", id="import-outcome")
    return None


def columns_view(status: dict[str, Any], lang: str) -> Any:
    """The column-mapping step: per file, each header found and the column it is read as — a choice the
    administrator can change before checking again (ids ``{"type": "import-column", "kind", "header"}``)."""
    found: dict[str, list[list[str]]] = status.get("columns") or {}
    if not found:
        return None
    cards = []
    for kind in IMPORT_KINDS:
        if not found.get(kind):
            continue
        options = [{"label": t("import.ignore", lang), "value": ""}] + [
            {"label": f"{c.zh} ({c.en})" if lang == "zh" else f"{c.en} ({c.zh})", "value": c.key}
            for c in COLUMNS[kind]
        ]
        rows = [
            html.Tr([
                html.Td(header),
                html.Td(dcc.Dropdown(options=options, value=key, clearable=False,
                                     id={"type": "import-column", "kind": kind, "header": header},
                                     className="import-column-choice")),
            ], className=None if key else "table-warning")
            for header, key in found[kind]
        ]
        head = html.Thead(html.Tr([html.Th(t("import.col.found", lang)), html.Th(t("import.col.read_as", lang))]))
        cards.append(html.Div([html.H3(t(f"import.file.{kind}", lang), className="h6 mt-2"),
                               dbc.Table([head, html.Tbody(rows)], size="sm", bordered=True, className="mb-2")]))
    return html.Div([html.H2(t("import.columns", lang), className="h6"),
                     html.P(t("import.columns_intro", lang), className="small text-body-secondary"), *cards],
                    id="import-columns-step")


def choices_mapping(ids: Sequence[dict[str, str]], values: Sequence[Any]) -> dict[str, dict[str, str]]:
    """The dropdowns of the mapping step as a mapping (mapping.py's shape): every header with its choice."""
    out: dict[str, dict[str, str]] = {}
    for component, value in zip(ids, values):
        out.setdefault(component["kind"], {})[component["header"]] = value or ""
    return out


def summary_table(summary: dict[str, Any], lang: str) -> Any:
    if "organisations" not in summary:
        return None
    head = html.Thead(html.Tr([html.Th("")] + [html.Th(t(f"import.col.{c}", lang)) for c in SUMMARY_COLUMNS]))
    body = html.Tbody([
        html.Tr([html.Th(t(f"import.table.{table}", lang))]
                + [html.Td(_cell(summary[table].get(c))) for c in SUMMARY_COLUMNS])
        for table in SUMMARY_TABLES
    ])
    return dbc.Table([head, body], size="sm", bordered=True, className="mb-3", id="import-summary-table")


def _cell(value: Any) -> str:
    return "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def report_view(status: dict[str, Any], lang: str) -> Any:
    """The problems found: a row each (file, row, column, what is wrong), then the counts of the ones not shown."""
    problems: Sequence[dict[str, Any]] = status.get("problems") or []
    if not problems:
        return None
    message = "message" if lang == "zh" else "message_en"
    head = html.Thead(html.Tr([html.Th(t(f"import.col.{c}", lang)) for c in ("file", "row", "column", "problem")]))
    body = html.Tbody([
        html.Tr([html.Td(p.get("file") or ""), html.Td(_cell(p.get("row"))), html.Td(p.get("column") or ""),
                 html.Td(p.get(message) or p.get("message") or "")],
                className="table-warning" if p.get("warning") else None)
        for p in problems
    ])
    lines = (status.get("report") or {}).get(lang) or []
    more = [html.Li(line) for line in lines[len(problems):]]
    return html.Div([
        html.H2(t("import.report", lang), className="h6"),
        dbc.Table([head, body], size="sm", striped=True, className="mb-2", id="import-problems"),
        html.Ul(more, className="small") if more else None,
    ])
