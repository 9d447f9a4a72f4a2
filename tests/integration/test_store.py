"""The store on both databases it supports: a SQLite file and the real PostgreSQL server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hub.errors import MessageNotFound, StoreError, StoreUnavailable
from hub.message import DeliveryStatus, Event, Message, MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.store import SinkAttempt, Store, StoredOutput, Turn
from hub.store.tables import Base
from tests.configs import EXAMPLE_ORDER, demo_config, write_config


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = Store(store_url)
    store.migrate()
    yield store
    store.close()


def message(route: str = "r", key: str | None = "1001") -> Message:
    return Message(
        id=str(uuid.uuid4()),
        route=route,
        source="http",
        body=b'{"a": 1}',
        format="json",
        correlation_key=key,
    )


def test_migrations_create_exactly_the_model_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_add_claim_finish_history(store: Store) -> None:
    msg = message()
    store.add(msg, ["erp", "crm"])
    [claimed] = store.claim("w1", lease_seconds=30, limit=10)
    assert claimed.message == msg
    assert claimed.pending_sinks == ("erp", "crm")
    assert store.claim("w2", lease_seconds=30, limit=10) == []  # leased
    ok = Event("attempt", "ok", sink="erp")
    turn = Turn(
        MessageStatus.RETRYING,
        output=StoredOutput(b"out", "application/json", "json", "m", "abc"),
        attempts=(SinkAttempt("erp", DeliveryStatus.DELIVERED, "ok", ok.at),),
        events=(ok,),
    )
    assert store.finish(msg.id, "w1", turn)
    [again] = store.claim("w2", lease_seconds=30, limit=10)
    assert again.pending_sinks == ("crm",)
    assert again.output == b"out"
    assert again.sink_attempts == {"erp": 1, "crm": 0}
    assert store.renew(msg.id, "w2", lease_seconds=30)
    assert not store.renew(msg.id, "w1", lease_seconds=30)
    assert not store.finish(msg.id, "w1", Turn(MessageStatus.DELIVERED))  # lost the lease
    assert store.finish(msg.id, "w2", Turn(MessageStatus.DELIVERED))
    record = store.get(msg.id)
    assert record.status is MessageStatus.DELIVERED
    assert record.attempts == 2
    assert record.mapping_hash == "abc"
    assert [e.kind for e in record.events] == [
        "received",
        "turn",
        "attempt",
        "turn",
        "lease_lost",  # w1's late turn: no status change recorded
    ]
    assert [e.data for e in record.events if e.kind == "turn"] == [
        {"turn": 1, "worker": "w1", "sinks": ["erp", "crm"]},
        {"turn": 2, "worker": "w2", "sinks": ["crm"]},
    ]
    assert record.message.received_at == msg.received_at
    assert store.output(msg.id) == (b"out", "application/json")


def test_a_store_without_tables_says_to_run_the_migrations(store_url: str) -> None:
    empty = Store(store_url)
    try:
        with pytest.raises(StoreError, match="no tables yet") as caught:
            empty.get("x")
        assert "hub db upgrade" in (caught.value.hint or "")
    finally:
        empty.close()


def test_expired_lease_is_reclaimed(store: Store) -> None:
    msg = message()
    store.add(msg, ["erp"])
    assert len(store.claim("crashed", lease_seconds=0.2, limit=1)) == 1
    assert store.claim("w2", lease_seconds=30, limit=1) == []
    time.sleep(0.3)
    assert [c.message.id for c in store.claim("w2", lease_seconds=30, limit=1)] == [msg.id]


def test_leases_of_dead_workers_are_recovered(store: Store) -> None:
    msg = message()
    store.add(msg, ["erp"])
    store.claim("dead-worker", lease_seconds=300, limit=1)
    assert store.recover_leases(lambda holder: holder == "dead-worker") == [msg.id]
    assert len(store.claim("w2", lease_seconds=30, limit=1)) == 1
    assert [e.kind for e in store.get(msg.id).events[-2:]] == ["recovered", "turn"]


def test_concurrent_claims_never_share_a_message(store: Store) -> None:
    ids = set()
    for _ in range(60):
        msg = message()
        store.add(msg, ["erp"])
        ids.add(msg.id)
    claimed: dict[str, list[str]] = {}

    def work(name: str) -> None:
        mine = claimed.setdefault(name, [])
        while batch := store.claim(name, lease_seconds=60, limit=5):
            mine.extend(c.message.id for c in batch)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    everything = [mid for mids in claimed.values() for mid in mids]
    assert sorted(everything) == sorted(ids)


def test_unknown_id_is_message_not_found(store: Store) -> None:
    with pytest.raises(MessageNotFound):
        store.get("nope")


def test_unreachable_database_is_store_unavailable() -> None:
    store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.ping()


def test_the_demo_route_runs_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path, store_url=postgres_url)))
    try:
        result = hub.ingestor.ingest(
            InboundRequest(route="shop-orders", body=EXAMPLE_ORDER.read_bytes())
        )
        assert result.message_id is not None
        assert hub.worker.run_once() == 1
        record = hub.store.get(result.message_id)
        assert record.status is MessageStatus.DELIVERED
        assert len(list((tmp_path / "outbox").iterdir())) == 1
    finally:
        hub.close()


def test_a_refused_message_is_a_dead_letter_from_the_start(store: Store) -> None:
    """``add_refused`` (an AS2 message that failed its checks): stored as failed at stage
    ``receive``, never claimed, and a second copy is a second dead letter, not a repeat."""
    first = store.add_refused(message(), ["erp"], "integrity-check-failed: changed in transit")
    second = store.add_refused(message(), ["erp"], "integrity-check-failed: changed in transit")
    assert first != second
    record = store.get(first)
    assert record.status is MessageStatus.FAILED
    assert record.error is not None
    assert (record.error.stage, record.error.type) == ("receive", "inbound_refused")
    assert record.error.message == "integrity-check-failed: changed in transit"
    assert [e.kind for e in record.events] == ["received", "failed"]
    assert store.claim("w1", limit=10, lease_seconds=30) == []
