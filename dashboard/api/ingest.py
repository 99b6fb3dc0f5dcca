"""The ingest endpoints: ``POST /api/events`` and ``WS /ws/ingest``.

Both take the same frames (one event, an array of events, or
``{"events": [...]}``; at most 1,000 events and 4 MiB) and give the same
answer, sent only once the frame's events are durably stored. The websocket
is pipelined: a client may send frames without waiting; answers come back in
frame order, each with the frame's ``seq`` (1, 2, 3 … on that connection).
At most ``IN_FLIGHT_FRAMES`` unanswered frames are held per connection; past
that the server stops reading the socket, so a fast sender is paced by the
store. See docs/api.md and docs/events.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket
from pydantic import BaseModel, Field, TypeAdapter
from starlette.websockets import WebSocketDisconnect

from dashboard.access.tokens import TokenInfo, token_from_request, verify_token
from dashboard.api.deps import request_runtime
from dashboard.api.health import CLOSE_TRY_AGAIN, STORE_FAILURES, STORE_UNAVAILABLE
from dashboard.domain.events import EventIn
from dashboard.ingest.ingestor import (
    MAX_EVENTS_PER_FRAME,
    MAX_FRAME_BYTES,
    FrameError,
    IngestResult,
    IngestUnavailable,
)
from dashboard.runtime.core import Runtime

log = logging.getLogger(__name__)

router = APIRouter(tags=["ingest"])

IN_FLIGHT_FRAMES = 16
CLOSE_POLICY = 1008  # no valid ingest token
CLOSE_TOO_BIG = 1009  # a frame over MAX_FRAME_BYTES
BINARY_FRAME = "binary frames are not accepted: send each frame as JSON text"


class Rejection(BaseModel):
    index: int = Field(description="position of the event in the frame, from 0")
    error: str = Field(description="why it was refused, in plain words")


class IngestAnswer(BaseModel):
    accepted: int = Field(description="events stored now")
    duplicates: int = Field(description="events whose id was already stored (counted once, not again)")
    rejected: list[Rejection] = Field(description="events refused, with the reason; the others were still taken")


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """Replace ``$ref``s to ``$defs`` by the definitions (OpenAPI resolves ``#/…`` against its own root)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.rsplit("/", 1)[1]], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def _event_schema() -> dict[str, Any]:
    schema = TypeAdapter(EventIn).json_schema()
    event = _inline_refs(schema, schema.get("$defs", {}))
    event["properties"]["data"]["description"] = "the type's fields; every type and its data: docs/events.md"
    return event


_EVENT = _event_schema()
_EXAMPLE = {
    "id": "study-2026-11-27-000123",
    "type": "study",
    "ts": "2026-11-27T09:30:00+08:00",
    "org": "BR-0001",
    "member": "M-0000042",
    "data": {"points": 5, "minutes": 20, "title": "学习贯彻党的二十大精神"},
}
_REQUEST_BODY = {
    "required": True,
    "description": (
        f"A JSON array of at most {MAX_EVENTS_PER_FRAME:,} events, or an object {{\"events\": [...]}}; "
        f"at most {MAX_FRAME_BYTES // (1024 * 1024)} MiB. Events with an id already stored are answered as "
        "duplicates; bad events are rejected one by one and the good ones in the same request are still taken."
    ),
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"type": "array", "items": _EVENT, "maxItems": MAX_EVENTS_PER_FRAME},
                    {
                        "type": "object",
                        "properties": {"events": {"type": "array", "items": _EVENT, "maxItems": MAX_EVENTS_PER_FRAME}},
                        "required": ["events"],
                    },
                ]
            },
            "examples": {
                "array": {"summary": "an array of events", "value": [_EXAMPLE]},
                "object": {"summary": "an object with events", "value": {"events": [_EXAMPLE]}},
            },
        }
    },
}
_ERROR = {"content": {"application/json": {"example": {"detail": "a reason in plain words"}}}}


