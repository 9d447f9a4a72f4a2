"""A batch's rows in one go (hub.store.bulk): PostgreSQL's COPY and ``UPDATE ... FROM
unnest`` store exactly what the executemany stores, on every text a message can carry, in
the order given, and fail where it fails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert, select

from hub.errors import StoreError
from hub.message import Event, Message
from hub.store import Store
from hub.store import bulk as bulk_module
from hub.store.bulk import BULK_FROM, insert_events, update_deliveries, update_messages
from hub.store.rows import event_values
from hub.store.tables import DELIVERIES, EVENTS, MESSAGES

#: Texts COPY's text format must escape (tab, newline, backslash, a lone "\\."), and others.
AWKWARD = [
    "plain",
    "tab\there",
    "line\nbreak\r\n",
    "back\\slash \\N \\.",
    "\\.",
    "quote ' and \" and ,;{}",
    "unicode: Grüße, 東京, emoji \U0001f4e6",
    "",
    "a\x00nul and \x1b escape",
]


def _events() -> list[Event]:
    at = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
    elsewhere = datetime(2026, 12, 1, 11, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    events = [
        Event("attempt", text, sink=text or None, data={"text": text, "n": i, "x": [1.5, None]})
        for i, text in enumerate(AWKWARD)
    ]
    events.append(Event("translated", "no data", at=at))
    events.append(Event("delivered", "another zone", sink="out", at=elsewhere))
    events.append(Event("turn", "nested", data={"a": {"b": [True, False, {"c": "\t"}]}}))
    return events


def _stored(store: Store, message_id: str) -> list[tuple[Any, ...]]:
    e = EVENTS.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(e.at, e.kind, e.sink, e.detail, e.data)
            .where(e.message_id == message_id, e.kind != "received")
            .order_by(e.id)
        )
        return [tuple(row) for row in rows]


def test_insert_events_stores_what_an_executemany_stores(store: Store) -> None:
    one, other = str(uuid.uuid4()), str(uuid.uuid4())
    store.add(
        [Message(id=m, route="r", source="t", body=b"{}", format="json") for m in (one, other)],
        ["out"],
    )
    events = _events()
    bulk = [event_values(one, event) for event in events]
    plain = [event_values(other, event) for event in events]
    assert len(bulk) >= BULK_FROM  # the COPY path on PostgreSQL
    with store.transaction() as session:
        insert_events(session, bulk)
        session.execute(insert(EVENTS), plain)

    got, expected = _stored(store, one), _stored(store, other)
    assert got == expected
    assert [row[1] for row in got] == [row["kind"] for row in bulk]  # in the order given
    assert got[0][4] == {"text": "plain", "n": 0, "x": [1.5, None]}
    assert got[-1][4] == {"a": {"b": [True, False, {"c": "\t"}]}}
    assert got[len(AWKWARD)][4] is None  # no data: read back as None either way
    assert got[len(AWKWARD)][0] == datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert got[len(AWKWARD) + 1][0] == datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("count", [0, 1, BULK_FROM - 1, BULK_FROM, 300])
def test_insert_events_writes_every_row_at_any_count(store: Store, count: int) -> None:
    message_id = str(uuid.uuid4())
    store.add([Message(id=message_id, route="r", source="t", body=b"{}", format="json")], [])
    rows = [event_values(message_id, Event("attempt", f"row {i}")) for i in range(count)]
    with store.transaction() as session:
        insert_events(session, rows)
    assert [row[3] for row in _stored(store, message_id)] == [f"row {i}" for i in range(count)]


def test_a_failed_transaction_keeps_none_of_the_copied_rows(store: Store) -> None:
    message_id = str(uuid.uuid4())
    store.add([Message(id=message_id, route="r", source="t", body=b"{}", format="json")], [])
    rows = [event_values(message_id, Event("attempt", f"row {i}")) for i in range(50)]

    def fails_after_the_events() -> None:
        with store.transaction() as session:
            insert_events(session, rows)
            raise RuntimeError("the batch's transaction fails after the events")

    with pytest.raises(RuntimeError):
        fails_after_the_events()
    assert _stored(store, message_id) == []


def _pairs(store: Store, count: int) -> tuple[list[str], list[str]]:
    bulk = [str(uuid.uuid4()) for _ in range(count)]
    plain = [str(uuid.uuid4()) for _ in range(count)]
    store.add(
        [Message(id=m, route="r", source="t", body=b"{}", format="json") for m in bulk + plain],
        ["out", "copy"],
    )
    return bulk, plain


def _message_rows(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    """Each message's row but what differs between two messages stored at once."""
    left_out = ("seq", "id", "received_at", "updated_at")
    with store.engine.connect() as conn:
        found = {row.id: row._asdict() for row in conn.execute(select(MESSAGES))}
    return [{k: v for k, v in found[i].items() if k not in left_out} for i in ids]


