"""What the public EDIFACT corpus taught (benchmarks/corpus.py runs the corpus itself).

Each test reproduces one lesson with a fixture written for the project: a byte order
mark under every character set, syntax version 4 without UNA, line breaks inside a
segment, the layout at the end of a file, several interchanges in one file, 0051 in
syntax version 4, and INVRPT D96A's ambiguous segment table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.errors import DecodeError, SchemaValidationError
from hub.formats.edifact import EdifactCodec, EdifactOptions

DATA = Path(__file__).resolve().parents[2] / "data" / "edifact"

codec = EdifactCodec()
envelope = EdifactCodec(EdifactOptions(structure=False, validate=False))


def interchange(
    *segments: str, head: str = "UNB+UNOC:3+SENDER:14+RECEIVER:14+261120:0930+R1'"
) -> bytes:
    body = "\n".join([head, *segments, "UNZ+1+R1'"]) + "\n"
    return body.encode("latin-1")


def orders(*lines: str, syntax: str = "UNOC:3", unh: str = "UNH+1+ORDERS:D:96A:UN") -> bytes:
    segments = [f"{unh}'", *[f"{line}'" for line in lines]]
    segments.append(f"UNT+{len(segments) + 1}+1'")
    return interchange(*segments, head=f"UNB+{syntax}+SENDER:14+RECEIVER:14+261120:0930+R1'")


# --- byte order mark --------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["UNOA", "UNOB", "UNOC", "UNOW"])
def test_a_byte_order_mark_is_stripped_and_recorded_under_every_charset(charset: str) -> None:
    data = b"\xef\xbb\xbf" + orders(
        "BGM+220+PO-1+9", "DTM+137:20261120:102", "UNS+S", syntax=f"{charset}:3"
    )
    tree = envelope.decode(data)
    assert tree["bom"] is True
    assert tree["syntax"]["identifier"] == charset
    assert envelope.encode(tree) == data


def test_the_bom_sample_round_trips() -> None:
    data = (DATA / "orders_d96a_bom_unoa.edi").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert codec.encode(codec.decode(data)) == data


# --- syntax version 4 without UNA -------------------------------------------------------


def test_syntax_4_without_una_separates_repetitions_with_a_star() -> None:
    data = orders("BGM+220+PO-1+9", "FTX+AAI+++FRAGILE*KEEP DRY", syntax="UNOC:4")
    tree = envelope.decode(data)
    assert tree["separators"]["repetition"] == "*"
    assert "una" in tree
    assert tree["una"] is False
    ftx = tree["messages"][0]["segments"][2]
    assert ftx[4] == {"repeat": ["FRAGILE", "KEEP DRY"]}
    assert envelope.encode(tree) == data  # written back without UNA: * is the default


def test_a_star_in_a_syntax_4_value_is_released_when_written() -> None:
    tree = envelope.decode(orders("BGM+220+PO-1+9", syntax="UNOC:4"))
    tree["messages"][0]["segments"][1][2] = "PO*1"
    out = envelope.encode(tree)
    assert b"BGM+220+PO?*1+9'" in out
    assert not out.startswith(b"UNA")
    assert envelope.decode(out)["messages"][0]["segments"][1][2] == "PO*1"


def test_syntax_3_without_una_keeps_the_star_as_text() -> None:
    tree = envelope.decode(orders("BGM+220+PO*1+9"))
    assert tree["messages"][0]["segments"][1][2] == "PO*1"


# --- line breaks ------------------------------------------------------------------------


def test_a_line_break_inside_a_value_is_refused_naming_the_element() -> None:
    data = (DATA / "broken" / "line_break_in_value.edi").read_bytes()
    with pytest.raises(DecodeError) as caught:
        envelope.decode(data)
    assert caught.value.where == "segment 4 (DTM), element 1, component 2, line 2"
    assert "line_breaks: strip" in (caught.value.hint or "")


def test_line_breaks_can_be_read_as_layout_when_the_file_is_wrapped() -> None:
    data = (DATA / "broken" / "line_break_in_value.edi").read_bytes()
    tree = EdifactCodec(EdifactOptions(line_breaks="strip")).decode(data)
    dtm = tree["messages"][0]["segments"][2]
    assert dtm == ["DTM", ["137", "20261120", "102"]]  # never "202611\n20"


def test_a_line_break_inside_a_unb_is_named() -> None:
    data = b"UNB+UN\nOC:3+S:14+R:14+261120:0930+R1'UNZ+0+R1'"
    with pytest.raises(DecodeError, match="a line break inside UNB"):
        envelope.decode(data)


# --- layout at the end of the file ------------------------------------------------------


@pytest.mark.parametrize("ending", [b"", b"\n", b"\r\n", b"\n\n"])
def test_the_end_of_the_file_is_kept(ending: bytes) -> None:
    data = orders("BGM+220+PO-1+9").rstrip(b"\n") + ending
    assert envelope.encode(envelope.decode(data)) == data


def test_an_indented_segment_is_named() -> None:
    data = orders("BGM+220+PO-1+9").replace(b"\nBGM", b"\n\tBGM")
    with pytest.raises(DecodeError, match=r"segment 3 is indented by '\\t' before 'BGM'"):
        envelope.decode(data)


# --- several interchanges ---------------------------------------------------------------


def test_several_interchanges_in_one_file_are_each_read() -> None:
    data = (DATA / "orders_d96a_two_interchanges.edi").read_bytes()
    tree = codec.decode(data)
    assert [t["header"][4] for t in tree["interchanges"]] == ["TWO0001", "TWO0002"]
    assert tree["interchanges"][1]["una"] is True
    assert tree["interchanges"][1]["final_newline"] == ""  # no line break at the end
    body = tree["interchanges"][1]["messages"][0]["body"]
    assert body["BGM"][2] == "PO-88002"
    assert codec.encode(tree) == data


def test_split_yields_the_messages_of_every_interchange() -> None:
    data = (DATA / "orders_d96a_two_interchanges.edi").read_bytes()
    parts = codec.split(data)
    assert [codec.decode(p)["messages"][0]["body"]["BGM"][2] for p in parts] == [
        "PO-88001",
        "PO-88002",
    ]


def test_each_interchange_is_checked_on_its_own() -> None:
    data = (DATA / "orders_d96a_two_interchanges.edi").read_bytes()
    data = data.replace(b"UNZ+1+TWO0002", b"UNZ+1+TWO9999")
    with pytest.raises(DecodeError) as caught:
        codec.decode(data)
    assert caught.value.where == "interchange 2, segment 10 (UNZ), element 2, line 21"


def test_mixed_line_ends_are_read() -> None:
    data = orders("BGM+220+PO-1+9", "DTM+137:20261120:102").replace(b"'\n", b"'\r\n", 2)
    tree = envelope.decode(data)
    assert tree["newline"] == "\r\n"
    assert [s[0] for s in tree["messages"][0]["segments"]] == ["UNH", "BGM", "DTM", "UNT"]


def test_text_after_the_last_interchange_is_still_an_error() -> None:
    data = orders("BGM+220+PO-1+9") + b"trailing words\n"
    with pytest.raises(DecodeError, match="text after the last segment terminator"):
        envelope.decode(data)


# --- 0051 in syntax version 4 -----------------------------------------------------------


def _subset(syntax: str) -> Any:
    return orders(
        "BGM+220+PO-1+9",
        "DTM+137:20261120:102",
        "UNS+S",
        syntax=syntax,
        unh="UNH+1+ORDERS:D:96A:UN++++EANCOM:1::GS1",
    )


def test_0051_is_an_3_in_syntax_4() -> None:
    codec.decode(_subset("UNOC:4"))  # S017's controlling agency GS1: three characters


def test_0051_stays_an_2_before_syntax_4() -> None:
    with pytest.raises(SchemaValidationError, match=r"0051 \(Controlling agency\)"):
        codec.decode(_subset("UNOC:3"))


# --- INVRPT D96A: LIN QTY CPS PAC QTY ---------------------------------------------------


def test_invrpt_resolves_a_quantity_after_a_package_to_the_package() -> None:
    # After LIN QTY CPS PAC, a QTY fits two places of the D96A table: SG16's QTY (the
    # package's quantity, 0610) or a new SG11 (another quantity of the line, 0400).
    # Bots' reader refuses the file as ambiguous; Switchboard reads it as the innermost
    # open group that can take the segment does: the package's quantity.
    data = interchange(
        "UNH+1+INVRPT:D:96A:UN'",
        "BGM+35+STOCK-1+9'",
        "DTM+137:20261120:102'",
        "LIN+1++4000862141404:EN'",
        "QTY+145:120'",
        "CPS+1'",
        "PAC+10++CT'",
        "QTY+52:12'",
        "UNT+9+1'",
    )
    line = codec.decode(data)["messages"][0]["body"]["SG9"][0]
    assert len(line["SG11"]) == 1
    package = line["SG11"][0]["SG15"][0]["SG16"][0]
    assert package["PAC"][1] == "10"
    assert package["QTY"] == [["QTY", ["52", "12"]]]
