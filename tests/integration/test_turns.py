"""Turns in the store, on SQLite and PostgreSQL: an attempt is counted when its turn starts,
a message whose turns keep dying becomes a poison dead letter, an abandoned turn frees its
worker's leases, and every text the store writes is one the database takes."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from hub.errors import MessageNotFound, QueryError
from hub.message import DeliveryStatus, Event, Message, MessageStatus
from hub.store import DeadLetters, MessageFilter, SinkAttempt, Store, StoredError, Turn
from hub.store.queries import find_messages

ROUTE = "r"
LIMITS = {ROUTE: 2}


def add(store: Store, **fields: Any) -> Message:
    msg = Message(
        id=str(uuid.uuid4()), route=ROUTE, source="http", body=b"{}", format="json", **fields
    )
    store.add(msg, ["erp", "crm"])
    return msg


def dies(store: Store, worker: str) -> None:
    """``worker``'s process is gone: its leases are freed, as a restart on its host does."""
    store.recover_leases(lambda holder: holder == worker)


def kinds(store: Store, message_id: str, *wanted: str) -> list[str]:
    return [e.kind for e in store.get(message_id).events if not wanted or e.kind in wanted]


def test_the_claim_starts_every_turn_and_a_message_whose_turn_died_runs_alone(
    store: Store,
) -> None:
    first, second, third = add(store), add(store), add(store)
    batch = store.claim("w", lease_seconds=30, limit=3, max_attempts=LIMITS)
    assert [(c.message.id, c.started, c.attempts) for c in batch] == [
        (first.id, True, 1),
        (second.id, True, 1),
        (third.id, True, 1),
    ]
    turn = store.get(second.id).events[-1]
    assert (turn.kind, turn.detail) == ("turn", "turn 1 started by w, sinks pending: erp, crm")

    # The worker dies in the batch: each message's turn counted, and each now runs alone,
    # so a message that kills its worker cannot use up the attempts of the others.
    assert len(store.recover_leases(lambda holder: holder == "w")) == 3
    for msg in (first, second, third):
        [claimed] = store.claim("w2", lease_seconds=30, limit=3, max_attempts=LIMITS)
        assert (claimed.message.id, claimed.attempts) == (msg.id, 2)
        assert store.finish(msg.id, "w2", Turn(MessageStatus.DELIVERED))
    add(store), add(store)
    assert len(store.claim("w3", lease_seconds=30, limit=3, max_attempts=LIMITS)) == 2


def test_a_finish_after_the_lease_was_lost_changes_no_status(store: Store) -> None:
    first, second = add(store), add(store)
    store.claim("w", lease_seconds=30, limit=2)
    dies(store, "w")
    assert len(store.claim("other", lease_seconds=30, limit=2)) == 1  # the first, alone
    delivered = Turn(MessageStatus.DELIVERED, events=(Event("delivered", "all"),))
    assert store.finish_many("w", [(first.id, delivered), (second.id, delivered)]) == [
        False,
        False,
    ]
    assert [store.get(m.id).attempts for m in (first, second)] == [2, 1]
    assert {store.get(m.id).status for m in (first, second)} == {MessageStatus.RECEIVED}
    assert kinds(store, second.id)[-1] == "lease_lost"


def test_turns_that_never_finish_make_a_poison_dead_letter(store: Store) -> None:
    msg = add(store)
    for worker in ("w0", "w1"):  # each dies in its turn
        [claimed] = store.claim(worker, lease_seconds=30, limit=5, max_attempts=LIMITS)
        assert (claimed.started, claimed.poison) == (True, None)
        dies(store, worker)
    [claimed] = store.claim("w2", lease_seconds=30, limit=5, max_attempts=LIMITS)
    assert not claimed.started
    assert claimed.poison == StoredError(
        "process",
        "poison",
        "poison: 2 attempts did not finish (the worker died or stalled each time); last holder w1",
    )
    record = store.get(msg.id)
    assert record.status is MessageStatus.FAILED
    assert record.attempts == 2
    assert record.error == claimed.poison
    assert kinds(store, msg.id, "turn", "recovered", "failed") == [
        "turn",
        "recovered",
        "turn",
        "recovered",
        "failed",
    ]
    assert store.claim("w3", lease_seconds=30, limit=5, max_attempts=LIMITS) == []


