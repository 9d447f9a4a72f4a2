"""EDIFACT message definitions: loading, nesting into segment groups, validation, generator."""

from __future__ import annotations

import copy
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from hub.errors import ConfigError, EncodeError, SchemaValidationError
from hub.formats import make_codec
from hub.formats.edifact import EdifactCodec, EdifactOptions, Fault
from hub.formats.edifact.definitions import (
    Definitions,
    Format,
    GroupDef,
    SegmentRef,
    bundled_definitions,
    load_definitions,
)
from hub.formats.edifact.structure import flatten, nest
from hub.formats.edifact.validate import check_format

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "tests" / "data" / "edifact" / "structure"
UNTDID = ROOT / "tests" / "data" / "edifact" / "untdid"
SCHEMAS = ROOT / "schemas" / "edifact"


def edi(
    *body: str,
    ident: str = "ORDERS:D:96A:UN",
    una: str = "UNA:+.? '",
    syntax: str = "UNOC:3",
) -> bytes:
    """An interchange of one message with these segments between UNH and UNT."""
    segments = [f"UNH+1+{ident}", *body]
    lines = [
        una,
        f"UNB+{syntax}+SENDER:14+RECEIVER:14+261120:0930+REF1'",
        *(s + "'" for s in segments),
        f"UNT+{len(segments) + 1}+1'",
        "UNZ+1+REF1'",
    ]
    return "\n".join(line for line in lines if line).encode("latin-1") + b"\n"


ORDERS_HEAD = ("BGM+220+PO-1+9", "DTM+137:20261120:102")
ORDERS_TAIL = ("UNS+S",)


def orders(*lines: str, **kwargs: Any) -> bytes:
    return edi(*ORDERS_HEAD, *lines, *ORDERS_TAIL, **kwargs)


def faults_of(data: bytes, **options: Any) -> list[Fault]:
    codec = EdifactCodec(EdifactOptions.model_validate(options))
    return codec.check_messages(codec.read(data).tree)


def only_fault(data: bytes) -> Fault:
    codec = EdifactCodec()
    found = codec.check_messages(codec.read(data).tree)
    assert len(found) == 1, [f.message for f in found]
    return found[0]


# -- nesting -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def orders_tree() -> dict[str, Any]:
    tree: dict[str, Any] = EdifactCodec().decode((SAMPLES / "orders_d96a.edi").read_bytes())
    return tree


def test_orders_nests_header_parties_and_line_items(orders_tree: dict[str, Any]) -> None:
    message = orders_tree["messages"][0]
    body = message["body"]
    assert list(body) == [
        "UNH", "BGM", "DTM", "FTX", "SG1", "SG2", "SG7", "SG9", "SG25", "UNS", "MOA", "CNT", "UNT",
    ]  # fmt: skip
    assert body["BGM"] == ["BGM", "220", "PO-4711", "9"]  # max 1: the segment itself
    assert [d[1][0] for d in body["DTM"]] == ["137", "2"]  # max 35: a list
    assert body["SG1"] == [
        {"RFF": ["RFF", ["CT", "FRAME-2026-01"]], "DTM": [["DTM", ["171", "20260101", "102"]]]}
    ]
    parties = body["SG2"]
    assert [p["NAD"][1] for p in parties] == ["BY", "SU", "DP"]
    buyer = parties[0]
    assert buyer["SG3"][0]["RFF"] == ["RFF", ["VA", "DE123456789"]]
    assert buyer["SG5"][0]["CTA"] == ["CTA", "PD", ["", "Anna Meier"]]
    assert [c[1][1] for c in buyer["SG5"][0]["COM"]] == ["TE", "EM"]
    assert "SG3" not in parties[2]  # keys only for what the message has
    lines = body["SG25"]
    assert [line["LIN"][1] for line in lines] == ["1", "2", "3"]
    assert lines[0]["PIA"] == [["PIA", "1", ["ART-100", "SA"]]]
    assert lines[1]["QTY"] == [["QTY", ["21", "12", "PCE"]], ["QTY", ["192", "2", "PCE"]]]
    assert [line["MOA"][0][1][1] for line in lines] == ["600.00", "102.00", "-12.5"]
    assert [[g["PRI"][1][1] for g in line["SG28"]] for line in lines] == [
        ["12.50"],
        ["8.50", "9.00"],
        ["2.30"],
    ]
    assert body["UNS"] == ["UNS", "S"]
    assert body["MOA"] == [["MOA", ["86", "689.50"]]]


