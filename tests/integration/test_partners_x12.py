"""Trading partners over X12, end to end: the inbox answers an 850 with a 997 (and a TA1 when
ISA14 asks), reusing the received ISA's version and usage; a faulty set is rejected with
AK3/AK4; an outgoing 810 gets the partner's ISA/GS and is closed by the partner's 997."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.formats import make_codec
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.store import MessageFilter, find_messages
from hub.store.interchanges import interchanges_of
from tests.partners import SHOP_X12, drain, partner_config, receive, running, sqlite_url

DATA = Path(__file__).resolve().parents[1] / "data" / "x12"
PO = (DATA / "850_4010_purchase_order.x12").read_bytes()  # SHOPBUYER -> ACMESUPPLY


def config(tmp: Path, **shop: Any) -> dict[str, Any]:
    return partner_config(sqlite_url(tmp), SHOP_X12, auth=False, incoming_output="json", **shop)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with running(tmp_path, config(tmp_path)) as hub:
        yield hub


def answers(tmp: Path) -> list[bytes]:
    folder = tmp / "acks"
    return [p.read_bytes() for p in sorted(folder.iterdir())] if folder.exists() else []


def test_an_850_is_routed_and_answered_with_a_997(hub: Hub, tmp_path: Path) -> None:
    result = receive(hub, PO)
    drain(hub)
    [order] = find_messages(hub.store, MessageFilter(route="shop-orders")).messages
    assert order.status is MessageStatus.DELIVERED
    [ack] = answers(tmp_path)
    tree = make_codec("x12").decode(ack)  # a valid 997 by the 004010 definition
    assert tree["header"][5].strip() == "ACMESUPPLY"
    assert tree["header"][7].strip() == "SHOPBUYER"
    assert tree["header"][11] == "00401"  # the received ISA12
    assert tree["groups"][0]["header"][7] == "004010"  # the received GS08
    segments = tree["groups"][0]["messages"][0]["segments"]
    assert ["AK1", "PO", "905"] in segments
    assert ["AK9", "A", "1", "1", "1"] in segments
    assert hub.store.get(result.message_id).status is MessageStatus.DELIVERED


def test_a_requested_ta1_and_a_rejecting_997_for_a_faulty_set(hub: Hub, tmp_path: Path) -> None:
    bad = PO.replace(b"*0*P*>~", b"*1*P*>~").replace(b"PO1*2*6*CA*41.5", b"PO1*2*6*CA*41.5X")
    receive(hub, bad)
    drain(hub)
    texts = [a.decode() for a in answers(tmp_path)]
    ta1 = next(t for t in texts if "\nTA1*" in t)
    assert "TA1*000000905*261120*1405*A*000~" in ta1
    ninety_seven = next(t for t in texts if "ST*997" in t)
    assert "AK3*PO1*18**8~" in ninety_seven
    assert "AK5*R*5~" in ninety_seven
    assert "AK9*R*1*1*0~" in ninety_seven


def test_a_repeated_interchange_gets_a_ta1_with_note_025(hub: Hub, tmp_path: Path) -> None:
    receive(hub, PO)
    again = receive(hub, PO)
    assert again.duplicate
    drain(hub)
    assert len(find_messages(hub.store, MessageFilter(route="shop-orders")).messages) == 1
    texts = [a.decode() for a in answers(tmp_path)]
    assert any("*R*025~" in t for t in texts)


def test_an_outgoing_810_is_enveloped_and_closed_by_the_partners_997(
    hub: Hub, tmp_path: Path
) -> None:
    invoice = (
        b'{"type": "810", "segments": [["ST", "810", "9"], ["BIG", "20261130", "INV-1"],'
        b' ["TDS", "1000"]]}'
    )
    sent = hub.ingestor.ingest(InboundRequest(route="invoices-to-shop", body=invoice))
    drain(hub)
    [out] = sorted((tmp_path / "van").iterdir())
    tree = make_codec("x12", {"validate": False}).decode(out.read_bytes())
    assert tree["header"][5].strip() == "ACMESUPPLY"
    assert tree["header"][7].strip() == "SHOPBUYER"
    gs = tree["groups"][0]["header"]
    assert gs[0] == "IN"
    assert gs[7] == "004010"
    group_ref = gs[5]
    waiting = find_messages(hub.store, MessageFilter(awaiting_ack="any")).messages
    assert [m.id for m in waiting] == [sent.message_id]
    ack = (
        "ISA*00*          *00*          *ZZ*SHOPBUYER      *ZZ*ACMESUPPLY     *261130*1200*U*"
        "00401*000000077*0*P*>~\n"
        "GS*FA*SHOPBUYER*ACMESUPPLY*20261130*1200*77*X*004010~\n"
        f"ST*997*0001~\nAK1*IN*{group_ref}~\nAK2*810*0001~\nAK5*A~\nAK9*A*1*1*1~\n"
        "SE*6*0001~\nGE*1*77~\nIEA*1*000000077~\n"
    ).encode()
    before = len(answers(tmp_path))
    receive(hub, ack)
    drain(hub)
    assert len(answers(tmp_path)) == before  # a 997 is never acknowledged
    assert find_messages(hub.store, MessageFilter(awaiting_ack="any")).messages == ()
    events = hub.store.get(sent.message_id).events
    assert any(e.kind == "ack_received" and "accepted" in e.detail for e in events)


def ta1(ref: str, code: str, note: str, *, control: str = "000000078") -> bytes:
    """An interchange acknowledgement from the partner, shaped as partners send them."""
    return (
        "ISA*00*          *00*          *ZZ*SHOPBUYER      *ZZ*ACMESUPPLY     *261130*1210*U*"
        f"00401*{control}*0*P*>~\r\n"
        f"TA1*{ref}*261130*1200*{code}*{note}~\r\n"
        f"IEA*0*{control}~\r\n"
    ).encode()


def send_invoice(hub: Hub, tmp_path: Path, number: str) -> tuple[str, str, str]:
    """An 810 sent to the partner: (message id, ISA13, GS06) of its interchange."""
    invoice = (
        f'{{"type": "810", "segments": [["ST", "810", "9"], ["BIG", "20261130", "{number}"],'
        ' ["TDS", "1000"]]}'
    ).encode()
    sent = hub.ingestor.ingest(InboundRequest(route="invoices-to-shop", body=invoice))
    drain(hub)
    output = hub.store.output(sent.message_id)
    assert output is not None
    tree = make_codec("x12", {"validate": False}).decode(output[0])
    return sent.message_id, tree["header"][12], tree["groups"][0]["header"][5]


def record_of(hub: Hub, message_id: str) -> Any:
    with hub.store.transaction() as session:
        [record] = interchanges_of(session, [message_id])
    return record


def test_a_rejecting_ta1_closes_the_interchange_with_its_note_code(
    hub: Hub, tmp_path: Path
) -> None:
    sent, isa13, _ = send_invoice(hub, tmp_path, "INV-1")
    assert record_of(hub, sent).ack_status == "awaiting"
    before = len(answers(tmp_path))
    received = receive(hub, ta1(isa13, "R", "022"))
    drain(hub)
    assert len(answers(tmp_path)) == before  # a TA1 is never acknowledged
    record = record_of(hub, sent)
    assert record.ack_status == "rejected"
    assert record.ack_message_id == received.message_id
    assert record.ack_detail["errors"] == ["022 at interchange"]
    events = hub.store.get(sent).events
    assert any(
        e.kind == "ack_received" and e.detail == "TA1 from shop: rejected (022 at interchange)"
        for e in events
    )
    assert find_messages(hub.store, MessageFilter(awaiting_ack="any")).messages == ()
    inbox = hub.store.get(received.message_id)
    assert inbox.status is MessageStatus.DELIVERED  # archived, nothing routed
    assert find_messages(hub.store, MessageFilter(route="shop-orders")).messages == ()


def test_an_accepting_ta1_closes_it_but_does_not_overrule_a_997(hub: Hub, tmp_path: Path) -> None:
    first, first_isa, _ = send_invoice(hub, tmp_path, "INV-1")
    second, second_isa, second_group = send_invoice(hub, tmp_path, "INV-2")
    receive(hub, ta1(first_isa, "A", "000"))
    assert record_of(hub, first).ack_status == "accepted"
    assert [m.id for m in find_messages(hub.store, MessageFilter(awaiting_ack="any")).messages] == [
        second
    ]
    rejecting_997 = (
        "ISA*00*          *00*          *ZZ*SHOPBUYER      *ZZ*ACMESUPPLY     *261130*1200*U*"
        "00401*000000079*0*P*>~\n"
        "GS*FA*SHOPBUYER*ACMESUPPLY*20261130*1200*79*X*004010~\n"
        f"ST*997*0001~\nAK1*IN*{second_group}~\nAK2*810*0001~\nAK5*R*5~\nAK9*R*1*1*0~\n"
        "SE*6*0001~\nGE*1*79~\nIEA*1*000000079~\n"
    ).encode()
    receive(hub, rejecting_997)
    receive(hub, ta1(second_isa, "A", "000", control="000000080"))  # late: the 997 stands
    record = record_of(hub, second)
    assert (record.ack_status, record.ack_detail["kind"]) == ("rejected", "997")
    texts = [e.detail for e in hub.store.get(second).events if e.kind == "ack_received"]
    assert texts == [
        "997 from shop: rejected (5 at 810 0001)",
        "TA1 from shop: accepted (no errors)",
    ]


def test_a_ta1_for_an_interchange_never_sent_is_unmatched(hub: Hub) -> None:
    received = receive(hub, ta1("000000444", "A", "000"))
    events = hub.store.get(received.message_id).events
    unmatched = next(e for e in events if e.kind == "ack_unmatched")
    assert unmatched.detail == "TA1 from shop answers '000000444', which was not sent to it"