def test_a_poison_verdict_counts_only_the_turns_that_did_not_finish(store: Store) -> None:
    msg = add(store)
    store.claim("w0", lease_seconds=30, limit=1, max_attempts=LIMITS)
    retry = Event("retry_scheduled", "next attempt in 0.0s")
    assert store.finish(msg.id, "w0", Turn(MessageStatus.RETRYING, events=(retry,)))
    store.claim("w1", lease_seconds=30, limit=1, max_attempts=LIMITS)
    dies(store, "w1")
    [claimed] = store.claim("w2", lease_seconds=30, limit=1, max_attempts=LIMITS)
    assert claimed.poison is not None
    assert claimed.poison.message == (
        "poison: 1 of 2 attempts did not finish (the worker died or stalled); last holder w1"
    )


def test_a_replayed_poison_dead_letter_gets_its_attempts_anew(store: Store) -> None:
    msg = add(store)
    for worker in ("w0", "w1", "w2"):
        store.claim(worker, lease_seconds=30, limit=1, max_attempts=LIMITS)
        dies(store, worker)
    assert store.get(msg.id).status is MessageStatus.FAILED
    DeadLetters(store).replay(msg.id, actor="alice", reason="partner fixed", mode="current")
    assert store.get(msg.id).attempts == 0
    [claimed] = store.claim("w3", lease_seconds=30, limit=1, max_attempts=LIMITS)
    assert (claimed.started, claimed.attempts, claimed.poison) == (True, 1, None)
    assert store.finish(msg.id, "w3", Turn(MessageStatus.DELIVERED))
    assert store.get(msg.id).status is MessageStatus.DELIVERED


def test_finish_no_longer_counts_the_attempt(store: Store) -> None:
    msg = add(store)
    [claimed] = store.claim("w", lease_seconds=30, limit=1)
    assert claimed.attempts == 1
    assert store.finish(msg.id, "w", Turn(MessageStatus.RETRYING))
    assert store.get(msg.id).attempts == 1


def test_an_abandoned_turn_frees_its_batch_and_a_late_finish_changes_nothing(
    store: Store,
) -> None:
    first, second = add(store), add(store)
    store.claim("stuck", lease_seconds=300, limit=2)
    batch = [first.id, second.id]
    assert store.abandon(first.id, "stuck", detail="abandoned after 3 s", batch=batch)
    assert not store.abandon(first.id, "stuck", detail="again")  # no longer its to abandon
    assert kinds(store, first.id)[-1] == "abandoned"
    assert kinds(store, second.id, "abandoned") == []

    again = store.claim("fresh", lease_seconds=30, limit=2)
    assert [c.message.id for c in again] == [first.id]  # free again; its turn died: alone
    assert again[0].attempts == 2
    assert [c.message.id for c in store.claim("fresh2", lease_seconds=30, limit=2)] == [second.id]
    late = Event("attempt", "HTTP 200 at last", sink="erp")
    done = SinkAttempt("erp", DeliveryStatus.DELIVERED, "HTTP 200 at last", late.at)
    ended = Turn(
        MessageStatus.DELIVERED, attempts=(done,), events=(late, Event("delivered", "all"))
    )
    assert not store.finish(first.id, "stuck", ended)
    record = store.get(first.id)
    assert record.status is MessageStatus.RECEIVED  # the new holder decides
    assert record.deliveries[0].status is DeliveryStatus.DELIVERED  # but the history is kept
    assert [e.kind for e in record.events][-2:] == ["attempt", "lease_lost"]  # no "delivered"
    assert record.events[-1].data == {"outcome": "delivered"}


