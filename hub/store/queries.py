"""Reading many messages at once: filtered lists paged by a stable cursor, and the backlog.

``find_messages`` serves ``GET /messages``, ``GET /dead-letters`` and ``hub messages
list|find`` alike. Pages are cut on the ``seq`` column (the order messages were stored in),
newest first: a page never skips or repeats a message when new ones arrive meanwhile, as
an offset would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, or_, select

from hub.errors import QueryError
from hub.keys import fit_key, key_problem
from hub.message import MessageStatus
from hub.store.interchanges import awaiting_message_ids
from hub.store.records import MessageSummary, StatusCount
from hub.store.rows import stored_error
from hub.store.store import Store
from hub.store.tables import MessageRow
from hub.text import clean_key, clean_text

__all__ = [
    "GAUGED",
    "MAX_CURSOR",
    "MAX_LIMIT",
    "MessageFilter",
    "MessagePage",
    "as_utc",
    "count_by_route_and_status",
    "count_open_and_failed",
    "find_messages",
]

MAX_LIMIT = 1000
#: The largest ``seq`` there can be (an INTEGER column: 32 bits on PostgreSQL), so the largest
#: cursor: a larger number is no cursor this hub gave, and the database could not compare it.
MAX_CURSOR = 2**31 - 1

#: The statuses the gauges count: waiting for delivery, or waiting for a person.
GAUGED = (MessageStatus.RECEIVED, MessageStatus.RETRYING, MessageStatus.FAILED)


@dataclass(frozen=True)
class MessageFilter:
    """Which messages to list. Empty fields match everything; times without a zone are UTC."""

    statuses: tuple[MessageStatus, ...] = ()
    route: str | None = None
    error_type: str | None = None
    correlation_key: str | None = None
    with_parts: bool = False  # also KEY#1, KEY#2, ...: the messages a mapping split KEY into
    since: datetime | None = None  # received at or after
    until: datetime | None = None  # received before
    limit: int = 100
    cursor: int | None = None  # the ``next_cursor`` of the page before
    awaiting_ack: str | None = None  # any, overdue: sent to a partner, its ack not yet in


@dataclass(frozen=True)
class MessagePage:
    """One page, newest first; ``next_cursor`` fetches the next one (None: this was the last)."""

    messages: tuple[MessageSummary, ...]
    next_cursor: int | None


def find_messages(store: Store, where: MessageFilter) -> MessagePage:
    """The messages matching ``where``, newest first, at most ``where.limit`` of them."""
    query = _query(where).order_by(MessageRow.seq.desc()).limit(where.limit + 1)
    with store.transaction() as session:
        rows = list(session.scalars(query))
    more = len(rows) > where.limit
    rows = rows[: where.limit]
    return MessagePage(
        messages=tuple(
            MessageSummary(
                id=row.id,
                route=row.route,
                status=MessageStatus(row.status),
                correlation_key=row.correlation_key,
                received_at=row.received_at,
                updated_at=row.updated_at,
                attempts=row.attempts,
                error=stored_error(row),
            )
            for row in rows
        ),
        next_cursor=rows[-1].seq if more and rows else None,
    )


def count_open_and_failed(store: Store) -> list[StatusCount]:
    """Messages received, retrying and failed per route, with the oldest of each: one query."""
    query = (
        select(
            MessageRow.route,
            MessageRow.status,
            func.count(),
            func.min(MessageRow.received_at),
        )
        .where(MessageRow.status.in_([status.value for status in GAUGED]))
        .group_by(MessageRow.route, MessageRow.status)
    )
    with store.transaction() as session:
        rows = session.execute(query).all()
    return [
        StatusCount(route, MessageStatus(status), count, oldest)
        for route, status, count, oldest in rows
    ]


def _query(where: MessageFilter) -> Select[MessageRow]:
    _check(where)
    query = select(MessageRow)
    if where.statuses:
        query = query.where(MessageRow.status.in_([status.value for status in where.statuses]))
    if where.route is not None:
        query = query.where(MessageRow.route == clean_text(where.route))
    if where.error_type is not None:
        query = query.where(MessageRow.error_type == clean_text(where.error_type))
    if where.correlation_key is not None:
        # the whole key as sent (stored fitted when long, hub.keys), or the stored key as shown
        forms = {clean_key(where.correlation_key), clean_key(fit_key(where.correlation_key))}
        key = MessageRow.correlation_key.in_(sorted(forms))
        if where.with_parts:
            prefix = f"{clean_text(where.correlation_key)}#"
            parts = MessageRow.correlation_key.startswith(prefix, autoescape=True)
            query = query.where(or_(key, parts))
        else:
            query = query.where(key)
    if where.since is not None:
        query = query.where(MessageRow.received_at >= as_utc(where.since))
    if where.until is not None:
        query = query.where(MessageRow.received_at < as_utc(where.until))
    if where.cursor is not None:
        query = query.where(MessageRow.seq < where.cursor)
    if where.awaiting_ack is not None:
        overdue = where.awaiting_ack == "overdue"
        query = query.where(MessageRow.id.in_(awaiting_message_ids(overdue)))
    return query


def _check(where: MessageFilter) -> None:
    """Refuse a filter that cannot mean what its author wanted, saying which field is wrong."""
    if not 1 <= where.limit <= MAX_LIMIT:
        raise QueryError(
            f"limit must be between 1 and {MAX_LIMIT}, not {where.limit}",
            where="limit",
            hint="page with the cursor for more",
        )
    for name, text in (
        ("correlation_key", where.correlation_key),
        ("route", where.route),
        ("error_type", where.error_type),
    ):
        problem = None if text is None else key_problem(text)
        if problem is not None:
            raise QueryError(
                f"{name} {problem}", where=name, hint="no stored message has such a value"
            )
    if where.cursor is not None and not 1 <= where.cursor <= MAX_CURSOR:
        raise QueryError(
            f"cursor must be a number from 1 to {MAX_CURSOR}, not {where.cursor}",
            where="cursor",
            hint="pass the next_cursor of the previous page as it is",
        )
    if where.since is not None and where.until is not None:
        since, until = as_utc(where.since), as_utc(where.until)
        if since >= until:
            raise QueryError(
                f"since ({since.isoformat()}) is not before until ({until.isoformat()})",
                where="since, until",
                hint="since is inclusive, until exclusive: since must come first",
            )


def as_utc(moment: datetime) -> datetime:
    """A time without a zone is taken as UTC, the zone the store keeps times in."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def count_by_route_and_status(store: Store) -> dict[str, dict[MessageStatus, int]]:
    """How many messages each route holds in each status (the console's overview): one query."""
    query = select(MessageRow.route, MessageRow.status, func.count()).group_by(
        MessageRow.route, MessageRow.status
    )
    with store.transaction() as session:
        rows = session.execute(query).all()
    counts: dict[str, dict[MessageStatus, int]] = {}
    for route, status, count in rows:
        counts.setdefault(route, {})[MessageStatus(status)] = count
    return counts
