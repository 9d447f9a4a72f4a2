"""A turn's budget (worker.turn_budget_seconds) in a real hub: translation stops between
stages once it is spent, a delivery gets only the time left, a turn stuck past it is
abandoned by the watchdog (its thread replaced), and a turn the store refuses to record
still ends the message's turns."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import EXAMPLE_ORDER, ROOT, demo_config, write_config
from tests.peers import Reply, http_peer, trickle_peer
from tests.waiting import wait_for_progress


def start_hub(tmp_path: Path, config: dict[str, Any]) -> Hub:
    return Hub.from_file(write_config(tmp_path, config))


def ingest(hub: Hub) -> str:
    result = hub.ingestor.ingest(
        InboundRequest(route="shop-orders", body=EXAMPLE_ORDER.read_bytes())
    )
    assert result.message_id is not None
    return result.message_id


def worker(budget: float) -> dict[str, Any]:
    return {
        "threads": 1,
        "poll_interval_seconds": 0.1,
        "lease_seconds": 30,
        "turn_budget_seconds": budget,
    }


@pytest.fixture
def hub_factory(tmp_path: Path) -> Iterator[Any]:
    hubs: list[Hub] = []

    def make(**config: Any) -> Hub:
        hub = start_hub(tmp_path, demo_config(tmp_path, **config))
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.close()


def test_a_translation_past_the_budget_is_a_dead_letter_that_says_so(hub_factory: Any) -> None:
    hub = hub_factory(worker=worker(0.000001))  # gone before the document is decoded
    message_id = ingest(hub)
    assert hub.worker.run_once() == 1
    record = hub.store.get(message_id)
    assert record.status is MessageStatus.FAILED
    assert record.error is not None
    assert (record.error.stage, record.error.type) == ("process", "over_budget")
    assert record.error.message.startswith("the translation ran out of the turn's time after ")
    assert record.attempts == 1


def test_a_delivery_gets_only_the_time_left_in_the_turn(hub_factory: Any) -> None:
    with http_peer() as peer:
        peer.default = Reply(200, delay=30)  # far slower than the turn may take
        sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
        hub = hub_factory(worker=worker(1.0), sinks=sinks)
        message_id = ingest(hub)
        started = time.monotonic()
        assert hub.worker.run_once() == 1
        assert time.monotonic() - started < 10  # not the sink's own 10 s timeout
        record = hub.store.get(message_id)
        assert record.status is MessageStatus.RETRYING
        attempt = next(e for e in record.events if e.kind == "attempt")
        assert re.search(r"timed out after (0\.\d+|1\.0)s", attempt.detail), attempt.detail


def test_the_watchdog_replaces_a_stuck_thread_and_the_worker_goes_on(hub_factory: Any) -> None:
    with trickle_peer() as partner:
        sinks = [{"name": "partner", "type": "http", "options": {"url": partner.url}}]
        retry = {"max_attempts": 5, "initial_delay_seconds": 60}
        hub = hub_factory(worker=worker(0.5), sinks=sinks, retry=retry)
        hub.start()
        [seat] = hub.worker.seats()
        message_id = ingest(hub)
        [replaced] = wait_for_progress(
            hub.worker.seats, lambda seats: seats[0] is not seat, what="a new worker thread"
        )
        assert (replaced.index, replaced.generation) == (0, 1)
        assert replaced.thread is not None
        assert replaced.thread.is_alive()
        assert hub.worker.stuck_threads() == 1
        record = wait_for_progress(
            lambda: hub.store.get(message_id),
            lambda r: r.events[-1].kind == "abandoned",
            what="the abandoned event",
        )
        assert record.status is MessageStatus.RECEIVED
        assert record.next_attempt_at is not None
        assert record.next_attempt_at > record.updated_at  # the route's backoff, not at once
        assert record.attempts == 1
        abandoned = hub.metrics.registry.get_sample_value(
            "hub_turns_abandoned_total", {"route": "shop-orders"}
        )
        assert abandoned == 1
        partner.release()
        wait_for_progress(hub.worker.stuck_threads, lambda n: n == 0, what="the stuck thread")


def test_a_turn_longer_than_its_lease_keeps_its_message(hub_factory: Any) -> None:
    """The watchdog extends the leases of a working thread: a second thread does not take
    the message over after lease_seconds and deliver it again meanwhile."""
    with http_peer() as peer:
        peer.replies = [Reply(200, delay=3)]  # three leases long
        sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
        hub = hub_factory(worker={**worker(60), "threads": 2, "lease_seconds": 1}, sinks=sinks)
        hub.start()
        message_id = ingest(hub)
        record = wait_for_progress(
            lambda: hub.store.get(message_id),
            lambda r: r.status is MessageStatus.DELIVERED,
            what="the delivery",
        )
        assert len(peer.received) == 1
        assert record.attempts == 1
        assert [e.kind for e in record.events].count("turn") == 1


def test_a_turn_the_database_refuses_to_record_ends_as_a_dead_letter(
    tmp_path: Path, postgres_url: str
) -> None:
    """PostgreSQL refuses a mapping name over 255 characters in the message row: the
    turn cannot be recorded, so a minimal failed turn is, and the message is not sent
    again and again."""
    mapping = (ROOT / "mappings/woocommerce-order-to-erp.yaml").read_text(encoding="utf-8")
    long_name = "n" * 300
    path = tmp_path / "long-name.yaml"
    path.write_text(
        mapping.replace("name: woocommerce-order-to-erp", f"name: {long_name}"), encoding="utf-8"
    )
    config = demo_config(tmp_path, store_url=postgres_url)
    config["routes"]["shop-orders"]["mapping"] = str(path)
    hub = start_hub(tmp_path, config)
    try:
        message_id = ingest(hub)
        assert hub.worker.run_once() == 1
        assert hub.worker.run_once() == 0  # nothing left to do: no loop
        record = hub.store.get(message_id)
        assert record.status is MessageStatus.FAILED
        assert record.error is not None
        assert (record.error.stage, record.error.type) == ("process", "record_failed")
        assert record.error.message.startswith("could not record the turn: ")
        assert "value too long" in record.error.message
        assert [d.status.value for d in record.deliveries] == ["delivered"]
        assert len(list((tmp_path / "outbox").iterdir())) == 1
        assert record.attempts == 1
    finally:
        hub.close()
