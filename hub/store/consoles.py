"""Console sessions: a browser signs in once, with an API key or as a console user (name
and password), and then carries a cookie.

The store keeps the SHA-256 of the cookie, never the cookie, and the key's or user's id,
never their scopes: they are read on every request, so a revoked or expired key, or a
revoked user, ends its sessions at once. Each session has its own CSRF token, which every
console form sends back.
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
from hub.store.tables import ApiKeyRow, ConsoleSessionRow, ConsoleUserRow
from hub.store.users import ConsoleUser, user_from_row

__all__ = ["ConsoleSession", "ConsoleSessions"]

#: How long a console session lasts after sign-in.
SESSION_TTL = timedelta(hours=8)


@dataclass(frozen=True)
class ConsoleSession:
    """A live session: who opened it (a key's or a user's name, their scopes now), the
    token its forms must carry, and the key's id (None for a user)."""

    name: str
    scopes: tuple[str, ...]
    csrf: str
    key_id: str | None = None


class ConsoleSessions:
    """The ``console_sessions`` table of a :class:`Store`."""

    def __init__(self, store: Store, ttl: timedelta = SESSION_TTL) -> None:
        self.store = store
        self.ttl = ttl

    def open(self, who: ApiKey | ConsoleUser) -> str:
        """A new session for a key or a user; the answer is the cookie's value (shown once)."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.store.transaction() as session:
            # sessions past their end are dropped whenever someone signs in
            session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now))
            session.add(
                ConsoleSessionRow(
                    token_hash=hash_token(token),
                    key_id=who.key_id if isinstance(who, ApiKey) else None,
                    user_id=who.user_id if isinstance(who, ConsoleUser) else None,
                    csrf=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + self.ttl,
                )
            )
        return token

    def find(self, token: str) -> ConsoleSession | None:
        """The live session of a cookie (None: unknown, ended, or its key or user no longer
        active)."""
        if not token or len(token) > 128:
            return None
        with self.store.transaction() as session:
            found = session.execute(
                select(ConsoleSessionRow, ApiKeyRow, ConsoleUserRow)
                .outerjoin(ApiKeyRow, ApiKeyRow.key_id == ConsoleSessionRow.key_id)
                .outerjoin(ConsoleUserRow, ConsoleUserRow.user_id == ConsoleSessionRow.user_id)
                .where(ConsoleSessionRow.token_hash == hash_token(token))
            ).first()
        if found is None:
            return None
        row, key_row, user_row = found
        if row.expires_at <= utcnow():
            return None
        if key_row is not None:
            key = key_from_row(key_row)
            if key.state() is not KeyState.ACTIVE:
                return None
            return ConsoleSession(key.name, key.scopes, row.csrf, key.key_id)
        if user_row is not None:
            user = user_from_row(user_row)
            if not user.active:
                return None
            return ConsoleSession(user.name, user.scopes, row.csrf)
        return None

    def close(self, token: str) -> None:
        """End a session (signing out); an unknown token is no error."""
        with self.store.transaction() as session:
            session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == hash_token(token))
            )
