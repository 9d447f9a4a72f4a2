"""A sink whose peer keeps every copy, as a queue does: each delivery becomes a new file.

The idempotency key travels in the file name, as it would in a message header, so a reader
can drop repeats. The contract kit's own tests run against it (``test_kit.py``); the file
is self-contained so they can also copy it into a scratch project for pytest to run.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote, unquote

from hub.sdk import (
    ConnectorOptions,
    Delivery,
    DeliverySemantics,
    FatalDeliveryError,
    Receipt,
    RetriableDeliveryError,
    Sink,
)


class KeyedOutboxOptions(ConnectorOptions):
    directory: Path
    refuse_over: int | None = None  # a peer that refuses bodies bigger than this, for good


class KeyedOutboxSink(Sink[KeyedOutboxOptions]):
    options_model = KeyedOutboxOptions
    delivery_semantics = DeliverySemantics.AT_LEAST_ONCE_KEYED

    def file_name(self, delivery: Delivery) -> str:
        """``<message id>.<unique>.<key>``; quoting keeps ``:`` and ``/`` out of the name."""
        return f"{delivery.message_id}.{uuid.uuid4().hex}.{quote(delivery.idempotency_key, '')}"

    def deliver(self, delivery: Delivery) -> Receipt:
        limit = self.options.refuse_over
        if limit is not None and len(delivery.body) > limit:
            raise FatalDeliveryError(f"the peer takes at most {limit} bytes")
        directory = self.context.resolve(self.options.directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / self.file_name(delivery)
            path.write_bytes(delivery.body)
        except OSError as exc:
            raise RetriableDeliveryError(f"{directory}: {exc.strerror}") from None
        return Receipt(f"queued {path.name}")


class KeylessOutboxSink(KeyedOutboxSink):
    """Broken on purpose: it drops the key, so a repeat looks like a new message."""

    def file_name(self, delivery: Delivery) -> str:
        return f"{delivery.message_id}.{uuid.uuid4().hex}."


def read_copies(directory: Path, message_id: str) -> list[tuple[str, bytes]]:
    """Every copy of one message in ``directory``: (the key in its name, its body)."""
    copies: list[tuple[str, bytes]] = []
    for path in sorted(directory.iterdir()):
        owner, _, rest = path.name.partition(".")
        if owner == message_id:
            copies.append((unquote(rest.partition(".")[2]), path.read_bytes()))
    return copies
