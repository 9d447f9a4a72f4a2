"""Poll sources in the store: each polled route's cursor, its poller's lease, its last runs.

A poller (one per route at a time, whatever the number of hub processes) holds a lease row.
It stores what a poll found and the new cursor in one transaction, and that transaction
checks the lease is still its own: a poller that lost its lease (it stalled past
``lease_until`` and another process took over) commits nothing, so two processes never
both advance the same cursor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import HubError, StoreError
from hub.message import Message, utcnow
from hub.store.store import Store
from hub.store.tables import SourceRow
from hub.text import clean_text

__all__ = ["LeaseLost", "SourceState", "SourceStates"]


class LeaseLost(StoreError):
    """Another process polls this route now: what this poller found is not stored."""

    code = "lease_lost"


@dataclass(frozen=True)
class SourceState:
    """What ``GET /sources`` shows of one polled route."""

    route: str
    cursor: str | None
    holder: str | None
    lease_until: datetime | None
    last_run: datetime | None
    last_success: datetime | None
    last_error: dict[str, object] | None
    failures: int
    items: int


class SourceStates:
    """The ``sources`` table: leases, cursors and run outcomes of polled routes."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def lease(self, route: str, holder: str, seconds: float) -> SourceState | None:
        """Take or renew the route's lease; ``None`` when another live process holds it."""
        now = utcnow()
        with self.store.transaction() as session:
            _ensure_row(session, route)
            taken = session.execute(
                update(SourceRow)
                .where(
                    SourceRow.route == route,
                    or_(
                        SourceRow.holder.is_(None),
                        SourceRow.holder == holder,
                        SourceRow.lease_until < now,
                    ),
                )
                .values(holder=holder, lease_until=now + timedelta(seconds=seconds), last_run=now)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = session.get(SourceRow, route)
            assert row is not None
            return _state(row)

    def store_polled(
        self,
        route: str,
        holder: str,
        messages: Sequence[Message],
        sinks: Sequence[str],
        *,
        cursor: str | None,
        lease_seconds: float,
    ) -> list[str]:
        """Store the messages and the new cursor together, if ``holder`` still has the lease.

        Returns the stored id of each message (an earlier id for a repeat). Raises
        :class:`LeaseLost`, storing nothing, when another process took the route over.
        """

        def advance(session: Session) -> None:
            _advance(session, route, holder, len(messages), cursor, lease_seconds)

        return self.store.add(list(messages), sinks, also=advance)

    def store_polled_with(
        self,
        route: str,
        holder: str,
        write: Callable[[Session], list[str]],
        *,
        count: int,
        cursor: str | None,
        lease_seconds: float,
    ) -> list[str]:
        """:meth:`store_polled` for items that ``write`` stores itself (an EDI inbox
        records interchanges and acknowledgements with each file), in the transaction
        that advances the cursor; the ids ``write`` returns."""
        with self.store.transaction() as session:
            _advance(session, route, holder, count, cursor, lease_seconds)
            return write(session)

    def failed(self, route: str, holder: str, error: HubError) -> int:
        """Record a failed poll; returns how many polls in a row have failed."""
        text = json.dumps(
            {k: clean_text(str(v)) for k, v in error.to_dict().items() if k != "problems"}
        )
        with self.store.transaction() as session:
            _ensure_row(session, route)
            session.execute(
                update(SourceRow)
                .where(SourceRow.route == route)
                .values(last_error=text, failures=SourceRow.failures + 1, last_run=utcnow())
            )
            row = session.get(SourceRow, route)
            return row.failures if row is not None else 1

    def release(self, route: str, holder: str) -> None:
        """Give the lease back at shutdown, so another process takes over at once."""
        with self.store.transaction() as session:
            session.execute(
                update(SourceRow)
                .where(SourceRow.route == route, SourceRow.holder == holder)
                .values(holder=None, lease_until=None)
            )

    def get(self, route: str) -> SourceState | None:
        with self.store.transaction() as session:
            row = session.get(SourceRow, route)
            return None if row is None else _state(row)

    def all(self) -> list[SourceState]:
        with self.store.transaction() as session:
            rows = session.scalars(select(SourceRow).order_by(SourceRow.route)).all()
            return [_state(row) for row in rows]


def _advance(
    session: Session,
    route: str,
    holder: str,
    count: int,
    cursor: str | None,
    lease_seconds: float,
) -> None:
    """Move the cursor and renew the lease, if ``holder`` still has it (else LeaseLost)."""
    now = utcnow()
    values: dict[str, object] = {
        "lease_until": now + timedelta(seconds=lease_seconds),
        "last_success": now,
        "last_error": None,
        "failures": 0,
        "items": SourceRow.items + count,
    }
    if cursor is not None:
        values["cursor"] = cursor
    done = session.execute(
        update(SourceRow)
        .where(SourceRow.route == route, SourceRow.holder == holder)
        .values(**values)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(
            f"route {route!r} is polled by another process now; this poll's items are left for it",
        )


def _ensure_row(session: Session, route: str) -> None:
    if session.get(SourceRow, route) is not None:
        return
    try:
        with session.begin_nested():
            session.execute(insert(SourceRow).values(route=route, failures=0, items=0))
    except IntegrityError:  # another process created it first: fine
        pass


def _state(row: SourceRow) -> SourceState:
    error: dict[str, object] | None = None
    if row.last_error:
        try:
            loaded = json.loads(row.last_error)
            error = loaded if isinstance(loaded, dict) else {"message": row.last_error}
        except ValueError:
            error = {"message": row.last_error}
    return SourceState(
        route=row.route,
        cursor=row.cursor,
        holder=row.holder,
        lease_until=row.lease_until,
        last_run=row.last_run,
        last_success=row.last_success,
        last_error=error,
        failures=row.failures,
        items=row.items,
    )
