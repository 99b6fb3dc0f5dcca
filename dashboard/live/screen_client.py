"""A headless screen: speaks Dash's websocket-callback protocol to receive a page's live frames.

What a browser tab does, minus the rendering: it asks Dash for the page's
layout to find the signed scope ticket, opens ``/_dash-ws-callback``, starts
the persistent live-stream callback, answers the server's ``get_props``
requests (the ticket, then the acknowledgement after each frame) and records
every frame. Load tests use hundreds of these; tests use a few to check what
goes over the wire.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import websockets
from websockets.typing import Origin

PAGES_OUTPUT = ".._pages_content.children..._pages_store.data.."


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


async def page_layout(base_url: str, path: str = "/", search: str = "") -> dict[str, Any]:
    """The layout Dash renders for ``path?search`` (what the pages callback returns)."""
    body = {
        "output": PAGES_OUTPUT,
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    async with httpx.AsyncClient(timeout=60) as client:
        r = await client.post(f"{base_url}/_dash-update-component", json=body)
        r.raise_for_status()
        return r.json()


def find_ticket(layout: dict[str, Any]) -> str:
    for node in _walk(layout):
        props = node.get("props")
        if isinstance(props, dict) and props.get("id") == "live-meta":
            return props["data"]["ticket"]
    raise LookupError("no live-meta store in the page layout")


async def stream_callback_id(base_url: str) -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        deps = (await client.get(f"{base_url}/_dash-dependencies")).json()
    for dep in deps:
        if dep.get("persistent") and dep.get("websocket") and dep.get("no_output"):
            return dep["output"]
    raise LookupError("no persistent websocket callback registered")


@dataclass
class ScreenClient:
    """One screen. ``ack_delay_s`` emulates a slow page; ``stalled`` stops reading after the first frame;
    ``layout_late`` answers that many requests for ``live-meta`` as a page whose layout has not arrived yet."""

    base_url: str
    ticket: str
    callback_id: str
    ack_delay_s: float = 0.0
    stalled: bool = False
    layout_late: int = 0
    search: str = ""  # the page's query string: "?replay=FROM..TO&speed=X" makes it a replay screen
    replay_command: dict[str, Any] | None = None  # what its replay bar answers (play/pause, speed, jump)
    meta_requests: int = 0
    frames: list[dict[str, Any]] = field(default_factory=list)
    lags_ms: list[float] = field(default_factory=list)
    received_ms: list[float] = field(default_factory=list)
    bytes_received: int = 0
    frame_bytes: list[int] = field(default_factory=list)
    renderer_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1) + "/_dash-ws-callback"

    async def run(self, duration_s: float) -> ScreenClient:
        """Connect, stream for ``duration_s`` seconds, disconnect."""
        origin = Origin(self.base_url)
        async with websockets.connect(self.ws_url, origin=origin, max_size=None, open_timeout=30) as ws:
            await ws.send(
                orjson.dumps(
                    {
                        "type": "callback_request",
                        "rendererId": self.renderer_id,
                        "requestId": uuid.uuid4().hex,
                        "payload": {"output": self.callback_id, "outputs": [], "inputs": [], "state": [], "changedPropIds": []},
                    }
                ).decode()
            )
            deadline = time.monotonic() + duration_s
            while (left := deadline - time.monotonic()) > 0:
                if self.stalled and self.frames:
                    await asyncio.sleep(left)
                    break
                try:
                    raw = await asyncio.wait_for(ws.recv(), left)
                except TimeoutError:
                    break
                self.bytes_received += len(raw)
                data = orjson.loads(raw)
                for message in data if isinstance(data, list) else [data]:
                    await self._handle(ws, message, len(raw))
        return self

    async def _handle(self, ws: Any, message: dict[str, Any], size: int) -> None:
        kind = message.get("type")
        payload = message.get("payload") or {}
        if kind == "set_props" and payload.get("componentId") == "live":
            frame = payload["props"]["data"]
            now_ms = time.time() * 1000
            self.frames.append(frame)
            self.frame_bytes.append(size)
            self.received_ms.append(now_ms)
            self.lags_ms.append(now_ms - frame["ts"])
        elif kind == "get_props_request":
            component = payload.get("componentId")
            answer: dict[str, Any]
            if component == "_pages_location":
                answer = {"search": self.search}
            elif component == "replay-control":
                answer = {"data": self.replay_command}
            elif component == "live-meta":
                self.meta_requests += 1
                late = self.meta_requests <= self.layout_late
                answer = {} if late else {"data": {"ticket": self.ticket}}
            else:
                if self.ack_delay_s:
                    await asyncio.sleep(self.ack_delay_s)
                answer = {"data": self.frames[-1]["seq"] if self.frames else 0}
            await ws.send(
                orjson.dumps(
                    {
                        "type": "get_props_response",
                        "rendererId": self.renderer_id,
                        "requestId": message["requestId"],
                        "payload": answer,
                    }
                ).decode()
            )
