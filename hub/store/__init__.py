"""The store: messages, deliveries and history in SQLite or PostgreSQL via SQLAlchemy."""

from hub.store import partner_tables as partner_tables  # registers the tables
from hub.store.deadletters import DeadLetters, ReplayMode
from hub.store.queries import MessageFilter, MessagePage, find_messages
from hub.store.records import (
    Claimed,
    MessageRecord,
    MessageSummary,
    SinkAttempt,
    StatusCount,
    StoredError,
    StoredOutput,
    Turn,
)
from hub.store.store import Store

__all__ = [
    "Claimed",
    "DeadLetters",
    "MessageFilter",
    "MessagePage",
    "MessageRecord",
    "MessageSummary",
    "ReplayMode",
    "SinkAttempt",
    "StatusCount",
    "Store",
    "StoredError",
    "StoredOutput",
    "Turn",
    "find_messages",
]
