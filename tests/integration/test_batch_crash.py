"""kill -9 in the middle of a batch's commit loses nothing, on SQLite and PostgreSQL.

A `hub worker` delivers batches to a file sink and records each batch in one transaction.
``HUB_FAILPOINT`` kills it (SIGKILL) inside its third write transaction: the second
batch's outcome (with the claim of the third), after the files were written and the rows
updated, before the commit.
A second worker then finds every message: the first batch delivered once, the second
delivered again (at least once, to the same file names), nothing lost or doubled.
"""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import pytest

from hub.message import Message, MessageStatus
from hub.store import Store
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.processes import bare_worker
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow

COUNT = 50
BATCH = 20


def test_a_worker_killed_while_committing_a_batch_loses_nothing(
    tmp_path: Path, store_url: str
) -> None:
    settings = {"threads": 1, "batch_size": BATCH, "poll_interval_seconds": 0.1}
    config = write_config(tmp_path, demo_config(tmp_path, store_url=store_url, worker=settings))
    store = Store(store_url)
    store.migrate()
    body = EXAMPLE_ORDER.read_bytes()
    ids = store.add(
        [
            Message(
                id=str(uuid.uuid4()), route="shop-orders", source="http", body=body, format="json"
            )
            for _ in range(COUNT)
        ],
        ["erp"],
    )
    outbox = tmp_path / "outbox"
    try:
        # writes: claim 1, batch 1's outcome + claim 2, then batch 2's outcome dies
        first = bare_worker(config, tmp_path / "a.log", "writer.before_commit@3")
        code = wait_for_progress(
            lambda: (first.poll(), len(list(outbox.glob("*.json"))) if outbox.exists() else 0),
            lambda seen: seen[0] is not None,
            what="the worker to reach its failpoint",
        )[0]
        assert code == -signal.SIGKILL, (tmp_path / "a.log").read_text()
        written = {p.name for p in outbox.glob("*.json")}
        assert len(written) == 2 * BATCH  # both batches reached the sink before the kill
        counts = store.count_by_status()
        assert counts == {MessageStatus.DELIVERED: BATCH, MessageStatus.RECEIVED: COUNT - BATCH}

        second = bare_worker(config, tmp_path / "b.log", None)
        try:
            wait_for_progress(
                store.count_by_status,
                lambda seen: seen == {MessageStatus.DELIVERED: COUNT},
                what="every message to be delivered after the crash",
            )
        finally:
            second.terminate()
            second.wait(30)
        assert len(list(outbox.glob("*.json"))) == COUNT  # the same names: no doubles
        assert not list(outbox.glob(".partial-*"))
        turns = [sum(1 for e in store.get(mid).events if e.kind == "turn") for mid in ids]
        assert turns.count(1) == COUNT - BATCH  # batch 1 and the never-claimed rest
        assert turns.count(2) == BATCH  # batch 2: its outcome died with the worker
        for mid in ids:
            record = store.get(mid)
            assert [d.status.value for d in record.deliveries] == ["delivered"]
            assert record.events[-1].kind == "delivered"
    finally:
        store.close()
