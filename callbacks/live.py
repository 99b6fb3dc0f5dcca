"""The live stream: one persistent websocket callback per page, pushing frames into ``live``.

The callback has no Input and no Output, so Dash's client restarts it after a
reconnect. It reads the page's signed scope ticket, attaches to the publisher,
and loops: wait for the next frame of its scope, ``set_props`` it into the
``live`` store, then wait for the page's acknowledgement (a ``get_prop``
round trip, answered only after the page has handled what came before). A
slow page therefore receives fewer, fresher frames instead of a growing queue.

assets/live.js takes each frame from Dash's store and fans it out to the
tiles, the feed, the alerts and the views' charts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from dash import callback, ctx, set_props
from dash.exceptions import WebsocketDisconnected

from callbacks.context import ViewContext, scope_from_ticket
from callbacks.replay import replay_query, replay_stream
from dashboard.api.health import STORE_FAILURES

log = logging.getLogger(__name__)

ACK_TIMEOUT_S = 30.0
# How often a stream opened with a token or a session checks that it was not revoked.
GRANT_CHECK_S = 5.0
META_WAIT_S = 30.0
META_RETRY_S = 0.1
META_RETRY_MAX_S = 2.0
PAGES_STORE = "_pages_store"  # Dash's own store, set by its pages router with each page's layout


async def page_meta(ws: Any) -> Any:
    """The page's ``live-meta`` data, waiting up to META_WAIT_S for the page to have it.

    The socket opens, and this callback starts, as soon as Dash's shell loads;
    the page itself (with its ``live-meta`` store) arrives by the pages callback
    after that, late on a busy machine. A page that has none (login, admin)
    answers None until the wait runs out; the asking backs off (0.1 s doubling
    to 2 s) so such a page sees about twenty requests, not hundreds.
    """
    deadline = time.monotonic() + META_WAIT_S
    # First the pages store of Dash's shell, which is always there and is set with the page's layout:
    # asking the page for a component it does not have yet makes the browser log a warning
    # ("GET_PROPS_REQUEST: Component live-meta not found in layout"). Pages without a stream have a
    # live-meta store saying so (layouts/desktop.py).
    for component in (PAGES_STORE, "live-meta"):
        delay = META_RETRY_S
        while True:
            meta = await ws.get_prop(component, "data", timeout=10)
            if meta is not None or time.monotonic() >= deadline:
                break
            await asyncio.sleep(delay)
            delay = min(2 * delay, META_RETRY_MAX_S)
    return meta


def register(view: ViewContext) -> None:
    publisher, access = view.runtime.publisher, view.runtime.access

    @callback(websocket=True, persistent=True)
    async def live_stream() -> None:
        ws = ctx.websocket
        if ws is None:
            return
        try:
            meta = await page_meta(ws)
        except (TimeoutError, WebsocketDisconnected):
            return
        ticket = await asyncio.to_thread(scope_from_ticket, view, meta)
        if ticket is None:
            return
        scope, grant = ticket
        # A page opened with ?replay=FROM..TO streams that past period instead (callbacks/replay.py).
        try:
            replay = replay_query(await ws.get_prop("_pages_location", "search", timeout=10))
        except (TimeoutError, WebsocketDisconnected):
            return
        if replay is not None:
            await replay_stream(ws, view, scope, replay)
            return
        channel = publisher.attach(scope)
        seq = 0
        granted_at = time.monotonic()
        try:
            while not ws.is_shutdown:
                if grant is not None and time.monotonic() - granted_at > GRANT_CHECK_S:
                    try:
                        valid = await asyncio.to_thread(access.grant_valid, grant)
                    except STORE_FAILURES as exc:  # nothing can be revoked while the store is away: check again later
                        log.warning("screen's %s not re-checked, the store is unavailable: %s", grant, exc)
                        valid = True
                    if not valid:
                        log.info("screen's %s was revoked or expired; its stream stops", grant)
                        break
                    granted_at = time.monotonic()
                frame = await publisher.next_frame(channel, seq)
                seq = frame["seq"]
                set_props("live", {"data": frame})
                try:
                    await ws.get_prop("live", "id", timeout=ACK_TIMEOUT_S)
                except TimeoutError:
                    log.warning("screen did not acknowledge frame %d within %ss; going on", seq, ACK_TIMEOUT_S)
        except WebsocketDisconnected:
            pass
        finally:
            publisher.detach(channel)
