"""Tablet pages (``/org/CODE``): one organisation, its sub-organisations, its siblings and members.

The page resolves its viewer like every screen (``?token=``, session, or the
anonymous public level; ``?mode=exhibition`` forces public) and shows the
organisation only inside what the viewer may see; an unknown code or one
outside answers with a message and a link to the top. Links keep ``lang``,
``token`` and ``mode``, so a tablet stays in its language and scope while a
leader taps down the tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlencode

import dash
from dash import Input, Output, State, callback, html

from callbacks.access import page_viewer
from callbacks.context import ViewContext, page_scope, page_ticket, scope_from_ticket, scoped_snapshot
from callbacks.wall import lang_links, page_lang
from dashboard.access.viewer import AccessRefused
from dashboard.store.roster import members_of
from dashboard.store.tree import OrgNode, OrgTree
from dashboard.wall.units import unit_rows
from layouts.i18n import normalise_lang, t
from layouts.tablet import ChildCard, OrgLink, TabletPage, search_results, tablet_error, tablet_page

MEMBERS_PER_PAGE = 50
CARRIED = ("lang", "token", "mode")


def org_href(code: str, carried: Mapping[str, Any], **extra: Any) -> str:
    query = urlencode({**carried, **extra}, doseq=True)
    return f"/org/{quote(code, safe='')}" + (f"?{query}" if query else "")


def org_link(node: OrgNode, carried: Mapping[str, Any]) -> OrgLink:
    return OrgLink(node.code, node.name, node.kind, org_href(node.code, carried))


def sorted_children(tree: OrgTree, org_id: int | None) -> list[OrgNode]:
    return sorted((tree.nodes[c] for c in tree.children.get(org_id, ())), key=lambda n: n.code)


def trail_ids(tree: OrgTree, org_id: int, viewer_root: int) -> list[int]:
    """The organisations above ``org_id`` that the viewer may see, from the top down."""
    return [a for a in reversed(tree.ancestors[org_id][1:]) if tree.is_within(a, viewer_root)]


def sibling_ids(tree: OrgTree, org_id: int, viewer_root: int) -> list[int]:
    """``org_id`` and its siblings, when the viewer may see their parent; else none."""
    parent = tree.nodes[org_id].parent_id
    return [n.id for n in sorted_children(tree, parent)] if parent is not None and tree.is_within(parent, viewer_root) else []


def tap_targets(tree: OrgTree, org_id: int, viewer_root: int) -> set[int]:
    """Every organisation one tap away on ``org_id``'s page: the trail, the cards, their chips, the siblings."""
    kids = sorted_children(tree, org_id)
    chips = [g.id for k in kids for g in sorted_children(tree, k.id)]
    return {*trail_ids(tree, org_id, viewer_root), *(k.id for k in kids), *chips, *sibling_ids(tree, org_id, viewer_root)} - {org_id}


def member_page(raw: Any, problems: list[str], lang: str) -> int:
    if raw is None:
        return 1
    if isinstance(raw, str) and raw.isdigit() and int(raw) >= 1:
        return int(raw)
    problems.append(t("tablet.bad_page", lang).format(value=str(raw)[:20]))
    return 1


