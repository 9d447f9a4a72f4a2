"""Recording a batch of finished turns in one transaction, in a few statements.

The rows are made before the transaction (:func:`prepare`); in it, one read finds which
messages the worker still holds; the message rows are updated with one statement per kind
of outcome, the deliveries with one, the events with one insert (:mod:`hub.store.bulk`).
A turn whose lease was lost keeps its history (sink attempts, events) but makes no status
change: a ``lease_lost`` event stands in for its last one (see :func:`late_events`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from hub.message import DeliveryStatus, MessageStatus, utcnow
from hub.store.bulk import insert_events, update_deliveries, update_messages
from hub.store.interchanges import start_ack_clocks
from hub.store.plans import keyed
from hub.store.records import Turn
from hub.store.rows import event_values, insert_messages, storable
from hub.store.sealing import Sealer
from hub.store.tables import (
    DELIVERIES,
    MESSAGES,
)
from hub.store.turns import late_events
from hub.text import clean_text

__all__ = ["Outcomes", "finish_batch", "prepare"]

_M = MESSAGES.c
_D = DELIVERIES.c
_HELD = select(_M.id, _M.sealed).where(
    _M.id.in_(bindparam("ids", expanding=True)), _M.claimed_by == bindparam("worker")
)
_HELD_LOCKED = _HELD.with_for_update()
_SINKS = select(_D.sink).where(_D.message_id == bindparam("m_id")).order_by(_D.id)
_DROP_DELIVERIES = delete(DELIVERIES).where(_D.message_id == bindparam("m_id"))


@dataclass(frozen=True)
class Outcomes:
    """A batch's outcomes already made into rows (:func:`prepare`), so the transaction that
    writes them, holding SQLite's one write lock, does no more Python than it must."""

    turns: Sequence[tuple[str, Turn]]
    now: datetime
    values: dict[str, dict[str, object]]  # message id -> its row's new values, if held
    deliveries: list[dict[str, object]]
    events: dict[str, list[dict[str, object]]]  # message id -> its events' rows, if held


def prepare(outcomes: Sequence[tuple[str, Turn]]) -> Outcomes:
    """The rows ``outcomes`` (message id, turn) write, built before the transaction."""
    now = utcnow()
    values: dict[str, dict[str, object]] = {}
    deliveries: list[dict[str, object]] = []
    events: dict[str, list[dict[str, object]]] = {}
    for message_id, turn in outcomes:
        values[message_id] = _message_values(turn, now)
        for attempt in turn.attempts:
            delivered = attempt.status == DeliveryStatus.DELIVERED
            deliveries.append(
                {
                    "m_id": message_id,
                    "m_sink": attempt.sink,
                    "m_status": attempt.status.value,
                    "m_error": None if delivered else clean_text(attempt.detail),
                    "m_at": attempt.at if delivered else None,
                }
            )
        events[message_id] = [event_values(message_id, event) for event in turn.events]
    return Outcomes(outcomes, now, values, deliveries, events)


def finish_batch(
    session: Session,
    worker: str,
    outcomes: Sequence[tuple[str, Turn]] | Outcomes,
    *,
    lock: bool,
    sealer: Sealer,
) -> list[bool]:
    """Record ``outcomes`` (message id, turn; or :func:`prepare`'s rows of them); for
    each, whether ``worker`` still held it.

    ``lock`` (PostgreSQL) locks the held rows first, so a concurrent claim cannot take one
    between the read and the update. An output is sealed when its message's body is (a row
    written with a payload key keeps its output sealed too).
    """
    made = outcomes if isinstance(outcomes, Outcomes) else prepare(outcomes)
    if not made.turns:
        return []
    ids = [message_id for message_id, _ in made.turns]
    keyed(session)
    found = session.execute(_HELD_LOCKED if lock else _HELD, {"ids": ids, "worker": worker})
    sealed: dict[str, bool] = {row[0]: bool(row[1]) for row in found}
    held = set(sealed)
    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    events: list[dict[str, object]] = []
    for message_id, turn in made.turns:
        if message_id not in held:  # history only: the status is the new holder's to set
            events.extend(event_values(message_id, event) for event in late_events(turn))
            continue
        values = made.values[message_id]
        if sealed[message_id] and values.get("output") is not None:
            values = {**values, "output": sealer.seal(turn.output.body)}  # type: ignore[union-attr]
        keys = tuple(sorted(values))
        groups.setdefault(keys, []).append(
            {"m_id": message_id, **{f"v_{key}": value for key, value in values.items()}}
        )
        events.extend(made.events[message_id])
    for keys, rows in groups.items():
        update_messages(session, keys, rows)
    for message_id, turn in made.turns:
        if turn.children and message_id in held:
            _split(session, message_id, turn, sealer)
    start_ack_clocks(
        session, [(mid, due) for mid, due in _ack_clocks(made.turns, made.now) if mid in held]
    )
    update_deliveries(session, made.deliveries)
    insert_events(session, events)
    return [message_id in held for message_id in ids]


def _ack_clocks(
    outcomes: Sequence[tuple[str, Turn]], now: datetime
) -> Iterator[tuple[str, datetime]]:
    """(message id, deadline) of each partner interchange this batch delivered: the clock
    starts when the last sink confirmed it, not when it was numbered."""
    for message_id, turn in outcomes:
        if turn.ack_within is None or turn.status != MessageStatus.DELIVERED:
            continue
        confirmed = [a.at for a in turn.attempts if a.status == DeliveryStatus.DELIVERED]
        yield message_id, max(confirmed, default=now) + turn.ack_within


def _split(session: Session, message_id: str, turn: Turn, sealer: Sealer) -> None:
    """A split message's parts become messages of their own, with its pending sinks."""
    sinks = list(session.scalars(_SINKS, {"m_id": message_id}))
    session.execute(_DROP_DELIVERIES, {"m_id": message_id})
    children = [storable(child) for child in turn.children]
    insert_messages(session, children, sinks, sealer, output=turn.output)


def _message_values(turn: Turn, now: object) -> dict[str, object]:
    values: dict[str, object] = {
        "status": turn.status.value,
        "claimed_by": None,
        "lease_expires_at": None,
        "next_attempt_at": turn.next_attempt_at or now,
        "updated_at": now,
        "turn_open": 0,
    }
    if turn.output is not None and not turn.children:  # the parts carry a split's output
        values.update(
            output=turn.output.body,
            output_content_type=turn.output.content_type,
            output_extension=turn.output.extension,
        )
    if turn.output is not None:
        values.update(mapping_name=turn.output.mapping_name, mapping_hash=turn.output.mapping_hash)
    if turn.error is not None:
        values.update(
            error_stage=turn.error.stage,
            error_type=turn.error.type,
            error_message=clean_text(turn.error.message),
        )
        if turn.error.mapping_name is not None:
            values.update(
                mapping_name=turn.error.mapping_name, mapping_hash=turn.error.mapping_hash
            )
    elif turn.status == MessageStatus.DELIVERED:
        values.update(error_stage=None, error_type=None, error_message=None)
    return values
