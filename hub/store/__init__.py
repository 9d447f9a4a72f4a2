"""The store: messages, deliveries and history in SQLite or PostgreSQL via SQLAlchemy."""

from hub.store.deadletters import DeadLetters, ListFilter, ReplayMode
from hub.store.records import (
    Claimed,
    MessageRecord,
    MessageSummary,
    SinkAttempt,
    StoredError,
    StoredOutput,
    Turn,
)
from hub.store.store import Store

__all__ = [
    "Claimed",
    "DeadLetters",
    "ListFilter",
    "MessageRecord",
    "MessageSummary",
    "ReplayMode",
    "SinkAttempt",
    "Store",
    "StoredError",
    "StoredOutput",
    "Turn",
]
