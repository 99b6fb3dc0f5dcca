"""What the security middleware costs per websocket message and per HTTP request.

Drives a trivial ASGI app directly (no sockets) with and without
``SecurityMiddleware`` in front, in the same run: websocket messages on the
ingest path (origin check once, rate limit and idle timer per message) and on
Dash's path (size and per-connection rate checks), and HTTP requests (headers
added, body counted). Prints one JSON object with the rates and the ratios
guarded / bare.

    python benchmarks/security_edge.py [--messages 200000] [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.api.edge import SecurityMiddleware, SecurityPolicy

HEADERS = [(b"host", b"127.0.0.1:8050"), (b"origin", b"http://127.0.0.1:8050"), (b"authorization", b"Bearer bench-token")]


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accepts and reads every message (websocket), or answers 200 (HTTP)."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] == "websocket.receive":
            pass
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def websocket_rate(app: Any, path: str, messages: int) -> float:
    queue: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    queue += [{"type": "websocket.receive", "text": '{"type":"like","org":"BR-1"}'}] * messages
    queue.append({"type": "websocket.disconnect", "code": 1000})
    it = iter(queue)

    async def receive() -> dict[str, Any]:
        return next(it)

    async def send(_message: dict[str, Any]) -> None:
        return None

    scope = {"type": "websocket", "path": path, "headers": HEADERS, "query_string": b"", "client": ("127.0.0.1", 5000)}
    started = time.perf_counter()
    await app(scope, receive, send)
    return messages / (time.perf_counter() - started)


async def http_rate(app: Any, requests: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    scope = {"type": "http", "method": "GET", "path": "/api/health", "headers": HEADERS, "query_string": b"",
             "client": ("127.0.0.1", 5000), "scheme": "http"}
    started = time.perf_counter()
    for _ in range(requests):
        await app(scope, receive, send)
    return requests / (time.perf_counter() - started)


async def measure(messages: int, requests: int) -> dict[str, Any]:
    # Limits far above the load: this measures the checks, not refusals.
    policy = SecurityPolicy(ingest_frames_per_s=1e9, ws_messages_per_s=1e9)
    guarded = SecurityMiddleware(echo_app, policy, script_hashes=lambda: ("sha256-AAAA",))
    out: dict[str, Any] = {"benchmark": "security_edge", "messages": messages, "requests": requests}
    for label, path in (("ingest_ws", "/ws/ingest"), ("dash_ws", "/_dash-ws-callback")):
        bare = await websocket_rate(echo_app, path, messages)
        edge = await websocket_rate(guarded, path, messages)
        out[f"{label}_bare_per_s"] = round(bare)
        out[f"{label}_guarded_per_s"] = round(edge)
        out[f"{label}_ratio"] = round(edge / bare, 3)
        out[f"{label}_us_added_per_message"] = round((1 / edge - 1 / bare) * 1e6, 2)
    bare = await http_rate(echo_app, requests)
    edge = await http_rate(guarded, requests)
    out.update(http_bare_per_s=round(bare), http_guarded_per_s=round(edge), http_ratio=round(edge / bare, 3),
               http_us_added_per_request=round((1 / edge - 1 / bare) * 1e6, 2))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--requests", type=int, default=20_000)
    a = p.parse_args()
    print(json.dumps(asyncio.run(measure(a.messages, a.requests))))


if __name__ == "__main__":
    main()
