"""How a stored message is shown to people, by the API and the CLI alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from hub.store import MessageRecord

__all__ = ["MessageView", "message_view"]


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
    error: ErrorView | None
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
        error=ErrorView(
            stage=record.error.stage, type=record.error.type, message=record.error.message
        )
        if record.error
        else None,
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
