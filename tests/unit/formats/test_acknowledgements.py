"""Acknowledgements built from a validation result read back as what they report: 997, 999
and TA1 for X12, CONTRL for EDIFACT; each built one passes the codec's own checks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hub.formats.acks import AckStatus
from hub.formats.edifact import EdifactCodec, EdifactOptions, build_contrl
from hub.formats.edifact.contrl_read import read_contrl
from hub.formats.x12 import Separators, X12Codec, X12Envelope
from hub.formats.x12.acks import build_functional_ack, read_functional_ack, read_ta1, write_ta1

DATA = Path(__file__).resolve().parents[2] / "data"
PO = (DATA / "x12" / "850_4010_purchase_order.x12").read_bytes()
codec = X12Codec()


def answer(kind: str, data: bytes) -> bytes:
    reading = codec.read(data)
    faults = codec.check(data)
    isa = reading.interchanges[0]["header"]
    envelope = X12Envelope(
        sender_qualifier=isa[6],
        sender_id=isa[7],
        receiver_qualifier=isa[4],
        receiver_id=isa[5],
        control_number=42,
        version="00501" if kind == "999" else isa[11],
        group_version="005010" if kind == "999" else "004010",
        separators=Separators(repetition="^") if kind == "999" else Separators(),
        date_time=datetime(2026, 11, 30, 12, 0),
    )
    tree = build_functional_ack(reading.interchanges[0], faults, kind=kind, envelope=envelope)
    return codec.encode(tree)


def test_a_sound_850_is_accepted_by_a_997_that_answers_its_group() -> None:
    ack = answer("997", PO)
    tree = codec.decode(ack)  # the 997 passes its own definition
    assert tree["header"][5].strip() == "ACMESUPPLY"  # from the receiver of the 850
    assert tree["header"][7].strip() == "SHOPBUYER"
    [group] = tree["groups"]
    assert group["header"][0] == "FA"
    assert group["header"][7] == "004010"  # answered in the inbound group's version
    [message] = group["messages"]
    assert message["segments"][1:4] == [
        ["AK1", "PO", "905"],
        ["AK2", "850", "0001"],
        ["AK5", "A"],
    ]
    report = read_functional_ack(message)
    assert report.status is AckStatus.ACCEPTED
    assert report.group_ref == "905"


def test_an_element_error_rejects_the_set_with_ak3_and_ak4() -> None:
    bad = PO.replace(b"PO1*2*6*CA*41.5", b"PO1*2*6*CA*41.5X")
    tree = codec.decode(answer("997", bad))
    segments = tree["groups"][0]["messages"][0]["segments"]
    tags = [s[0] for s in segments]
    assert tags == ["ST", "AK1", "AK2", "AK3", "AK4", "AK5", "AK9", "SE"]
    assert segments[3][:3] == ["AK3", "PO1", "18"]  # ST is 1: PO1*2 is the 18th segment
    assert segments[5] == ["AK5", "R", "5"]
    assert segments[6] == ["AK9", "R", "1", "1", "0"]
    report = read_functional_ack(tree["groups"][0]["messages"][0])
    assert report.status is AckStatus.REJECTED
    assert any(error.startswith("6 at 850 0001 element 4") for error in report.errors), (
        report.errors
    )


def test_a_999_uses_ik_segments_and_the_implementation_version() -> None:
    bad = PO.replace(b"PO1*2*6*CA*41.5", b"PO1*2*6*CA*41.5X")
    tree = codec.decode(answer("999", bad))
    group = tree["groups"][0]
    assert group["header"][7] == "005010X231A1"
    tags = [s[0] for s in group["messages"][0]["segments"]]
    assert tags == ["ST", "AK1", "AK2", "IK3", "IK4", "IK5", "AK9", "SE"]
    assert read_functional_ack(group["messages"][0]).status is AckStatus.REJECTED


def test_a_received_997_from_the_corpus_shape_is_read() -> None:
    data = (DATA / "x12" / "997_4010_rejected.x12").read_bytes()
    tree = codec.decode(data)
    report = read_functional_ack(tree["groups"][0]["messages"][0])
    assert report.status is AckStatus.REJECTED
    assert report.group_ref == "905"
    assert "8 at 850 0001 segment PO1 #15" in report.errors


def test_ta1_repeats_the_received_isa_values() -> None:
    isa = codec.read(PO).interchanges[0]["header"]
    envelope = X12Envelope("ZZ", "ACMESUPPLY", "ZZ", "SHOPBUYER", 7)
    text = write_ta1(isa, envelope=envelope, note_code="000").decode()
    assert "\nTA1*000000905*261120*1405*A*000~\n" in text
    assert text.rstrip().endswith("IEA*0*000000007~")
    rejected = write_ta1(isa, envelope=envelope, note_code="006").decode()
    assert "*R*006~" in rejected


def test_a_contrl_built_for_a_faulty_interchange_reads_back_as_rejected() -> None:
    data = (DATA / "edifact" / "orders_d96a_unoc.edi").read_bytes()
    edifact = EdifactCodec(EdifactOptions(validate=False))
    reading = edifact.read(data)
    fault_free = build_contrl(reading, reference="77", date_time=datetime(2026, 11, 30))
    tree = edifact.decode(edifact.encode(fault_free))
    report = read_contrl(tree["messages"][0])
    assert report.status is AckStatus.ACCEPTED
    assert report.interchange_ref == str(reading.tree["header"][4])
    broken = data.replace(b"UNZ+1+", b"UNZ+2+")
    reading = edifact.read(broken)
    assert reading.faults
    contrl = build_contrl(reading, reference="78")
    report = read_contrl(edifact.decode(edifact.encode(contrl))["messages"][0])
    assert report.status is AckStatus.REJECTED
    assert report.errors


def test_a_received_ta1_names_the_interchange_and_its_note_code() -> None:
    accepted = codec.decode((DATA / "x12" / "ta1_4010_accepted.x12").read_bytes())
    report = read_ta1(accepted["ta1"][0])
    assert (report.kind, report.status, report.interchange_ref) == (
        "TA1",
        AckStatus.ACCEPTED,
        "000000001",
    )
    assert report.errors == ()
    rejected = codec.decode((DATA / "x12" / "ta1_5010_rejected_crlf.x12").read_bytes())
    report = read_ta1(rejected["ta1"][0])
    assert report.status is AckStatus.REJECTED
    assert report.errors == ("022 at interchange",)
    assert read_ta1(["000000003", "261130", "1201", "E", "026"]).status is (
        AckStatus.ACCEPTED_WITH_ERRORS
    )
