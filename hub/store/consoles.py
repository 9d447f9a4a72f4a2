"""Console sessions: a browser signs in with an API key once and then carries a cookie.

The store keeps the SHA-256 of the cookie, never the cookie, and the key's id, never its
scopes: they are read from the key on every request, so a revoked or expired key ends its
sessions at once. Each session has its own CSRF token, which every console form sends back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from hub.credentials import hash_token
from hub.message import utcnow
from hub.store.apikeys import ApiKey, KeyState, key_from_row
from hub.store.store import Store
from hub.store.tables import ApiKeyRow, ConsoleSessionRow

__all__ = ["ConsoleSession", "ConsoleSessions"]

#: How long a console session lasts after sign-in.
SESSION_TTL = timedelta(hours=8)


@dataclass(frozen=True)
class ConsoleSession:
    """A live session: the key it was opened with and the token its forms must carry."""

    key: ApiKey
    csrf: str


class ConsoleSessions:
    """The ``console_sessions`` table of a :class:`Store`."""

    def __init__(self, store: Store, ttl: timedelta = SESSION_TTL) -> None:
        self.store = store
        self.ttl = ttl

    def open(self, key: ApiKey) -> str:
        """A new session for ``key``; the answer is the cookie's value (shown once)."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.store.transaction() as session:
            # sessions past their end are dropped whenever someone signs in
            session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now))
            session.add(
                ConsoleSessionRow(
                    token_hash=hash_token(token),
                    key_id=key.key_id,
                    csrf=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + self.ttl,
                )
            )
        return token

    def find(self, token: str) -> ConsoleSession | None:
        """The live session of a cookie (None: unknown, ended, or its key no longer active)."""
        if not token or len(token) > 128:
            return None
        with self.store.transaction() as session:
            found = session.execute(
                select(ConsoleSessionRow, ApiKeyRow)
                .join(ApiKeyRow, ApiKeyRow.key_id == ConsoleSessionRow.key_id)
                .where(ConsoleSessionRow.token_hash == hash_token(token))
            ).first()
        if found is None:
            return None
        row, key_row = found
        key = key_from_row(key_row)
        if row.expires_at <= utcnow() or key.state() is not KeyState.ACTIVE:
            return None
        return ConsoleSession(key=key, csrf=row.csrf)

    def close(self, token: str) -> None:
        """End a session (signing out); an unknown token is no error."""
        with self.store.transaction() as session:
            session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == hash_token(token))
            )
