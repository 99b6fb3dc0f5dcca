"""Who is asking, and what they may see: a request's or a page's ``Viewer``.

One rule set for pages, live streams and the HTTP API (docs/security.md):

1. A token (``?token=T`` or ``Authorization: Bearer T``) decides when given:
   a display token reads its subtree at its level, an admin token reads
   everything at the full level, an ingest token reads nothing. An unknown,
   revoked or expired token is refused — never downgraded to anonymous, so a
   wall whose token was revoked goes dark instead of showing something else.
2. Else a sign-in session: the user's subtree at the user's level.
3. Else anonymous: the public level of the whole tree when
   ``Settings.anonymous_public`` (the demo), refused otherwise.

Exhibition mode lowers any of these to the public level. A viewer's
``grant`` names the token or session its scope came from; a live stream
checks it again every few seconds, so revoking stops screens already open.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from dashboard.access.audit import AuditLog
from dashboard.access.scopes import Scope
from dashboard.access.tokens import verify_token, verify_token_id
from dashboard.access.users import session_user, session_valid
from dashboard.settings import Settings
from dashboard.store.tree import OrgTree

ANONYMOUS = "anonymous"
READ_ROLES = frozenset({"display", "admin"})


class AccessRefused(Exception):
    """The request may not see this. ``status`` is the HTTP status (401 who are you?, 403 not this, 404 no such
    organisation for you); ``code`` names the case for pages (token, sign_in, forbidden, unknown_org, bad_query,
    no_data); ``reason`` is one line for API clients."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Viewer:
    scope: Scope
    role: str  # anonymous | display | admin | leader | staff
    actor: str  # as the audit log names them: anonymous, token:12, env-admin-token, user:alice
    grant: str | None = None  # token:<id> or session:<id>; None for what cannot be revoked

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def may_read_members(self) -> bool:
        """Member names and personal data: full level only (admins, full-level tokens and users)."""
        return self.scope.level == "full"


class Access:
    def __init__(self, engine: Engine, tree: OrgTree, settings: Settings, audit: AuditLog) -> None:
        self._engine = engine
        self._tree = tree
        self._settings = settings
        self._audit = audit

    def viewer(
        self,
        *,
        token: str | None,
        session: str | None,
        exhibition: bool = False,
        purpose: str = "read",
        address: str | None = None,
    ) -> Viewer:
        """The viewer of a request or page; AccessRefused when it may see nothing. ``purpose`` goes to the audit log."""
        root = self._tree.root_id
        if root is None:
            raise AccessRefused(503, "no_data", "no organisation in the store yet")
        if token:
            viewer = self._token_viewer(token, root, purpose, address)
        elif (user := session_user(self._engine, session)) is not None:
            viewer = Viewer(self._scope(user.org_id, user.level, root), user.role, f"user:{user.username}", f"session:{user.session_id}")
        elif self._settings.anonymous_public:
            viewer = Viewer(Scope(root, "public"), ANONYMOUS, ANONYMOUS)
        else:
            raise AccessRefused(401, "sign_in", "sign in at /login, or open this screen with a display token (?token=…)")
        if exhibition and not viewer.scope.public:
            viewer = Viewer(Scope(viewer.scope.org_id, "public"), viewer.role, viewer.actor, viewer.grant)
        return viewer

    def _token_viewer(self, token: str, root: int, purpose: str, address: str | None) -> Viewer:
        info = verify_token(self._engine, token, self._settings)
        self._audit.record_token_use(info, purpose, address, allowed=info is not None and info.role in READ_ROLES)
        if info is None:
            raise AccessRefused(401, "token", "the token is unknown, revoked or expired")
        if info.role not in READ_ROLES:
            raise AccessRefused(403, "forbidden", f"a {info.role} token may not read: use a display or admin token")
        grant = f"token:{info.token_id}" if info.token_id is not None else None
        return Viewer(self._scope(info.org_id, info.level, root), info.role, info.actor, grant)

    def _scope(self, org_id: int | None, level: str, root: int) -> Scope:
        if org_id is None:
            return Scope(root, "full" if level == "full" else "public")
        if org_id not in self._tree:
            raise AccessRefused(403, "forbidden", "the organisation of this token or user is no longer in the tree")
        return Scope(org_id, "full" if level == "full" else "public")

    def grant_valid(self, grant: str | None) -> bool:
        """Whether the token or session a scope was granted by is still good (None: nothing to check)."""
        if grant is None:
            return True
        kind, _, ident = grant.partition(":")
        if not ident.isdigit():
            return False
        if kind == "token":
            return verify_token_id(self._engine, int(ident))
        if kind == "session":
            return session_valid(self._engine, int(ident))
        return False

    def within(self, viewer: Viewer, org_id: int) -> bool:
        """Whether ``org_id`` is inside the viewer's subtree."""
        return self._tree.is_within(org_id, viewer.scope.org_id)