def test_body_holds_the_very_segments(orders_tree: dict[str, Any]) -> None:
    message = orders_tree["messages"][0]
    assert message["body"]["SG25"][2]["LIN"] is message["segments"][29]
    assert message["body"]["UNH"] is message["segments"][0]


def test_decode_encode_decode_is_an_identity(orders_tree: dict[str, Any]) -> None:
    data = (SAMPLES / "orders_d96a.edi").read_bytes()
    codec = EdifactCodec()
    assert codec.encode(orders_tree) == data
    assert codec.decode(codec.encode(orders_tree)) == orders_tree


def test_a_body_without_segments_is_written_in_definition_order(
    orders_tree: dict[str, Any],
) -> None:
    message = orders_tree["messages"][0]
    shuffled = dict(reversed(list(copy.deepcopy(message["body"]).items())))
    built = {k: v for k, v in message.items() if k not in ("segments", "body")}
    tree = {**orders_tree, "messages": [{**built, "body": shuffled}]}
    codec = EdifactCodec()
    assert codec.encode(tree) == (SAMPLES / "orders_d96a.edi").read_bytes()
    assert "segments" not in tree["messages"][0]  # the tree given is not changed


def test_a_body_key_the_table_lacks_is_an_encode_error(orders_tree: dict[str, Any]) -> None:
    message = orders_tree["messages"][0]
    body = copy.deepcopy(message["body"])
    body["SG25"][1]["XYZ"] = ["XYZ", "1"]
    built = {"type": "ORDERS", "version": "D", "release": "96A", "agency": "UN", "body": body}
    tree = {**orders_tree, "messages": [built]}
    with pytest.raises(EncodeError) as caught:
        EdifactCodec().encode(tree)
    assert caught.value.message == "not a segment or group here in ORDERS D96A"
    assert caught.value.where == "/messages/0/body/SG25/1/XYZ"


def test_a_body_of_an_unknown_message_type_cannot_be_ordered() -> None:
    built = {"type": "ZZZZZZ", "version": "D", "release": "96A", "agency": "UN", "body": {}}
    tree = {"header": [["UNOC", "3"], "A", "B", ["261120", "0930"], "R"], "messages": [built]}
    with pytest.raises(EncodeError, match="ZZZZZZ:D:96A has no definition"):
        EdifactCodec().encode(tree)


def test_flatten_and_nest_are_inverse() -> None:
    definition = load_definitions().message("INVOIC", "D", "96A", "UN")
    assert definition is not None
    segments: list[Any] = [
        ["UNH", "9", ["INVOIC", "D", "96A", "UN"]],
        ["BGM", "380", "INV-1"],
        ["DTM", ["137", "20261120", "102"]],
        ["NAD", "SU", ["123", "", "9"]],
        ["LIN", "1"],
        ["QTY", ["47", "3"]],
        ["MOA", ["203", "30"]],
        ["UNS", "S"],
        ["MOA", ["77", "35.70"]],
        ["TAX", "7", ["VAT"]],
        ["MOA", ["124", "5.70"]],
        ["UNT", "12", "9"],
    ]
    body = nest(definition, segments)
    assert body["SG25"][0]["SG26"][0]["MOA"] == ["MOA", ["203", "30"]]
    assert body["SG48"][0]["MOA"] == ["MOA", ["77", "35.70"]]
    assert body["SG50"][0]["MOA"] == [["MOA", ["124", "5.70"]]]
    assert flatten(definition, body) == segments


def test_an_unknown_message_type_or_directory_still_decodes() -> None:
    for ident in ("ZZZZZZ:D:96A:UN", "ORDERS:D:99Z:UN", "ORDERS:S:93A:UN"):
        tree = EdifactCodec().decode(edi("BGM+220+PO-1+9", ident=ident))
        assert "body" not in tree["messages"][0]


