"""uvicorn's HTTP protocol with a timer on the request head (issue 17, hole 7: slow headers).

uvicorn times out idle keep-alive connections but not a request head that
arrives slowly: a client that opens a connection and sends half a request line
(or nothing) holds its socket for ever, and a few thousand such clients hold
the server's descriptors (slowloris). ``HeadTimeoutProtocol`` starts a timer
when a connection is made and when the first byte of each further request on
it arrives, and cancels it when the head (request line and headers) is
complete; if the timer fires first the connection is closed — with a ``408``
when part of a head had arrived, silently when nothing had (a browser's
pre-opened connection). Idle keep-alive connections between requests stay
governed by uvicorn's ``timeout_keep_alive``; bodies by the edge's
``body_timeout_s`` (dashboard/api/edge.py). A reverse proxy's
``client_header_timeout`` remains recommended in front (docs/deploy.md).

uvicorn's ``auto`` choice is httptools when installed (it is, through
``uvicorn[standard]``): this subclasses that protocol, and ``protocol_class``
binds the timeout for ``uvicorn.Config(http=...)``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

_BODY = b"the request head was not sent in time"
TIMEOUT_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n" % len(_BODY)
) + _BODY


class HeadTimeoutProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that closes a connection whose request head is not complete within ``head_timeout_s``."""

    head_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_started = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        self._head_started = True
        if self._head_timer is None:  # a further request on a kept-alive connection: its head is timed too
            self._arm_head_timer()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        self._head_started = False
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        log.debug("closed a connection whose request head took over %g s", self.head_timeout_s)
        if self._head_started:
            self.transport.write(TIMEOUT_408)
        self.transport.close()


def protocol_class(head_timeout_s: float) -> type[HeadTimeoutProtocol]:
    """A ``HeadTimeoutProtocol`` subclass bound to ``head_timeout_s`` (uvicorn builds the protocol itself)."""
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout_s": head_timeout_s})
