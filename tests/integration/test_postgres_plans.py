"""PostgreSQL plans a worker's claim and finish on the indexes even when its statistics
have not seen a burst of messages yet (hub.store.plans): no whole-table scan, no sort of
every due message, so a batch costs the same at any backlog."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from hub.message import DeliveryStatus, Message, MessageStatus
from hub.store import SinkAttempt, Store, Turn

BURST = 5000


def _burst(store: Store) -> None:
    """Statistics of the empty tables (autovacuum kept off), then a burst they never saw."""
    with store.engine.begin() as conn:
        for table in ("messages", "deliveries", "events"):
            conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        conn.exec_driver_sql("ANALYZE")
    store.add(
        [
            Message(id=str(uuid.uuid4()), route="r", source="http", body=b"{}", format="json")
            for _ in range(BURST)
        ],
        ["out"],
    )


def test_a_claim_and_a_finish_after_a_burst_are_planned_on_indexes(postgres_url: str) -> None:
    store = Store(postgres_url)
    store.migrate()
    try:
        _burst(store)
        plans: list[tuple[str, str]] = []

        def explain(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            """Each query the worker runs, planned in its own transaction just before it."""
            if many or not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH")):
                return
            cursor.execute("EXPLAIN " + statement, parameters)
            plans.append((statement, "\n".join(row[0] for row in cursor.fetchall())))

        event.listen(store.engine, "before_cursor_execute", explain)
        batch = store.claim("w", lease_seconds=60, limit=20)
        assert len(batch) == 20
        delivered = Turn(
            MessageStatus.DELIVERED,
            attempts=(SinkAttempt("out", DeliveryStatus.DELIVERED, "ok", datetime.now(UTC)),),
        )
        held, following = store.finish_and_claim(
            "w", [(c.message.id, delivered) for c in batch], lease_seconds=60, limit=20
        )
        event.remove(store.engine, "before_cursor_execute", explain)
        assert held == [True] * 20
        assert len(following) == 20
        claims = [plan for sql, plan in plans if "FOR UPDATE OF m SKIP LOCKED" in sql]
        assert len(claims) == 2, plans
        for plan in claims:  # the open messages' index, read in seq order up to the batch
            assert "ix_messages_open" in plan, plan
            assert "Sort" not in plan, plan
        assert len(plans) > 4  # the finish's and the claims' other lookups too
        for sql, plan in plans:
            assert "Seq Scan" not in plan, f"{sql}\n{plan}"
    finally:
        store.close()
