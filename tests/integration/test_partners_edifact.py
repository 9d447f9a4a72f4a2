"""Trading partners over EDIFACT, end to end on a real store and real directories: one inbox
routes by envelope, answers with CONTRL, refuses a repeated interchange, dead-letters an
unknown partner; outgoing messages get the partner's envelope and wait for its CONTRL."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.api import create_app
from hub.formats import make_codec
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.store import MessageFilter, find_messages
from hub.store.interchanges import interchanges_of
from tests.configs import write_config
from tests.partners import (
    ACME,
    HUB,
    drain,
    partner_config,
    receive,
    running,
    sqlite_url,
)
from tests.partners import edifact_interchange as interchange
from tests.peers import serve_app


def config(tmp: Path, **acme: Any) -> dict[str, Any]:
    return partner_config(sqlite_url(tmp), incoming_output="json", **acme)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with running(tmp_path, config(tmp_path)) as hub:
        yield hub


def contrl_segments(path: Path) -> list[Any]:
    tree = make_codec("edifact", {"validate": False}).decode(path.read_bytes())
    return list(tree["messages"][0]["segments"]), tree["header"]


def test_an_interchange_is_routed_by_envelope_and_answered_with_contrl(
    hub: Hub, tmp_path: Path
) -> None:
    result = receive(hub, interchange("ICR42"))
    assert len(result.ids) == 2  # the interchange, and its CONTRL
    drain(hub)
    assert hub.store.get(result.message_id).status is MessageStatus.DELIVERED
    routed = find_messages(hub.store, MessageFilter(route="acme-orders")).messages
    assert sorted(m.correlation_key or "" for m in routed) == ["ICR42/1", "ICR42/2"]
    assert all(m.status is MessageStatus.DELIVERED for m in routed)
    assert len(list((tmp_path / "erp").iterdir())) == 2
    assert len(list((tmp_path / "archive").iterdir())) == 1
    [sent] = find_messages(hub.store, MessageFilter(route="acme.acks")).messages
    assert sent.status is MessageStatus.DELIVERED  # a message of its own, with a history
    [ack] = list((tmp_path / "acks").iterdir())
    segments, header = contrl_segments(ack)
    assert header[1] == list(HUB)
    assert header[2] == list(ACME)
    uci = next(s for s in segments if s[0] == "UCI")
    assert uci[1] == "ICR42"
    assert uci[4] == "7"


def test_a_repeated_interchange_is_refused_and_the_contrl_says_so(hub: Hub, tmp_path: Path) -> None:
    receive(hub, interchange("ICR43"))
    again = receive(hub, interchange("ICR43"))
    assert again.duplicate
    drain(hub)
    routed = find_messages(hub.store, MessageFilter(route="acme-orders")).messages
    assert len(routed) == 2  # the repeat routed nothing
    history = [e.kind for e in hub.store.get(again.message_id).events]
    assert "duplicate" in history
    with hub.store.transaction() as session:
        [record] = interchanges_of(session, [again.message_id])
    assert record.duplicate_of is not None
    assert record.ack_status == "rejected"  # what the CONTRL told the partner
    answers = sorted((tmp_path / "acks").iterdir())
    assert len(answers) == 2
    rejected = [contrl_segments(a)[0] for a in answers]
    ucis = sorted((next(s for s in seg if s[0] == "UCI") for seg in rejected), key=len)
    assert ucis[0][4] == "7"
    assert ucis[1][4] == "4"
    assert ucis[1][5] == "26"


def test_an_unknown_partner_and_an_unrouted_type_are_dead_letters(hub: Hub) -> None:
    stranger = receive(hub, interchange("X1", sender=("9999999999999", "14")))
    invoice = receive(hub, interchange("X2", kind="INVOIC"))
    drain(hub)
    unknown = hub.store.get(stranger.message_id)
    assert unknown.status is MessageStatus.FAILED
    assert unknown.error is not None
    assert unknown.error.type == "unknown_partner"
    assert "9999999999999:14" in unknown.error.message
    unrouted = hub.store.get(invoice.message_id)
    assert unrouted.status is MessageStatus.FAILED
    assert unrouted.error is not None
    assert "sent a INVOIC message" in unrouted.error.message


def test_an_outgoing_message_gets_the_envelope_and_awaits_its_contrl(
    hub: Hub, tmp_path: Path
) -> None:
    order = b'{"type": "ORDERS", "segments": [["BGM", "220", "PO-9", "9"]]}'
    first = hub.ingestor.ingest(InboundRequest(route="orders-to-acme", body=order))
    second = hub.ingestor.ingest(InboundRequest(route="orders-to-acme", body=order))
    drain(hub)
    codec = make_codec("edifact", {"validate": False})
    sent = [codec.decode(p.read_bytes()) for p in sorted((tmp_path / "van").iterdir())]
    refs = sorted(tree["header"][4] for tree in sent)
    assert refs == ["1", "2"]  # numbered per partner, from the store
    assert all(tree["header"][1] == list(HUB) for tree in sent)
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        waiting = client.get("/messages", params={"awaiting_ack": "any"}).json()
        assert {m["id"] for m in waiting["messages"]} == {first.message_id, second.message_id}
        assert client.get("/messages", params={"awaiting_ack": "overdue"}).json()["messages"] == []
        ref = hub.store.output(first.message_id)
        assert ref is not None
        first_ref = codec.decode(ref[0])["header"][4]
        contrl = (
            f"UNB+UNOC:3+{ACME[0]}:{ACME[1]}+{HUB[0]}:{HUB[1]}+261120:1405+C1'\n"
            "UNH+1+CONTRL:D:3:UN'\n"
            f"UCI+{first_ref}+{HUB[0]}:{HUB[1]}+{ACME[0]}:{ACME[1]}+7'\n"
            "UCM+1+ORDERS:D:96A:UN+4+12'\n"
            "UNT+4+1'\nUNZ+1+C1'\n"
        ).encode()
        receive(hub, contrl)
        waiting = client.get("/messages", params={"awaiting_ack": "any"}).json()
        assert [m["id"] for m in waiting["messages"]] == [second.message_id]
        metrics = client.get("/metrics").text
        assert 'hub_acks_awaiting{partner="acme"} 1.0' in metrics
        acks = client.get("/messages", params={"route": "acme.acks"})
        assert acks.status_code == 200  # the hub's own route can be listed
        assert acks.json()["messages"] == []  # a CONTRL received is never answered
    events = hub.store.get(first.message_id).events
    ack = next(e for e in events if e.kind == "ack_received")
    assert "accepted_with_errors" in ack.detail
    assert "12 at message 1" in ack.detail


def test_an_overdue_acknowledgement_is_listed_and_counted(tmp_path: Path) -> None:
    cfg = config(tmp_path, acknowledgements={"send": "never", "expect_within_hours": 1e-9})
    cfg["partners"]["acme"].pop("sink")
    hub = Hub.from_file(write_config(tmp_path, cfg))
    try:
        order = b'{"type": "ORDERS", "segments": [["BGM", "220", "PO-9", "9"]]}'
        sent = hub.ingestor.ingest(InboundRequest(route="orders-to-acme", body=order))
        drain(hub)
        overdue = find_messages(hub.store, MessageFilter(awaiting_ack="overdue")).messages
        assert [m.id for m in overdue] == [sent.message_id]
        assert 'hub_acks_overdue{partner="acme"} 1.0' in hub.metrics.exposition().decode()
    finally:
        hub.close()
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "messages",
            "list",
            "--config",
            str(tmp_path / "hub.yaml"),
            "--awaiting-ack",
            "overdue",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [sent.message_id]


def test_a_broken_envelope_is_rejected_to_the_partner_and_routes_nothing(
    hub: Hub, tmp_path: Path
) -> None:
    broken = interchange("ICR44").replace(b"UNZ+2+ICR44", b"UNZ+3+ICR44")
    result = receive(hub, broken)
    drain(hub)
    inbox = hub.store.get(result.message_id)
    assert inbox.status is MessageStatus.FAILED
    assert inbox.error is not None
    assert inbox.error.type == "interchange_rejected"
    assert "UNZ" in inbox.error.message
    assert find_messages(hub.store, MessageFilter(route="acme-orders")).messages == ()
    [ack] = list((tmp_path / "acks").iterdir())
    uci = next(s for s in contrl_segments(ack)[0] if s[0] == "UCI")
    assert uci[4] == "4"


def test_the_history_of_a_sent_message_names_its_control_numbers(hub: Hub) -> None:
    order = b'{"type": "ORDERS", "segments": [["BGM", "220", "PO-9", "9"]]}'
    sent = hub.ingestor.ingest(InboundRequest(route="orders-to-acme", body=order))
    drain(hub)
    enveloped = next(e for e in hub.store.get(sent.message_id).events if e.kind == "enveloped")
    assert enveloped.detail == (
        "in acme's envelope: interchange 1, group 1, message 1; its acknowledgement is due "
        "within 24 h of its delivery"
    )


def test_a_flagged_duplicate_is_routed_marked_and_acknowledged_with_code_26(
    tmp_path: Path,
) -> None:
    hub = Hub.from_file(write_config(tmp_path, config(tmp_path, duplicates={"action": "flag"})))
    try:
        receive(hub, interchange("ICR45"))
        again = receive(hub, interchange("ICR45"))
        assert not again.duplicate  # flagged, not refused
        drain(hub)
        routed = find_messages(hub.store, MessageFilter(route="acme-orders")).messages
        assert len(routed) == 4
        flagged = [m for m in routed if hub.store.get(m.id).message.headers.get("x-hub-duplicate")]
        assert len(flagged) == 2
        ucis = [
            next(s for s in contrl_segments(a)[0] if s[0] == "UCI")
            for a in sorted((tmp_path / "acks").iterdir())
        ]
        marked = next(u for u in ucis if len(u) > 5)
        assert marked[4:] == ["7", "26", "UNB", "5"]  # acknowledged; 26 at UNB 0020
    finally:
        hub.close()