def test_require_definition_refuses_an_unknown_message() -> None:
    codec = EdifactCodec(EdifactOptions(require_definition=True))
    with pytest.raises(SchemaValidationError) as caught:
        codec.decode(edi("BGM+220+PO-1+9", ident="ORDERS:D:99Z:UN"))
    assert caught.value.problems[0].message == (
        "ORDERS:D:99Z:UN: no message definitions for directory D:99Z:UN"
    )
    assert caught.value.where == "segment 2 (UNH), element 2, component 3"
    with pytest.raises(SchemaValidationError, match="no definition of message type ZZZZZZ"):
        codec.decode(edi("BGM+220+PO-1+9", ident="ZZZZZZ:D:96A:UN"))


def test_structure_and_validate_can_be_switched_off() -> None:
    broken = edi("DTM+137:20261120:102", "UNS+S")  # no BGM
    with pytest.raises(SchemaValidationError):
        EdifactCodec().decode(broken)
    kept = EdifactCodec(EdifactOptions(validate=False)).decode(broken)
    assert kept["messages"][0]["body"]["DTM"] == [["DTM", ["137", "20261120", "102"]]]
    plain = EdifactCodec(EdifactOptions.model_validate({"validate": False, "structure": False}))
    assert "body" not in plain.decode(broken)["messages"][0]


def test_split_checks_only_the_envelope() -> None:
    broken = edi("DTM+137:20261120:102", "UNS+S")
    assert EdifactCodec().split(broken) == [broken]


# -- D96A and D01B -------------------------------------------------------------------------


def test_the_directory_comes_from_unh() -> None:
    # D.01B's BGM has the composite C106 where D.96A has the simple element 1004, and
    # D.01B's 6060 is an..35 where D.96A's is n..15.
    lines = ("BGM+220+PO-1:2:1+9", "DTM+137:20261120:102", "LIN+1", "QTY+21:ABOUT 4:PCE", "UNS+S")
    assert faults_of(edi(*lines, ident="ORDERS:D:01B:UN")) == []
    faults = faults_of(edi(*lines), validate=False)
    assert [(f.message, f.where, f.code) for f in faults] == [
        (
            "BGM 1004 (Document/message number): too many components: 3 > 1 in a simple "
            "data element in ORDERS D96A",
            "segment 3 (BGM), element 2, component 2",
            "16",
        ),
        (
            "QTY C186/6060 (Quantity): invalid type of characters: 'ABOUT 4' is not numeric "
            "(n..15) in ORDERS D96A",
            "segment 6 (QTY), element 1, component 2",
            "37",
        ),
    ]


def test_d01b_groups_are_numbered_for_d01b() -> None:
    data = edi("BGM+220+PO-1+9", "DTM+137:20261120:102", "LIN+1", "UNS+S", ident="ORDERS:D:01B:UN")
    body = EdifactCodec().decode(data)["messages"][0]["body"]
    assert body["SG28"][0]["LIN"] == ["LIN", "1"]  # SG25 in D96A
    assert EdifactCodec().decode(orders("LIN+1"))["messages"][0]["body"]["SG25"]


def test_contrl_of_syntax_version_3_has_a_definition() -> None:
    data = edi(
        "UCI+REF1+SENDER:14+RECEIVER:14+4",
        "UCM+1+ORDERS:D:96A:UN+4",
        "UCS+3",
        "UCD+12+2:1",
        ident="CONTRL:D:3:UN",
    )
    body = EdifactCodec().decode(data)["messages"][0]["body"]
    assert body["SG1"][0]["SG2"][0]["UCD"] == [["UCD", "12", ["2", "1"]]]


# -- violations ----------------------------------------------------------------------------


def test_missing_mandatory_segment() -> None:
    fault = only_fault(edi("DTM+137:20261120:102", "UNS+S"))
    assert fault.message == "BGM: mandatory segment missing in ORDERS D96A at position 0020"
    assert (fault.where, fault.code, fault.message_segment, fault.message_ref) == (
        "segment 3 (DTM)",
        "13",
        2,
        "1",
    )


def test_missing_mandatory_segment_at_the_end() -> None:
    fault = only_fault(edi(*ORDERS_HEAD))
    assert fault.message == "UNS: mandatory segment missing in ORDERS D96A at position 2090"
    assert fault.where == "segment 5 (UNT)"


def test_too_many_repetitions() -> None:
    dates = [f"DTM+137:202611{n:02d}:102" for n in range(1, 37)]
    fault = only_fault(edi("BGM+220+PO-1+9", *dates, "UNS+S"))
    assert (
        fault.message
        == "DTM: too many repetitions: 36 > 35 allowed in ORDERS D96A at position 0030"
    )
    assert (fault.where, fault.code, fault.message_segment) == ("segment 39 (DTM)", "35", 38)


