"""What the pipeline asks of an EDI inbox (``hub.partners.inbox.Inbox``): a file read into
its interchanges, then recorded in a transaction of the caller's.

Push ingest (``POST /ingest/edi``) records a file in a transaction of its own; a poll
records every file of a page in the transaction that advances the poll's cursor, so a crash
neither loses a file nor records one twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from hub.message import Message

__all__ = ["EdiInbox", "InboxFile", "InboxReceipt"]


@dataclass(frozen=True)
class InboxFile:
    """A received file read, not yet recorded: the inbox message and its interchanges."""

    message: Message
    interchanges: tuple[Any, ...]  # hub.partners.received.Received, one per interchange


@dataclass(frozen=True)
class InboxReceipt:
    """What recording a file stored: the inbox message (an earlier one's id for a file
    polled again), the acknowledgements built, whether every interchange was refused."""

    message_id: str
    ids: tuple[str, ...]
    duplicate: bool
    acks: tuple[str, ...] = ()


class EdiInbox(Protocol):
    """An inbox route's receiver."""

    def prepare(
        self,
        body: bytes,
        *,
        source: str,
        content_type: str | None,
        headers: Mapping[str, str],
        key: str | None = None,
        strict: bool = True,
    ) -> InboxFile:
        """Read ``body``; raises ``DecodeError`` for bytes that are no interchange, unless
        not ``strict`` (a polled file is kept whole, for its turn to dead-letter)."""
        ...

    def record(self, session: Session, file: InboxFile) -> InboxReceipt:
        """Store the file and its interchanges' records and acknowledgements."""
        ...

    def receive(
        self,
        body: bytes,
        *,
        source: str,
        content_type: str | None,
        headers: Mapping[str, str],
    ) -> InboxReceipt:
        """:meth:`prepare` and :meth:`record` in a transaction of its own."""
        ...
