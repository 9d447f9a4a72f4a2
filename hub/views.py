"""How a stored message is shown to people, by the API and the CLI alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hub.store import MessagePage, MessageRecord, MessageSummary
from hub.tracing import trace_id

__all__ = [
    "MessageListView",
    "MessageView",
    "SummaryView",
    "message_view",
    "page_view",
    "summary_view",
]


class EventView(BaseModel):
    at: datetime
    kind: str
    sink: str | None
    detail: str
    data: dict[str, Any] | None


class DeliveryView(BaseModel):
    sink: str
    status: str
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


class ErrorView(BaseModel):
    stage: str
    type: str
    message: str


class MessageView(BaseModel):
    id: str
    route: str
    source: str
    status: str
    correlation_key: str | None
    format: str
    content_type: str | None
    size: int
    received_at: datetime
    updated_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    mapping: dict[str, str | None] | None
    output_size: int | None
    payload_dropped_at: datetime | None = Field(
        None, description="when retention dropped the body and output; the history stays"
    )
    error: ErrorView | None
    trace_id: str | None = Field(
        description="the OpenTelemetry trace of the message (tracing.enabled): its ingest, "
        "every turn, stage and delivery attempt"
    )
    deliveries: list[DeliveryView]
    events: list[EventView]


def message_view(record: MessageRecord) -> MessageView:
    msg = record.message
    return MessageView(
        id=msg.id,
        route=msg.route,
        source=msg.source,
        status=record.status.value,
        correlation_key=msg.correlation_key,
        format=msg.format,
        content_type=msg.content_type,
        size=len(msg.body),
        received_at=msg.received_at,
        updated_at=record.updated_at,
        attempts=record.attempts,
        next_attempt_at=record.next_attempt_at,
        mapping={"name": record.mapping_name, "hash": record.mapping_hash}
        if record.mapping_name
        else None,
        output_size=record.output_size,
        payload_dropped_at=record.payload_dropped_at,
        error=ErrorView(
            stage=record.error.stage, type=record.error.type, message=record.error.message
        )
        if record.error
        else None,
        trace_id=trace_id(msg.headers),
        deliveries=[
            DeliveryView(
                sink=d.sink,
                status=d.status.value,
                attempts=d.attempts,
                last_error=d.last_error,
                delivered_at=d.delivered_at,
            )
            for d in record.deliveries
        ],
        events=[
            EventView(
                at=e.at,
                kind=e.kind,
                sink=e.sink,
                detail=e.detail,
                data=dict(e.data) if e.data is not None else None,
            )
            for e in record.events
        ],
    )


class SummaryView(BaseModel):
    """One message in a list: enough to pick it; ``GET /messages/{id}`` has the rest."""

    id: str
    route: str
    status: str
    correlation_key: str | None
    received_at: datetime
    updated_at: datetime
    attempts: int
    error: ErrorView | None


class MessageListView(BaseModel):
    messages: list[SummaryView]
    next_cursor: int | None = Field(
        description="pass as `cursor` for the next page (older messages); null on the last page"
    )


def summary_view(summary: MessageSummary) -> SummaryView:
    error = summary.error
    return SummaryView(
        id=summary.id,
        route=summary.route,
        status=summary.status.value,
        correlation_key=summary.correlation_key,
        received_at=summary.received_at,
        updated_at=summary.updated_at,
        attempts=summary.attempts,
        error=ErrorView(stage=error.stage, type=error.type, message=error.message)
        if error
        else None,
    )


def page_view(page: MessagePage) -> MessageListView:
    return MessageListView(
        messages=[summary_view(m) for m in page.messages], next_cursor=page.next_cursor
    )
