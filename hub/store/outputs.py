"""A message's output stored before it is delivered, with what must commit beside it.

A partner's interchange carries control numbers taken from the store: they are taken in the
transaction that stores the output (``make`` runs inside it), so a crash before the commit
takes no number and a crash after it leaves the output, numbers included, for the next turn
to deliver. The turn's record at its end then has nothing more to store of the output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from hub.message import Event, utcnow
from hub.store.records import StoredOutput
from hub.store.rows import event_values
from hub.store.sealing import Sealer
from hub.store.tables import EventRow, MessageRow

__all__ = ["MakeOutput", "save_output"]

#: Makes the output inside the transaction: the output and the events of its making.
MakeOutput = Callable[[Session], tuple[StoredOutput, Sequence[Event]]]


def save_output(
    session: Session,
    message_id: str,
    worker: str,
    make: MakeOutput,
    *,
    lock: bool,
    sealer: Sealer,
) -> bool:
    """Run ``make`` and store its output and events, if ``worker`` still holds the
    message (``lock``: PostgreSQL locks the row first); False, with nothing done, if not."""
    query = select(MessageRow.sealed).where(
        MessageRow.id == message_id, MessageRow.claimed_by == worker
    )
    row = session.execute(query.with_for_update() if lock else query).first()
    if row is None:
        return False
    output, events = make(session)
    session.execute(
        update(MessageRow)
        .where(MessageRow.id == message_id)
        .values(
            output=sealer.seal(output.body) if row[0] else output.body,
            output_content_type=output.content_type,
            output_extension=output.extension,
            mapping_name=output.mapping_name,
            mapping_hash=output.mapping_hash,
            updated_at=utcnow(),
        )
    )
    if events:
        session.execute(insert(EventRow), [event_values(message_id, e) for e in events])
    return True
