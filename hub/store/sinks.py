"""How each sink of each route is doing, read from the store: backlog, last success, last
error. The console's Sources and sinks page shows it.

The backlog counts the deliveries still pending of open messages (the partial index
``ix_messages_open`` finds those, so the cost follows the backlog, not the store's size).
Last success and last error are the newest delivery attempts among the newest :data:`WINDOW`
messages (and the newest ``20 * WINDOW`` events): ranges of primary keys, so the page stays
cheap on a store of millions. A sink quiet for longer shows none, as the page says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from hub.message import DeliveryStatus, MessageStatus
from hub.store.store import Store
from hub.store.tables import DeliveryRow, EventRow, MessageRow

__all__ = ["WINDOW", "SinkHealth", "sink_health"]

#: How many of the newest messages last success and last error are looked for in.
WINDOW = 10_000
#: The most failed attempts read to find each sink's newest (newest first).
_ERRORS_READ = 2_000
#: Events per message the events' window allows for (a message has some 8 in one turn).
_EVENTS = 20

_OPEN = (MessageStatus.RECEIVED.value, MessageStatus.RETRYING.value)


@dataclass(frozen=True)
class SinkHealth:
    route: str
    sink: str
    backlog: int  # deliveries still pending of messages still open
    last_success: datetime | None
    last_error_at: datetime | None
    last_error: str | None


def sink_health(
    store: Store, sinks: Iterable[tuple[str, str]], window: int = WINDOW
) -> list[SinkHealth]:
    """Per (route, sink) asked for, in that order; sinks with nothing stored show zeros."""
    with store.transaction() as session:
        backlog = {
            (route, sink): int(count)
            for route, sink, count in session.execute(
                select(MessageRow.route, DeliveryRow.sink, func.count())
                .join(DeliveryRow, DeliveryRow.message_id == MessageRow.id)
                .where(
                    MessageRow.status.in_(_OPEN),
                    DeliveryRow.status == DeliveryStatus.PENDING.value,
                )
                .group_by(MessageRow.route, DeliveryRow.sink)
            ).all()
        }
        # both windows are ranges of a primary key: their cost does not grow with the store
        floor = (session.scalar(select(func.max(MessageRow.seq))) or 0) - window
        events_floor = (session.scalar(select(func.max(EventRow.id))) or 0) - window * _EVENTS
        attempts = (
            select(MessageRow.route, EventRow.sink, EventRow.at, EventRow.detail)
            .join(EventRow, EventRow.message_id == MessageRow.id)
            .where(
                MessageRow.seq > floor,
                EventRow.id > events_floor,
                EventRow.kind == "attempt",
                EventRow.sink.is_not(None),
            )
        )
        outcome = EventRow.data["outcome"].as_string()
        delivered = attempts.where(outcome == "delivered").subquery()
        success = {
            (route, sink): at
            for route, sink, at in session.execute(
                select(delivered.c.route, delivered.c.sink, func.max(delivered.c.at)).group_by(
                    delivered.c.route, delivered.c.sink
                )
            ).all()
        }
        errors: dict[tuple[str, str], tuple[datetime, str]] = {}
        failed = attempts.where(outcome != "delivered").order_by(EventRow.id.desc())
        for route, sink, at, detail in session.execute(failed.limit(_ERRORS_READ)).all():
            if sink is not None:
                errors.setdefault((route, sink), (at, detail))
    shown = []
    for route, sink in sinks:
        error = errors.get((route, sink))
        shown.append(
            SinkHealth(
                route=route,
                sink=sink,
                backlog=backlog.get((route, sink), 0),
                last_success=success.get((route, sink)),
                last_error_at=error[0] if error else None,
                last_error=error[1] if error else None,
            )
        )
    return shown
