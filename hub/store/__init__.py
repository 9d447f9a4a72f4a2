"""The store: messages, deliveries and history in SQLite or PostgreSQL via SQLAlchemy."""

from hub.store.records import (
    Claimed,
    MessageRecord,
    SinkAttempt,
    StoredError,
    StoredOutput,
    Turn,
)
from hub.store.store import Store

__all__ = [
    "Claimed",
    "MessageRecord",
    "SinkAttempt",
    "Store",
    "StoredError",
    "StoredOutput",
    "Turn",
]
