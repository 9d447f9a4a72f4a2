"""The message envelope and the states a message moves through."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["DeliveryStatus", "Event", "Message", "MessageStatus", "SinkDelivery", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class MessageStatus(enum.StrEnum):
    """Where a message stands. DELIVERED and FAILED are final; FAILED is a dead letter."""

    RECEIVED = "received"  # stored, not yet processed
    RETRYING = "retrying"  # a delivery failed transiently; next attempt is scheduled
    DELIVERED = "delivered"  # every sink has it
    FAILED = "failed"  # dead letter: needs a person
    SPLIT = "split"  # its mapping split it into new messages, which are delivered instead
    DISCARDED = "discarded"  # a dead letter a person decided to drop (the audit says why)

    @property
    def is_final(self) -> bool:
        return self in (
            MessageStatus.DELIVERED,
            MessageStatus.FAILED,
            MessageStatus.SPLIT,
            MessageStatus.DISCARDED,
        )


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Message:
    """What was received, exactly as received, plus where it came from."""

    id: str
    route: str
    source: str
    body: bytes
    format: str
    correlation_key: str | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    received_at: datetime = field(default_factory=utcnow)
    idempotency_key: str | None = None  # a repeat with the same key on the route is this one
    ordering_key: str | None = None  # same key on the route: delivered in ingest order


@dataclass(frozen=True)
class Event:
    """One step in a message's history."""

    kind: str  # received, decoded, validated, mapped, encoded, attempt, delivered, failed, ...
    detail: str = ""
    sink: str | None = None
    data: Mapping[str, Any] | None = None
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class SinkDelivery:
    sink: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
