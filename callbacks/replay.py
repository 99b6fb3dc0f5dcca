"""The replay stream: a page opened with ``?replay=FROM..TO&speed=X`` gets a past period's frames.

Called by the live stream (callbacks/live.py) once it knows the page's scope. Each step
(STEP_S of wall time, longer on a tree so large that a step is costly: MAX_BUSY) plays the replay
forward at its speed and sends the frame if anything
changed; then the page's answer to ``get_prop("replay-control", "data")`` is both the
acknowledgement and the replay bar's command (play/pause, speed, jump). A bad request is
one frame carrying the error, shown in the replay bar; the page stays as it is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from dash import set_props
from dash.exceptions import WebsocketDisconnected

from callbacks.context import ViewContext
from dashboard.access.scopes import Scope
from dashboard.live.history import history_bounds
from dashboard.live.publisher import FramePublisher, FrameSection
from dashboard.live.replay import ReplayError, ReplaySession, parse_replay
from dashboard.map.frames import MapFrames
from dashboard.store.names import MemberDirectory
from dashboard.topology.frames import PulseSection
from dashboard.wall.units import UnitsSection

log = logging.getLogger(__name__)

STEP_S = 0.25
HEARTBEAT_S = 3.0
ACK_TIMEOUT_S = 30.0
# The share of a core one replaying screen may keep busy. A step's cost grows with the tree (the
# aggregator's time windows are cleared across every organisation); when it would take more, the
# steps come less often and each covers more of the period — the replay still keeps to its speed.
MAX_BUSY = 0.5


def rest_after(busy_s: float, elapsed_s: float) -> float:
    """Seconds to wait before the next step: the rest of STEP_S, and at least enough that stepping
    (``busy_s`` of work) takes no more than MAX_BUSY of the time."""
    return max(0.0, STEP_S - elapsed_s, busy_s * (1 - MAX_BUSY) / MAX_BUSY)


def replay_query(search: Any) -> dict[str, str] | None:
    """``replay`` and ``speed`` from the page's query string; None when it asks for no replay."""
    if not isinstance(search, str):
        return None
    query = {k: v[0] for k, v in parse_qs(search.lstrip("?")).items()}
    return query if query.get("replay") else None


def view_sections(view: ViewContext, publisher: FramePublisher) -> list[FrameSection]:
    """The wall's, the map's and the topology's pulse sections over a replay's own publisher.

    The pulses name organisations by their place in the tree, which the replay shares with the live
    topology; the section itself is the replay's own (it caches the positions of its tick's events).
    """
    tree, aggregator = publisher.tree, publisher.aggregator
    return [*MapFrames(tree, aggregator, view.regions, publisher.notices).sections,
            UnitsSection(lambda: (tree, aggregator)), PulseSection(view.runtime.topology)]


def _send(frame: dict[str, Any]) -> None:
    set_props("live", {"data": frame})


async def replay_stream(ws: Any, view: ViewContext, scope: Scope, query: dict[str, str]) -> None:
    runtime = view.runtime
    tz = ZoneInfo(runtime.settings.timezone)
    try:
        bounds = await asyncio.to_thread(history_bounds, runtime.engine)
        request = parse_replay(query["replay"], query.get("speed"), tz, int(time.time() * 1000), bounds)
        opening = asyncio.ensure_future(asyncio.to_thread(
            ReplaySession, runtime.engine, runtime.tree, tz, MemberDirectory(runtime.engine), request, scope,
            lambda publisher: view_sections(view, publisher),
        ))
        while not opening.done():  # reaching the period's start can take seconds: keep the link alive meanwhile
            await asyncio.wait({opening}, timeout=HEARTBEAT_S)
            _send({"seq": 0, "ts": int(time.time() * 1000), "heartbeat": True})
        session = opening.result()
    except ReplayError as exc:
        _send({"seq": 1, "ts": int(time.time() * 1000), "full": True, "feed": [],
               "kpi": {"replay": {"error": exc.code, "message": str(exc)}}})
        return
    seq, sent_at, last = 0, 0.0, time.monotonic()
    try:
        while not ws.is_shutdown:
            now = time.monotonic()
            await asyncio.to_thread(session.step, now - last)
            busy, last = time.monotonic() - now, now
            frame = session.frame_after(seq)
            if frame["seq"] != seq or now - sent_at > HEARTBEAT_S:
                seq, sent_at = frame["seq"], now
                _send(frame)
            command = await ws.get_prop("replay-control", "data", timeout=ACK_TIMEOUT_S)
            if command:
                await asyncio.to_thread(session.control, command)
            await asyncio.sleep(rest_after(busy, time.monotonic() - now))
    except (WebsocketDisconnected, TimeoutError):
        pass
    finally:
        session.close()