def _delivery_rows(store: Store, ids: list[str]) -> list[tuple[Any, ...]]:
    d = DELIVERIES.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(d.message_id, d.sink, d.status, d.attempts, d.last_error, d.delivered_at)
        )
        found = {(row[0], row[1]): tuple(row[2:]) for row in rows}
    return [found[(i, sink)] for i in ids for sink in ("out", "copy")]


def _values(index: int) -> dict[str, Any]:
    """A finished turn's new values, varied by ``index``; ``claimed_by`` None in every row
    (an array of nothing but NULLs)."""
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC) + timedelta(seconds=index)
    return {
        "status": "delivered" if index % 3 else "failed",
        "claimed_by": None,
        "lease_expires_at": None,
        "next_attempt_at": at,
        "turn_open": 0,
        "output": bytes([index % 256]) * index + b"\x00\xff\\",
        "output_content_type": 'application/edifact; charset="utf-8"',
        "output_extension": "edi",
        "error_message": None if index % 3 else AWKWARD[index % len(AWKWARD)].replace("\x00", ""),
    }


@pytest.mark.parametrize("count", [BULK_FROM - 1, BULK_FROM, 60])
def test_update_messages_and_deliveries_store_what_an_executemany_stores(
    store: Store, count: int
) -> None:
    bulk, plain = _pairs(store, count)
    keys = tuple(sorted(_values(0)))
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

    def rows(ids: list[str]) -> list[dict[str, Any]]:
        return [
            {"m_id": mid, **{f"v_{k}": v for k, v in _values(i).items()}}
            for i, mid in enumerate(ids)
        ]

    def attempts(ids: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "m_id": mid,
                "m_sink": sink,
                "m_status": "delivered" if n % 2 else "failed",
                "m_error": None if n % 2 else f"refused\t{n}\n\\",
                "m_at": at if n % 2 else None,
            }
            for i, mid in enumerate(ids)
            for n, sink in enumerate(("out", "copy"), start=i)
        ]

    with store.transaction() as session:
        update_messages(session, keys, rows(bulk))
        update_deliveries(session, attempts(bulk))
        session.execute(bulk_module._update(keys), rows(plain))
        session.execute(bulk_module._DELIVERY, attempts(plain))
    assert _message_rows(store, bulk) == _message_rows(store, plain)
    assert _delivery_rows(store, bulk) == _delivery_rows(store, plain)
    assert _message_rows(store, bulk)[1]["output"] == b"\x01\x00\xff\\"
    assert _delivery_rows(store, bulk)[1] == ("delivered", 1, None, at)


def test_a_text_too_long_for_its_column_fails_the_update_rather_than_being_cut(
    store: Store,
) -> None:
    bulk, _ = _pairs(store, BULK_FROM)
    rows = [{"m_id": mid, "v_status": "x" * 17} for mid in bulk]  # status is VARCHAR(16)
    if store.is_postgres:
        with pytest.raises(StoreError), store.transaction() as session:
            update_messages(session, ("status",), rows)
        assert {row["status"] for row in _message_rows(store, bulk)} == {"received"}
    else:  # SQLite does not enforce a VARCHAR's length: it keeps the text whole
        with store.transaction() as session:
            update_messages(session, ("status",), rows)
        assert {row["status"] for row in _message_rows(store, bulk)} == {"x" * 17}


def test_one_message_named_twice_in_a_batch_gets_both_updates_in_order(store: Store) -> None:
    bulk, _ = _pairs(store, BULK_FROM)
    rows = [{"m_id": mid, "v_status": "failed"} for mid in bulk]
    rows.append({"m_id": bulk[0], "v_status": "delivered"})
    attempts = [
        {"m_id": mid, "m_sink": "out", "m_status": "failed", "m_error": "e", "m_at": None}
        for mid in bulk + bulk[:1]
    ]
    with store.transaction() as session:
        update_messages(session, ("status",), rows)
        update_deliveries(session, attempts)
    assert _message_rows(store, bulk[:1])[0]["status"] == "delivered"
    assert _delivery_rows(store, bulk[:1])[0][:2] == ("failed", 2)
