"""The x12 codec: separators from ISA, envelopes, definitions, HL nesting, exact writing."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hub.errors import DecodeError, EncodeError, SchemaValidationError
from hub.formats import make_codec
from hub.formats.x12 import X12Codec, X12Envelope, X12Options, wrap
from hub.formats.x12.definitions import load_definitions
from hub.formats.x12.envelope import Separators

DATA = Path(__file__).resolve().parents[2] / "data" / "x12"
SAMPLES = sorted(p.name for p in DATA.glob("*.x12"))

codec = X12Codec()
envelope = X12Codec(X12Options(structure=False, validate=False))


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def faults(data: bytes) -> list[tuple[str, str, str, int | None]]:
    """(level, code, where, element) of every fault the codec finds."""
    return [(f.level, f.code, f.where, f.element) for f in codec.check(data)]


PO = sample("850_4010_purchase_order.x12")


def edit(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


# --- reading ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_decodes_and_writes_back_the_same_bytes(name: str) -> None:
    data = sample(name)
    tree = codec.decode(data)
    assert codec.encode(tree) == data
    assert codec.encode(copy.deepcopy(envelope.decode(data))) == data


def test_the_registry_has_the_codec() -> None:
    assert isinstance(make_codec("x12"), X12Codec)


def test_separators_come_from_isa() -> None:
    tree = codec.decode(sample("850_5010_drop_ship_crlf.x12"))
    assert tree["separators"] == {
        "element": "*",
        "component": ":",
        "repetition": "^",
        "segment": "~",
    }
    assert tree["newline"] == "\r\n"
    assert tree["header"][5] == "WEBSHOP        "  # ISA06 keeps its fixed width
    assert tree["header"][10] == "^"  # ISA11 is the repetition separator in 00501


def test_4010_has_no_repetition_separator() -> None:
    tree = codec.decode(PO)
    assert tree["separators"]["repetition"] == ""
    assert tree["header"][10] == "U"


def test_the_tree_mirrors_edifact() -> None:
    tree = codec.decode(PO)
    group = tree["groups"][0]
    assert group["header"][:2] == ["PO", "SHOPBUYER"]
    assert group["trailer"] == ["1", "905"]
    message = group["messages"][0]
    assert (message["type"], message["version"], message["reference"]) == ("850", "004010", "0001")
    body = message["body"]
    assert list(body) == ["ST", "BEG", "CUR", "REF", "PER", "FOB", "ITD", "DTM", "TD5", "N1_loop", "PO1_loop", "CTT_loop", "SE"]  # noqa: E501  # fmt: skip
    assert body["BEG"][3] == "PO-4711"
    assert [n["N1"][1] for n in body["N1_loop"]] == ["ST", "BT"]
    assert body["N1_loop"][0]["N3"] == [["N3", "400 Market Street", "Suite 5"]]
    assert [p["PO1"][7] for p in body["PO1_loop"]] == ["BR-01", "CR-02", "MG-03"]
    assert body["PO1_loop"][0]["PID_loop"][0]["PID"][5] == "Breakfast Blend Coffee 250g"


def test_components_and_repetitions() -> None:
    data = sample("850_5010_drop_ship_crlf.x12").replace(
        b"REF*ZZ*GIFTWRAP", b"REF*ZZ*GIFT^WRAP>A:B"
    )
    tree = envelope.decode(data)
    ref = tree["groups"][0]["messages"][0]["segments"][3]
    assert ref == ["REF", "ZZ", {"repeat": ["GIFT", ["WRAP>A", "B"]]}]
    assert envelope.encode(tree) == data


def test_a_file_without_line_breaks_and_several_groups() -> None:
    data = sample("855_846_4010_two_groups.x12")
    tree = codec.decode(data)
    assert tree["newline"] is None
    assert [g["messages"][0]["type"] for g in tree["groups"]] == ["855", "846"]


def test_the_end_of_the_file_is_kept() -> None:
    for ending in (b"", b"\n", b"\r\n\r\n"):
        data = PO.rstrip(b"\n") + ending
        assert codec.encode(codec.decode(data)) == data


def test_several_interchanges_in_one_file() -> None:
    data = PO + sample("856_4010_ship_notice.x12")
    tree = codec.decode(data)
    assert [t["header"][12] for t in tree["interchanges"]] == ["000000905", "000000412"]
    assert codec.encode(tree) == data
    bad = PO + edit(sample("856_4010_ship_notice.x12"), b"IEA*1*000000412", b"IEA*1*000000999")
    with pytest.raises(DecodeError) as caught:
        codec.decode(bad)
    assert caught.value.where.startswith("interchange 2, segment 33 (IEA), element 2, line 60")


def test_a_byte_order_mark_is_recorded() -> None:
    data = b"\xef\xbb\xbf" + PO
    tree = codec.decode(data)
    assert tree["bom"] is True
    assert codec.encode(tree) == data


# --- envelope faults and their codes ----------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"SE*23*0001", b"SE*22*0001", ("transaction", "4", "segment 25 (SE), element 1, line 25", 1)),  # noqa: E501
        (b"SE*23*0001", b"SE*23*0002", ("transaction", "3", "segment 25 (SE), element 2, line 25", 2)),  # noqa: E501
        (b"GE*1*905", b"GE*2*905", ("group", "5", "segment 26 (GE), element 1, line 26", 1)),
        (b"GE*1*905", b"GE*1*906", ("group", "4", "segment 26 (GE), element 2, line 26", 2)),
        (b"IEA*1*", b"IEA*2*", ("interchange", "021", "segment 27 (IEA), element 1, line 27", 1)),
        (b"IEA*1*000000905", b"IEA*1*000000906", ("interchange", "001", "segment 27 (IEA), element 2, line 27", 2)),  # noqa: E501
        (b"*ZZ*SHOPBUYER      *", b"*ZZ*SHOPBUYER *", ("interchange", "006", "segment 1 (ISA), element 6, line 1", 6)),  # noqa: E501
        (b"*P*>~", b"*X*>~", ("interchange", "020", "segment 1 (ISA), element 15, line 1", 15)),
        (b"ST*850*0001", b"ST*850*01", ("transaction", "7", "segment 3 (ST), element 2, line 3", 2)),  # noqa: E501
    ],
)  # fmt: skip
def test_envelope_faults_carry_their_acknowledgement_code(
    old: bytes, new: bytes, expected: tuple[str, str, str, int]
) -> None:
    data = edit(PO, old, new)
    assert faults(data)[0] == expected
    with pytest.raises(DecodeError) as caught:
        codec.decode(data)
    assert f"code {expected[1]}]" in caught.value.message


def test_a_missing_trailer() -> None:
    data = PO.replace(b"SE*23*0001~\n", b"")
    assert ("transaction", "2") in [(f.level, f.code) for f in codec.check(data)]
    cut = PO[: PO.index(b"IEA")]
    assert faults(cut)[-1][:2] == ("interchange", "023")


def test_a_control_number_used_twice_in_a_group() -> None:
    transaction = PO[PO.index(b"ST*850") : PO.index(b"GE*")]
    data = PO.replace(b"GE*1*905", transaction + b"GE*2*905")
    assert ("transaction", "23", 2) in [(f.level, f.code, f.element) for f in codec.check(data)]


# --- syntax errors ----------------------------------------------------------------------


def test_not_an_interchange() -> None:
    with pytest.raises(DecodeError, match="an X12 interchange starts with ISA"):
        codec.decode(b"UNB+UNOC:3+A+B'")


def test_isa_cut_short() -> None:
    with pytest.raises(DecodeError, match="ISA is cut short"):
        codec.decode(PO[:60])


def test_a_line_break_inside_a_segment_is_refused() -> None:
    data = edit(PO, b"N3*400 Market Street", b"N3*400 Market\nStreet")
    with pytest.raises(DecodeError) as caught:
        codec.decode(data)
    assert caught.value.where == "segment 13 (N3), line 13"


def test_an_indented_segment_is_named() -> None:
    with pytest.raises(DecodeError, match="segment 2 is indented by '\\\\t' before 'GS'"):
        codec.decode(edit(PO, b"\nGS*", b"\n\tGS*"))


# --- definitions ------------------------------------------------------------------------


def test_the_definitions_load() -> None:
    definitions = load_definitions()
    assert definitions.versions == ["004010", "005010"]
    assert definitions.check_all() == []
    assert definitions.transaction_types("005010") == [
        "810",
        "846",
        "850",
        "855",
        "856",
        "997",
        "999",
    ]
    beg = definitions.transaction("850", "004010VICS").segments["BEG"]  # type: ignore[union-attr]
    assert [(e.ref, e.usage, e.type, e.min, e.max) for e in beg.elements[:5]] == [
        ("BEG01", "M", "AN", 2, 2),
        ("BEG02", "M", "AN", 2, 2),
        ("BEG03", "M", "AN", 1, 22),
        ("BEG04", "O", "AN", 1, 30),
        ("BEG05", "M", "DT", 8, 8),
    ]
    n1 = definitions.transaction("850", "004010").segments["N1"]  # type: ignore[union-attr]
    assert (n1.elements[0].type, n1.elements[0].id, n1.elements[0].name) == (
        "ID",
        "98",
        "Entity Identifier Code",
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"BEG*00*SA*PO-4711**", b"BEG*00*SA***", ("element", "1", "segment 4 (BEG), element 3, line 4", 3)),  # noqa: E501
        (b"PO-4711", b"PO-4711-0123456789012345", ("element", "5", "segment 4 (BEG), element 3, line 4", 3)),  # noqa: E501
        (b"**20261120~", b"**20261131~", ("element", "8", "segment 4 (BEG), element 5, line 4", 5)),
        (b"PO1*1*24*EA", b"PO1*1*2x*EA", ("element", "6", "segment 18 (PO1), element 2, line 18", 2)),  # noqa: E501
        (b"REF*DP*038", b"REF*DP*038***Z", ("element", "3", "segment 6 (REF), element 5, line 6", 5)),  # noqa: E501
        (b"FOB*PP", b"ZZZ*PP", ("segment", "1", "segment 8 (ZZZ), line 8", None)),
        (b"DTM*002*20261201~\n", b"", ("segment", "7", "segment 9 (TD5), line 9", None)),
    ],
)  # fmt: skip
def test_definition_faults_carry_their_997_code(
    old: bytes, new: bytes, expected: tuple[str, str, str, int | None]
) -> None:
    data = edit(PO, old, new).replace(b"SE*23*", b"SE*%d*" % (22 if new == b"" else 23))
    if expected[1] == "7":  # move the DTM after TD5 instead: out of sequence
        data = edit(data, b"TD5*****UPSG~\n", b"TD5*****UPSG~\nDTM*002*20261201~\n")
        data = data.replace(b"SE*22*", b"SE*23*")
        expected = ("segment", "7", "segment 11 (DTM), line 11", None)
    found = faults(data)
    assert found[0] == expected, found
    with pytest.raises(SchemaValidationError):
        codec.decode(data)


def test_a_fault_keeps_what_a_997_needs() -> None:
    data = edit(PO, b"PO1*1*24*EA", b"PO1*1*2x*EA")
    (fault,) = codec.check(data)
    assert fault.group_control == "905"
    assert (fault.transaction_type, fault.transaction_ref) == ("850", "0001")
    assert fault.transaction_segment == 16  # AK302: counting ST as 1
    assert (fault.tag, fault.element, fault.value) == ("PO1", 2, "2x")
    assert fault.label == "AK403/IK403 code 6"
    (named,) = codec.check(
        edit(PO, b"N1*ST*Corner Store 12*92*0012", b"N1*ST*Corner Store 12*92*0")
    )
    assert (named.element, named.data_element, named.code) == (4, "67", "4")  # N104 too short


def test_a_mandatory_segment_missing() -> None:
    data = PO.replace(b"BEG*00*SA*PO-4711**20261120~\n", b"").replace(b"SE*23*", b"SE*22*")
    assert faults(data)[0] == ("segment", "3", "segment 4 (CUR), line 4", None)


def test_a_repetition_where_the_element_does_not_repeat() -> None:
    data = sample("850_5010_drop_ship_crlf.x12").replace(b"GIFTWRAP", b"GIFT^WRAP")
    assert faults(data) == [("element", "12", "segment 6 (REF), element 2, line 6", 2)]


def test_no_definition_passes_unless_required() -> None:
    data = edit(PO, b"ST*850", b"ST*875")
    assert codec.decode(data)["groups"][0]["messages"][0].get("body") is None
    strict = X12Codec(X12Options(require_definition=True))
    with pytest.raises(SchemaValidationError, match="no definition of transaction set 875"):
        strict.decode(data)


# --- 856: HL nesting --------------------------------------------------------------------

ASN = sample("856_4010_ship_notice.x12")


def test_856_nests_hl_loops_by_parent() -> None:
    body = codec.decode(ASN)["groups"][0]["messages"][0]["body"]
    (shipment,) = body["HL_loop"]
    assert shipment["HL"][1:4] == ["1", "", "S"]
    assert shipment["REF"] == [["REF", "CN", "1Z999AA10123456784"]]
    (order,) = shipment["HL_loop"]
    assert order["PRF"][1] == "PO-4711"
    packs = order["HL_loop"]
    assert [p["MAN"][0][2] for p in packs] == ["00012345670000000017", "00012345670000000024"]
    items = [i["LIN"][3] for p in packs for i in p["HL_loop"]]
    assert items == ["BR-01", "CR-02", "MG-03"]


def test_856_hl_parent_must_come_before() -> None:
    data = edit(ASN, b"HL*7*6*I", b"HL*7*9*I")
    assert faults(data) == [("element", "7", "segment 27 (HL), element 2, line 27", 2)]


def test_856_hl_ids_are_unique() -> None:
    data = edit(ASN, b"HL*5*3*I", b"HL*4*3*I")
    assert faults(data)[0] == ("element", "7", "segment 22 (HL), element 1, line 22", 1)


def test_856_body_flattens_back_depth_first() -> None:
    tree = codec.decode(ASN)
    message = tree["groups"][0]["messages"][0]
    del message["segments"]
    assert codec.encode(tree) == ASN


# --- writing ----------------------------------------------------------------------------


def test_counts_and_control_numbers_are_computed() -> None:
    tree = codec.decode(PO)
    message = tree["groups"][0]["messages"][0]
    message["segments"] = [s for s in message["segments"] if s[0] != "PER"]
    out = codec.encode(tree)
    assert b"SE*22*0001~" in out
    assert codec.check(out) == []


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("A*B", "element separator '*'"),
        ("A>B", "component separator '>'"),
        ("A~B", "segment terminator '~'"),
        ("A\nB", "line break"),
    ],
)
def test_a_separator_in_data_is_refused(value: str, what: str) -> None:
    tree = codec.decode(PO)
    tree["groups"][0]["messages"][0]["segments"][9][2] = value  # N1 ST name
    del tree["groups"][0]["messages"][0]["body"]
    with pytest.raises(EncodeError) as caught:
        codec.encode(tree)
    assert what in caught.value.message
    assert repr(value) in caught.value.message
    assert caught.value.where == "/groups/0/messages/0/segments/9 (N1), element 2"


def test_a_body_from_a_mapping_is_written_in_table_order() -> None:
    env = X12Envelope(
        sender_qualifier="ZZ",
        sender_id="SHOP",
        receiver_qualifier="ZZ",
        receiver_id="SUPPLIER",
        control_number=42,
        usage_indicator="T",
        date_time=datetime(2026, 11, 20, 14, 5),
    )
    body = {
        "PO1_loop": [{"PO1": ["PO1", "1", "2", "EA", "9.5", None, "VP", "SKU-1", None]}],
        "BEG": ["BEG", "00", "SA", "PO-1", None, "20261120"],
        "CTT_loop": [{"CTT": ["CTT", "1"]}],
    }
    tree = wrap(env, "PO", [{"type": "850", "body": body}])
    out = codec.encode(tree)
    assert out.startswith(
        b"ISA*00*          *00*          *ZZ*SHOP           *ZZ*SUPPLIER       *261120*1405*U*00401*000000042*0*T*>~\n"  # noqa: E501
        b"GS*PO*SHOP*SUPPLIER*20261120*1405*42*X*004010~\nST*850*0001~\nBEG*00*SA*PO-1**20261120~\n"
        b"PO1*1*2*EA*9.5**VP*SKU-1~\nCTT*1~\nSE*5*0001~\nGE*1*42~\nIEA*1*000000042~\n"
    )  # fmt: skip
    assert codec.check(out) == []


def test_an_envelope_checks_its_values() -> None:
    with pytest.raises(ValueError, match="control_number"):
        X12Envelope("ZZ", "A", "ZZ", "B", control_number="12345678901")
    with pytest.raises(ValueError, match="repetition separator"):
        X12Envelope("ZZ", "A", "ZZ", "B", control_number=1, version="00501")
    env = X12Envelope(
        "ZZ", "A", "ZZ", "B", 1, version="00501", group_version="005010",
        separators=Separators(component=":", repetition="^"),
    )  # fmt: skip
    assert env.isa()[10] == "^"
    assert env.isa()[15] == ":"


def test_isa_values_too_long_are_refused() -> None:
    tree = codec.decode(PO)
    tree["header"][5] = "A-SENDER-ID-LONGER-THAN-15"
    with pytest.raises(EncodeError, match="ISA06 is 15 wide"):
        codec.encode(tree)


def test_other_separators_on_the_way_out() -> None:
    out = X12Codec(
        X12Options(separators={"element": "|", "component": "^", "segment": "\n"}, newline="")
    ).encode(  # type: ignore[arg-type]
        codec.decode(PO)
    )
    assert out.startswith(b"ISA|00|")
    assert b"\nGS|PO|" in out
    assert codec.encode(codec.decode(out)) == out


# --- split ------------------------------------------------------------------------------


def test_split_gives_one_interchange_per_transaction_set() -> None:
    data = sample("855_846_4010_two_groups.x12") + b"\n" + ASN
    parts = codec.split(data)
    kinds = []
    for part in parts:
        tree = codec.decode(part)
        (group,) = tree["groups"]
        assert group["trailer"][0] == "1"
        kinds.append(group["messages"][0]["type"])
    assert kinds == ["855", "846", "856"]


def _first(tree: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = tree["groups"][0]["messages"][0]
    return message


def test_an_interchange_acknowledgement_is_read_into_ta1_and_written_back() -> None:
    data = sample("ta1_5010_rejected_crlf.x12")
    tree = codec.decode(data)
    assert tree["ta1"] == [["000000002", "261130", "1201", "R", "022"]]
    assert tree["groups"] == []
    assert tree["trailer"] == ["0", "000000079"]
    assert codec.encode(tree) == data


def test_a_ta1_may_precede_the_groups_but_not_follow_them() -> None:
    ack = sample("997_4010_rejected.x12")
    before = edit(ack, b"~\nGS*FA", b"~\nTA1*000000905*261120*1405*A*000~\nGS*FA")
    tree = codec.decode(before)
    assert tree["ta1"] == [["000000905", "261120", "1405", "A", "000"]]
    assert len(tree["groups"]) == 1
    assert codec.encode(tree) == before
    after = edit(ack, b"~\nIEA*", b"~\nTA1*000000905*261120*1405*A*000~\nIEA*")
    assert ("interchange", "024", "segment 12 (TA1), line 12", None) in faults(after)


def test_a_ta1_with_an_unknown_acknowledgement_code_is_an_envelope_fault() -> None:
    data = edit(sample("ta1_4010_accepted.x12"), b"*A*000~", b"*X*000~")
    assert faults(data) == [("interchange", "024", "segment 2 (TA1), element 4, line 2", 4)]
