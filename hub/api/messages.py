"""``GET /messages/{id}``: status, deliveries and the full history of one message."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from hub.api.deps import get_hub
from hub.runtime import Hub
from hub.views import MessageView, message_view

__all__ = ["router"]

router = APIRouter(tags=["messages"])


@router.get("/messages/{message_id}", response_model=MessageView)
async def get_message(message_id: str, hub: Annotated[Hub, Depends(get_hub)]) -> MessageView:
    """The message's status and every event in its history."""
    record = await run_in_threadpool(hub.store.get, message_id)
    return message_view(record)


@router.get("/messages/{message_id}/body", response_class=Response)
async def get_body(message_id: str, hub: Annotated[Hub, Depends(get_hub)]) -> Response:
    """The payload exactly as it was received."""
    record = await run_in_threadpool(hub.store.get, message_id)
    return Response(
        record.message.body, media_type=record.message.content_type or "application/octet-stream"
    )


@router.get("/messages/{message_id}/output", response_class=Response)
async def get_output(message_id: str, hub: Annotated[Hub, Depends(get_hub)]) -> Response:
    """The translated payload as delivered to the sinks (404 before translation)."""
    output = await run_in_threadpool(hub.store.output, message_id)
    if output is None:
        return Response(
            b'{"error": {"type": "not_translated", "message": "the message has no output yet"}}',
            status_code=404,
            media_type="application/json",
        )
    body, content_type = output
    return Response(body, media_type=content_type)
