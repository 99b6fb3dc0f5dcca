"""Everything a page receives: its HTTP response bodies and the frames of Dash's websocket.

Dash keeps its websocket in a SharedWorker, out of the page's own network
events; ``PageTraffic`` attaches to that worker over the browser's DevTools
protocol as soon as it is created (``Target.setDiscoverTargets``, then
``Target.attachToTarget`` and ``Network.enable`` in the worker) and records
every ``Network.webSocketFrameReceived``. The attach races the worker's first
frame, so tests add the server's stream for the same ticket
(dashboard.live.screen_client) to be sure of the full frame. Privacy tests search
all of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PageTraffic:
    """Collects what one browser context receives; ``attach(browser)`` before the page is opened."""

    bodies: list[str] = field(default_factory=list)
    ws_frames: list[str] = field(default_factory=list)
    _responses: list[Any] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: iter(range(1, 1 << 30)))
    _cdp: Any = None
    _sessions: list[str] = field(default_factory=list)

    def attach(self, browser: Any, page: Any) -> None:
        cdp = self._cdp = browser.new_browser_cdp_session()

        def created(event: dict[str, Any]) -> None:
            info = event["targetInfo"]
            if info["type"] == "shared_worker":
                session = cdp.send("Target.attachToTarget", {"targetId": info["targetId"], "flatten": False})["sessionId"]
                self._sessions.append(session)
                message = json.dumps({"id": next(self._ids), "method": "Network.enable", "params": {}})
                cdp.send("Target.sendMessageToTarget", {"sessionId": session, "message": message})

        def received(event: dict[str, Any]) -> None:
            message = json.loads(event["message"])
            if message.get("method") == "Network.webSocketFrameReceived":
                self.ws_frames.append(message["params"]["response"]["payloadData"])

        cdp.on("Target.targetCreated", created)
        cdp.on("Target.receivedMessageFromTarget", received)
        cdp.send("Target.setDiscoverTargets", {"discover": True})
        page.on("response", lambda response: self._responses.append(response))

    def detach(self) -> None:
        """Let go of the worker before its page closes (Chromium aborts if a worker dies with a debugger attached)."""
        cdp, self._cdp = self._cdp, None
        if cdp is None:
            return
        cdp.send("Target.setDiscoverTargets", {"discover": False})
        for session in self._sessions:
            try:
                cdp.send("Target.detachFromTarget", {"sessionId": session})
            except Exception:  # the worker is gone already
                pass
        cdp.detach()

    def read_bodies(self) -> list[str]:
        """The text of every HTTP response so far (binary bodies decoded leniently)."""
        for response in self._responses[len(self.bodies):]:
            try:
                body = response.body()
            except Exception:  # redirects and aborted requests have no body
                body = b""
            self.bodies.append(body.decode("utf-8", errors="replace"))
        return self.bodies

    def live_frames(self) -> list[dict[str, Any]]:
        """The frames Dash's websocket delivered into the ``live`` store."""
        frames = []
        for raw in self.ws_frames:
            data = json.loads(raw)
            for message in data if isinstance(data, list) else [data]:
                payload = message.get("payload") or {}
                if message.get("type") == "set_props" and payload.get("componentId") == "live":
                    frames.append(payload["props"]["data"])
        return frames


def readable(text: str) -> str:
    """JSON re-dumped with its \\uXXXX escapes as characters (Dash escapes non-ASCII), else the text."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text
