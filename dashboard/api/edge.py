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
  ``X-CSRFToken``; the token is derived from the session secret under the
  server's key, so a callback request whose header is not its own session's
  token loses its session cookie here and runs as an anonymous viewer.
- **Closed by default.** Unless anonymous viewers are allowed (``--public``,
  ``--exhibition``, the loopback demo), a page asked for with no token and no
  session is redirected to ``/login?next=…``; the API answers 401 itself.
- **Well-formed or refused.** POST-only paths answer other methods 405; a
  Dash callback that is not a JSON object with ``output`` and ``inputs`` is
  400 (415 without ``application/json``), a Dash websocket message that is not
  a JSON object closes the socket (1007) — before Dash would raise on them; a
  body stalled for ``body_timeout_s`` is 408; a client that leaves before its
  body is read is one log line. (A slow request *head* never reaches the
  middleware: dashboard/api/protocol.py times it out.)
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
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
from starlette.requests import ClientDisconnect

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
DASH_WS_PATH = "/_dash-ws-callback"
# Paths that take POST only: any other method is 405 (not Dash's HTML shell).
POST_ONLY = frozenset({INGEST_POST_PATH, "/auth/login", "/auth/logout", DASH_CALLBACK_PATH})
CLOSE_BAD_DATA = 1007
# Paths that are not pages: a closed server answers them itself (401 from the API, Dash's callbacks refuse).
NOT_PAGES = ("/api/", "/auth/", "/ws/", "/_dash", "/_reload", "/_favicon", "/assets/", "/login")


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
    # Closed by default (docs/security.md): a page asked for with no token and no session goes to sign-in.
    closed: bool = False
    # A request body that stalls this long between chunks is answered 408 and its connection freed.
    body_timeout_s: float = 30.0

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


def _is_json_object(payload: str | bytes | None) -> bool:
    try:
        return payload is not None and isinstance(orjson.loads(payload), dict)
    except orjson.JSONDecodeError:
        return False


def _cookies(headers: dict[str, str]) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except CookieError:
        pass
    return jar


# Bodies the edge refuses itself, by reason: the status and the one-line detail.
_BODY_REFUSALS: dict[str, Callable[[SecurityPolicy], tuple[int, str]]] = {
    "too_large": lambda p: (413, f"the body is over {p.max_body_bytes:,} bytes, the most accepted"),
    "stalled": lambda p: (408, f"the body stalled for {p.body_timeout_s:g} s; send it again"),
}


@dataclass
class _WsState:
    """One websocket connection as the middleware sees it."""

    path: str
    address: str
    token_key: str | None
    accepted: bool = False
    closed: bool = False
    # A request body that stalls this long between chunks is answered 408 and its connection freed.
    body_timeout_s: float = 30.0
    own_messages: RateLimiter | None = None
    last_seen: float = 0.0


