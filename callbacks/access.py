"""Who is looking at a page: the rules of dashboard.access.viewer applied inside Dash's page callbacks.

Pages reach these through ``callbacks.context.page_scope`` / ``page_ticket``:
the page renders for the returned scope only, and its live ticket carries the
grant (token or session) the live stream keeps checking. Callbacks that
return data later take their scope from the signed ticket in ``live-meta``,
never from an organisation code the page sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dash import ctx

from dashboard.access.scopes import Scope
from dashboard.access.viewer import AccessRefused, Viewer
from dashboard.api.viewer import SESSION_COOKIE

if TYPE_CHECKING:
    from callbacks.context import ViewContext


def _one(name: str, value: Any) -> str | None:
    """A query parameter given once (a repeated one is refused rather than guessed at)."""
    if value is None or isinstance(value, str):
        return value or None
    raise AccessRefused(400, "bad_query", f"give {name} once")


def page_viewer(view: ViewContext, *, token: Any = None, mode: Any = None, purpose: str = "page") -> Viewer:
    """The viewer of the page being rendered: its ``?token=``, else the session cookie, else anonymous.

    ``?mode=exhibition`` (or ``--exhibition``) lowers it to the public level.
    """
    cookies = ctx.cookies or {}
    return view.runtime.access.viewer(
        token=_one("token", token),
        session=cookies.get(SESSION_COOKIE),
        exhibition=view.runtime.settings.exhibition or _one("mode", mode) == "exhibition",
        purpose=purpose,
        address=ctx.remote or None,
    )


def narrowed_scope(view: ViewContext, viewer: Viewer, org: Any = None) -> Scope:
    """The viewer's scope, narrowed to ``?org=CODE`` when that is inside it (outside answers as unknown)."""
    code = _one("org", org)
    if code is None:
        return viewer.scope
    node = view.runtime.tree.get(code)
    if node is None or not view.runtime.access.within(viewer, node.id):
        raise AccessRefused(404, "unknown_org", f"unknown organisation {code[:64]!r}")
    return Scope(node.id, viewer.scope.level)

