"""PostgreSQL's plans for the worker's statements, kept on the indexes whatever the statistics.

Every statement a worker runs to claim and finish messages looks rows up by key (``seq``,
message id) or reads the open messages' partial index in ``seq`` order. PostgreSQL has no
index hints, and its statistics can be far behind a burst of messages: analysed when the
tables were near empty, before autovacuum comes round (a minute or more). It then believes
the tables tiny and the open messages few, and reads whole tables and sorts every due
message instead: measured on 37,000 queued messages, 15.8 ms for one claim's query where
the open index gives 0.9 ms, and a sequential scan of ``deliveries`` for each batch.

The worker's transactions therefore forbid the planner sequential scans (``SET LOCAL``: for
that transaction only), and sorts for the claim's one query, which leaves the indexes as
the plans; SQLite is told by ``INDEXED BY`` instead (:mod:`hub.store.claims`).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["keyed", "sorted_by_index"]

_NO_SEQSCAN = text("SET LOCAL enable_seqscan = off")
_NO_SORT = text("SET LOCAL enable_sort = off")
_SORT = text("SET LOCAL enable_sort TO DEFAULT")


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def keyed(session: Session) -> None:
    """The rest of this transaction looks rows up by their indexes, not by whole scans."""
    if _postgres(session):
        session.execute(_NO_SEQSCAN)


class sorted_by_index:  # noqa: N801 - used as a statement: ``with sorted_by_index(session):``
    """The statements inside take their order from an index, not from a sort."""

    def __init__(self, session: Session) -> None:
        self._session = session if _postgres(session) else None

    def __enter__(self) -> None:
        if self._session is not None:
            self._session.execute(_NO_SORT)

    def __exit__(self, *exc: object) -> None:
        if self._session is not None and exc[0] is None:
            self._session.execute(_SORT)
