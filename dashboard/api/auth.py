"""Sign-in over HTTP: ``POST /auth/login``, ``POST /auth/logout``, ``GET /auth/whoami``.

The /login page posts a plain HTML form here (no script needed); the answer
is a redirect that sets the session cookie (HttpOnly, SameSite=Strict,
Secure over https) and the CSRF cookie Dash's renderer echoes back. Attempts
are throttled per address and per address and account before any password
is hashed (dashboard.access.throttle), so guessing is answered with 429 long
before it could succeed, costs the server almost nothing, and cannot lock
the real user out from their own address.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dashboard.access.throttle import LoginThrottle
from dashboard.access.users import SESSION_TTL, authenticate, close_session, open_session
from dashboard.api.deps import RuntimeDep, ViewerDep, request_runtime
from dashboard.api.edge import normalise_origin
from dashboard.api.viewer import CSRF_COOKIE, CSRF_PURPOSE, SESSION_COOKIE, client_address

router = APIRouter(prefix="/auth", tags=["sign-in"])

MAX_FORM_BYTES = 16 * 1024


def _same_site_post(request: Request) -> None:
    """Refuse a form posted from another site (browsers send Origin with every POST; other clients may not)."""
    origin = request.headers.get("origin")
    if origin is None or (origin == "null" and request.headers.get("sec-fetch-site") == "same-origin"):
        return
    settings = request_runtime(request).settings
    normal = normalise_origin(origin)
    allowed = {normalise_origin(o) for o in settings.allowed_origins}
    if normal not in allowed and urlsplit(normal).netloc != request.headers.get("host", "").lower():
        raise HTTPException(403, "sign-in is only accepted from this site's own pages")


async def _form(request: Request) -> dict[str, str]:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, f"the form is over {MAX_FORM_BYTES:,} bytes")
    try:
        fields = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "the form is not valid URL-encoded UTF-8") from None
    return {k: v[0] for k, v in fields.items()}


def _safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site (never //host or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target and len(target) <= 500:
        return target
    return fallback


def _too_many(retry_after: int) -> Response:
    return Response(
        f"too many sign-in attempts: wait {retry_after} s and try again",
        status_code=429,
        headers={"Retry-After": str(retry_after)},
        media_type="text/plain; charset=utf-8",
    )


@router.post("/login", summary="Sign in with a user name and password (an HTML form post)")
async def login(request: Request) -> Response:
    _same_site_post(request)
    form = await _form(request)
    username, password = form.get("username", ""), form.get("password", "")
    lang = "en" if form.get("lang") == "en" else "zh"
    address = client_address(request) or "unknown"
    runtime = request_runtime(request)
    throttle: LoginThrottle = request.app.state.login_throttle
    refused = await asyncio.to_thread(throttle.check, address, username)  # a cluster's throttle asks Redis
    if refused is not None:  # one audit entry per address and burst (record_use writes at most one per 10 minutes)
        runtime.audit.record_use(f"address:{address}", f"login.rate_limited.{refused.reason}", target=username[:200], ok=False, address=address)
        return _too_many(refused.retry_after)
    user = await asyncio.to_thread(authenticate, runtime.engine, username, password)
    if user is None:
        await asyncio.to_thread(throttle.failed, address)
        await asyncio.to_thread(runtime.audit.record, f"address:{address}", "login", target=username[:200], ok=False, address=address)
        back = f"/login?error=1&lang={lang}&next={quote(_safe_next(form.get('next'), ''), safe='')}"
        return RedirectResponse(back, status_code=303)
    await asyncio.to_thread(throttle.succeeded, address)
    secret = await asyncio.to_thread(open_session, runtime.engine, user.id, address, request.headers.get("user-agent"))
    await asyncio.to_thread(runtime.audit.record, f"user:{user.username}", "login", address=address)
    home = ("/admin" if user.role == "admin" else "/") + ("?lang=en" if lang == "en" else "")
    response = RedirectResponse(_safe_next(form.get("next"), home), status_code=303)
    secure = runtime.settings.secure_cookies or request.url.scheme == "https"
    max_age = int(SESSION_TTL.total_seconds())
    response.set_cookie(SESSION_COOKIE, secret, max_age=max_age, httponly=True, secure=secure, samesite="strict")
    csrf = runtime.signer.derive(CSRF_PURPOSE, secret)  # bound to this session: another session's token is refused
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="strict")
    return response


@router.post("/logout", summary="Sign out: ends the session")
async def logout(request: Request) -> Response:
    _same_site_post(request)
    runtime = request_runtime(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await asyncio.to_thread(close_session, runtime.engine, secret)
        await asyncio.to_thread(runtime.audit.record, "session", "logout", address=client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/whoami", summary="Who the caller is taken for, and what they may see")
def whoami(rt: RuntimeDep, viewer: ViewerDep) -> dict[str, Any]:
    tree = rt.tree
    return {
        "role": viewer.role,
        "actor": viewer.actor,
        "org": tree.nodes[viewer.scope.org_id].code,
        "level": viewer.scope.level,
    }