def test_too_many_segment_group_repetitions() -> None:
    references = [f"RFF+ON:{n}" for n in range(11)]
    fault = only_fault(orders(*references))
    assert fault.message == (
        "SG1 (RFF): too many segment group repetitions: 11 > 10 allowed in ORDERS D96A "
        "at position 0080"
    )
    assert (fault.where, fault.code) == ("segment 15 (RFF)", "36")


def test_missing_mandatory_group() -> None:
    data = edi("BGM+380+INV-1", "DTM+137:20261120:102", "UNS+S", ident="INVOIC:D:96A:UN")
    fault = only_fault(data)
    assert fault.message == (
        "SG48 (MOA): mandatory segment group missing in INVOIC D96A at position 1810"
    )
    assert (fault.where, fault.code) == ("segment 6 (UNT)", "13")


def test_mandatory_segment_in_a_group() -> None:
    data = edi(*ORDERS_HEAD, "UNS+S", "ALC+A", "ALI+DE")
    fault = only_fault(data)
    assert fault.message == "MOA: mandatory segment missing in ORDERS D96A at position 2150"
    assert fault.where == "segment 8 (UNT)"


def test_segment_out_of_order() -> None:
    fault = only_fault(orders("FTX+AAI+++Note", "PAI+::42"))
    assert fault.message == "PAI: segment not allowed after FTX at position 0070 in ORDERS D96A"
    assert (fault.where, fault.code) == ("segment 6 (PAI)", "15")


def test_a_segment_before_a_mandatory_one_is_the_one_out_of_order() -> None:
    # FTX fits only by passing DTM, which comes next: FTX is the one out of place (one
    # error), not "DTM missing" and then "DTM not allowed" for the DTM that came.
    found = faults_of(edi("BGM+220+PO-1+9", "FTX+AAI+++Note", "DTM+137:20261120:102", "UNS+S"))
    assert [(f.message, f.where, f.code) for f in found] == [
        (
            "FTX: segment not allowed after BGM at position 0020 in ORDERS D96A",
            "segment 4 (FTX)",
            "15",
        ),
    ]


def test_one_misplaced_segment_is_one_error() -> None:
    # CNT belongs after UNS; placed after FTX it used to report UNS missing and then
    # every later segment as not allowed (85 violations on a real order)
    lines = [
        "BGM+220+PO-1+9",
        "DTM+137:20261120:102",
        "FTX+AAI+++Note",
        "CNT+2:3",
        "NAD+BY+4012345000009::9",
        "NAD+SU+4098765000001::9",
        *[f"LIN+{n}++400000000000{n}:EN" for n in range(1, 4)],
        "UNS+S",
    ]
    found = faults_of(edi(*lines))
    assert [(f.message, f.where) for f in found] == [
        (
            "CNT: segment not allowed after FTX at position 0070 in ORDERS D96A",
            "segment 6 (CNT)",
        )
    ]


def test_segment_out_of_place_in_a_group() -> None:
    found = faults_of(orders("NAD+BY+1::9", "CTA+PD", "LOC+7+HAMBURG"), validate=False)
    assert [(f.message, f.where) for f in found] == [
        (
            "LOC: segment not allowed after CTA at position 0220 in ORDERS D96A (SG5)",
            "segment 7 (LOC)",
        )
    ]


def test_segment_not_in_the_message() -> None:
    fault = only_fault(orders("XYZ+1"))
    assert fault.message == "XYZ: segment not defined in ORDERS D96A"
    assert (fault.where, fault.code) == ("segment 5 (XYZ)", "15")


def test_too_many_data_elements() -> None:
    fault = only_fault(edi("BGM+220+PO-1+9+AB+EXTRA", "DTM+137:20261120:102", "UNS+S"))
    assert fault.message == "BGM: too many data elements: 5 > 4 defined in ORDERS D96A"
    assert (fault.where, fault.code) == ("segment 3 (BGM), element 5", "16")


def test_empty_trailing_elements_and_components_are_tolerated() -> None:
    assert faults_of(orders("RFF+ON:1::", "NAD+BY+1::9+++++++"), validate=False) == []


