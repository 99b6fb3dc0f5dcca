"""A report on paper: four A4 pages drawn with matplotlib, as one PDF (the CJK font embedded as
TrueType, its text searchable) or one PNG (the pages one under the other).

Why matplotlib: it renders Chinese offline with a Debian CJK font (fonts-noto-cjk, which the
screens already use) and embeds it in the PDF, with no browser (kaleido or Playwright would
bring one) — the weighing is in docs/decisions.md.

The file is written next to its destination and renamed into place, so a failed render
leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from dashboard.live.aggregator.spec import AGE_BANDS
from dashboard.map.regions import PROVINCES, RegionMap, load_regions
from dashboard.report.figures import CHILD_ROWS, RECRUIT_TYPES, Activity, Report
from layouts.i18n import fmt_count, fmt_percent, t

A4 = (8.27, 11.69)
PNG_DPI = 110
CJK_FAMILIES = ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "Noto Sans CJK JP")
RED, GOLD, GREY, BLUE = "#c8161d", "#e0a526", "#8a8f98", "#2f6db5"
FORMATS = (".pdf", ".png")


class RenderError(ValueError):
    """The report cannot be written (no CJK font, unwritable path, unknown format); one line."""


def _cjk_family() -> str:
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    raise RenderError("no Chinese font found: install Debian's fonts-noto-cjk (or fonts-wqy-zenhei)")


def _style() -> Any:  # matplotlib types rcParams keys as literals
    return {
        "font.family": [_cjk_family()],
        "pdf.fonttype": 42,  # TrueType, subset and embedded: the text stays text
        "axes.unicode_minus": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


class _Pages:
    """Text helpers bound to one report and language."""

    def __init__(self, report: Report, lang: str, regions: RegionMap) -> None:
        self.r, self.lang, self.regions = report, lang, regions

    def t(self, key: str) -> str:
        return t(key, self.lang)

    def count(self, value: int | float | None) -> str:
        return self.t("report.masked") if value is None else fmt_count(value, self.lang)

    def share(self, value: float | None) -> str:
        return fmt_percent(value)

    def page(self, number: int, title: str) -> Figure:
        fig = plt.figure(figsize=A4)
        r = self.r
        fig.text(0.06, 0.965, f"{r.org.name} · {self.t('report.title')}", fontsize=15, weight="bold", color=RED)
        fig.text(0.06, 0.945, f"{self.t('report.period')} {self._span(r.period.first, r.period.last)} ({r.period.label})"
                 f" · {self.t('report.previous')} {self._span(r.previous.first, r.previous.last)}", fontsize=8.5, color=GREY)
        fig.text(0.06, 0.915, title, fontsize=12.5, weight="bold")
        generated = dt.datetime.fromtimestamp(r.generated_ms / 1000, r.tz).strftime("%Y-%m-%d %H:%M")
        level = self.t("report.level_public") if r.level == "public" else self.t("report.level_full")
        fig.text(0.06, 0.02, f"{self.t('app.title')} · {self.t('report.generated')} {generated} · {level}", fontsize=7, color=GREY)
        fig.text(0.94, 0.02, f"{number} / 4", fontsize=7, color=GREY, ha="right")
        return fig

    def _span(self, first: dt.date, last: dt.date) -> str:
        return f"{first.isoformat()} – {last.isoformat()}"

    # ------------------------------------------------------------------ page 1: KPIs and trend

    def kpi_rows(self) -> list[tuple[str, str, str, str]]:
        r = self.r
        now, before, act, prev = r.end, r.previous_end, r.activity.counts, r.previous_activity.counts

        def numbers(key: str, a: int | float | None, b: int | float | None) -> tuple[str, str, str, str]:
            change = "—" if a is None or b is None else f"{a - b:+,}"
            return (self.t(key), self.count(a), self.count(b), change)

        def shares(key: str, a: float | None, b: float | None) -> tuple[str, str, str, str]:
            change = "—" if a is None or b is None else f"{(a - b) * 100:+.1f} pp"
            return (self.t(key), self.share(a), self.share(b), change)

        return [
            numbers("kpi.members", now["members"], before["members"]),
            numbers("report.events", act["events"], prev["events"]),
            numbers("report.active_members", act["active_members"], prev["active_members"]),
            numbers("report.study_points", act["study_points"], prev["study_points"]),
            numbers("report.meetings_held", act["meetings_held"], prev["meetings_held"]),
            shares("kpi.three_meetings", now["meetings"]["three_meetings_completion"], before["meetings"]["three_meetings_completion"]),
            shares("kpi.themed_day", now["meetings"]["themed_day_completion"], before["meetings"]["themed_day_completion"]),
            shares("kpi.dues_rate", now["dues_rate"], before["dues_rate"]),
            numbers("report.recruited", act["recruit_probationary"], prev["recruit_probationary"]),
            numbers("kpi.transfers_in_flight", now["transfers"]["in_flight"], before["transfers"]["in_flight"]),
            numbers("kpi.transfers_overdue", now["transfers"]["overdue"], before["transfers"]["overdue"]),
            numbers("kpi.lost_contact", now["lost_contact"], before["lost_contact"]),
            numbers("report.volunteer_hours", act["volunteer_hours"], prev["volunteer_hours"]),
        ]

    def page_kpis(self) -> Figure:
        fig = self.page(1, self.t("report.kpis"))
        ax = fig.add_axes((0.06, 0.47, 0.88, 0.42))
        ax.axis("off")
        header = (self.t("report.metric"), self.t("report.this_period"), self.t("report.prev_period"), self.t("report.change"))
        table = ax.table(cellText=self.kpi_rows(), colLabels=header, loc="upper center", cellLoc="right",
                         colLoc="right", colWidths=(0.46, 0.18, 0.18, 0.18))
        table.auto_set_font_size(False)
        table.set_fontsize(9.5)
        table.scale(1, 1.55)
        for (row, col), cell in table.get_celld().items():
            cell.set_edgecolor("#dddddd")
            if col == 0:
                cell.set_text_props(ha="left")
                cell._loc = "left"  # type: ignore[attr-defined]  # the cell aligns its text by _loc when drawn
            if row == 0:
                cell.set_text_props(weight="bold", color="white")
                cell.set_facecolor(RED)
        fig.text(0.06, 0.445, self.t("report.note_end"), fontsize=7.5, color=GREY)
        trend = fig.add_axes((0.09, 0.08, 0.85, 0.3))
        self._trend(trend, self.r.activity, self.r.previous_activity)
        return fig

    def _trend(self, ax: Any, now: Activity, before: Activity) -> None:
        days = np.arange(1, len(now.daily) + 1)
        ax.plot(days, now.daily, color=RED, marker="o", markersize=3, label=self.t("report.this_period"))
        ax.plot(np.arange(1, len(before.daily) + 1), before.daily, color=GREY, linestyle="--", label=self.t("report.prev_period"))
        ax.set_title(self.t("report.trend"), loc="left", fontsize=11)
        ax.set_xlabel(self.t("report.day_of_period"))
        ax.set_ylabel(self.t("report.events"))
        ax.legend(frameon=False)
        ax.grid(axis="y", color="#eeeeee")

    # ------------------------------------------------------------------ page 2: completion by sub-organisation

    def behind(self) -> list[dict[str, Any]]:
        """Children below their committee's own rate on 三会一课, themed days or dues (worst first)."""
        end = self.r.end
        own = {
            "three_meetings": end["meetings"]["three_meetings_completion"],
            "themed_day": end["meetings"]["themed_day_completion"],
            "dues_rate": end["dues_rate"],
        }

        def gap(row: dict[str, Any]) -> float:
            return sum(max(0.0, (own[k] or 0) - (row[k] or 0)) for k in own if row[k] is not None)

        rows = [row for row in self.r.children if gap(row) > 0]
        return sorted(rows, key=lambda row: (-gap(row), row["code"]))

    def page_completion(self) -> Figure:
        fig = self.page(2, self.t("report.completion"))
        rows = sorted(self.r.children, key=lambda row: (row["three_meetings"] if row["three_meetings"] is not None else 2, row["code"]))
        shown = rows[:CHILD_ROWS]
        ax = fig.add_axes((0.3, 0.42, 0.64, 0.46))
        if shown:
            y = np.arange(len(shown))
            keys = (("three_meetings", "kpi.three_meetings", RED), ("themed_day", "kpi.themed_day", GOLD), ("dues_rate", "kpi.dues_rate", BLUE))
            for i, (key, label, colour) in enumerate(keys):
                ax.barh(y + (i - 1) * 0.27, [(row[key] or 0) * 100 for row in shown], height=0.26, color=colour, label=self.t(label))
            ax.set_yticks(y, [row["name"] for row in shown], fontsize=8)
            ax.invert_yaxis()
            ax.set_xlim(0, 100)
            ax.set_xlabel("%")
            ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.1), ncol=3, fontsize=8)
        else:
            ax.axis("off")
            ax.text(0, 0.5, self.t("report.no_children"))
        lines = [self.t("report.behind")]
        for row in self.behind()[:12]:
            lines.append(
                f"· {row['name']}: {self.t('kpi.three_meetings')} {self.share(row['three_meetings'])}, "
                f"{self.t('kpi.themed_day')} {self.share(row['themed_day'])}, {self.t('kpi.dues_rate')} {self.share(row['dues_rate'])}"
            )
        if len(lines) == 1:
            lines.append(self.t("report.none_behind"))
        fig.text(0.06, 0.33, "\n".join(lines), fontsize=8.5, va="top", linespacing=1.6)
        return fig

    # ------------------------------------------------------------------ page 3: rules, transfers, recruitment, leaderboard

    def page_work(self) -> Figure:
        fig = self.page(3, self.t("report.work"))
        end, act = self.r.end, self.r.activity.counts
        breaks = fig.add_axes((0.09, 0.66, 0.38, 0.2))
        kinds = ("few_members", "no_secretary", "no_meeting")
        self._bars(breaks, [self.t(f"alerts.{k}") for k in kinds], [end["rule_breaks"][k] for k in kinds], RED, self.t("report.rule_breaks"))
        transfers = fig.add_axes((0.57, 0.66, 0.37, 0.2))
        labels = ("report.transfer_requested", "report.transfer_completed", "report.transfer_rejected", "kpi.transfers_in_flight", "kpi.transfers_overdue")
        values = [act["transfer_requested"], act["transfer_completed"], act["transfer_rejected"], end["transfers"]["in_flight"], end["transfers"]["overdue"]]
        self._bars(transfers, [self.t(k) for k in labels], values, BLUE, self.t("report.transfers"))
        recruit = fig.add_axes((0.09, 0.37, 0.38, 0.2))
        self._bars(recruit, [self.t(f"report.{k}") for k in RECRUIT_TYPES], [act[k] for k in RECRUIT_TYPES], GOLD, self.t("report.recruitment"))
        board = fig.add_axes((0.3, 0.07, 0.64, 0.22))
        leaders = sorted(self.r.activity.by_child.items(), key=lambda kv: (-kv[1]["study_points"], kv[0]))[:10]
        names = {row["code"]: row["name"] for row in self.r.children}
        self._bars(board, [names.get(code, code) for code, _ in leaders], [v["study_points"] for _, v in leaders], RED, self.t("report.leaderboard"))
        return fig

    def _bars(self, ax: Any, labels: Sequence[str], values: Sequence[int | float | None], colour: str, title: str) -> None:
        y = np.arange(len(labels))
        ax.barh(y, [v or 0 for v in values], color=colour)
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, loc="left", fontsize=10.5)
        for i, v in enumerate(values):
            ax.text(v or 0, i, f" {self.count(v)}", va="center", fontsize=8)
        if not labels:
            ax.text(0.5, 0.5, self.t("report.none"), transform=ax.transAxes, ha="center")

    # ------------------------------------------------------------------ page 4: map and structure

    def page_map(self) -> Figure:
        fig = self.page(4, self.t("report.map_structure"))
        ax = fig.add_axes((0.06, 0.5, 0.88, 0.38))
        self._map(ax, self.r.activity.by_region)
        structure = self.r.end["structure"]
        panels: list[tuple[str, str, list[str]]] = [
            ("gender", "panel.gender", ["M", "F"]),
            ("age_band", "panel.age", [label for label, _, _ in AGE_BANDS]),
            ("education", "panel.education", list(structure["education"])),
            ("occupation", "panel.occupation", list(structure["occupation"])),
        ]
        for i, (dim, title, keys) in enumerate(panels):
            ax = fig.add_axes((0.24 + (i % 2) * 0.46, 0.27 - (i // 2) * 0.21, 0.24, 0.16))
            labels = [k if dim == "age_band" else t(f"{dim}.{k}", self.lang) for k in keys]
            self._bars(ax, labels, [structure[dim][k] for k in keys], RED if i % 2 == 0 else GOLD, self.t(title))
        return fig

    def _map(self, ax: Any, by_region: dict[str, int]) -> None:
        polygons, colours = [], []
        top = max(by_region.values(), default=0) or 1
        cmap = matplotlib.colormaps["Reds"]
        for feature in self.regions.geojson["features"]:
            geometry = feature["geometry"]
            shapes = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
            value = by_region.get(feature["id"], 0)
            for shape in shapes:
                polygons.append(np.asarray(shape[0])[:, :2])
                colours.append(cmap(0.08 + 0.9 * value / top) if value else "#f1f1f1")
        ax.add_collection(PolyCollection(polygons, facecolors=colours, edgecolors="#999999", linewidths=0.3))
        ax.autoscale_view()
        ax.set_aspect(1.2)
        ax.axis("off")
        ax.set_title(self.t("report.map"), loc="left", fontsize=10.5)
        ranked = sorted(by_region.items(), key=lambda kv: -kv[1])[:8]
        names = self.regions.names if self.lang == "zh" else {p.code: p.name_en for p in PROVINCES}
        legend = "\n".join(f"{names.get(code, code)}  {fmt_count(v, self.lang)}" for code, v in ranked)
        ax.text(1.0, 0.0, legend, transform=ax.transAxes, ha="right", va="bottom", fontsize=7.5)


def _figures(report: Report, lang: str, regions: RegionMap) -> list[Figure]:
    pages = _Pages(report, lang, regions)
    return [pages.page_kpis(), pages.page_completion(), pages.page_work(), pages.page_map()]


def _write_pdf(figures: Sequence[Figure], handle: io.BufferedWriter) -> None:
    with PdfPages(handle) as pdf:
        for fig in figures:
            pdf.savefig(fig)


def _write_png(figures: Sequence[Figure], handle: io.BufferedWriter) -> None:
    images = []
    for fig in figures:
        fig.set_dpi(PNG_DPI)
        fig.canvas.draw()
        images.append(np.asarray(fig.canvas.buffer_rgba())[:, :, :3])  # type: ignore[attr-defined]
    plt.imsave(handle, np.vstack(images), format="png")


WRITERS: dict[str, Callable[[Sequence[Figure], io.BufferedWriter], None]] = {".pdf": _write_pdf, ".png": _write_png}


def check_output(out: Path) -> str:
    """The output's format, or RenderError if the path cannot take a report."""
    suffix = out.suffix.lower()
    if suffix not in WRITERS:
        raise RenderError(f"output {out}: the file must end in .pdf or .png")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise RenderError(f"output {out}: folder {folder} does not exist")
    if out.exists() and not os.access(out, os.W_OK):
        raise RenderError(f"output {out}: not writable")
    try:  # the only sure test of a folder (permissions, read-only mounts, /proc): write a file there
        handle, probe = tempfile.mkstemp(prefix=".report-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise RenderError(f"output {out}: not writable ({exc.strerror})") from None
    return suffix


# pyplot's state (rcParams, the figure manager) is global: the schedule and the reports made on demand
# draw in different threads, so one report is drawn at a time.
_DRAWING = threading.Lock()


def render_report(report: Report, out: Path, lang: str = "zh", regions: RegionMap | None = None) -> Path:
    """Draw ``report`` into ``out`` (.pdf or .png); nothing is left at ``out`` if anything fails."""
    suffix = check_output(out)
    with _DRAWING, plt.rc_context(_style()):
        figures = _figures(report, lang, regions or load_regions())
        handle, temporary = tempfile.mkstemp(prefix=".report-", suffix=suffix, dir=out.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                WRITERS[suffix](figures, stream)
            os.replace(temporary, out)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        finally:
            for fig in figures:
                plt.close(fig)
    return out