class SecurityMiddleware:
    def __init__(
        self,
        app: Callable[..., Any],
        policy: SecurityPolicy,
        script_hashes: Callable[[], Sequence[str]] = tuple,
        csrf_of_session: Callable[[str], str] | None = None,
    ) -> None:
        self.app = app
        self._csrf_of_session = csrf_of_session
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

        answered = False  # the edge answered itself (a body too large or too slow): the app's answer goes nowhere

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", ()), *self._security_headers(scope)]}
            await send(message)

        async def answer(status: int, detail: str, more: Sequence[tuple[bytes, bytes]] = ()) -> None:
            body = orjson.dumps({"detail": detail})
            await send_with_headers({"type": "http.response.start", "status": status,
                                     "headers": [(b"content-type", b"application/json"), *more]})
            await send_with_headers({"type": "http.response.body", "body": body})

        if self.policy.closed and method == "GET" and self._needs_sign_in(scope, path, headers):
            await self._to_sign_in(scope, path, send_with_headers)
            return
        if path in POST_ONLY and method != "POST":
            await answer(405, f"{path} takes POST only", [(b"allow", b"POST")])
            return
        if path == INGEST_POST_PATH and method == "POST":
            refused = self._ingest_refusal(_address(scope), _token_key(_token(scope, headers)))
            if refused is not None:
                await answer(429, refused[0], [(b"retry-after", str(refused[1]).encode())])
                return
        limited = path != INGEST_POST_PATH  # the ingest route enforces its own 4 MiB limit with its own message
        declared = headers.get("content-length", "")
        if limited and declared.isdigit() and int(declared) > self.policy.max_body_bytes:
            await answer(*_BODY_REFUSALS["too_large"](self.policy))
            return
        received, body_done = 0, False

        async def refuse_body(refusal: str) -> Message:
            """Answer 413/408 now, then tell the app the client is gone (it must not answer 500 over it)."""
            nonlocal answered
            if not started:
                await answer(*_BODY_REFUSALS[refusal](self.policy))
            answered = True
            return {"type": "http.disconnect"}

        async def counted_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()  # after the body: waiting for a disconnect is not slow
            try:
                message = await asyncio.wait_for(receive(), self.policy.body_timeout_s)
            except TimeoutError:
                return await refuse_body("stalled")
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if limited and received > self.policy.max_body_bytes:
                    return await refuse_body("too_large")
            return message

        if method == "POST" and path.endswith(DASH_CALLBACK_PATH):
            scope = self._drop_session_without_csrf(scope, headers)
            try:
                checked = await self._dash_callback_body(headers, counted_receive)
            except ClientDisconnect:
                return  # refused above (413/408), or the client left
            if isinstance(checked, tuple):
                await answer(*checked)
                return
            counted_receive = checked
        try:
            await self.app(scope, counted_receive, send_with_headers)
        except ClientDisconnect:
            if not answered:
                log.info("%s %s: the client left before sending its whole body", method, path)
        except Exception:
            log.exception("unhandled error on %s %s", method, path)
            if not started:
                await answer(500, "internal error; it has been logged")

    def _needs_sign_in(self, scope: Scope, path: str, headers: dict[str, str]) -> bool:
        """A page (not the API, Dash's own routes, assets or /login) asked for with no token and no session."""
        if path.startswith(NOT_PAGES) or "." in path.rsplit("/", 1)[-1]:
            return False
        return _token(scope, headers) is None and self.policy.session_cookie not in _cookies(headers)

    @staticmethod
    async def _to_sign_in(scope: Scope, path: str, send: Send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        lang = parse_qs(query).get("lang", [""])[0]
        target = path + (f"?{query}" if query else "")
        location = f"/login?{urlencode({'next': target, **({'lang': lang} if lang in ('zh', 'en') else {})})}"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode()), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _dash_callback_body(headers: dict[str, str], receive: Receive) -> tuple[int, str] | Receive:
        """A Dash callback request must be a JSON object naming its output and inputs; else (status, reason).

        Dash itself answers other bodies with a 500 and a traceback in the log. The body (bounded by the
        size limit) is read here and handed on unchanged.
        """
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return 415, "a callback request is JSON: Content-Type: application/json"
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise ClientDisconnect
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return 400, "a callback request must be valid JSON"
        if not isinstance(doc, dict) or not isinstance(doc.get("output"), str) or not isinstance(doc.get("inputs"), list):
            return 400, 'a callback request is a JSON object with "output" (text) and "inputs" (an array)'
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

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
        if self._csrf_of_session is not None:  # the token is bound to this session: no other session's, no planted cookie
            expected = self._csrf_of_session(jar[self.policy.session_cookie].value)
        else:
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
        if state.path == DASH_WS_PATH and not _is_json_object(text if text is not None else data):
            return await close(CLOSE_BAD_DATA, "a callback message is a JSON object")
        if state.own_messages is not None and not state.own_messages.allow("connection"):
            return await close(CLOSE_POLICY, f"rate limit: more than {self.policy.ws_messages_per_s:g} messages a second")
        return message