def test_missing_mandatory_data_element() -> None:
    fault = only_fault(orders("NAD++1::9"))
    assert (
        fault.message == "NAD 3035 (Party qualifier): mandatory data element missing in ORDERS D96A"
    )
    assert (fault.where, fault.code) == ("segment 5 (NAD), element 1", "13")


def test_missing_mandatory_component() -> None:
    fault = only_fault(edi("BGM+220+PO-1+9", "DTM+:20261120:102", "UNS+S"))
    assert fault.message == (
        "DTM C507/2005 (Date/time/period qualifier): mandatory component missing in ORDERS D96A"
    )
    assert (fault.where, fault.code) == ("segment 4 (DTM), element 1, component 1", "13")


def test_too_many_components() -> None:
    fault = only_fault(edi("BGM+220+PO-1+9", "DTM+137:20261120:102:X", "UNS+S"))
    assert fault.message == (
        "DTM C507 (Date/time/period): too many components: 4 > 3 defined in ORDERS D96A"
    )
    assert (fault.where, fault.code) == ("segment 4 (DTM), element 1, component 4", "16")


def test_data_element_too_long() -> None:
    fault = only_fault(edi("BGM+220+" + "X" * 36 + "+9", "DTM+137:20261120:102", "UNS+S"))
    assert fault.message == (
        "BGM 1004 (Document/message number): data element too long: 36 characters > 35 "
        "allowed (an..35) in ORDERS D96A"
    )
    assert (fault.where, fault.code) == ("segment 3 (BGM), element 2", "39")


def test_data_element_too_short() -> None:
    data = edi("BGM+351+DES-1", "CPS+1", "LIN+1", "DGS+ADR++123", ident="DESADV:D:96A:UN")
    fault = only_fault(data)
    assert fault.message == (
        "DGS C234/7124 (UNDG number): data element too short: 3 digits < 4 required (n4) "
        "in DESADV D96A"
    )
    assert (fault.where, fault.code) == ("segment 6 (DGS), element 3, component 1", "40")


def test_alphabetic_element_takes_no_digits() -> None:
    fault = only_fault(edi(*ORDERS_HEAD, "UNS+1"))
    assert fault.message == (
        "UNS 0081 (Section identification): invalid type of characters: '1' has digits (a1) "
        "in ORDERS D96A"
    )
    assert (fault.where, fault.code) == ("segment 5 (UNS), element 1", "37")


def test_numbers_use_the_decimal_mark_of_una() -> None:
    comma = "UNA:+,? '"
    assert faults_of(orders("LIN+1", "MOA+203:-12,50", una=comma), validate=False) == []
    fault = only_fault(orders("LIN+1", "MOA+203:12.50", una=comma))
    assert fault.message == (
        "MOA C516/5004 (Monetary amount): invalid type of characters: '12.50' is not numeric "
        "(n..18) in ORDERS D96A"
    )
    assert (fault.code, fault.where) == ("37", "segment 6 (MOA), element 1, component 2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456789012345", None),
        ("-12345678901234.5", None),  # 15 digits: sign and mark are not counted
        ("1234567890123456", ("39", "data element too long: 16 digits > 15 allowed (n..15)")),
        (".5", ("38", "missing digit in front of decimal sign: '.5'")),
        ("1.2.3", ("19", "invalid decimal notation: '1.2.3' has more than one decimal mark")),
        ("5.", ("19", "invalid decimal notation: '5.' ends with the decimal mark")),
        ("-", ("37", "invalid type of characters: '-' is not numeric (n..15)")),
        ("1-2", ("37", "invalid type of characters: '1-2' is not numeric (n..15)")),
        ("+5", ("37", "invalid type of characters: '+5' is not numeric (n..15)")),
    ],
)
def test_numeric_format(text: str, expected: tuple[str, str] | None) -> None:
    assert check_format(text, Format.parse("n..15")) == expected


def test_fixed_and_alphanumeric_formats() -> None:
    assert check_format("AB", Format.parse("an3")) == (
        "40",
        "data element too short: 2 characters < 3 required (an3)",
    )
    assert check_format("ABC", Format.parse("a3")) is None
    assert check_format("A C", Format.parse("an..3")) is None


