"""The classes a connector subclasses, and the plain values it receives and returns.

A connector sees only this package: it never touches the store, the API or the
pipeline. It turns a peer's protocol into :class:`Inbound` values (sources) or
turns a :class:`Delivery` into a :class:`Receipt` (sinks), raising the delivery
errors from :mod:`hub.errors` so the engine knows whether to retry.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from hub.errors import HubError

__all__ = [
    "Capability",
    "ConnectorContext",
    "ConnectorOptions",
    "Delivery",
    "DeliverySemantics",
    "Inbound",
    "InboundRequest",
    "Poll",
    "PollSource",
    "Polled",
    "PushSource",
    "Receipt",
    "Reply",
    "Sink",
    "Stored",
]


class Capability(enum.Enum):
    """What a connector class can do, set by its base class (``PushSource``, ``Sink``).

    The hub takes a class's role from the ``ConnectorPlugin`` slot it is given in
    (``source=``, ``sink=``); ``capabilities`` describes the class for code that inspects it.
    """

    PUSH = "push"  # the hub's HTTP server hands requests to the source
    POLL = "poll"  # the hub's scheduler asks the source for what is new
    SINK = "sink"  # the engine hands deliveries to it


class DeliverySemantics(enum.Enum):
    """What the peer does when a sink hands it the same message again.

    Delivery is at least once: after a crash the engine repeats a turn, so a peer may get a
    message twice, with the same ``Delivery.idempotency_key``. A sink declares which of these
    holds for its peer (``Sink.delivery_semantics``); the contract kit checks that property.
    """

    PEER_DEDUPLICATES = "peer-deduplicates"
    """The peer keeps one copy per idempotency key: a redelivery overwrites or is dropped
    (a file of the same name, an upsert, an HTTP partner honouring ``Idempotency-Key``)."""

    AT_LEAST_ONCE_KEYED = "at-least-once-keyed"
    """The peer may keep several copies (a queue: RabbitMQ, Kafka, SQS, MQTT); every copy
    carries the idempotency key (a header, an attribute, the file name) so its reader can
    drop the repeats."""


class ConnectorOptions(BaseModel):
    """Base for a connector's options: unknown keys are errors, values read-only.

    Declare secrets as ``pydantic.SecretStr`` so they never appear in logs or reprs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


OptionsT = TypeVar("OptionsT", bound=ConnectorOptions)


@dataclass(frozen=True)
class ConnectorContext:
    """What the engine tells a connector about where it runs."""

    base_dir: Path = field(default_factory=Path.cwd)  # the config file's folder

    def resolve(self, path: Path) -> Path:
        """Relative paths in options are relative to the config file, like every other path."""
        return path if path.is_absolute() else self.base_dir / path


@dataclass(frozen=True)
class InboundRequest:
    """A request as the hub's HTTP server received it (header names lower-cased)."""

    route: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    remote: str | None = None

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass(frozen=True)
class Inbound:
    """What a source hands to the hub to store: the payload and the headers worth keeping."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    #: The sender's own name for this message (an AS2 Message-ID): the hub stores it as the
    #: idempotency key when the route names no ``idempotency.header``, so a resend is
    #: recognised and stored once.
    key: str | None = None
    #: Set when the source refuses the content for good but owes the sender an answer
    #: (AS2: a negative MDN): the hub stores the body as a dead letter with this reason,
    #: never translates it, and then calls :meth:`PushSource.reply`.
    refused: str | None = None


@dataclass(frozen=True)
class Stored:
    """What the hub committed for one request, handed to :meth:`PushSource.reply`."""

    ids: tuple[str, ...]
    duplicate: bool = False  # seen before (same key): nothing new was stored
    refused: bool = False  # stored as a dead letter (``Inbound.refused``)


@dataclass(frozen=True)
class Reply:
    """The HTTP answer a push source gives itself (an AS2 MDN) instead of the hub's JSON."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """One attempt to hand one translated message to one sink."""

    message_id: str
    route: str
    sink: str
    body: bytes
    content_type: str
    extension: str
    correlation_key: str | None
    idempotency_key: str  # stable per message and sink: peers may drop duplicates by it
    attempt: int = 1
    #: Seconds this attempt may take: the route's attempt timeout, cut to what is left of
    #: the worker's turn budget. A call that outlives the budget is abandoned.
    timeout: float | None = None


@dataclass(frozen=True)
class Receipt:
    """What the peer said, kept in the message's history (a path, an HTTP status, an id)."""

    detail: str


class _Connector(ABC, Generic[OptionsT]):
    options_model: ClassVar[type[ConnectorOptions]] = ConnectorOptions
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(
        self, name: str, options: OptionsT, context: ConnectorContext | None = None
    ) -> None:
        self.name = name
        self.options = options
        self.context = context or ConnectorContext()

    def close(self) -> None:
        """Release connections; called once at shutdown, safe to call twice."""


