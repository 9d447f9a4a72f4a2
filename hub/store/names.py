"""What API keys and console users share: one namespace of names, so the audit trail's
actor names exactly one of them, and the same rules for a new one's name and scopes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.credentials import scope_problem
from hub.errors import HubError
from hub.store.tables import ApiKeyRow, ConsoleUserRow

__all__ = ["check_new", "holder"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")


def check_new(kind: str, name: str, scopes: Sequence[str]) -> None:
    """Raise :class:`HubError` for a name or scopes a new ``kind`` (key, user) cannot have."""
    if not _NAME.match(name):
        raise HubError(
            f"{name!r} cannot name a {kind}",
            hint="1 to 64 letters, digits and . _ @ + -, starting with a letter or digit",
        )
    if not scopes:
        raise HubError(f"a {kind} needs at least one scope", hint="--scope read, say")
    for scope in scopes:
        problem = scope_problem(scope)
        if problem is not None:
            raise HubError(problem, where="--scope")


def holder(session: Session, name: str) -> Literal["key", "user"] | None:
    """Which holds ``name``, revoked or not: a key, a console user, or neither."""
    if session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.name == name)) is not None:
        return "key"
    if session.scalar(select(ConsoleUserRow.id).where(ConsoleUserRow.name == name)) is not None:
        return "user"
    return None