def test_repeated_data_element_in_syntax_4() -> None:
    data = edi(
        "BGM+220+PO-1+9",
        "DTM+137:20261120:102*2:20261127:102",
        "UNS+S",
        una="UNA:+.?*'",
        syntax="UNOC:4",
    )
    fault = only_fault(data)
    assert fault.message == (
        "DTM C507 (Date/time/period): too many repetitions: 2 > 1 allowed in ORDERS D96A"
    )
    assert (fault.where, fault.code) == ("segment 4 (DTM), element 1", "35")


def test_decode_raises_with_every_violation() -> None:
    data = edi("BGM+220+PO-1+9", "DTM+:20261120:102", "NAD++1::9", "XYZ+1", "UNS+S")
    with pytest.raises(SchemaValidationError) as caught:
        EdifactCodec().decode(data)
    error = caught.value
    assert error.message == (
        "the interchange breaks its EDIFACT message definitions: 3 violations; first: "
        "DTM C507/2005 (Date/time/period qualifier): mandatory component missing in ORDERS D96A"
    )
    assert error.where == "segment 4 (DTM), element 1, component 1"
    assert [p.where for p in error.problems] == [
        "segment 4 (DTM), element 1, component 1",
        "segment 5 (NAD), element 1",
        "segment 6 (XYZ)",
    ]


def test_at_most_a_hundred_violations_are_reported() -> None:
    lines = ["LIN+1", *(f"QTY+21:x{n}:PCE" for n in range(120))]
    with pytest.raises(SchemaValidationError) as caught:
        EdifactCodec().decode(orders(*lines))
    assert len(caught.value.problems) == 100
    assert "(showing the first 100)" in caught.value.message


def test_segment_numbers_count_functional_groups() -> None:
    text = (
        "UNB+UNOC:3+S:14+R:14+261120:0930+REF1'"
        "UNG+ORDERS+S+R+261120:0930+G1+UN+D:96A'"
        "UNH+1+ORDERS:D:96A:UN'BGM+220+PO-1+9'DTM+137:20261120:102'UNS+S'UNT+5+1'"
        "UNH+2+ORDERS:D:96A:UN'BGM+220+PO-2+9'UNS+S'UNT+4+2'"
        "UNE+2+G1'UNZ+1+REF1'"
    )
    codec = EdifactCodec()
    found = codec.check_messages(codec.read(text.encode()).tree)
    assert [(f.message, f.where, f.message_ref, f.message_segment) for f in found] == [
        (
            "DTM: mandatory segment missing in ORDERS D96A at position 0030",
            "segment 10 (UNS)",
            "2",
            3,
        )
    ]


# -- definition files ----------------------------------------------------------------------


def _walk(children: tuple[SegmentRef | GroupDef, ...]) -> tuple[set[str], list[str]]:
    tags: set[str] = set()
    groups: list[str] = []
    for child in children:
        if isinstance(child, GroupDef):
            groups.append(child.name)
            assert isinstance(child.children[0], SegmentRef)
            assert (child.children[0].status, child.children[0].max) == ("M", 1)
            inner_tags, inner_groups = _walk(child.children)
            tags |= inner_tags
            groups += inner_groups
        else:
            tags.add(child.tag)
    return tags, groups


def test_every_shipped_definition_loads_and_is_consistent() -> None:
    definitions = Definitions(SCHEMAS)  # not the cache: load every file afresh
    assert definitions.check_all() == []
    expected = {"ORDERS", "ORDRSP", "DESADV", "INVOIC", "INVRPT", "PRICAT", "IFTSTA", "CONTRL"}
    assert set(definitions.message_types("D96A")) == expected
    assert set(definitions.message_types("D01B")) == expected
    for directory in definitions.directories:
        for type_ in definitions.message_types(directory):
            message = definitions.message_in(directory, type_)
            assert message is not None
            tags, groups = _walk(message.children)
            assert tags == set(message.segments), f"{message.label}: undefined segments"
            assert len(groups) == len(set(groups)), f"{message.label}: group names repeat"
            assert groups == [f"SG{n}" for n in range(1, len(groups) + 1)]
            for segment in message.segments.values():
                for element in segment.elements:
                    parts = getattr(element, "components", (element,))
                    for part in parts:
                        assert Format.parse(part.format.text) == part.format
    for path in SCHEMAS.rglob("*.yaml"):
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict), path


