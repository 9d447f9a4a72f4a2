"""Claim cost against the backlog: is taking the next batch as cheap at 50,000 queued
(behind 500,000 finished) as at 1,000?

For SQLite and PostgreSQL: fill a fresh store with F finished and Q queued messages
(bulk inserts straight into the tables), then time ``Store.claim(limit=20)`` R times,
freeing the batch after each claim (untimed) so the backlog stays the same.
Prints the median and p90 per case (the whole claim: query, lease updates, turn events and
the commit), the median of the claim's query alone, and the big case's ratios to the small.
The cases are timed with fresh statistics (ANALYZE after the fill, as autovacuum would
eventually), and on PostgreSQL once more with stale ones ("big, stale": the table analysed
empty, autovacuum off, then filled), as after a sudden burst of messages, when the planner
believes the open messages are few and would read and sort every due one.
Run: ``python -m benchmarks.claim [--repeat R] [--finished F] [--queued Q]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from benchmarks.delivery import _database
from hub.message import MessageStatus, utcnow
from hub.store import Store
from hub.store.claims import claim_query
from hub.store.plans import keyed, sorted_by_index
from hub.store.tables import DeliveryRow, MessageRow

BODY = b'{"order": 1, "lines": [1, 2, 3]}'
BATCH = 20


def _rows(count: int, status: MessageStatus, start: int) -> Iterator[list[dict[str, Any]]]:
    now = utcnow() - timedelta(minutes=5)
    chunk: list[dict[str, Any]] = []
    for n in range(start, start + count):
        chunk.append(
            {
                "id": str(uuid.UUID(int=n)),
                "route": "bench",
                "source": "bench",
                "format": "json",
                "correlation_key": str(n),
                "content_type": "application/json",
                "headers": {},
                "body": BODY,
                "received_at": now,
                "status": status.value,
                "attempts": 0 if status is MessageStatus.RECEIVED else 1,
                "next_attempt_at": now,
                "updated_at": now,
            }
        )
        if len(chunk) == 5000:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _fill(store: Store, finished: int, queued: int) -> None:
    with store.engine.begin() as conn:
        for chunk in _rows(finished, MessageStatus.DELIVERED, 1):
            conn.execute(insert(MessageRow), chunk)
        for chunk in _rows(queued, MessageStatus.RECEIVED, finished + 1):
            conn.execute(insert(MessageRow), chunk)
            conn.execute(
                insert(DeliveryRow),
                [
                    {"message_id": row["id"], "sink": "out", "status": "pending", "attempts": 0}
                    for row in chunk
                ],
            )


def _time_claims(store: Store, repeat: int) -> list[float]:
    took: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        batch = store.claim("bench:1:x/0", lease_seconds=60, limit=BATCH)
        took.append(time.perf_counter() - started)
        assert len(batch) == BATCH, f"claimed {len(batch)}, expected {BATCH}"
        ids = [claimed.message.id for claimed in batch]
        with store.engine.begin() as conn:  # free them again: the backlog stays the same
            conn.execute(
                update(MessageRow)
                .where(MessageRow.id.in_(ids))
                .values(claimed_by=None, lease_expires_at=None, attempts=0, turn_open=0)
            )
    return took


def _time_queries(store: Store, repeat: int) -> list[float]:
    """The claim's query alone (no update, no commit): what could grow with the backlog."""
    query = claim_query(store.engine.dialect.name)
    took: list[float] = []
    with Session(store.engine) as session:
        for _ in range(repeat):
            started = time.perf_counter()
            keyed(session)  # as the claim plans it (hub.store.plans)
            with sorted_by_index(session):
                rows = session.execute(query, {"now": utcnow(), "limit": BATCH}).all()
            took.append(time.perf_counter() - started)
            assert len(rows) == BATCH, f"the query found {len(rows)}, expected {BATCH}"
            session.rollback()
    return sorted(took)


@contextmanager
def _store(kind: str, folder: Path, name: str) -> Iterator[Store]:
    if kind == "sqlite":
        store = Store(f"sqlite:///{folder / (name + '.db')}")
        drop = None
    else:
        url, drop = _database()
        store = Store(url)
    try:
        store.migrate()
        yield store
    finally:
        store.close()
        if drop is not None:
            drop()


def run(repeat: int, finished: int, queued: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hub-claim-bench-") as tmp:
        for kind in ("sqlite", "postgresql"):
            cases = {"small": (0, 1000), "big": (finished, queued)}
            if kind == "postgresql":
                cases["big, stale"] = (finished, queued)
            for case, (fin, que) in cases.items():
                stale = case.endswith("stale")
                with _store(kind, Path(tmp), f"{kind}-{case}".replace(", ", "-")) as store:
                    if stale:  # statistics of the empty table, kept: autovacuum off
                        with store.engine.begin() as conn:
                            conn.exec_driver_sql(
                                "ALTER TABLE messages SET (autovacuum_enabled = false)"
                            )
                            conn.exec_driver_sql("ANALYZE messages")
                    _fill(store, fin, que)
                    if not stale:
                        with store.engine.begin() as conn:  # fresh, as autovacuum would
                            conn.exec_driver_sql("ANALYZE")
                    if kind == "sqlite":  # the fill's WAL copied back now, not in a timed claim
                        raw = sqlite3.connect(store.engine.url.database or "")
                        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                        raw.close()
                    _time_claims(store, 3)  # warm the caches and the statement cache
                    took = sorted(_time_claims(store, repeat))
                    queries = _time_queries(store, repeat)
                rows.append(
                    {
                        "database": kind,
                        "case": case,
                        "finished": fin,
                        "queued": que,
                        "median_ms": statistics.median(took) * 1000,
                        "p90_ms": took[int(len(took) * 0.9) - 1] * 1000,
                        "query_ms": statistics.median(queries) * 1000,
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--finished", type=int, default=500_000)
    parser.add_argument("--queued", type=int, default=50_000)
    args = parser.parse_args(argv)
    rows = run(args.repeat, args.finished, args.queued)
    print(f"Claim cost: {BATCH} messages per claim, {args.repeat} claims per case")
    print(
        f"{'database':<12} {'case':<11} {'finished':>9} {'queued':>8} {'median ms':>10} "
        f"{'p90 ms':>8} {'query ms':>9}"
    )
    for row in rows:
        print(
            f"{row['database']:<12} {row['case']:<11} {row['finished']:>9} {row['queued']:>8} "
            f"{row['median_ms']:>10.2f} {row['p90_ms']:>8.2f} {row['query_ms']:>9.3f}"
        )
    for row in rows:
        if row["case"] == "small":
            small = row
            continue
        ratio = row["median_ms"] / small["median_ms"]
        query = row["query_ms"] / small["query_ms"]
        print(
            f"{row['database']} {row['case']} / small = {ratio:.2f}x, the query alone "
            f"{query:.2f}x (target <= 1.5x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