def ingest_token(request: Request) -> TokenInfo:
    """The caller's token, if it may send events (401 without a valid token, 403 with one of another role)."""
    runtime = request_runtime(request)
    token = token_from_request(request.headers.get("authorization"), request.query_params.get("token"))
    info = verify_token(runtime.engine, token, runtime.settings)
    address = request.client.host if request.client else None
    runtime.audit.record_token_use(info, "ingest POST /api/events", address, allowed=info is not None and info.may_ingest)
    if info is None:
        reason = "an ingest token is required" if token is None else "the token is unknown, revoked or expired"
        raise HTTPException(401, f"{reason}: send Authorization: Bearer <token> or ?token=<token>",
                            headers={"WWW-Authenticate": "Bearer"})
    if not info.may_ingest:
        raise HTTPException(403, f"a {info.role} token may not send events: use an ingest or admin token")
    return info


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FRAME_BYTES:
        raise HTTPException(413, f"the body is {int(declared):,} bytes; at most {MAX_FRAME_BYTES:,} are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FRAME_BYTES:
            raise HTTPException(413, f"the body is over {MAX_FRAME_BYTES:,} bytes, the most accepted")
    return bytes(body)


@router.post(
    "/api/events",
    summary="Send events",
    description="Store events durably and once; the answer comes after they are committed. "
    "Token: `Authorization: Bearer T` or `?token=T`, role ingest or admin. The same frames go over `WS /ws/ingest`.",
    response_model=IngestAnswer,
    responses={
        400: {"description": "the body is not JSON or not events", **_ERROR},
        401: {"description": "no valid token", **_ERROR},
        403: {"description": "the token's role may not send events", **_ERROR},
        413: {"description": "more than 1,000 events or 4 MiB", **_ERROR},
        503: {"description": "the store cannot take events now; nothing was kept, send again (Retry-After)", **_ERROR},
    },
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def post_events(request: Request, token: TokenInfo = Depends(ingest_token)) -> dict[str, Any]:
    body = await _read_body(request)
    try:
        result = await request_runtime(request).ingestor.submit_frame(body, scope_org_id=token.org_id)
    except FrameError as exc:
        raise HTTPException(413 if exc.too_large else 400, str(exc)) from None
    except IngestUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "1"}) from None
    return result.as_dict()


def _answer(seq: int, result: IngestResult | None = None, error: str | None = None) -> str:
    body: dict[str, Any] = {"seq": seq, **(result or IngestResult(0, 0)).as_dict()}
    if error is not None:
        body["error"] = error
    return orjson.dumps(body).decode()


async def _send_answers(websocket: WebSocket, answers: asyncio.Queue[tuple[int, Any] | None]) -> None:
    """Answer frames in their order, each once its events are committed; None ends the stream."""
    while (item := await answers.get()) is not None:
        seq, pending = item
        if isinstance(pending, str):
            await websocket.send_text(_answer(seq, error=pending))
            continue
        try:
            result = await pending
        except IngestUnavailable as exc:
            await websocket.send_text(_answer(seq, error=str(exc)))
        else:
            await websocket.send_text(_answer(seq, result))


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


@router.websocket("/ws/ingest")
async def ingest_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    token = token_from_request(websocket.headers.get("authorization"), websocket.query_params.get("token"))
    address = websocket.client.host if websocket.client else None
    try:
        info = await asyncio.to_thread(verify_token, runtime.engine, token, runtime.settings)
        allowed = info is not None and info.may_ingest
        await asyncio.to_thread(runtime.audit.record_token_use, info, "ingest WS /ws/ingest", address, allowed=allowed)
    except STORE_FAILURES as exc:
        log.error("ingest websocket from %s: store failure: %s", address, exc)
        await websocket.accept()
        await websocket.close(code=CLOSE_TRY_AGAIN, reason=STORE_UNAVAILABLE[:120])
        return
    await websocket.accept()  # accept first: a refusal before it would be an HTTP 403, not close code 1008
    if info is None or not info.may_ingest:
        reason = "an ingest token is required" if info is None else f"a {info.role} token may not send events"
        await websocket.close(code=CLOSE_POLICY, reason=reason)
        return
    answers: asyncio.Queue[tuple[int, Any] | None] = asyncio.Queue(maxsize=IN_FLIGHT_FRAMES)
    sender = asyncio.create_task(_send_answers(websocket, answers))
    too_big: str | None = None
    seq = 0
    try:
        while not sender.done():
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            seq += 1
            text = message.get("text")
            if text is None:
                await answers.put((seq, BINARY_FRAME))
                continue
            size = _utf8_size(text)
            if size > MAX_FRAME_BYTES:
                too_big = f"frame {seq} is {size:,} bytes; at most {MAX_FRAME_BYTES:,}"
                break
            try:
                pending: Any = await runtime.ingestor.enqueue_frame(text, scope_org_id=info.org_id)
            except (FrameError, IngestUnavailable) as exc:
                pending = str(exc)
            await answers.put((seq, pending))
    except WebSocketDisconnect:
        pass
    finally:
        if too_big is not None and not sender.done():
            await answers.put(None)  # answer the frames before the oversized one, then close
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sender, timeout=30)
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_TOO_BIG, reason=too_big)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
