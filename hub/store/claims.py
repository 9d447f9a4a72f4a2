"""Claiming a batch of due messages in a constant number of statements.

The query reads the partial index of open messages (``ix_messages_open``) in ``seq``
order and stops at the batch's size, so its cost does not grow with the backlog's finished
messages, nor with queued ones behind the batch. SQLite is told to use that index
(``INDEXED BY``: a partial index on ``status IN (...)`` is only chosen for a query that
spells the same literal values); PostgreSQL locks what it takes (``SKIP LOCKED``), so
workers in other processes take other rows, and is kept on the same index whatever its
statistics say (:mod:`hub.store.plans`).

Every message of the batch has its turn started in the claim's transaction (its attempt
counted, ``turn_open`` set, a ``turn`` event written). A message found with ``turn_open``
still set had a turn that never ended (its worker died or stalled): it is run alone, so a
message that kills its worker cannot use up the attempts of others batched with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from hub.message import DeliveryStatus, Event, Message
from hub.store.bulk import insert_events
from hub.store.plans import keyed, sorted_by_index
from hub.store.records import Claimed, StoredError
from hub.store.rows import event_values
from hub.store.sealing import Sealer
from hub.store.tables import (
    DELIVERIES,
    MESSAGES,
    OPEN_SQL,
    UTCDateTime,
)
from hub.store.turns import TURN_STARTED, start_turn

__all__ = ["Taken", "claim_query", "take_batch"]

_M = MESSAGES.c
_COLUMNS = (
    _M.seq,
    _M.id,
    _M.route,
    _M.source,
    _M.format,
    _M.correlation_key,
    _M.content_type,
    _M.headers,
    _M.body,
    _M.received_at,
    _M.attempts,
    _M.output,
    _M.output_content_type,
    _M.output_extension,
    _M.idempotency_key,
    _M.ordering_key,
    _M.turn_open,
    _M.sealed,
)


def _query(dialect: str) -> Any:
    postgres = dialect == "postgresql"
    hint = "" if postgres else " INDEXED BY ix_messages_open"
    ordering_hint = "" if postgres else " INDEXED BY ix_messages_open_ordering"
    names = ", ".join(f"m.{column.name}" for column in _COLUMNS)
    # built from this module's constants only, once at import
    sql = (
        f"SELECT {names} FROM messages AS m{hint} "  # noqa: S608
        f"WHERE m.{OPEN_SQL} AND m.next_attempt_at <= :now "
        "AND (m.lease_expires_at IS NULL OR m.lease_expires_at < :now) "
        "AND (m.ordering_key IS NULL OR NOT EXISTS ("
        f"SELECT 1 FROM messages AS e{ordering_hint} "
        "WHERE e.route = m.route AND e.ordering_key = m.ordering_key AND e.seq < m.seq "
        f"AND e.{OPEN_SQL})) "
        "ORDER BY m.seq LIMIT :limit"
    )
    if postgres:
        sql += " FOR UPDATE OF m SKIP LOCKED"
    return (
        text(sql)
        .bindparams(bindparam("now", type_=UTCDateTime()), bindparam("limit"))
        .columns(*_COLUMNS)
    )


_QUERIES = {name: _query(name) for name in ("sqlite", "postgresql")}


def claim_query(dialect: str) -> Any:
    """The claim's query for a database (``sqlite``; anything else is PostgreSQL's)."""
    return _QUERIES["sqlite" if dialect == "sqlite" else "postgresql"]


_TAKE = (
    update(MESSAGES)
    .where(_M.seq.in_(bindparam("seqs", expanding=True)))
    .values(
        claimed_by=bindparam("worker"),
        lease_expires_at=bindparam("until", type_=UTCDateTime()),
        attempts=_M.attempts + 1,
        turn_open=1,
    )
)
_LEASE = (
    update(MESSAGES)
    .where(_M.seq == bindparam("one"))
    .values(
        claimed_by=bindparam("worker"), lease_expires_at=bindparam("until", type_=UTCDateTime())
    )
)
_D = DELIVERIES.c
_DELIVERIES = (
    select(_D.message_id, _D.sink, _D.status, _D.attempts)
    .where(_D.message_id.in_(bindparam("ids", expanding=True)))
    .order_by(_D.id)
)
_PENDING = DeliveryStatus.PENDING.value


@dataclass(frozen=True)
class Taken:
    """What a claim's transaction took: the rows, made into :class:`Claimed` messages by
    :meth:`claimed` after the commit, so the write lock is not held for it. Encrypted rows
    are opened in the transaction (``ready``): a payload the hub has no key for fails the
    claim, which then takes nothing."""

    rows: Sequence[Any]
    sinks: dict[str, list[tuple[str, str, int]]]
    now: datetime
    started: dict[int, int]  # seq -> the turn's attempt number
    poisoned: dict[int, tuple[int, StoredError | None]]  # seq -> (attempts, poison)
    ready: list[Claimed] | None = None

    def claimed(self, sealer: Sealer) -> list[Claimed]:
        """The batch, in claim order (bodies and outputs opened with ``sealer``)."""
        if self.ready is not None:
            return self.ready
        claimed: list[Claimed] = []
        for row in self.rows:
            if row.seq in self.started:
                item = _claimed(row, self.sinks[row.id], self.now, sealer)
                claimed.append(_started(item, self.started[row.seq]))
            elif row.seq in self.poisoned:
                attempts, poison = self.poisoned[row.seq]
                item = _claimed(row, self.sinks[row.id], self.now, sealer)
                claimed.append(_poisoned(item, attempts, poison))
        return claimed


def take_batch(
    session: Session,
    worker: str,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    max_attempts: Mapping[str, int],
    sealer: Sealer,
) -> Taken:
    """Lease and start up to ``limit`` due messages for ``worker``, in ``session``.

    Only the statements run here; the messages are made by :meth:`Taken.claimed` after
    the transaction, except encrypted rows, opened here with ``sealer`` so that a payload
    without its key fails the claim."""
    keyed(session)
    with sorted_by_index(session):
        query = claim_query(session.get_bind().dialect.name)
        rows = session.execute(query, {"now": now, "limit": limit}).all()
    if not rows:
        return Taken((), {}, now, {}, {})
    # a message whose last turn died runs alone; the others up to the next such one
    rows = list(rows[:1]) if rows[0].turn_open else _until_suspect(rows)
    ids = [row.id for row in rows]
    sinks: dict[str, list[tuple[str, str, int]]] = {mid: [] for mid in ids}
    for mid, sink, status, attempts in session.execute(_DELIVERIES, {"ids": ids}):
        sinks[mid].append((sink, status, attempts))
    fresh = {row.seq for row in rows if row.attempts < max_attempts.get(row.route, 1 << 30)}
    if fresh:
        session.execute(_TAKE, {"seqs": sorted(fresh), "worker": worker, "until": lease_until})
    started: dict[int, int] = {}
    poisoned: dict[int, tuple[int, StoredError | None]] = {}
    events: list[dict[str, object]] = []
    for row in rows:
        pending = _pending(sinks[row.id])
        if row.seq in fresh:
            number = row.attempts + 1
            events.append(
                event_values(
                    row.id,
                    Event(
                        TURN_STARTED,
                        f"turn {number} started by {worker}, sinks pending: "
                        f"{', '.join(pending) or 'none'}",
                        data={"turn": number, "worker": worker, "sinks": list(pending)},
                    ),
                )
            )
            started[row.seq] = number
            continue
        # attempts used up by turns that never finished: a poison dead letter
        session.execute(_LEASE, {"one": row.seq, "worker": worker, "until": lease_until})
        result = start_turn(
            session,
            row.id,
            worker,
            attempts=row.attempts,
            pending_sinks=pending,
            lease_until=lease_until,
            max_attempts=max_attempts[row.route],
        )
        if result is not None:
            poisoned[row.seq] = result
    if events:
        insert_events(session, events)
    taken = Taken(rows, sinks, now, started, poisoned)
    if any(row.sealed for row in rows):  # opening may fail: then nothing is claimed
        return replace(taken, ready=taken.claimed(sealer))
    return taken


def _pending(sinks: list[tuple[str, str, int]]) -> tuple[str, ...]:
    return tuple(sink for sink, status, _ in sinks if status == _PENDING)


def _until_suspect(rows: Sequence[Any]) -> list[Any]:
    """The rows before the first one whose last turn died (that one waits to run alone)."""
    kept = []
    for row in rows:
        if row.turn_open:
            break
        kept.append(row)
    return kept


def _claimed(row: Any, sinks: list[tuple[str, str, int]], now: datetime, sealer: Sealer) -> Claimed:
    return Claimed(
        message=Message(
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
        ),
        attempts=row.attempts,
        output=None if row.output is None else sealer.open(row.output, row.sealed),
        output_content_type=row.output_content_type,
        output_extension=row.output_extension,
        pending_sinks=_pending(sinks),
        sink_attempts={sink: attempts for sink, _, attempts in sinks},
        claimed_at=now,
    )


def _started(item: Claimed, attempts: int) -> Claimed:
    return replace(item, attempts=attempts, started=True)


def _poisoned(item: Claimed, attempts: int, poison: StoredError | None) -> Claimed:
    return replace(item, attempts=attempts, poison=poison)