class PushSource(_Connector[OptionsT]):
    """A source whose peer calls the hub: the hub's HTTP server hands it each request."""

    capabilities = frozenset({Capability.PUSH})
    #: The hub serves the source on ``POST /{path}/{route}`` (``as2``: ``/as2/{route}``).
    path: ClassVar[str] = "ingest"
    #: ``accept`` is quick and does no I/O (a header check, an HMAC of the body): the hub
    #: may call it on its event loop for a small body rather than in a thread.
    quick_accept: ClassVar[bool] = False

    @abstractmethod
    def accept(self, request: InboundRequest) -> Inbound | None:
        """Check a request (signature, content) and return what to store.

        Return ``None`` to acknowledge a request that carries no message (a ping).
        Raise :class:`hub.errors.InboundRejected` to refuse it with a 4xx status.
        """

    def reply(
        self, request: InboundRequest, inbound: Inbound | None, stored: Stored | None
    ) -> Reply | None:
        """The answer to the sender, called only after the hub's commit (``stored`` says
        what was committed; ``None`` with ``inbound`` ``None``: nothing was to be stored).

        Return ``None`` for the hub's own answer (202 with the message's id). A protocol
        whose receipt must follow the commit (an AS2 MDN) builds it here; the call runs in
        a worker thread, so it may sign or even send the receipt elsewhere.
        """
        return None


@dataclass(frozen=True)
class Polled:
    """One item a poll source found at its peer: a file, a record of an API, a broker message.

    ``key`` names the item at the peer for good (a file's name with its size and mtime, a
    record's id with its modification time, a broker message id): the hub stores it as the
    message's idempotency key, so an item read again after a crash is recognised and stored
    once. ``None`` when the peer gives no stable name (then a crash between the hub's commit
    and :meth:`PollSource.confirm` may store the item twice).
    """

    inbound: Inbound
    key: str | None
    #: What the source needs to confirm this item later (a path, a delivery tag); opaque.
    ref: object = None


@dataclass(frozen=True)
class Poll:
    """What one call to :meth:`PollSource.poll` found.

    ``cursor`` is the source's progress once these items are stored (a page token, a
    watermark), kept by the hub in the same transaction as the items; ``None`` keeps the
    previous cursor. ``more`` says another call would find more right away (a next page).
    """

    items: Sequence[Polled] = ()
    cursor: str | None = None
    more: bool = False


class PollSource(_Connector[OptionsT]):
    """A source the hub asks for news on a schedule: a folder, an SFTP server, a REST API.

    The hub calls :meth:`poll` with the cursor it stored last, stores the items and the new
    cursor in one transaction, and only then calls :meth:`confirm`, so a crash at any point
    neither loses an item nor stores it twice (the item's ``key`` recognises a repeat).
    """

    capabilities = frozenset({Capability.POLL})

    @abstractmethod
    def poll(self, cursor: str | None, limit: int) -> Poll:
        """Return at most ``limit`` items found after ``cursor`` (``None``: from the start).

        Must not confirm anything (that is :meth:`confirm`'s job, after the commit); it
        may only move aside an item it refuses for good, as :meth:`reject` does.
        Raise :class:`hub.errors.RetriableSourceError` when the peer is down or busy (the
        hub tries again with backoff) and :class:`hub.errors.SourceError` for a fault a
        person must fix (bad credentials, a missing folder).
        """

    def confirm(self, items: Sequence[Polled]) -> None:
        """Tell the peer these items are safely stored (move or delete a file, ack a message).

        Called only after the hub's commit. May be called again for the same items after a
        crash, so it must tolerate an item already confirmed. The default does nothing:
        a source that only reads (a REST API behind a watermark) needs no confirmation.
        """

    def reject(self, item: Polled, reason: str) -> None:
        """The hub refuses this item for good (it is bigger than the decoding limits allow).

        A folder source moves the file aside (``error/``) with the reason beside it, a
        broker source dead-letters the message. The default does nothing, and the item is
        found (and refused) again by every poll: sources should override it.
        """

    def release(self, items: Sequence[Polled]) -> None:
        """Give back items that were polled but not stored (the commit failed).

        A broker source returns them to the queue; the default does nothing, since an
        unconfirmed file or record is simply found again by the next poll.
        """


class Sink(_Connector[OptionsT]):
    """Delivers translated messages to a peer."""

    capabilities = frozenset({Capability.SINK})
    # What a redelivery leaves at the peer; a queue-like peer declares AT_LEAST_ONCE_KEYED.
    delivery_semantics: ClassVar[DeliverySemantics] = DeliverySemantics.PEER_DEDUPLICATES
    #: The most deliveries the engine hands :meth:`deliver_many` at once.
    max_batch: ClassVar[int] = 100

    def deliver_many(self, deliveries: Sequence[Delivery]) -> list[Receipt | HubError]:
        """Hand several messages to the peer; one outcome per delivery, in order: its
        :class:`Receipt`, or the delivery error it met (returned, not raised).

        Once this returns, every delivery it reports as done must be as durable as after
        :meth:`deliver` (the engine records the batch right after). Override it when the
        peer takes a batch cheaper than one by one (one fsync of a directory, one
        round trip); the default calls :meth:`deliver` for each.
        """
        outcomes: list[Receipt | HubError] = []
        for delivery in deliveries:
            try:
                outcomes.append(self.deliver(delivery))
            except HubError as exc:
                outcomes.append(exc)
        return outcomes

    @abstractmethod
    def deliver(self, delivery: Delivery) -> Receipt:
        """Hand one message to the peer; must be safe to repeat with the same key.

        "Safe" is what ``delivery_semantics`` says: the peer keeps one copy per key, or
        every copy carries the key.

        Raise :class:`hub.errors.RetriableDeliveryError` when a later attempt may
        succeed and :class:`hub.errors.FatalDeliveryError` when it cannot.
        """
