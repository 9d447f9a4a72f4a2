"""Dead letters: find them, replay them, discard them; every hand-made change is audited."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from hub.errors import HubError, MessageNotFound, StateConflict
from hub.message import DeliveryStatus, Event, MessageStatus, utcnow
from hub.store.queries import MessageFilter, find_messages
from hub.store.records import MessageSummary
from hub.store.rows import event_values
from hub.store.store import Store
from hub.store.tables import AuditRow, DeliveryRow, EventRow, MessageRow
from hub.text import clean_json, clean_text

__all__ = ["DeadLetters", "ReplayMode"]

ReplayMode = Literal["current", "original"]


class DeadLetters:
    """Operations on failed messages, over a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def find(self, where: MessageFilter | None = None) -> list[MessageSummary]:
        """Failed messages (unless ``where`` names other statuses), newest first."""
        where = where or MessageFilter()
        if not where.statuses:
            where = replace(where, statuses=(MessageStatus.FAILED,))
        return list(find_messages(self.store, where).messages)

    def replay(self, message_id: str, *, actor: str, reason: str, mode: ReplayMode) -> None:
        """Send a dead letter through again: ``current`` translates it again with today's
        mapping and config; ``original`` re-delivers the output it was translated to.
        Sinks that already have it are not sent it again. The message's attempt count
        starts again from zero, so it gets the route's ``retry.max_attempts`` anew (a
        poison dead letter too); the history and each sink's own count are kept."""
        now = utcnow()
        with self.store.transaction() as session:
            row = self._failed(session, message_id, "replay")
            retranslate = mode == "current" or row.output is None
            values: dict[str, object] = {
                "status": MessageStatus.RECEIVED.value,
                "attempts": 0,  # a fresh set of retry.max_attempts; the history keeps the old
                "next_attempt_at": now,
                "claimed_by": None,
                "lease_expires_at": None,
                "error_stage": None,
                "error_type": None,
                "error_message": None,
                "updated_at": now,
            }
            if retranslate:
                values.update(output=None, output_content_type=None, output_extension=None)
            session.execute(update(MessageRow).where(MessageRow.id == message_id).values(**values))
            session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.message_id == message_id,
                    DeliveryRow.status != DeliveryStatus.DELIVERED.value,
                )
                .values(status=DeliveryStatus.PENDING.value)
            )
            detail = (
                f"replayed by {actor} "
                + (
                    "with the current mapping and config"
                    if retranslate
                    else "with its original output"
                )
                + (f": {reason}" if reason else "")
            )
            self._record(session, message_id, actor, "replay", reason, detail, {"mode": mode})

    def discard(self, message_id: str, *, actor: str, reason: str) -> None:
        """Drop a dead letter for good; the reason is required and kept in the audit trail."""
        if not reason.strip():
            raise HubError("a discard needs a reason", hint="say why, e.g. --reason 'sent by fax'")
        now = utcnow()
        with self.store.transaction() as session:
            self._failed(session, message_id, "discard")
            session.execute(
                update(MessageRow)
                .where(MessageRow.id == message_id)
                .values(status=MessageStatus.DISCARDED.value, updated_at=now)
            )
            self._record(
                session,
                message_id,
                actor,
                "discard",
                reason,
                f"discarded by {actor}: {reason}",
                None,
            )

    def audit(self, message_id: str) -> list[dict[str, object]]:
        """Every replay and discard of the message, oldest first (none: an empty list);
        MessageNotFound for an id no message has, as for the message itself."""
        message_id = clean_text(message_id)
        with self.store.transaction() as session:
            known = session.scalar(select(MessageRow.id).where(MessageRow.id == message_id))
            if known is None:
                raise MessageNotFound(f"no message with id {message_id!r}")
            rows = session.scalars(
                select(AuditRow).where(AuditRow.message_id == message_id).order_by(AuditRow.id)
            )
            return [
                {
                    "at": r.at,
                    "actor": r.actor,
                    "action": r.action,
                    "reason": r.reason,
                    "data": r.data,
                }
                for r in rows
            ]

    @staticmethod
    def _failed(session: Session, message_id: str, action: str) -> MessageRow:
        row = session.scalars(
            select(MessageRow).where(MessageRow.id == clean_text(message_id))
        ).first()
        if row is None:
            raise MessageNotFound(f"no message with id {message_id!r}")
        if row.status != MessageStatus.FAILED.value:
            raise StateConflict(
                f"message {message_id} is {row.status}, not failed: only dead letters can be "
                f"{action}ed",
                hint="list them with `hub dead-letters list`",
            )
        return row

    @staticmethod
    def _record(
        session: Session,
        message_id: str,
        actor: str,
        action: str,
        reason: str,
        detail: str,
        data: dict[str, object] | None,
    ) -> None:
        now = utcnow()
        session.execute(
            insert(AuditRow).values(
                at=now,
                actor=clean_text(actor),
                action=action,
                message_id=message_id,
                reason=clean_text(reason),
                data=clean_json(data),
            )
        )
        session.execute(insert(EventRow), [event_values(message_id, Event(action, detail, at=now))])