def test_d01b_overlays_d96a() -> None:
    definitions = load_definitions()
    d96a = definitions.message("ORDERS", "D", "96A", "UN")
    d01b = definitions.message("ORDERS", "d", "01b", "un")
    assert d96a is not None
    assert d01b is not None
    assert [e.id for e in d96a.segments["BGM"].elements] == ["C002", "1004", "1225", "4343"]
    assert [e.id for e in d01b.segments["BGM"].elements] == ["C002", "C106", "1225", "4343"]
    assert d01b.segments["DTM"] == d96a.segments["DTM"]  # not in the overlay: D96A's
    contrl = definitions.message("CONTRL", "D", "01B", "UN")
    assert contrl is not None
    assert contrl.directory == "D01B"


@pytest.fixture
def tiny_definitions(tmp_path: Path) -> Path:
    root = tmp_path / "defs"
    (root / "X1").mkdir(parents=True)
    shutil.copy(SCHEMAS / "service.yaml", root / "service.yaml")
    (root / "X1" / "directory.yaml").write_text("version: D\nrelease: 99X\nagency: UN\n")
    (root / "X1" / "segments.yaml").write_text(
        "segments:\n"
        "  ABC:\n"
        "    name: Example\n"
        "    elements:\n"
        "      - {id: '1004', status: M}\n"
        "elements:\n"
        "  '1004': {name: Document number, format: an..5}\n"
    )
    (root / "X1" / "messages").mkdir()
    (root / "X1" / "messages" / "TINYMS.yaml").write_text(
        "message: TINYMS\nname: Tiny\nstructure:\n"
        "  - {pos: '0010', tag: UNH, status: M, max: 1}\n"
        "  - {pos: '0020', tag: ABC, status: M, max: 2}\n"
        "  - {pos: '0030', tag: UNT, status: M, max: 1}\n"
    )
    return root


def test_broken_definitions_are_config_errors(tiny_definitions: Path) -> None:
    path = tiny_definitions / "X1" / "messages" / "TINYMS.yaml"
    path.write_text(
        "message: TINYMS\nname: Tiny\nstructure:\n"
        "  - {pos: '0010', tag: UNH, status: M, max: 1}\n"
        "  - {pos: '0020', tag: QQQ, status: X, max: 0}\n"
        "  - {group: SG1, pos: '0030', status: C, max: 2,\n"
        "     segments: [{pos: '0040', tag: ABC, status: M, max: 1}]}\n"
        "  - {group: SG1, pos: '0050', status: C, max: 2,\n"
        "     segments: [{pos: '0060', tag: ABC, status: C, max: 1}]}\n"
        "  - {pos: '0070', tag: UNT, status: M, max: 1}\n"
    )
    (tiny_definitions / "X1" / "segments.yaml").write_text(
        (tiny_definitions / "X1" / "segments.yaml").read_text().replace("an..5", "x..5")
    )
    definitions = Definitions(tiny_definitions)
    with pytest.raises(ConfigError) as caught:
        definitions.message("TINYMS", "D", "99X", "UN")
    assert caught.value.where == str(tiny_definitions / "X1" / "segments.yaml")
    assert [p.message for p in caught.value.problems] == [
        "element 1004: 'x..5' is not a data element format (an..35, n..15, a3)"
    ]
    (tiny_definitions / "X1" / "segments.yaml").write_text(
        (tiny_definitions / "X1" / "segments.yaml").read_text().replace("x..5", "an..5")
    )
    with pytest.raises(ConfigError) as caught:
        Definitions(tiny_definitions).message("TINYMS", "D", "99X", "UN")
    assert [p.message for p in caught.value.problems] == [
        "structure, entry 2: status is M or C, not 'X'",
        "structure, entry 2: max is a whole number of at least 1, not 0",
        "structure, entry 4: group name SG1 is used twice",
        "structure SG1: the first entry is its trigger segment, M 1",
        "segment QQQ is used but not defined for X1",
    ]


def test_a_definitions_folder_of_ones_own(tiny_definitions: Path) -> None:
    codec = EdifactCodec(EdifactOptions(definitions=tiny_definitions))
    data = edi("ABC+12345", "ABC+123456", "ABC+1", ident="TINYMS:D:99X:UN")
    found = codec.check_messages(codec.read(data).tree)
    assert [(f.message, f.code) for f in found] == [
        (
            "ABC 1004 (Document number): data element too long: 6 characters > 5 allowed "
            "(an..5) in TINYMS X1",
            "39",
        ),
        ("ABC: too many repetitions: 3 > 2 allowed in TINYMS X1 at position 0020", "35"),
    ]


