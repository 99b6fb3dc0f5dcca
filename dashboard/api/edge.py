"""The hardened edge: one ASGI middleware in front of the API, the ingest websocket and Dash.

- **Websocket origins.** Every websocket's ``Origin`` must be the page's own
  (same host as the ``Host`` header) or one of ``allowed_origins``; a foreign
  origin is refused before the handshake completes (HTTP 403). A websocket
  without ``Origin`` (a non-browser producer) is let through only on the
  ingest path, where a token is required anyway.
- **Rate limits.** Ingest (``POST /api/events`` and frames on ``/ws/ingest``)
  per token and per address (HTTP 429 with Retry-After, close code 1008);
  websocket connections per address; messages per connection on the other
  websockets. Sign-in has its own limits (dashboard.api.auth).
- **Sizes and idleness.** Request bodies and websocket messages over a size
  are refused (HTTP 413, close 1009); a websocket that sends nothing for
  ``ws_idle_timeout_s`` is closed (1000).
- **Headers.** A Content-Security-Policy under which Dash runs (its inline
  scripts allowed by hash), frame embedding only for ``frame_origins``,
  nosniff, referrers only within the site (tokens travel in URLs), HSTS over https.
- **CSRF.** Dash's renderer sends the ``_csrf_token`` cookie back as
  ``X-CSRFToken``; a callback request whose header does not match loses its
  session cookie here, so it runs as an anonymous viewer.
- **No stack traces.** An exception that escapes the app is logged and
  answered with a plain 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from dashboard.access.limits import RateLimiter

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]

INGEST_WS_PATH = "/ws/ingest"
INGEST_POST_PATH = "/api/events"
DASH_CALLBACK_PATH = "/_dash-update-component"
CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TOO_BIG = 1000, 1008, 1009


DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` as a browser sends it in ``Origin``: lower case, no trailing slash or
    path, no default port. Lianxin's checks and Dash's (which compares strings) both get this form."""
    parts = urlsplit(origin.strip())
    if not (parts.scheme and parts.netloc):
        return origin.strip().lower()
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port == DEFAULT_PORTS.get(scheme):
        netloc = netloc.rsplit(":", 1)[0]
    return f"{scheme}://{netloc}"


def origin_problem(entry: str) -> str | None:
    """Why an ``--allowed-origins`` entry can never match a browser's Origin (None if it can)."""
    parts = urlsplit(entry.strip())
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return "is not an origin: write scheme://host[:port], e.g. https://wall.example.org"
    if "*" in entry or parts.username or parts.password or parts.query or parts.fragment:
        return "holds a wildcard, a user or a query: browsers send only scheme://host[:port]"
    try:
        _ = parts.port
    except ValueError:
        return "has a port that is not a number"
    return None


@dataclass(frozen=True)
class SecurityPolicy:
    allowed_origins: frozenset[str] = frozenset()
    frame_origins: tuple[str, ...] = ()
    ingest_frames_per_s: float = 2000.0
    ws_connects_per_s: float = 50.0
    ws_connect_burst: float = 1000.0
    ws_messages_per_s: float = 200.0
    max_body_bytes: int = 8 * 1024 * 1024
    max_ws_message_bytes: int = 1024 * 1024
    ws_idle_timeout_s: float = 300.0
    session_cookie: str = "lx_session"
    csrf_cookie: str = "_csrf_token"
    csrf_header: str = "x-csrftoken"

    @classmethod
    def from_origins(cls, allowed: Sequence[str], frames: Sequence[str], **kwargs: Any) -> SecurityPolicy:
        return cls(
            allowed_origins=frozenset(normalise_origin(o) for o in allowed if o.strip()),
            frame_origins=tuple(normalise_origin(o) for o in frames if o.strip()),
            **kwargs,
        )


def content_security_policy(script_hashes: Sequence[str], frame_origins: Sequence[str]) -> str:
    """Dash under a strict policy: own scripts plus its inline ones by hash; styles inline (plotly needs them)."""
    hashes = " ".join(h if h.startswith("'") else f"'{h}'" for h in script_hashes)
    ancestors = " ".join(("'self'", *frame_origins))
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {hashes}".rstrip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            f"frame-ancestors {ancestors}",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        )
    )


