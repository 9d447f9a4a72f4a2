"""Console users: people who sign in to ``/ui`` with a name and password, holding scopes as
an API key does (``hub users create|list|password|revoke``).

The store keeps the password's scrypt hash (``hashlib.scrypt``, a memory-hard function in
the standard library: no new dependency) with its own random salt and cost, never the
password. A check costs one scrypt whether or not the name exists, so timing does not tell
which names do. Names are shared with API keys (one namespace), so the audit trail's actor
is never ambiguous, and like a key's a name is never given twice: a revoked user keeps it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hub.errors import HubError, StateConflict
from hub.message import utcnow
from hub.store.names import check_new, holder
from hub.store.store import Store
from hub.store.tables import ConsoleSessionRow, ConsoleUserRow

__all__ = [
    "MIN_PASSWORD",
    "ConsoleUser",
    "ConsoleUsers",
    "UserVerdict",
    "hash_password",
    "password_matches",
    "user_from_row",
]

#: The shortest password taken.
MIN_PASSWORD = 12
#: The longest (scrypt reads all of it; a sign-in form is small).
_MAX_PASSWORD = 1024
#: scrypt's cost: 2**15 x 8 x 128 bytes = 32 MiB and some 50-100 ms per check on one core.
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024


@dataclass(frozen=True)
class ConsoleUser:
    """A user as it may be shown: never the password or its hash."""

    name: str
    user_id: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class UserVerdict:
    """What a sign-in turned out to be: an active user, or why not."""

    user: ConsoleUser | None
    reason: str  # ok, unknown (no such name, or a wrong password), revoked, malformed


def user_from_row(row: ConsoleUserRow) -> ConsoleUser:
    return ConsoleUser(
        name=row.name,
        user_id=row.user_id,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32
    )


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64): the cost travels with the hash, so it can rise."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` hashes, compared in constant time."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        given = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(given, base64.b64decode(digest))
    except ValueError:
        return False


@functools.cache
def _nobody() -> str:
    """Checked against when a name has no user, so a miss costs what a hit does."""
    return hash_password(secrets.token_urlsafe(16))


def _password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > _MAX_PASSWORD:
        return f"a password has at most {_MAX_PASSWORD} characters"
    return None


class ConsoleUsers:
    """The ``console_users`` table of a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, name: str, password: str, scopes: Sequence[str]) -> ConsoleUser:
        check_new("user", name, scopes)
        problem = _password_problem(password)
        if problem is not None:
            raise HubError(problem, where="password")
        hashed = hash_password(password)
        with self.store.transaction() as session:
            if holder(session, name) is not None:
                raise StateConflict(
                    f"a user or key named {name!r} exists (or existed: names are kept)",
                    hint="choose another name; `hub users list` and `hub keys list` show them",
                )
            row = ConsoleUserRow(
                name=name,
                user_id=secrets.token_hex(6),
                password_hash=hashed,
                scopes=sorted(set(scopes)),
                created_at=utcnow(),
                revoked_at=None,
            )
            session.add(row)
            session.flush()
            return user_from_row(row)

    def list(self) -> list[ConsoleUser]:
        with self.store.transaction() as session:
            rows = session.scalars(select(ConsoleUserRow).order_by(ConsoleUserRow.id))
            return [user_from_row(row) for row in rows]

    @staticmethod
    def _row(session: Session, name: str) -> ConsoleUserRow:
        row = session.scalars(select(ConsoleUserRow).where(ConsoleUserRow.name == name)).first()
        if row is None:
            raise HubError(f"no user named {name!r}", hint="`hub users list` shows them")
        return row

    def revoke(self, name: str) -> ConsoleUser:
        """Refuse the user from now on and end their sessions (already revoked: kept)."""
        with self.store.transaction() as session:
            row = ConsoleUsers._row(session, name)
            if row.revoked_at is None:
                session.execute(
                    update(ConsoleUserRow)
                    .where(ConsoleUserRow.id == row.id)
                    .values(revoked_at=utcnow())
                )
                session.refresh(row)
            session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.user_id == row.user_id)
            )
            return user_from_row(row)

    def set_password(self, name: str, password: str) -> ConsoleUser:
        """A new password; the user's open sessions end (whoever knew the old one is out)."""
        problem = _password_problem(password)
        if problem is not None:
            raise HubError(problem, where="password")
        hashed = hash_password(password)
        with self.store.transaction() as session:
            row = ConsoleUsers._row(session, name)
            session.execute(
                update(ConsoleUserRow)
                .where(ConsoleUserRow.id == row.id)
                .values(password_hash=hashed)
            )
            session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.user_id == row.user_id)
            )
            return user_from_row(row)

    def check(self, name: str, password: str) -> UserVerdict:
        """Which user signs in; one scrypt either way. A wrong password and an unknown name
        are the same refusal (``unknown``), so the answer does not tell which names exist."""
        if not name or len(name) > 64 or not password or len(password) > _MAX_PASSWORD:
            password_matches("x", _nobody())
            return UserVerdict(None, "malformed")
        with self.store.transaction() as session:
            row = session.scalars(select(ConsoleUserRow).where(ConsoleUserRow.name == name)).first()
        matched = password_matches(password, row.password_hash if row else _nobody())
        if row is None or not matched:
            return UserVerdict(None, "unknown")
        user = user_from_row(row)
        if not user.active:
            return UserVerdict(None, "revoked")
        return UserVerdict(user, "ok")