def test_the_definitions_option_resolves_against_the_config(tmp_path: Path) -> None:
    # no schemas/edifact beside this config: the bundled definitions are used
    codec = make_codec("edifact", {}, base_dir=tmp_path)
    assert isinstance(codec, EdifactCodec)
    assert codec.definitions.root == bundled_definitions()
    assert codec.definitions.root == SCHEMAS
    with pytest.raises(ConfigError, match="EDIFACT definitions folder not found"):
        make_codec("edifact", {"definitions": "edi-defs"}, base_dir=tmp_path)
    (tmp_path / "edi-defs").mkdir()
    codec = make_codec("edifact", {"definitions": "edi-defs"}, base_dir=tmp_path)
    assert isinstance(codec, EdifactCodec)
    assert codec.definitions.root == (tmp_path / "edi-defs").resolve()
    assert codec.definitions.directories == {}


def test_an_install_without_the_schemas_decodes_without_definitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hub.formats.edifact.codec as codec_module

    monkeypatch.setattr(codec_module, "bundled_definitions", lambda: tmp_path / "absent")
    codec = make_codec("edifact", {}, base_dir=tmp_path)
    tree = codec.decode(orders("LIN+1"))
    assert "body" not in tree["messages"][0]


# -- generator -----------------------------------------------------------------------------


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("edifact_generate", SCHEMAS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_generator_writes_the_shipped_definitions_from_un_files(tmp_path: Path) -> None:
    generate = _generator()
    out = tmp_path / "defs" / "D96A"
    written = generate.generate(
        [UNTDID / "IFTSTA_D.96A"],
        UNTDID / "EDSD.96A",
        UNTDID / "EDCD.96A",
        UNTDID / "EDED.96A",
        out,
        title="UNTDID D.96A",
    )
    assert [p.name for p in written] == ["segments.yaml", "IFTSTA.yaml"]
    shipped = yaml.safe_load((SCHEMAS / "D96A" / "messages" / "IFTSTA.yaml").read_text())
    made = yaml.safe_load((out / "messages" / "IFTSTA.yaml").read_text())
    assert made["structure"] == shipped["structure"]
    assert made["name"] == "International multimodal status report message"
    ours = yaml.safe_load((SCHEMAS / "D96A" / "segments.yaml").read_text())
    theirs = yaml.safe_load((out / "segments.yaml").read_text())
    for section in ("segments", "composites", "elements"):
        assert theirs[section], section
        assert {k: ours[section][k] for k in theirs[section]} == theirs[section]
    # and the folder loads as a directory
    shutil.copy(SCHEMAS / "service.yaml", out.parent / "service.yaml")
    shutil.copy(SCHEMAS / "D96A" / "directory.yaml", out / "directory.yaml")
    message = Definitions(out.parent).message("IFTSTA", "D", "96A", "UN")
    assert message is not None
    assert message.segments["TSR"].name == "Transport service requirements"


def test_generator_writes_an_overlay(tmp_path: Path) -> None:
    generate = _generator()
    base = tmp_path / "D96A"
    base.mkdir()
    (base / "segments.yaml").write_text(
        (SCHEMAS / "D96A" / "segments.yaml").read_text().replace("an..17", "an..18")
    )
    out = tmp_path / "D97A"
    generate.generate(
        [UNTDID / "IFTSTA_D.96A"],
        UNTDID / "EDSD.96A",
        UNTDID / "EDCD.96A",
        UNTDID / "EDED.96A",
        out,
        title="UNTDID D.97A",
        base=base,
    )
    overlay = yaml.safe_load((out / "segments.yaml").read_text())
    assert "segments" not in overlay
    assert "composites" not in overlay
    assert all(v["format"] == "an..17" for v in overlay["elements"].values())
    assert "8260" in overlay["elements"]


def test_generator_refuses_an_unclosed_group() -> None:
    generate = _generator()
    text = (UNTDID / "IFTSTA_D.96A").read_text(encoding="latin-1")
    broken = text.replace("C   9------------++", "C   9")
    with pytest.raises(generate.UntdidError, match="a segment group is not closed"):
        generate.parse_edmd(broken)
