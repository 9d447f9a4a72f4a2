"""What happens to stored payloads over time: dropped by retention, re-encrypted on rotation.

Both work a batch per transaction, so they can run while the hub serves, and both change a
row only if it is still what they read (a worker finishing a turn meanwhile wins).

The old bytes must leave the disk too. SQLite overwrites freed content (``secure_delete``,
:mod:`hub.store.engine`) and, after a run, its write-ahead log is checkpointed and truncated
(older page images of the rows lie there until then). PostgreSQL keeps old row versions
until ``VACUUM`` reclaims them (autovacuum does, in time; docs/security.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from hub.message import Event, MessageStatus, utcnow
from hub.store.rows import event_values
from hub.store.store import Store
from hub.store.tables import EventRow, MessageRow

__all__ = ["FINISHED", "drop_payloads", "reseal"]

#: Messages whose payload nobody needs any more: delivered, split into parts, discarded.
FINISHED = (
    MessageStatus.DELIVERED.value,
    MessageStatus.SPLIT.value,
    MessageStatus.DISCARDED.value,
)
_BATCH = 500


def drop_payloads(store: Store, older_than: datetime) -> int:
    """Empty the body and output of finished messages last changed before ``older_than``;
    their status, deliveries and history stay (with a ``payload_dropped`` event). Dead
    letters keep their payload: a person may replay them. Returns how many were dropped."""
    dropped = 0
    while True:
        now = utcnow()
        with store.transaction() as session:
            ids = list(
                session.scalars(
                    select(MessageRow.id)
                    .where(
                        MessageRow.status.in_(FINISHED),
                        MessageRow.updated_at < older_than,
                        MessageRow.payload_dropped_at.is_(None),
                    )
                    .limit(_BATCH)
                )
            )
            if not ids:
                break
            session.execute(
                update(MessageRow)
                .where(MessageRow.id.in_(ids), MessageRow.status.in_(FINISHED))
                .values(body=b"", output=None, sealed=False, payload_dropped_at=now)
                .execution_options(synchronize_session=False)
            )
            detail = f"body and output dropped by retention (unchanged since {older_than:%Y-%m-%d})"
            events = [event_values(mid, Event("payload_dropped", detail)) for mid in ids]
            session.execute(insert(EventRow), events)
            dropped += len(ids)
    if dropped:
        _forget_old_pages(store)  # outside the transaction (and its lock)
    return dropped


def reseal(store: Store) -> int:
    """Re-encrypt every stored body and output with the newest key of ``store.sealer``
    (encrypting those written without a key); returns how many rows were rewritten."""
    sealer = store.sealer
    done = 0
    last = 0
    while True:
        with store.transaction() as session:
            rows = session.execute(
                select(MessageRow.seq, MessageRow.body, MessageRow.output, MessageRow.sealed)
                .where(MessageRow.seq > last, MessageRow.payload_dropped_at.is_(None))
                .order_by(MessageRow.seq)
                .limit(_BATCH)
            ).all()
            if not rows:
                break
            for seq, body, output, sealed in rows:
                changed = session.execute(
                    update(MessageRow)
                    .where(
                        MessageRow.seq == seq,
                        MessageRow.body == body,
                        MessageRow.output.is_(None)
                        if output is None
                        else MessageRow.output == output,
                    )
                    .values(
                        body=sealer.reseal(body, sealed),
                        output=None if output is None else sealer.reseal(output, sealed),
                        sealed=True,
                    )
                    .execution_options(synchronize_session=False)
                )
                done += int(changed.rowcount)  # type: ignore[attr-defined]
            last = rows[-1][0]
    _forget_old_pages(store)  # outside the transaction (and its lock)
    return done


def _forget_old_pages(store: Store) -> None:
    """SQLite: move the log into the file and empty it, so no old page image stays."""
    if store.engine.dialect.name != "sqlite":
        return
    # on the driver's connection, outside a transaction (a checkpoint inside BEGIN IMMEDIATE
    # would wait for the writers queued behind it); the store's lock keeps this process's out
    with store.engine.connect() as connection, store.writing():
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            cursor.close()
