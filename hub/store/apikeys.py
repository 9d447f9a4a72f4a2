"""API keys in the store: made, listed and revoked by ``hub keys``, checked on every request.

Only the SHA-256 of a token is kept (:mod:`hub.credentials`); the token itself is returned
once by :meth:`ApiKeys.create`. A revoked key keeps its row and its name, so the audit
trail's names stay unambiguous: a name is never given to a second key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update

from hub.credentials import hash_token, new_token, parse_token, same_hash
from hub.errors import HubError, StateConflict
from hub.message import utcnow
from hub.store.names import check_new, holder
from hub.store.store import Store
from hub.store.tables import ApiKeyRow

__all__ = ["ApiKey", "ApiKeys", "KeyState", "Verdict", "key_from_row"]

#: Compared against when a token names no key, so a miss takes as long as a hit.
_NO_HASH = "0" * 64


class KeyState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class ApiKey:
    """A key as it may be shown: never its token or hash."""

    name: str
    key_id: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime | None = None) -> KeyState:
        if self.revoked_at is not None:
            return KeyState.REVOKED
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return KeyState.EXPIRED
        return KeyState.ACTIVE


@dataclass(frozen=True)
class Verdict:
    """What a presented token turned out to be: an active key, or why not."""

    key: ApiKey | None
    reason: str  # ok, malformed, unknown, revoked, expired

    @property
    def ok(self) -> bool:
        return self.key is not None and self.reason == "ok"


def key_from_row(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        name=row.name,
        key_id=row.key_id,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class ApiKeys:
    """The ``api_keys`` table of a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self, name: str, scopes: Sequence[str], *, expires_at: datetime | None = None
    ) -> tuple[ApiKey, str]:
        """A new key and its token (shown once: only its hash is kept)."""
        check_new("key", name, scopes)
        now = utcnow()
        if expires_at is not None and expires_at <= now:
            raise HubError("the expiry is in the past", where="--expires")
        token = new_token()
        with self.store.transaction() as session:
            taken = holder(session, name)
            if taken == "key":
                raise StateConflict(
                    f"a key named {name!r} exists (or existed: revoked names are kept)",
                    hint="choose another name; `hub keys list` shows them",
                )
            if taken == "user":
                raise StateConflict(
                    f"a console user is named {name!r}",
                    hint="choose another name; `hub users list` shows them",
                )
            row = ApiKeyRow(
                name=name,
                key_id=token.key_id,
                token_hash=hash_token(token.token),
                scopes=sorted(set(scopes)),
                created_at=now,
                expires_at=expires_at,
                revoked_at=None,
            )
            session.add(row)
            session.flush()
            return key_from_row(row), token.token

    def list(self) -> list[ApiKey]:
        with self.store.transaction() as session:
            return [
                key_from_row(row)
                for row in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))
            ]

    def revoke(self, name: str) -> ApiKey:
        """Revoke the key named ``name``: from now on it is refused (already revoked: kept)."""
        with self.store.transaction() as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.name == name)).first()
            if row is None:
                raise HubError(f"no key named {name!r}", hint="`hub keys list` shows them")
            if row.revoked_at is None:
                session.execute(
                    update(ApiKeyRow).where(ApiKeyRow.id == row.id).values(revoked_at=utcnow())
                )
                session.refresh(row)
            return key_from_row(row)

    def check(self, token: str) -> Verdict:
        """Which key ``token`` is, compared in constant time; any problem is a refusal."""
        parts = parse_token(token)
        given = hash_token(token)
        row: ApiKeyRow | None = None
        if parts is not None:
            with self.store.transaction() as session:
                row = session.scalars(
                    select(ApiKeyRow).where(ApiKeyRow.key_id == parts.key_id)
                ).first()
        matched = same_hash(given, row.token_hash if row is not None else _NO_HASH)
        if parts is None:
            return Verdict(None, "malformed")
        if row is None or not matched:
            return Verdict(None, "unknown")
        key = key_from_row(row)
        state = key.state()
        if state is not KeyState.ACTIVE:
            return Verdict(None, state.value)
        return Verdict(key, "ok")
