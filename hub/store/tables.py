"""The store's tables. Alembic migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

__all__ = [
    "OPEN_SQL",
    "ApiKeyRow",
    "AuditRow",
    "Base",
    "DeliveryRow",
    "EventRow",
    "MessageRow",
    "SourceRow",
    "UTCDateTime",
    "naive_utc",
]


def naive_utc(value: datetime) -> datetime:
    """How the store writes a time: naive UTC (a naive time given to it is a bug)."""
    if value.tzinfo is UTC:  # what hub.message.utcnow() gives: no conversion
        return value.replace(tzinfo=None)
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use hub.message.utcnow()")
    return value.astimezone(UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC everywhere (SQLite has no time zones), returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


#: Open messages (still to deliver), as the partial indexes and the claim's query spell it.
OPEN_SQL = "status IN ('received', 'retrying')"
_OPEN = text(OPEN_SQL)
_OPEN_KEYED = text(f"{OPEN_SQL} AND ordering_key IS NOT NULL")


class MessageRow(Base):
    __tablename__ = "messages"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    route: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    correlation_key: Mapped[str | None] = mapped_column(String(255), index=True)
    content_type: Mapped[str | None] = mapped_column(String(255))
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    output: Mapped[bytes | None] = mapped_column(LargeBinary)
    output_content_type: Mapped[str | None] = mapped_column(String(255))
    output_extension: Mapped[str | None] = mapped_column(String(16))
    mapping_name: Mapped[str | None] = mapped_column(String(255))
    mapping_hash: Mapped[str | None] = mapped_column(String(64))
    error_stage: Mapped[str | None] = mapped_column(String(32))
    error_type: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    ordering_key: Mapped[str | None] = mapped_column(String(255))
    #: body and output are encrypted (hub.store.sealing); false for rows written without a key
    sealed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: when retention dropped body and output (the history stays); null: still there
    payload_dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 1 from the start of a turn until it records its end: a claim that finds it set knows
    # the last turn died (or stalled) and runs the message alone.
    turn_open: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    __table_args__ = (
        Index("ix_messages_due", "status", "next_attempt_at"),
        # a repeated submission with the same key on the same route is the same message
        Index("uq_messages_route_idempotency_key", "route", "idempotency_key", unique=True),
        Index("ix_messages_ordering", "route", "ordering_key", "seq"),
        # the claim reads these only: its cost does not grow with finished messages
        Index("ix_messages_open", "seq", sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index(
            "ix_messages_open_ordering",
            "route",
            "ordering_key",
            "seq",
            sqlite_where=_OPEN_KEYED,
            postgresql_where=_OPEN_KEYED,
        ),
    )


class DeliveryRow(Base):
    """One row per message and sink, so a route with two sinks retries only the one that failed."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    sink: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("message_id", "sink"),)


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    sink: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditRow(Base):
    """Who did what to a message by hand (replay, discard), when and why."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ApiKeyRow(Base):
    """An API key: its name, the SHA-256 of its token (never the token), its scopes."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str] = mapped_column(String(12), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SourceRow(Base):
    """A polled route's progress and its poller's lease: one row per route.

    The cursor changes in the same transaction as the messages a poll stored, so a crash
    never separates the two. ``holder`` and ``lease_until`` make one process at a time the
    route's poller; another takes over once the lease has run out.
    """

    __tablename__ = "sources"

    route: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    holder: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)


class ConsoleSessionRow(Base):
    """A signed-in console user: the SHA-256 of the session cookie (never the cookie), the
    key or console user that signed in (exactly one; its scopes are looked up on every
    request, so revoking it ends the session) and the session's CSRF token."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str | None] = mapped_column(String(12), index=True)
    user_id: Mapped[str | None] = mapped_column(String(12), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsoleUserRow(Base):
    """A person who signs in to the console with a name and password: the password's scrypt
    hash with its salt and cost (never the password), and scopes as a key has them."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(12), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The tables themselves, for the Core statements the hot paths build once (no ORM there).
MESSAGES = cast(Table, MessageRow.__table__)
DELIVERIES = cast(Table, DeliveryRow.__table__)
EVENTS = cast(Table, EventRow.__table__)
