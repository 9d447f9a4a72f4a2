"""Plain values the store returns, so callers never hold ORM objects or sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.message import DeliveryStatus, Event, Message, MessageStatus, SinkDelivery

__all__ = [
    "Claimed",
    "MessageRecord",
    "MessageSummary",
    "SinkAttempt",
    "StatusCount",
    "StoredError",
    "StoredOutput",
    "Turn",
]


@dataclass(frozen=True)
class StoredError:
    stage: str
    type: str
    message: str
    mapping_name: str | None = None  # the mapping version the message failed with, if one ran
    mapping_hash: str | None = None


@dataclass(frozen=True)
class Claimed:
    """A message a worker holds a lease on, with what is left to do.

    A claimed message is processed only once its turn has *started*
    (:meth:`Store.start_turn`, or :meth:`Store.claim` for the first of a batch): that
    counts the attempt, so a turn that never finishes still counts. ``attempts`` is the
    message's count so far, this turn included once ``started``. ``poison`` is set instead
    when starting found the attempts used up by turns that never finished: the store made
    the message a dead letter and there is nothing to do.
    """

    message: Message
    attempts: int
    output: bytes | None
    output_content_type: str | None
    output_extension: str | None
    pending_sinks: tuple[str, ...]
    sink_attempts: dict[str, int]
    claimed_at: datetime
    started: bool = False
    poison: StoredError | None = None


@dataclass(frozen=True)
class StoredOutput:
    """The translated payload, kept so a redelivery does not translate again."""

    body: bytes
    content_type: str
    extension: str
    mapping_name: str | None
    mapping_hash: str | None


@dataclass(frozen=True)
class SinkAttempt:
    sink: str
    status: DeliveryStatus
    detail: str
    at: datetime


@dataclass(frozen=True)
class Turn:
    """Everything one worker turn on one message changed, written in one transaction."""

    status: MessageStatus
    next_attempt_at: datetime | None = None
    error: StoredError | None = None
    output: StoredOutput | None = None
    attempts: tuple[SinkAttempt, ...] = ()
    events: tuple[Event, ...] = ()
    children: tuple[Message, ...] = ()  # SPLIT: new messages, each with its output already made
    #: a partner's interchange: once DELIVERED it awaits its acknowledgement this long
    ack_within: timedelta | None = None


@dataclass(frozen=True)
class MessageRecord:
    """A message with its status, deliveries and full history."""

    message: Message
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None
    updated_at: datetime
    mapping_name: str | None
    mapping_hash: str | None
    output_size: int | None
    error: StoredError | None
    deliveries: tuple[SinkDelivery, ...]
    events: tuple[Event, ...]
    #: when retention dropped the body and output (the history stays); None: still kept
    payload_dropped_at: datetime | None = None


@dataclass(frozen=True)
class MessageSummary:
    """One line of a message list (dead letters, say): enough to pick one to look at."""

    id: str
    route: str
    status: MessageStatus
    correlation_key: str | None
    received_at: datetime
    updated_at: datetime
    attempts: int
    error: StoredError | None


@dataclass(frozen=True)
class StatusCount:
    """How many messages of a route are in a status, and when the oldest of them arrived."""

    route: str
    status: MessageStatus
    count: int
    oldest_received_at: datetime | None
