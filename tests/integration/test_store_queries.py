"""Listing and counting messages on both databases: a SQLite file and the real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from hub.errors import QueryError, StoreError
from hub.message import Message, MessageStatus, utcnow
from hub.store import MessageFilter, Store, StoredError, Turn, find_messages
from hub.store.queries import count_open_and_failed


def add(store: Store, key: str | None, route: str = "orders", at: datetime | None = None) -> str:
    message = Message(
        id=str(uuid.uuid4()),
        route=route,
        source="http",
        body=b"{}",
        format="json",
        correlation_key=key,
        received_at=at or utcnow(),
    )
    store.add(message, ["erp"])
    return message.id


def finish_all(store: Store, status: MessageStatus) -> None:
    """Claim every due message and end its turn in ``status``."""
    failed = status is MessageStatus.FAILED
    error = StoredError("deliver", "delivery_fatal", "no") if failed else None
    for claimed in store.claim("test", lease_seconds=30, limit=100):
        assert store.finish(claimed.message.id, "test", Turn(status, error=error))


def keys(store: Store, where: MessageFilter) -> list[str | None]:
    return [m.correlation_key for m in find_messages(store, where).messages]


def test_find_by_key_takes_split_parts_and_no_look_alikes(store: Store) -> None:
    for key in ("A_1", "A_1#1", "A_1#2", "AX1#1", "A_10", "A_1%", None):
        add(store, key)
    assert keys(store, MessageFilter(correlation_key="A_1")) == ["A_1"]
    # "_" and "%" are LIKE wildcards: AX1#1 and A_10 must not match the prefix "A_1#"
    with_parts = MessageFilter(correlation_key="A_1", with_parts=True)
    assert keys(store, with_parts) == ["A_1#2", "A_1#1", "A_1"]
    assert keys(store, MessageFilter(correlation_key="A_1%", with_parts=True)) == ["A_1%"]


def test_statuses_routes_times_and_pages(store: Store) -> None:
    start = utcnow() - timedelta(hours=1)
    for minute in range(4):
        add(store, f"o{minute}", at=start + timedelta(minutes=minute))
    finish_all(store, MessageStatus.FAILED)
    add(store, "late", at=start + timedelta(minutes=10))
    add(store, "other", route="invoices", at=start + timedelta(minutes=11))

    failed = MessageFilter(statuses=(MessageStatus.FAILED,))
    assert keys(store, failed) == ["o3", "o2", "o1", "o0"]
    open_or_failed = MessageFilter(statuses=(MessageStatus.FAILED, MessageStatus.RECEIVED))
    assert len(keys(store, open_or_failed)) == 6
    assert keys(store, MessageFilter(route="invoices")) == ["other"]
    window = MessageFilter(
        since=start + timedelta(minutes=1), until=start + timedelta(minutes=3), route="orders"
    )
    assert keys(store, window) == ["o2", "o1"]
    naive = (start + timedelta(minutes=10)).replace(tzinfo=None)  # taken as UTC
    assert keys(store, MessageFilter(since=naive)) == ["other", "late"]

    page = find_messages(store, MessageFilter(limit=4))
    assert [m.correlation_key for m in page.messages] == ["other", "late", "o3", "o2"]
    assert page.next_cursor is not None
    rest = find_messages(store, MessageFilter(limit=4, cursor=page.next_cursor))
    assert [m.correlation_key for m in rest.messages] == ["o1", "o0"]
    assert rest.next_cursor is None


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (MessageFilter(limit=0), "limit"),
        (MessageFilter(limit=1001), "limit"),
        (MessageFilter(cursor=0), "cursor"),
        (MessageFilter(cursor=2**63), "cursor"),  # SQLite could not take it (a 500)
        (
            MessageFilter(since=datetime(2026, 1, 2), until=datetime(2026, 1, 1)),
            "since, until",
        ),
    ],
)
def test_a_filter_that_cannot_work_names_its_field(
    store: Store, where: MessageFilter, field: str
) -> None:
    with pytest.raises(QueryError) as caught:
        find_messages(store, where)
    assert caught.value.where == field


def test_counts_for_the_gauges_come_from_one_query(store: Store) -> None:
    old = utcnow() - timedelta(minutes=30)
    add(store, "a", at=old)
    add(store, "b", at=old + timedelta(minutes=1))
    finish_all(store, MessageStatus.RETRYING)  # a and b wait for another attempt
    add(store, "c", at=old + timedelta(minutes=5))
    add(store, "d", route="invoices", at=old + timedelta(minutes=2))
    for claimed in store.claim("test", lease_seconds=30, limit=100):
        status = MessageStatus.FAILED if claimed.message.route == "invoices" else None
        if status is not None:
            error = StoredError("map", "mapping_error", "no")
            store.finish(claimed.message.id, "test", Turn(status, error=error))
    add(store, "e", route="invoices")
    for claimed in store.claim("test", lease_seconds=30, limit=100):
        if claimed.message.correlation_key == "e":
            store.finish(claimed.message.id, "test", Turn(MessageStatus.DELIVERED))

    counts = {(c.route, c.status): c for c in count_open_and_failed(store)}
    assert {k: c.count for k, c in counts.items()} == {
        ("orders", MessageStatus.RETRYING): 2,
        ("orders", MessageStatus.RECEIVED): 1,
        ("invoices", MessageStatus.FAILED): 1,
    }
    oldest = counts["orders", MessageStatus.RETRYING].oldest_received_at
    assert oldest is not None
    assert oldest.tzinfo is not None
    assert abs((oldest - old).total_seconds()) < 0.001


def test_a_store_error_never_quotes_sql(store: Store) -> None:
    with pytest.raises(StoreError) as caught:
        store.purge(datetime(2026, 1, 1))  # a naive time: the store refuses it
    assert "naive datetime" in caught.value.message
    assert "SELECT" not in str(caught.value)
    assert "[SQL" not in str(caught.value)
