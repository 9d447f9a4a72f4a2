"""``GET /messages`` to find messages, ``GET /messages/{id}`` for one message's history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from hub.api.auth import GuardedRoute, needs
from hub.api.deps import get_hub
from hub.api.docs import responses
from hub.api.downloads import SAFE_TYPES, payload_response
from hub.api.filters import Filters
from hub.credentials import READ, READ_PAYLOAD
from hub.runtime import Hub
from hub.store import find_messages
from hub.store.queries import MAX_CURSOR
from hub.store.store import dropped
from hub.views import MessageListView, MessageView, message_view, page_view

__all__ = ["LISTING_ERRORS", "MessageId", "router"]

router = APIRouter(tags=["messages"], route_class=GuardedRoute)

#: What a list request can be answered besides its list.
LISTING_ERRORS = responses(
    400,
    404,
    422,
    503,
    said={
        400: "A filter cannot work (`since` not before `until`) or holds a NUL character; "
        "`where` says which.",
        404: "No route with that name in the config; the hint lists them.",
    },
)

MessageId = Annotated[
    str,
    Path(
        description="the id `POST /ingest/...` answered with",
        examples=["0b6f8d0e-6f6a-4c8e-9b6e-3f1d2c4b5a69"],
    ),
]

_NO_MESSAGE = responses(404, 503, said={404: "No message with that id."})
_NO_PAYLOAD = responses(404, 410, 503, said={404: "No message with that id."})

#: A stored payload: one of the types a browser does not run (else application/octet-stream).
_PAYLOAD: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The payload, as an attachment (`Content-Disposition`).",
        "content": {
            served: {"schema": {} if served == "application/json" else {"type": "string"}}
            for served in sorted({served for served, _ in SAFE_TYPES.values()})
        },
    }
}


@router.get(
    "/messages",
    response_model=MessageListView,
    responses=LISTING_ERRORS,
    operation_id="list_messages",
)
@needs(READ)
async def list_messages(
    hub: Annotated[Hub, Depends(get_hub)],
    filters: Filters,
    cursor: Annotated[
        int | None,
        Query(ge=1, le=MAX_CURSOR, description="the `next_cursor` of the previous page"),
    ] = None,
) -> MessageListView:
    """Messages matching every filter given, newest first, a page at a time."""
    page = await run_in_threadpool(find_messages, hub.store, filters.where(cursor=cursor))
    return page_view(page)


@router.get(
    "/messages/{message_id}",
    response_model=MessageView,
    responses=_NO_MESSAGE,
    operation_id="get_message",
)
@needs(READ)
async def get_message(message_id: MessageId, hub: Annotated[Hub, Depends(get_hub)]) -> MessageView:
    """The message's status and every event in its history."""
    record = await run_in_threadpool(hub.store.get, message_id)
    return message_view(record)


@router.get(
    "/messages/{message_id}/body",
    response_class=Response,
    responses={**_PAYLOAD, **_NO_PAYLOAD},
    operation_id="get_message_body",
)
@needs(READ_PAYLOAD)
async def get_body(message_id: MessageId, hub: Annotated[Hub, Depends(get_hub)]) -> Response:
    """The payload exactly as it was received, as a download (`<id>.<ext>`).

    Its type is the one it was received with if that is one a browser does not run (JSON,
    XML, CSV, EDIFACT, plain text), `application/octet-stream` otherwise (HTML, SVG, ...).
    """
    record = await run_in_threadpool(hub.store.get, message_id)
    if record.payload_dropped_at is not None:
        raise dropped(record.payload_dropped_at)
    message = record.message
    return payload_response(message.body, message.content_type, message.id)


@router.get(
    "/messages/{message_id}/output",
    response_class=Response,
    responses={
        **_PAYLOAD,
        **responses(
            404, 410, 503, said={404: "No message with that id, or it is not translated (yet)."}
        ),
    },
    operation_id="get_message_output",
)
@needs(READ_PAYLOAD)
async def get_output(message_id: MessageId, hub: Annotated[Hub, Depends(get_hub)]) -> Response:
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
