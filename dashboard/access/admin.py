"""What an administrator can do — users, tokens, organisation names, the audit log — each action audited.

/admin (callbacks/admin.py) and the command line call these; both name the
actor, so the audit log says who did what from where. Every text that comes
in is bounded and checked here, whatever the form in front of it allowed;
storage is only ever reached with bound parameters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import aliased

from dashboard.access.audit import AuditLog, AuditRow
from dashboard.access.tokens import LEVELS, ROLES, TokenError, create_token, revoke_token
from dashboard.access.users import (
    AccountError,
    create_user,
    generate_password,
    list_users,
    set_active,
    set_password,
)
from dashboard.store.models import Organisation, Token
from dashboard.store.tree import OrgTree

LABEL_MAX = 200
CODE_MAX = 64
NAME_MAX = 200
SEARCH_MAX = 100
DAYS_MAX = 3650


class AdminError(ValueError):
    """An administrative action refused, with the reason in one line."""


def _text(value: Any, what: str, limit: int, *, required: bool = False) -> str | None:
    """A form value as clean text: NFC, trimmed, no control characters, at most ``limit`` characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise AdminError(f"{what} is required")
        return None
    if not isinstance(value, str):
        raise AdminError(f"{what} must be text")
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > limit:
        raise AdminError(f"{what} has at most {limit} characters (got {len(text):,})")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise AdminError(f"{what} may not hold control characters")
    return text


def _days(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise AdminError("days must be a whole number") from None
    if not 1 <= days <= DAYS_MAX:
        raise AdminError(f"days must be between 1 and {DAYS_MAX}")
    return days


def _iso(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M") if value else None


class AdminOps:
    def __init__(self, engine: Engine, audit: AuditLog, tree: OrgTree) -> None:
        self._engine = engine
        self._audit = audit
        self._tree = tree

    def _code_of(self, org_id: int | None) -> str | None:
        node = self._tree.nodes.get(org_id) if org_id is not None else None
        return node.code if node else None

    # --- users ------------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        return [
            {"id": u.id, "username": u.username, "role": u.role, "org": self._code_of(u.org_id) or "*", "level": u.level,
             "active": u.active, "created": _iso(u.created_at), "last_login": _iso(u.last_login_at)}
            for u in list_users(self._engine)
        ]

    def create_user(
        self, actor: str, *, username: Any, role: Any, org_code: Any = None, level: Any = "full", password: Any = None
    ) -> tuple[str, str | None]:
        """Create a user; returns (user name, the generated password to show once, or None if one was given)."""
        name = _text(username, "user name", 64, required=True)
        code = _text(org_code, "organisation code", CODE_MAX)
        given = password if isinstance(password, str) and password else None
        chosen = given or generate_password()
        try:
            user = create_user(self._engine, name or "", chosen, role=str(role), org_code=code, level=str(level or "full"))
        except AccountError as exc:
            self._audit.record(actor, "user.create", target=name, ok=False, detail={"error": str(exc)})
            raise AdminError(str(exc)) from None
        self._audit.record(actor, "user.create", target=user.username, detail={"role": user.role, "org": code, "level": user.level})
        return user.username, None if given else chosen

    def set_user_active(self, actor: str, user_id: Any, active: bool) -> None:
        uid = self._user_id(user_id)
        if not set_active(self._engine, uid, active):
            raise AdminError(f"no user with id {uid}")
        self._audit.record(actor, "user.activate" if active else "user.deactivate", target=f"user:{uid}")

    def reset_password(self, actor: str, user_id: Any) -> str:
        """A new random password for the user (shown once); their sessions end."""
        uid = self._user_id(user_id)
        password = generate_password()
        if not set_password(self._engine, uid, password):
            raise AdminError(f"no user with id {uid}")
        self._audit.record(actor, "user.password_reset", target=f"user:{uid}")
        return password

    @staticmethod
    def _user_id(value: Any) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise AdminError("choose a user") from None

    # --- tokens -----------------------------------------------------------------

    def tokens(self) -> list[dict[str, Any]]:
        org = aliased(Organisation)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Token.id, Token.role, org.code, Token.level, Token.label, Token.created_at, Token.expires_at, Token.revoked)
                .outerjoin(org, org.id == Token.org_id)
                .order_by(Token.id.desc())
            ).all()
        return [
            {"id": r.id, "role": r.role, "org": r.code or "*", "level": r.level, "label": r.label or "",
             "created": _iso(r.created_at), "expires": _iso(r.expires_at) or "—", "revoked": r.revoked}
            for r in rows
        ]

    def create_token(
        self, actor: str, *, role: Any, org_code: Any = None, level: Any = "public", label: Any = None, days: Any = None
    ) -> str:
        """A new token, returned once (only its SHA-256 is kept)."""
        code = _text(org_code, "organisation code", CODE_MAX)
        note = _text(label, "label", LABEL_MAX)
        if role not in ROLES or level not in LEVELS:
            raise AdminError(f"role is one of {', '.join(ROLES)} and level one of {', '.join(LEVELS)}")
        try:
            token = create_token(self._engine, role=role, org_code=code, level=level, label=note, days=_days(days))
        except TokenError as exc:
            self._audit.record(actor, "token.create", target=code, ok=False, detail={"error": str(exc)})
            raise AdminError(str(exc)) from None
        self._audit.record(actor, "token.create", target=code or "*", detail={"role": role, "level": level, "label": note, "days": days})
        return token

    def revoke_token(self, actor: str, token_id: Any) -> None:
        try:
            tid = int(token_id)
        except (TypeError, ValueError):
            raise AdminError("give the number of the token to revoke") from None
        if not revoke_token(self._engine, tid):
            raise AdminError(f"no token with id {tid}")
        self._audit.record(actor, "token.revoke", target=f"token:{tid}")

    # --- organisations -------------------------------------------------------------

    def find_orgs(self, query: Any, limit: int = 100) -> list[dict[str, Any]]:
        """Organisations whose code or name holds ``query`` (the top levels when it is empty)."""
        text = (_text(query, "search", SEARCH_MAX) or "").lower()
        found = []
        for org_id in self._tree.walk(self._tree.root_id) if self._tree.root_id is not None else ():
            node = self._tree.nodes[org_id]
            if (text and (text in node.code.lower() or text in node.name.lower())) or (not text and node.level <= 1):
                found.append({"code": node.code, "name": node.name, "kind": node.kind, "level": node.level,
                              "parent": self._code_of(node.parent_id) or ""})
                if len(found) >= limit:
                    break
        return found

    def rename_org(self, actor: str, code: Any, name: Any) -> None:
        """A new name for an organisation: stored, and shown by views from their next render."""
        org_code = _text(code, "organisation code", CODE_MAX, required=True)
        new_name = _text(name, "name", NAME_MAX, required=True)
        node = self._tree.get(org_code or "")
        if node is None:
            raise AdminError(f"unknown organisation {org_code!r}")
        with self._engine.begin() as conn:
            conn.execute(update(Organisation).where(Organisation.id == node.id).values(name=new_name))
        self._tree.nodes[node.id] = dataclasses.replace(node, name=new_name or node.name)
        self._audit.record(actor, "org.rename", target=node.code, detail={"from": node.name, "to": new_name})

    # --- audit ----------------------------------------------------------------------

    def audit(self, search: Any = None, limit: int = 200) -> list[AuditRow]:
        return self._audit.recent(limit=limit, search=_text(search, "search", SEARCH_MAX))
