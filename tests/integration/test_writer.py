"""The store's group-commit writer, on SQLite and PostgreSQL: jobs waiting together share one
transaction, each caller is answered after the commit, and one bad job fails alone."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from hub.errors import StoreError
from hub.message import Message, MessageStatus
from hub.store import Store
from hub.store.rows import insert_messages
from tests.waiting import wait_for_progress


def message(message_id: str | None = None) -> Message:
    return Message(
        id=message_id or str(uuid.uuid4()), route="r", source="http", body=b"{}", format="json"
    )


def queued(store: Store) -> int:
    return len(store.writer._queue)


def hold_the_writer(store: Store, pool: ThreadPoolExecutor) -> tuple[threading.Event, Future[int]]:
    """A first job that keeps the writer busy until released, so later jobs queue up."""
    release, running = threading.Event(), threading.Event()

    def blocker(_session: Session) -> int:
        running.set()
        release.wait(60)
        return 0

    held = pool.submit(store.writer.run, blocker)
    assert running.wait(60)
    return release, held


def test_jobs_waiting_together_share_one_commit(store: Store) -> None:
    with ThreadPoolExecutor(8) as pool:
        release, held = hold_the_writer(store, pool)
        commits = store.writer.commits
        adds = [pool.submit(store.add, message(), ["erp"]) for _ in range(5)]
        wait_for_progress(lambda: queued(store), lambda n: n == 5, what="five jobs queued")
        assert not any(add.done() for add in adds)  # nobody is answered before the commit
        release.set()
        held.result(60)
        ids = [add.result(60)[0] for add in adds]
    assert store.writer.commits == commits + 2  # the blocker alone, then the five together
    assert store.count_by_status() == {MessageStatus.RECEIVED: 5}
    assert all(store.get(mid).events[0].kind == "received" for mid in ids)


def test_one_bad_job_fails_alone(store: Store) -> None:
    taken = str(uuid.uuid4())
    store.add(message(taken), ["erp"])

    def duplicate(session: Session) -> None:  # the same message id again: refused
        insert_messages(session, [message(taken)], ["erp"], store.sealer)

    with ThreadPoolExecutor(8) as pool:
        release, held = hold_the_writer(store, pool)
        good = [pool.submit(store.add, message(), ["erp"]) for _ in range(3)]
        bad = pool.submit(store.writer.run, duplicate)
        wait_for_progress(lambda: queued(store), lambda n: n == 4, what="four jobs queued")
        release.set()
        held.result(60)
        with pytest.raises(StoreError):
            bad.result(60)
        for add in good:
            add.result(60)
    assert store.count_by_status() == {MessageStatus.RECEIVED: 4}


def test_ingest_requests_waiting_together_share_one_insert(store: Store) -> None:
    """Five waiting ``add`` calls (one a twin of another by idempotency key) cost one INSERT
    per table, and the twin gets the first one's id, as if they had come one by one."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql.split("(", 1)[0].strip())

    first = replace(message(), idempotency_key="order-7")
    twin = replace(message(), idempotency_key="order-7")
    others = [message() for _ in range(3)]
    with ThreadPoolExecutor(8) as pool:
        release, held = hold_the_writer(store, pool)
        adds = [pool.submit(store.add, m, ["erp", "archive"]) for m in [first, *others, twin]]
        wait_for_progress(lambda: queued(store), lambda n: n == 5, what="five adds queued")
        event.listen(store.engine, "before_cursor_execute", seen)
        try:
            release.set()
            held.result(60)
            ids = [add.result(60)[0] for add in adds]
        finally:
            event.remove(store.engine, "before_cursor_execute", seen)
    inserts = [s for s in statements if s.startswith("INSERT")]
    assert inserts == ["INSERT INTO messages", "INSERT INTO deliveries", "INSERT INTO events"]
    assert ids[-1] == ids[0] == first.id
    assert store.count_by_status() == {MessageStatus.RECEIVED: 4}
    assert {d.sink for d in store.get(others[0].id).deliveries} == {"erp", "archive"}


def test_add_later_is_answered_only_after_the_commit(store: Store) -> None:
    """The future an ingest request awaits on the event loop is done once the message is
    committed, not when it is queued."""
    with ThreadPoolExecutor(2) as pool:
        release, held = hold_the_writer(store, pool)
        later = store.add_later(message(), ["erp"])
        wait_for_progress(lambda: queued(store), lambda n: n == 1, what="the add queued")
        assert not later.done()
        release.set()
        held.result(60)
        (stored,) = later.result(60)
    assert store.count_by_status() == {MessageStatus.RECEIVED: 1}
    assert store.get(stored).events[0].kind == "received"


def test_add_later_takes_a_twins_id_when_it_committed_first(postgres_url: str) -> None:
    """Another process commits the same idempotency key between this add's lookup and its
    INSERT: the unique key refuses the INSERT, and the add looks again and answers with the
    twin's id (PostgreSQL: on SQLite the writer's BEGIN IMMEDIATE shuts the other out)."""
    store, other = Store(postgres_url), Store(postgres_url)
    store.migrate()
    twin = replace(message(), idempotency_key="order-9")
    raced: list[str] = []

    def commit_the_twin_first(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if sql.startswith("INSERT INTO messages") and not raced:
            raced.append(other.add(twin, ["erp"])[0])

    event.listen(store.engine, "before_cursor_execute", commit_the_twin_first)
    try:
        ids = store.add_later(replace(message(), idempotency_key="order-9"), ["erp"]).result(60)
    finally:
        event.remove(store.engine, "before_cursor_execute", commit_the_twin_first)
        other.close()
    try:
        assert raced == [twin.id]
        assert ids == [twin.id]
        assert store.count_by_status() == {MessageStatus.RECEIVED: 1}
    finally:
        store.close()
