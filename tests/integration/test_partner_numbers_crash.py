"""kill -9 around the commit that numbers a partner's interchange, on SQLite and PostgreSQL.

A partner's control numbers are taken in the transaction that stores the message's
enveloped output (``Store.store_output``). ``HUB_FAILPOINT`` kills a `hub worker` inside
that transaction (``output.before_commit``: the numbers were taken, not committed) or just
after it (``output.after_commit``: numbers and output committed, nothing delivered yet).
A second worker then delivers every message: the interchanges reaching the partner are
numbered 1..N, none skipped and none used twice.
"""

from __future__ import annotations

import signal
import uuid
from pathlib import Path
from typing import Any

import pytest

from hub.formats import make_codec
from hub.message import Message, MessageStatus
from hub.store import Store
from hub.store.control_numbers import peek
from hub.store.interchanges import interchanges_of
from tests.configs import write_config
from tests.partners import partner_config
from tests.processes import bare_worker
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow

COUNT = 6


def config(url: str) -> dict[str, Any]:
    worker = {"threads": 1, "batch_size": 1, "poll_interval_seconds": 0.1}
    return partner_config(url, worker=worker, auth=False, inbox=False)


def sent_refs(van: Path) -> list[int]:
    codec = make_codec("edifact", {"validate": False})
    files = sorted(van.iterdir()) if van.exists() else []
    return [int(codec.decode(p.read_bytes())["header"][4]) for p in files]


@pytest.mark.parametrize("failpoint", ["output.before_commit", "output.after_commit"])
def test_a_crash_around_the_numbering_commit_neither_skips_nor_reuses_a_number(
    tmp_path: Path, store_url: str, failpoint: str
) -> None:
    path = write_config(tmp_path, config(store_url))
    store = Store(store_url)
    store.migrate()
    ids = [
        store.add(
            Message(
                id=str(uuid.uuid4()),
                route="orders-to-acme",
                source="http",
                body=f'{{"type": "ORDERS", "segments": [["BGM", "220", "PO-{n}", "9"]]}}'.encode(),
                format="json",
            ),
            ["van"],
        )[0]
        for n in range(COUNT)
    ]
    van = tmp_path / "van"
    try:
        first = bare_worker(path, tmp_path / "a.log", failpoint, cwd=tmp_path)
        code = wait_for_progress(
            first.poll, lambda seen: seen is not None, what="the worker to reach its failpoint"
        )
        assert code == -signal.SIGKILL, (tmp_path / "a.log").read_text()
        assert sent_refs(van) == []  # it died before any delivery
        with store.transaction() as session:
            taken = peek(session, "acme", "out")["interchange"]
            records = interchanges_of(session, ids)
        if failpoint == "output.before_commit":
            assert taken == 0  # rolled back with the output: no number was lost
            assert records == []
        else:
            assert taken == 1  # committed with the output, which the next turn sends
            [record] = records
            assert (record.control_ref, record.ack_status) == ("1", "sending")
            assert store.output(record.message_id or "") is not None

        second = bare_worker(path, tmp_path / "b.log", None, cwd=tmp_path)
        try:
            wait_for_progress(
                store.count_by_status,
                lambda seen: seen == {MessageStatus.DELIVERED: COUNT},
                what="every message to be delivered after the crash",
            )
        finally:
            second.terminate()
            second.wait(30)
        assert sorted(sent_refs(van)) == list(range(1, COUNT + 1))
        with store.transaction() as session:
            assert peek(session, "acme", "out")["interchange"] == COUNT
            records = interchanges_of(session, ids)
        assert sorted(int(r.control_ref) for r in records) == list(range(1, COUNT + 1))
        assert {r.ack_status for r in records} == {"awaiting"}
        assert all(r.ack_due_at is not None for r in records)
    finally:
        store.close()
