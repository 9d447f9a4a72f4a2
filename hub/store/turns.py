"""The start of a worker turn: the attempt is counted before any work is done.

A turn that kills or stalls its worker never reaches :meth:`Store.finish`, so counting
attempts there let such a message be re-claimed forever. Here the count goes up, and a
``turn`` event is written, in the transaction that starts the turn (the claim's, for the
first message of a batch), before any work is done.
A message whose attempts are used up while it is still open (a finished last turn would
have retried, failed or delivered it) had its last turn die: it becomes a *poison* dead
letter instead of being run again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from hub.message import Event, MessageStatus, utcnow
from hub.store.records import StoredError, Turn
from hub.store.rows import event_values
from hub.store.tables import EventRow, MessageRow
from hub.text import clean_text

__all__ = ["POISON_STAGE", "TURN_ENDS", "TURN_STARTED", "late_events", "start_turn"]

#: The event that opens a turn, and those that close one (written by ``Store.finish``).
TURN_STARTED = "turn"
TURN_ENDS = frozenset({"delivered", "retry_scheduled", "failed", "split", "released"})
POISON_STAGE = "process"


def start_turn(
    session: Session,
    message_id: str,
    worker: str,
    *,
    attempts: int,
    pending_sinks: Sequence[str],
    lease_until: datetime,
    max_attempts: int | None,
) -> tuple[int, StoredError | None] | None:
    """Count the attempt of a turn ``worker`` is about to run, in ``session``.

    ``attempts`` is the count read with the lease. Returns the new count and None, or the
    count and the poison error when the message was dead-lettered instead (its attempts
    were used up by turns that did not finish); None when ``worker`` lost the lease.
    """
    held = (MessageRow.id == message_id, MessageRow.claimed_by == worker)
    now = utcnow()
    if max_attempts is not None and attempts >= max_attempts:
        error = _poison_error(session, message_id, attempts)
        won = session.execute(
            update(MessageRow)
            .where(*held)
            .values(
                status=MessageStatus.FAILED.value,
                turn_open=0,
                claimed_by=None,
                lease_expires_at=None,
                next_attempt_at=now,
                updated_at=now,
                error_stage=error.stage,
                error_type=error.type,
                error_message=clean_text(error.message),
            )
            .execution_options(synchronize_session=False)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return None
        failed = Event(
            "failed",
            error.message,
            data={"stage": error.stage, "type": error.type, "attempts": attempts},
        )
        session.execute(insert(EventRow), [event_values(message_id, failed)])
        return attempts, error
    won = session.execute(
        update(MessageRow)
        .where(*held)
        .values(attempts=attempts + 1, lease_expires_at=lease_until, turn_open=1)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return None
    number = attempts + 1
    sinks = ", ".join(pending_sinks) or "none"
    started = Event(
        TURN_STARTED,
        f"turn {number} started by {worker}, sinks pending: {sinks}",
        data={"turn": number, "worker": worker, "sinks": list(pending_sinks)},
    )
    session.execute(insert(EventRow), [event_values(message_id, started)])
    return number, None


def late_events(turn: Turn) -> list[Event]:
    """The events of a turn that ended without its lease: what it did, but in place of the
    status change it could not make, a ``lease_lost`` event (so the history does not claim
    a delivery or a retry that the message's status does not show, and the count of turns
    that did not finish stays right)."""
    kept = [event for event in turn.events if event.kind not in TURN_ENDS]
    kept.append(
        Event(
            "lease_lost",
            f"this turn ended ({turn.status.value}) after its lease was lost (taken over, or "
            "abandoned as stuck): its outcome was not applied",
            data={"outcome": turn.status.value},
        )
    )
    return kept


def _poison_error(session: Session, message_id: str, attempts: int) -> StoredError:
    """How many turns did not finish, and who held the last one: read from the history
    since the last replay (a replay starts the count again)."""
    rows = session.execute(
        select(EventRow.kind, EventRow.data)
        .where(
            EventRow.message_id == message_id,
            EventRow.kind.in_([TURN_STARTED, "replay", *TURN_ENDS]),
        )
        .order_by(EventRow.id)
    ).all()
    unfinished, running, holder = 0, False, None
    for kind, data in rows:
        if kind == "replay":
            unfinished, running, holder = 0, False, None
        elif kind == TURN_STARTED:
            unfinished += running  # the turn before never recorded its end
            running = True
            holder = (data or {}).get("worker", holder)
        else:
            running = False
    unfinished = max(1, unfinished + running)  # open with its attempts used up: the last died
    if unfinished >= attempts:
        text = (
            f"poison: {_attempts(attempts)} did not finish (the worker died or stalled each time)"
        )
    else:
        text = (
            f"poison: {unfinished} of {_attempts(attempts)} did not finish "
            "(the worker died or stalled)"
        )
    if holder:
        text += f"; last holder {holder}"
    return StoredError(POISON_STAGE, "poison", text)


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"
