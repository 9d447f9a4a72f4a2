"""Control numbers per partner, direction and kind, allocated inside the caller's transaction.

One ``UPDATE ... RETURNING`` both locks the partner's counter row and takes the next
number, so concurrent workers (threads or processes, SQLite or PostgreSQL) queue on that
row: no number is handed out twice, and one whose transaction rolls back was never taken,
so the sequence has no gaps. After ``maximum`` the counter wraps to 1, as the standards
allow (ISA13 has nine digits, UNB 0020 fourteen characters).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, insert, select, update
from sqlalchemy.orm import Session

from hub.store.partner_tables import ControlNumberRow

__all__ = ["KINDS", "allocate", "peek"]

#: What is numbered: the interchange (UNB/ISA), the group (UNG/GS), the message (UNH/ST).
KINDS = ("interchange", "group", "message")


def allocate(
    session: Session,
    partner: str,
    direction: str,
    kind: str,
    *,
    maximum: int,
    count: int = 1,
) -> list[int]:
    """The next ``count`` numbers, wrapping after ``maximum``; in ``session``'s transaction."""
    if count < 1:
        raise ValueError("count must be at least 1")
    key = (
        (ControlNumberRow.partner == partner)
        & (ControlNumberRow.direction == direction)
        & (ControlNumberRow.kind == kind)
    )
    taken: list[int] = []
    while len(taken) < count:
        stepped = session.execute(
            update(ControlNumberRow)
            .where(key)
            .values(
                last=case((ControlNumberRow.last >= maximum, 1), else_=ControlNumberRow.last + 1)
            )
            .returning(ControlNumberRow.last)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if stepped is None:  # the first number ever: a concurrent first one conflicts
            _first(session, partner, direction, kind)
            continue
        taken.append(int(stepped))
    return taken


def _first(session: Session, partner: str, direction: str, kind: str) -> None:
    """Create the counter at 0; a twin created by a concurrent transaction is kept."""
    dialect = session.get_bind().dialect.name
    values = {"partner": partner, "direction": direction, "kind": kind, "last": 0}
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(ControlNumberRow).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(ControlNumberRow).values(values).on_conflict_do_nothing())
    else:  # pragma: no cover - the hub runs on SQLite and PostgreSQL
        session.execute(insert(ControlNumberRow).values(values))


def peek(
    session: Session, partner: str, direction: str, kinds: Sequence[str] = KINDS
) -> dict[str, int]:
    """The last number used of each kind (0 if none yet), for operators and tests."""
    rows = session.execute(
        select(ControlNumberRow.kind, ControlNumberRow.last).where(
            ControlNumberRow.partner == partner,
            ControlNumberRow.direction == direction,
            ControlNumberRow.kind.in_(kinds),
        )
    ).all()
    found = {kind: int(last) for kind, last in rows}
    return {kind: found.get(kind, 0) for kind in kinds}