def test_a_late_turn_does_not_hide_a_turn_that_did_not_finish(store: Store) -> None:
    msg = add(store)
    store.claim("stuck", lease_seconds=300, limit=1, max_attempts=LIMITS)
    store.abandon(msg.id, "stuck", detail="abandoned after 3 s")
    store.claim("w1", lease_seconds=30, limit=1, max_attempts=LIMITS)
    retry = Event("retry_scheduled", "next attempt in 1.0s")
    assert not store.finish(msg.id, "stuck", Turn(MessageStatus.RETRYING, events=(retry,)))
    dies(store, "w1")
    [claimed] = store.claim("w2", lease_seconds=30, limit=1, max_attempts=LIMITS)
    assert claimed.poison is not None
    assert claimed.poison.message.startswith("poison: 2 attempts did not finish")


def test_an_abandoned_turn_waits_until_its_retry_time(store: Store) -> None:
    msg = add(store)
    store.claim("stuck", lease_seconds=300, limit=1)
    later = store.get(msg.id).updated_at.replace(year=2999)
    assert store.abandon(msg.id, "stuck", detail="abandoned", retry_at=later)
    assert store.claim("fresh", lease_seconds=30, limit=1) == []


def test_extending_leases_keeps_a_long_turn_its_messages(store: Store) -> None:
    ids = [add(store).id, add(store).id]
    store.claim("slow", lease_seconds=0.2, limit=2)
    assert store.extend_leases("slow", ids, lease_seconds=30) == 2
    assert store.extend_leases("other", ids, lease_seconds=30) == 0  # not its leases
    time.sleep(0.3)  # the first lease would have lapsed by now
    assert store.claim("other", lease_seconds=30, limit=2) == []


def test_every_text_the_store_writes_may_hold_nul_and_lone_surrogates(store: Store) -> None:
    dirty = add(
        store,
        correlation_key="PO\x00-7\ud800",
        idempotency_key="key\ud800",
        ordering_key="o\x00",
        content_type="text/plain\x00",
        headers={"x-\x00": "v\udc00", "ok": "fine"},
    )
    twin = add(store, idempotency_key="key\udc00")  # differs only where both are cleaned
    assert twin.id != dirty.id
    assert store.get(twin.id).message.idempotency_key != store.get(dirty.id).message.idempotency_key
    repeat = Message(
        id=str(uuid.uuid4()),
        route=ROUTE,
        source="http",
        body=b"{}",
        format="json",
        idempotency_key="key\ud800",
    )
    assert store.add(repeat, ["erp"]) == [dirty.id]  # the same key is still the same message

    [claimed, _] = store.claim("w", lease_seconds=30, limit=2)
    assert claimed.message.id == dirty.id
    said = "HTTP 500: broken \x00 here \ud800"
    event = Event("attempt", said, sink="erp", data={"body\x00": ["\ud800", 1, None]})
    turn = Turn(
        MessageStatus.FAILED,
        error=StoredError("deliver", "delivery_fatal", said),
        attempts=(SinkAttempt("erp", DeliveryStatus.FAILED, said, event.at),),
        events=(event, Event("failed", said)),
    )
    assert store.finish(dirty.id, "w", turn)
    DeadLetters(store).replay(dirty.id, actor="al\x00ice", reason="why \ud800", mode="original")

    record = store.get(dirty.id)
    cleaned = "HTTP 500: broken \ufffd here \ufffd"
    key = record.message.correlation_key
    assert key is not None
    assert key.startswith("PO\ufffd-7\ufffd~")  # and a digest: a key stays distinct
    assert record.message.headers == {"x-\ufffd": "v\ufffd", "ok": "fine"}
    assert record.message.content_type == "text/plain\ufffd"
    assert record.deliveries[0].last_error == cleaned
    attempt = next(e for e in record.events if e.kind == "attempt")
    assert (attempt.detail, attempt.data) == (cleaned, {"body\ufffd": ["\ufffd", 1, None]})
    assert record.events[-1].detail.endswith("why \ufffd")
    assert DeadLetters(store).audit(dirty.id)[0]["actor"] == "al\ufffdice"

    stored = find_messages(store, MessageFilter(correlation_key=key)).messages
    assert [m.id for m in stored] == [dirty.id]  # found by the key as stored
    with pytest.raises(QueryError):  # a search for a key no message can have is refused
        find_messages(store, MessageFilter(correlation_key="PO\x00-7\ud800"))
    with pytest.raises(MessageNotFound):
        store.get("no\x00such id")
