"""The awaiting-acknowledgement clock starts when a sink delivered the interchange, not when
it was numbered: a message whose delivery keeps failing is not overdue (the partner has not
got it), and once delivered its deadline is the delivery plus the profile's window, in
``GET /messages?awaiting_ack=`` and in the ``hub_acks_*`` gauges alike."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from hub.api import create_app
from hub.formats import make_codec
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.store.interchanges import interchanges_of
from tests.configs import write_config
from tests.partners import partner_config, sqlite_url
from tests.peers import serve_app
from tests.waiting import wait_for_progress

ORDER = b'{"type": "ORDERS", "segments": [["BGM", "220", "PO-9", "9"]]}'


def config(tmp: Path, hours: float) -> dict[str, Any]:
    return partner_config(
        sqlite_url(tmp),
        inbox=False,
        outgoing={"retry": {"initial_delay_seconds": 0, "jitter": 0}},
        acknowledgements={"send": "never", "expect_within_hours": hours},
    )


def gauges(hub: Hub) -> tuple[str, str]:
    text = hub.metrics.exposition().decode()
    lines = [line for line in text.splitlines() if line.startswith("hub_acks_")]
    awaiting = next(line for line in lines if line.startswith("hub_acks_awaiting{"))
    overdue = next(line for line in lines if line.startswith("hub_acks_overdue{"))
    return awaiting.split()[-1], overdue.split()[-1]


def test_an_undelivered_interchange_is_not_overdue_and_the_clock_starts_at_delivery(
    tmp_path: Path,
) -> None:
    hours = 1e-6  # 3.6 ms: long past by the time the first, failed turn ends
    hub = Hub.from_file(write_config(tmp_path, config(tmp_path, hours)))
    (tmp_path / "van").write_text("a file where the sink's directory should be")
    try:
        sent = hub.ingestor.ingest(InboundRequest(route="orders-to-acme", body=ORDER))
        hub.worker.run_once()  # numbered and stored, the delivery failed
        assert hub.store.get(sent.message_id).status is MessageStatus.RETRYING
        with hub.store.transaction() as session:
            [record] = interchanges_of(session, [sent.message_id])
        assert (record.control_ref, record.ack_status, record.ack_due_at) == ("1", "sending", None)
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
            for which in ("any", "overdue"):
                listed = client.get("/messages", params={"awaiting_ack": which})
                assert listed.json()["messages"] == [], which
            assert gauges(hub) == ("0.0", "0.0")

            (tmp_path / "van").unlink()
            wait_for_progress(
                lambda: (hub.worker.run_once(), hub.store.get(sent.message_id).status)[1],
                lambda status: status is MessageStatus.DELIVERED,
                what="the retry to deliver the interchange",
            )
            stored = hub.store.get(sent.message_id)
            [delivery] = stored.deliveries
            assert delivery.delivered_at is not None
            with hub.store.transaction() as session:
                [record] = interchanges_of(session, [sent.message_id])
            assert record.ack_status == "awaiting"
            assert record.ack_due_at == delivery.delivered_at + timedelta(hours=hours)
            assert record.ack_due_at > record.at  # numbered well before it was delivered
            wait_for_progress(
                lambda: client.get("/messages", params={"awaiting_ack": "overdue"}).json(),
                lambda page: [m["id"] for m in page["messages"]] == [sent.message_id],
                what="the delivered interchange to become overdue",
            )
            assert gauges(hub) == ("1.0", "1.0")
    finally:
        hub.close()


def test_a_delivered_interchange_is_due_a_full_window_after_its_delivery(tmp_path: Path) -> None:
    hub = Hub.from_file(write_config(tmp_path, config(tmp_path, 24)))
    try:
        sent = hub.ingestor.ingest(InboundRequest(route="orders-to-acme", body=ORDER))
        while hub.worker.run_once():
            pass
        [delivery] = hub.store.get(sent.message_id).deliveries
        assert delivery.delivered_at is not None
        with hub.store.transaction() as session:
            [record] = interchanges_of(session, [sent.message_id])
        assert record.ack_due_at == delivery.delivered_at + timedelta(hours=24)
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
            waiting = client.get("/messages", params={"awaiting_ack": "any"}).json()
            assert [m["id"] for m in waiting["messages"]] == [sent.message_id]
            overdue = client.get("/messages", params={"awaiting_ack": "overdue"}).json()
            assert overdue["messages"] == []
        assert gauges(hub) == ("1.0", "0.0")
    finally:
        hub.close()


def test_a_replayed_dead_letter_resends_its_interchange_or_numbers_a_new_one(
    tmp_path: Path,
) -> None:
    """``original`` sends the stored bytes, numbers included; ``current`` translates again
    into a new interchange with the next numbers, and the first one is ``replaced``."""
    cfg = config(tmp_path, 24)
    cfg["routes"]["orders-to-acme"]["retry"]["max_attempts"] = 1
    hub = Hub.from_file(write_config(tmp_path, cfg))
    van = tmp_path / "van"
    codec = make_codec("edifact", {"validate": False})
    try:

        def dead_letter() -> str:
            van.write_text("a file where the sink's directory should be")
            sent = hub.ingestor.ingest(InboundRequest(route="orders-to-acme", body=ORDER))
            hub.worker.run_once()
            assert hub.store.get(sent.message_id).status is MessageStatus.FAILED
            van.unlink()
            assert sent.message_id is not None
            return sent.message_id

        def replay(message_id: str, mode: Any) -> tuple[list[tuple[str, str]], str]:
            hub.dead_letters.replay(message_id, actor="test", reason="fixed", mode=mode)
            while hub.worker.run_once():
                pass
            assert hub.store.get(message_id).status is MessageStatus.DELIVERED
            with hub.store.transaction() as session:
                records = interchanges_of(session, [message_id])
            [sent] = [p for p in van.iterdir() if message_id in p.name]
            reference = codec.decode(sent.read_bytes())["header"][4]
            shutil.rmtree(van)
            return [(r.control_ref, r.ack_status) for r in records], reference

        resent = dead_letter()
        assert replay(resent, "original") == ([("1", "awaiting")], "1")
        renumbered = dead_letter()
        assert replay(renumbered, "current") == ([("2", "replaced"), ("3", "awaiting")], "3")
    finally:
        hub.close()
