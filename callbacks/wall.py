"""The wall page (``/``): the scope's live snapshot, its rotation and the messages about its address.

Query: ``lang``, ``org``, ``token``, ``mode=exhibition``, ``rotate=SECONDS``,
``playlist=ITEMS``, ``kiosk=1|0`` (docs/wall.md). Nothing in the query stops
the wall: what cannot be understood is named on the screen and the rest runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import dash
from dash import html

from callbacks.context import ViewContext, page_scope, page_ticket, scoped_snapshot
from callbacks.map import scope_map_figure
from callbacks.topology import wall_topology_figure
from dashboard.map.view import DEFAULT_KPI
from dashboard.wall.playlist import parse_playlist
from dashboard.wall.units import UnitsSection, unit_codes
from layouts.i18n import DEFAULT_LANG, LANGS, t
from layouts.playlist import playlist_config
from layouts.wall import WallOptions, wall_layout

FLAGS = {"1": True, "true": True, "0": False, "false": False}


def page_lang(raw: Any) -> tuple[str, list[str]]:
    """The page's language and, for a ``?lang=`` we do not have, a message (in both languages)."""
    if raw is None or raw in LANGS:
        return raw or DEFAULT_LANG, []
    shown = str(raw)[:20]
    return DEFAULT_LANG, [t("lang.unknown", DEFAULT_LANG).format(value=shown) + " · " + t("lang.unknown", "en").format(value=shown)]


def lang_links(path: str, query: Mapping[str, Any]) -> dict[str, str]:
    """This page's address in each language, the rest of its query kept."""
    rest = {k: v for k, v in query.items() if k != "lang"}
    return {code: path + "?" + urlencode({**rest, **({"lang": code} if code != DEFAULT_LANG else {})}, doseq=True) for code in LANGS}


def wall_options(ctx: ViewContext, scope_org: int, lang: str, query: Mapping[str, Any], problems: list[str]) -> WallOptions:
    tree = ctx.runtime.tree
    exhibition = ctx.runtime.settings.exhibition or query.get("mode") == "exhibition"
    if query.get("mode") not in (None, "exhibition"):
        problems.append(t("mode.unknown", lang).format(value=str(query.get("mode"))[:40]))
    codes = unit_codes(tree, scope_org)
    playlist = parse_playlist(query.get("rotate"), query.get("playlist"), codes, exhibition=exhibition)
    problems.extend(t(p.key, lang).format(value=p.value) for p in playlist.problems)
    kiosk_flag = query.get("kiosk")
    kiosk = FLAGS.get(kiosk_flag, exhibition) if isinstance(kiosk_flag, str) else exhibition
    if kiosk_flag is not None and kiosk_flag not in FLAGS:
        problems.append(t("kiosk.bad", lang).format(value=str(kiosk_flag)[:40]))
    units = [(c, tree.nodes[tree.by_code[c]].name) for c in codes]
    return WallOptions(playlist_config(playlist, units, lang, kiosk=kiosk), problems, lang_links("/", query))


def wall_page(ctx: ViewContext, raw_lang: Any, org: str | None, query: dict[str, Any]) -> html.Div:
    """The wall of one subtree (``?org=CODE``, the whole tree by default)."""
    lang, problems = page_lang(raw_lang)
    resolved = page_scope(ctx, org, query)
    if isinstance(resolved, str):
        return html.Div([t(resolved, lang) + (f": {org}" if isinstance(org, str) else ""), *problems], className="page-error")
    _, scope = resolved
    snap = scoped_snapshot(ctx, scope)
    map_fig = scope_map_figure(ctx, scope, snap, DEFAULT_KPI, lang, drill=False)
    ticket = page_ticket(ctx, scope, query)
    query_with_org = {**query, **({"org": org} if org else {}), **({"lang": raw_lang} if raw_lang in LANGS else {})}
    options = wall_options(ctx, scope.org_id, lang, query_with_org, problems)
    return wall_layout(snap, map_fig, wall_topology_figure(ctx, scope, lang), lang, ticket, options)


def register(ctx: ViewContext) -> None:
    runtime = ctx.runtime
    runtime.publisher.sections.append(UnitsSection(lambda: (runtime.tree, runtime.aggregator)))

    def layout(lang: Any = None, org: str | None = None, **query: Any) -> html.Div:
        return wall_page(ctx, lang, org, query)

    dash.register_page("wall", path="/", layout=layout, title=t("app.title"))
