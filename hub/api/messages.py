"""``GET /messages`` to find messages, ``GET /messages/{id}`` for one message's history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from hub.api.deps import get_hub
from hub.api.downloads import payload_response
from hub.api.errors import error_responses
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.store import MessageFilter, find_messages
from hub.store.queries import MAX_LIMIT
from hub.views import MessageListView, MessageView, message_view, page_view

__all__ = ["BAD_QUERY", "router"]

router = APIRouter(tags=["messages"])

BAD_QUERY = error_responses(
    {
        400: "A filter cannot work (since not before until); `where` says which.",
        404: "No route with that name in the config; the hint lists them.",
        422: "A parameter is malformed (a status, a time, the limit, the cursor); "
        "`where` names it.",
        503: "The store is unavailable; try again.",
    }
)


@router.get("/messages", response_model=MessageListView, responses=BAD_QUERY)
async def list_messages(
    hub: Annotated[Hub, Depends(get_hub)],
    correlation_key: Annotated[
        str | None, Query(description="the business key, e.g. an order number (exact match)")
    ] = None,
    route: Annotated[str | None, Query(description="a route name from the config")] = None,
    status: Annotated[
        list[MessageStatus] | None,
        Query(description="repeat for several: `status=failed&status=retrying`; none: any"),
    ] = None,
    error_type: Annotated[
        str | None, Query(description="e.g. `delivery_fatal`, `validation_error`")
    ] = None,
    since: Annotated[
        datetime | None, Query(description="received at or after (ISO 8601; no zone: UTC)")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="received before (ISO 8601; no zone: UTC)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="messages per page")] = 100,
    cursor: Annotated[
        int | None, Query(ge=1, description="the `next_cursor` of the previous page")
    ] = None,
) -> MessageListView:
    """Messages matching every filter given, newest first, a page at a time."""
    if route is not None:
        hub.ingestor.route(route)  # 404 with the routes there are, not an empty page
    where = MessageFilter(
        statuses=tuple(status or ()),
        route=route,
        error_type=error_type,
        correlation_key=correlation_key,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    page = await run_in_threadpool(find_messages, hub.store, where)
    return page_view(page)


@router.get("/messages/{message_id}", response_model=MessageView)
async def get_message(message_id: str, hub: Annotated[Hub, Depends(get_hub)]) -> MessageView:
    """The message's status and every event in its history."""
    record = await run_in_threadpool(hub.store.get, message_id)
    return message_view(record)


@router.get("/messages/{message_id}/body", response_class=Response)
async def get_body(message_id: str, hub: Annotated[Hub, Depends(get_hub)]) -> Response:
    """The payload exactly as it was received, as a download (`<id>.<ext>`).

    Its type is the one it was received with if that is one a browser does not run (JSON,
    XML, CSV, EDIFACT, plain text), `application/octet-stream` otherwise (HTML, SVG, ...).
    """
    record = await run_in_threadpool(hub.store.get, message_id)
    message = record.message
    return payload_response(message.body, message.content_type, message.id)


@router.get("/messages/{message_id}/output", response_class=Response)
async def get_output(message_id: str, hub: Annotated[Hub, Depends(get_hub)]) -> Response:
    """The translated payload as delivered to the sinks, as a download (`<id>-output.<ext>`);
    404 before translation."""
    output = await run_in_threadpool(hub.store.output, message_id)
    if output is None:
        return Response(
            b'{"error": {"type": "not_translated", "message": "the message has no output yet"}}',
            status_code=404,
            media_type="application/json",
        )
    body, content_type = output
    return payload_response(body, content_type, f"{message_id}-output")