@dataclass
class _Limits:
    ingest: RateLimiter
    ws_connects: RateLimiter

    @classmethod
    def of(cls, policy: SecurityPolicy) -> _Limits:
        rate = policy.ingest_frames_per_s
        return cls(
            ingest=RateLimiter(rate, max(10.0, 2 * rate)),
            ws_connects=RateLimiter(policy.ws_connects_per_s, policy.ws_connect_burst),
        )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _token(scope: Scope, headers: dict[str, str]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


def _token_key(token: str | None) -> str | None:
    return "t:" + hashlib.sha256(token.encode()).hexdigest()[:32] if token else None


def _cookies(headers: dict[str, str]) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except CookieError:
        pass
    return jar


class _TooLarge(Exception):
    pass


@dataclass
class _WsState:
    """One websocket connection as the middleware sees it."""

    path: str
    address: str
    token_key: str | None
    accepted: bool = False
    closed: bool = False
    own_messages: RateLimiter | None = None
    last_seen: float = 0.0


class SecurityMiddleware:
    def __init__(self, app: Callable[..., Any], policy: SecurityPolicy, script_hashes: Callable[[], Sequence[str]] = tuple) -> None:
        self.app = app
        self.policy = policy
        self._script_hashes = script_hashes
        self._csp: tuple[tuple[str, ...], bytes] | None = None
        self._limits = _Limits.of(policy)

    # --- shared -------------------------------------------------------------

    def _security_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        # Dash adds an inline script while it serves its first request: hash what exists at each response.
        hashes = tuple(self._script_hashes())
        if self._csp is None or self._csp[0] != hashes:
            self._csp = (hashes, content_security_policy(hashes, self.policy.frame_origins).encode())
        headers = [
            (b"content-security-policy", self._csp[1]),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if not self.policy.frame_origins:
            headers.append((b"x-frame-options", b"SAMEORIGIN"))
        if scope.get("scheme") == "https":
            headers.append((b"strict-transport-security", b"max-age=31536000"))
        path = scope.get("path", "")
        if path.startswith(("/api/", "/auth/", "/_dash-update-component")):
            headers.append((b"cache-control", b"no-store"))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # --- HTTP -----------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", ()), *self._security_headers(scope)]}
            await send(message)

        async def answer(status: int, detail: str, more: Sequence[tuple[bytes, bytes]] = ()) -> None:
            body = orjson.dumps({"detail": detail})
            await send_with_headers({"type": "http.response.start", "status": status,
                                     "headers": [(b"content-type", b"application/json"), *more]})
            await send_with_headers({"type": "http.response.body", "body": body})

        if path == INGEST_POST_PATH and method == "POST":
            refused = self._ingest_refusal(_address(scope), _token_key(_token(scope, headers)))
            if refused is not None:
                await answer(429, refused[0], [(b"retry-after", str(refused[1]).encode())])
                return
        limited = path != INGEST_POST_PATH  # the ingest route enforces its own 4 MiB limit with its own message
        declared = headers.get("content-length", "")
        if limited and declared.isdigit() and int(declared) > self.policy.max_body_bytes:
            await answer(413, f"the body is over {self.policy.max_body_bytes:,} bytes, the most accepted")
            return
        if method == "POST" and path.endswith(DASH_CALLBACK_PATH):
            scope = self._drop_session_without_csrf(scope, headers)
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if limited and message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.policy.max_body_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except _TooLarge:
            if not started:
                await answer(413, f"the body is over {self.policy.max_body_bytes:,} bytes, the most accepted")
        except Exception:
            log.exception("unhandled error on %s %s", method, path)
            if not started:
                await answer(500, "internal error; it has been logged")

    def _ingest_refusal(self, address: str, token_key: str | None) -> tuple[str, int] | None:
        """Why an ingest frame from this address and token is over its rate, with the seconds to wait; None if not."""
        limiter = self._limits.ingest
        for key, what in (("a:" + address, "this address"), (token_key, "this token")):
            if key is not None and not limiter.allow(key):
                return f"rate limit: more than {limiter.rate:g} ingest frames a second from {what}", limiter.retry_after(key)
        return None

    def _drop_session_without_csrf(self, scope: Scope, headers: dict[str, str]) -> Scope:
        jar = _cookies(headers)
        if self.policy.session_cookie not in jar:
            return scope
        expected = jar[self.policy.csrf_cookie].value if self.policy.csrf_cookie in jar else ""
        sent = headers.get(self.policy.csrf_header, "")
        if expected and hmac.compare_digest(expected.encode(), sent.encode()):
            return scope
        kept = "; ".join(f"{k}={m.value}" for k, m in jar.items() if k != self.policy.session_cookie)
        rest = [(k, v) for k, v in scope.get("headers", ()) if k.lower() != b"cookie"]
        return {**scope, "headers": [*rest, (b"cookie", kept.encode("latin-1"))]}

    # --- websockets -------------------------------------------------------------

    def _origin_allowed(self, path: str, headers: dict[str, str]) -> bool:
        origin = headers.get("origin")
        if origin is None:
            return path == INGEST_WS_PATH
        normal = normalise_origin(origin)
        if normal in self.policy.allowed_origins:
            return True
        host = headers.get("host", "").lower()
        return bool(host) and urlsplit(normal).netloc == host

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        path = scope.get("path", "")
        state = _WsState(path, _address(scope), _token_key(_token(scope, headers)) if path == INGEST_WS_PATH else None)
        if not self._origin_allowed(path, headers):
            log.warning("websocket %s refused: origin %r not allowed", path, headers.get("origin"))
            await send({"type": "websocket.close", "code": CLOSE_POLICY, "reason": "origin not allowed"})
            return
        if not self._limits.ws_connects.allow("a:" + state.address):
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_POLICY, "reason": "too many connections from this address"})
            return
        if path != INGEST_WS_PATH:
            state.own_messages = RateLimiter(self.policy.ws_messages_per_s, 2 * self.policy.ws_messages_per_s, max_keys=1)

        watchdog: asyncio.Task[None] | None = None

        async def close(code: int, reason: str) -> Message:
            if not state.closed:
                state.closed = True
                await send({"type": "websocket.close", "code": code, "reason": reason})
            return {"type": "websocket.disconnect", "code": code}

        async def guarded_send(message: Message) -> None:
            nonlocal watchdog
            if state.closed:
                return  # the middleware closed the socket; what the app still sends goes nowhere
            if message["type"] == "websocket.accept":
                state.accepted, state.last_seen = True, time.monotonic()
                watchdog = asyncio.create_task(self._close_when_idle(state, close))
            await send(message)

        async def guarded_receive() -> Message:
            if state.closed:
                return {"type": "websocket.disconnect", "code": CLOSE_POLICY}
            message = await receive()
            if not state.accepted or message["type"] != "websocket.receive":
                return message
            state.last_seen = time.monotonic()
            return await self._check_message(state, message, close)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        finally:
            if watchdog is not None:
                watchdog.cancel()

    async def _close_when_idle(self, state: _WsState, close: Callable[[int, str], Any]) -> None:
        """One timer per connection (not one per message): close it once nothing came for the idle timeout."""
        idle = self.policy.ws_idle_timeout_s
        while not state.closed:
            quiet_for = time.monotonic() - state.last_seen
            if quiet_for >= idle:
                await close(CLOSE_NORMAL, f"idle for {idle:g} s")
                return
            await asyncio.sleep(idle - quiet_for)

    async def _check_message(self, state: _WsState, message: Message, close: Callable[[int, str], Any]) -> Message:
        text, data = message.get("text"), message.get("bytes")
        if state.path == INGEST_WS_PATH:
            refused = self._ingest_refusal(state.address, state.token_key)
            if refused is not None:
                return await close(CLOSE_POLICY, refused[0])
            return message
        size = len(text.encode()) if text is not None else len(data or b"")
        if size > self.policy.max_ws_message_bytes:
            return await close(CLOSE_TOO_BIG, f"message over {self.policy.max_ws_message_bytes:,} bytes")
        if state.own_messages is not None and not state.own_messages.allow("connection"):
            return await close(CLOSE_POLICY, f"rate limit: more than {self.policy.ws_messages_per_s:g} messages a second")
        return message
