"""The store: messages, deliveries and history in SQLite or PostgreSQL via SQLAlchemy."""

from hub.store.records import Claimed, MessageRecord, StoredError
from hub.store.store import Store

__all__ = ["Claimed", "MessageRecord", "Store", "StoredError"]
