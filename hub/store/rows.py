"""How the hub's values become rows and rows become values again.

Every text written passes through :mod:`hub.text` here, so no message, event or key can
make the database refuse a write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy import insert
from sqlalchemy.orm import Session

from hub.credentials import is_credential_header
from hub.message import DeliveryStatus, Event, Message, MessageStatus, utcnow
from hub.store.bulk import insert_events
from hub.store.records import StoredError, StoredOutput
from hub.store.sealing import Sealer
from hub.store.tables import DELIVERIES, MESSAGES, MessageRow
from hub.text import clean_json, clean_key, clean_text

__all__ = [
    "event_values",
    "insert_messages",
    "insert_received",
    "message_of",
    "storable",
    "stored_error",
    "without_credentials",
]


# Built once: the hot paths (ingest, a batch's outcome) run them with executemany.
_INSERT_MESSAGES = insert(MESSAGES)
_INSERT_DELIVERIES = insert(DELIVERIES)


def event_values(message_id: str, event: Event) -> dict[str, object]:
    """An ``events`` row, with every text cleaned so the database always takes it."""
    return {
        "message_id": message_id,
        "at": event.at,
        "kind": event.kind,
        "sink": clean_text(event.sink) if event.sink is not None else None,
        "detail": clean_text(event.detail),
        "data": clean_json(dict(event.data)) if event.data is not None else None,
    }


def stored_error(row: MessageRow) -> StoredError | None:
    """The error a message row records, if it records one."""
    if not row.error_type:
        return None
    return StoredError(row.error_stage or "", row.error_type, row.error_message or "")


def message_of(row: MessageRow, sealer: Sealer) -> Message:
    return Message(
        id=row.id,
        route=row.route,
        source=row.source,
        body=sealer.open(row.body, row.sealed),
        format=row.format,
        correlation_key=row.correlation_key,
        content_type=row.content_type,
        headers=row.headers,
        received_at=row.received_at,
        idempotency_key=row.idempotency_key,
        ordering_key=row.ordering_key,
    )


def insert_messages(
    session: Session,
    batch: Sequence[Message],
    sinks: Sequence[str],
    sealer: Sealer,
    output: StoredOutput | None = None,
) -> None:
    """Rows for new messages, their pending deliveries and a ``received`` event each.

    With ``output`` (the parts of a split message) each body is also its output, already
    translated, so the worker only delivers it. Bodies are sealed when ``sealer`` is active.
    """
    insert_received(session, [(m, sinks) for m in batch], sealer, output)


def insert_received(
    session: Session,
    batch: Sequence[tuple[Message, Sequence[str]]],
    sealer: Sealer,
    output: StoredOutput | None = None,
) -> None:
    """:func:`insert_messages` for messages of several routes (each with its sinks): one
    statement per table for a whole group commit of ingest requests."""
    if not batch:
        return
    now = utcnow()
    made: dict[str, object] = {}
    if output is not None:
        made = {
            "output_content_type": output.content_type,
            "output_extension": output.extension,
            "mapping_name": output.mapping_name,
            "mapping_hash": output.mapping_hash,
        }
    received = MessageStatus.RECEIVED.value
    rows = []
    for m, _ in batch:
        body = sealer.seal(m.body)
        rows.append(
            {
                "id": m.id,
                "route": m.route,
                "source": m.source,
                "format": m.format,
                "correlation_key": m.correlation_key,
                "content_type": m.content_type,
                "headers": dict(m.headers),
                "body": body,
                "sealed": sealer.active,
                "received_at": m.received_at,
                "status": received,
                "attempts": 0,
                "next_attempt_at": m.received_at,
                "updated_at": now,
                "output": body if output is not None else None,
                "idempotency_key": m.idempotency_key,
                "ordering_key": m.ordering_key,
                **made,
            }
        )
    connection = session.connection()  # Core statements: no ORM bookkeeping per row
    connection.execute(_INSERT_MESSAGES, rows)
    pending = DeliveryStatus.PENDING.value
    deliveries = [
        {"message_id": m.id, "sink": sink, "status": pending, "attempts": 0}
        for m, sinks in batch
        for sink in sinks
    ]
    if deliveries:
        connection.execute(_INSERT_DELIVERIES, deliveries)
    insert_events(
        session, [event_values(m.id, Event("received", _received_detail(m))) for m, _ in batch]
    )


def storable(message: Message) -> Message:
    """``message`` with every text the store keeps cleaned (see :mod:`hub.text`); keys
    stay distinct from one another."""
    return replace(
        message,
        source=clean_text(message.source),
        correlation_key=_key(message.correlation_key),
        idempotency_key=_key(message.idempotency_key),
        ordering_key=_key(message.ordering_key),
        content_type=None if message.content_type is None else clean_text(message.content_type),
        headers=clean_json(without_credentials(message.headers)),
    )


def without_credentials(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers worth keeping: never one that carries a credential (hub.credentials)."""
    return {name: value for name, value in headers.items() if not is_credential_header(name)}


def _key(key: str | None) -> str | None:
    return None if key is None else clean_key(key)


def _received_detail(message: Message) -> str:
    key = f", correlation {message.correlation_key}" if message.correlation_key else ""
    return f"{len(message.body)} bytes from {message.source}{key}"