def org_page(ctx: ViewContext, code: str, raw_lang: Any, query: dict[str, Any]) -> html.Div:
    runtime = ctx.runtime
    lang, problems = page_lang(raw_lang)
    carried = {k: v for k, v in {**query, "lang": raw_lang}.items() if k in CARRIED and v is not None and not (k == "lang" and v != "en")}
    code = unquote(code)
    resolved = page_scope(ctx, code, query)
    if isinstance(resolved, str):
        return tablet_error(t(resolved, lang) + f": {code[:64]}", _top_href(ctx, query, carried), lang)
    node, scope = resolved
    tree, aggregator = runtime.tree, runtime.aggregator
    viewer = page_viewer(ctx, token=query.get("token"), mode=query.get("mode"))
    viewer_root = viewer.scope.org_id
    trail = [org_link(tree.nodes[a], carried) for a in trail_ids(tree, node.id, viewer_root)]
    kids = sorted_children(tree, node.id)
    rows = unit_rows(tree, aggregator, [k.id for k in kids], scope)
    children = [ChildCard(org_link(k, carried), rows[k.code], [org_link(g, carried) for g in sorted_children(tree, k.id)]) for k in kids]
    peers = sibling_ids(tree, node.id, viewer_root)
    peer_rows = unit_rows(tree, aggregator, peers, scope)
    siblings = [(org_link(tree.nodes[p], carried), peer_rows[tree.nodes[p].code]) for p in peers]
    members, pages = None, (None, None)
    if scope.level == "full":
        page_no = member_page(query.get("page"), problems, lang)
        members = members_of(runtime.engine, node.id, limit=MEMBERS_PER_PAGE, offset=(page_no - 1) * MEMBERS_PER_PAGE)
        has_next = page_no * MEMBERS_PER_PAGE < members["total"]
        pages = (
            org_href(node.code, carried, page=page_no - 1) if page_no > 1 else None,
            org_href(node.code, carried, page=page_no + 1) if has_next else None,
        )
    wall_query = urlencode({**carried, "org": node.code}, doseq=True)
    return tablet_page(
        TabletPage(
            org=org_link(node, carried),
            snap=scoped_snapshot(ctx, scope),
            lang=lang,
            ticket=page_ticket(ctx, scope, query),
            trail=trail,
            children=children,
            siblings=siblings,
            members=members,
            member_pages=pages,
            lang_links=lang_links(f"/org/{quote(node.code, safe='')}", {**query, **({"lang": raw_lang} if raw_lang else {})}),
            wall_href=f"/?{wall_query}",
            problems=problems,
            search_meta={"ticket": runtime.signer.sign(viewer.scope, grant=viewer.grant), "lang": lang, "carried": carried},
        )
    )


def _top_href(ctx: ViewContext, query: Mapping[str, Any], carried: Mapping[str, Any]) -> str:
    """The tablet page of the top of what this viewer may see (the tree's root if the viewer is refused)."""
    tree = ctx.runtime.tree
    try:
        root = page_viewer(ctx, token=query.get("token"), mode=query.get("mode")).scope.org_id
    except AccessRefused:
        root = tree.root_id
    return org_href(tree.nodes[root].code, carried) if root in tree.nodes else "/"


def register(ctx: ViewContext) -> None:
    def layout(code: str = "", lang: Any = None, **query: Any) -> html.Div:
        return org_page(ctx, code, lang, query)

    dash.register_page("org", path_template="/org/<code>", layout=layout, title=t("app.title"))

    @callback(
        Output("tablet-search-results", "children"),
        Input("tablet-search", "value"),
        State("tablet-search-meta", "data"),
        prevent_initial_call=True,
    )
    def search(query: Any, meta: Any) -> list[Any]:
        """Matches as the leader types, inside the scope of the page's signed ticket (never what the page
        sends beside it): the viewer's whole scope, whichever organisation the page shows."""
        if not isinstance(meta, dict) or not isinstance(query, str):
            return []
        ticket = scope_from_ticket(ctx, meta)
        if ticket is None:
            return []
        scope = ticket.scope
        raw = meta.get("carried")
        carried = {k: v for k, v in raw.items() if k in CARRIED and isinstance(v, str)} if isinstance(raw, dict) else {}
        return search_results(find_orgs(ctx, scope.org_id, query[:100], carried), query[:100], normalise_lang(meta.get("lang")))


def find_orgs(ctx: ViewContext, root_id: int, query: str, carried: Mapping[str, Any]) -> list[tuple[OrgLink, str]]:
    """Organisations under ``root_id`` by exact code first, then names containing the text (the topology's
    search), each with its parent's name."""
    topology, tree = ctx.runtime.topology, ctx.runtime.tree
    found = topology.find(query, topology.scope_pre(root_id)) if query.strip() else []
    out = []
    for p in found:
        node = tree.nodes[int(topology.index.ids[p])]
        parent = tree.nodes.get(node.parent_id) if node.parent_id is not None else None
        out.append((org_link(node, carried), parent.name if parent is not None else ""))
    return out
