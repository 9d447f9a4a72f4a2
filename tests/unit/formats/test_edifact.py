"""hub.formats.edifact: the sample corpus, exact round trips, located errors, split,
charsets, CONTRL, a differential test against pydifact, and property tests."""

from __future__ import annotations

import contextlib
import string
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.errors import DecodeError, EncodeError, SchemaValidationError
from hub.formats.edifact import (
    EdifactCodec,
    EdifactOptions,
    Fault,
    Reading,
    Separators,
    build_contrl,
    read_interchange,
)
from hub.formats.edifact.syntax import charset_for

DATA = Path(__file__).resolve().parents[2] / "data" / "edifact"
BROKEN = DATA / "broken"
VALID = sorted(p.name for p in DATA.glob("*.edi"))
WHEN = datetime(2024, 2, 1, 7, 5)

codec = EdifactCodec()  # the default: envelope, structure and message definitions
envelope = EdifactCodec(EdifactOptions.model_validate({"structure": False, "validate": False}))


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def options(**values: Any) -> EdifactOptions:
    return EdifactOptions.model_validate({"structure": False, "validate": False, **values})


def segments_of(tree: dict[str, Any]) -> list[list[Any]]:
    """Every segment of a decoded interchange, UNB to UNZ, as the lexer produced it."""
    out: list[list[Any]] = [["UNB", *tree["header"]]]
    if "groups" in tree:
        for group in tree["groups"]:
            out.append(["UNG", *group["header"]])
            for message in group["messages"]:
                out += message["segments"]
            out.append(["UNE", *group["trailer"]])
    else:
        for message in tree["messages"]:
            out += message["segments"]
    out.append(["UNZ", *tree["trailer"]])
    return out


# --- the corpus ------------------------------------------------------------------------


def test_the_corpus_has_every_message_type_and_quirk() -> None:
    types = set()
    for name in VALID:
        decoded = envelope.decode(sample(name))
        for tree in decoded.get("interchanges") or [decoded]:
            groups = tree.get("groups") or [{"messages": tree["messages"]}]
            types |= {
                (m["type"], m["version"] + m["release"]) for g in groups for m in g["messages"]
            }
    assert types == {
        ("ORDERS", "D96A"),
        ("ORDERS", "D01B"),
        ("ORDRSP", "D96A"),
        ("DESADV", "D96A"),
        ("INVOIC", "D96A"),
        ("INVRPT", "D96A"),
        ("PRICAT", "D96A"),
        ("IFTSTA", "D96A"),
        ("CONTRL", "D3"),
    }


@pytest.mark.parametrize("name", VALID)
def test_valid_samples_decode_and_reencode_to_the_same_bytes(name: str) -> None:
    data = sample(name)
    tree = codec.decode(data)
    encoded = codec.encode(tree)
    assert encoded == data
    assert codec.decode(encoded) == tree


@pytest.mark.parametrize("name", VALID)
def test_envelope_only_round_trip(name: str) -> None:
    data = sample(name)
    tree = envelope.decode(data)
    assert envelope.encode(tree) == data
    assert envelope.decode(envelope.encode(tree)) == tree


def _at(tree: Any, path: str) -> Any:
    for key in path.split("/"):
        tree = tree[int(key)] if isinstance(tree, list) else tree[key]
    return tree


# (sample, path in the decoded tree, value): each sample's quirk is really in the tree
QUIRKS: list[tuple[str, str, Any]] = [
    ("orders_d96a_unoc.edi", "separators/decimal", "."),
    ("orders_d96a_unoc.edi", "newline", "\n"),
    (
        "orders_d96a_unoc.edi",
        "messages/0/segments/4/4",
        ["Anlieferung Mo-Fr 7:00-15:00 Uhr + Avis 24h vorher", "Fragen? Tel. +49 711 4711-0"],
    ),
    ("orders_d96a_unoc.edi", "messages/0/segments/5/4", "Tor 3 neben Müller's Kantine"),
    ("orders_d96a_unoc.edi", "messages/0/segments/7/4", "Müller Süßwaren GmbH + Co. KG"),
    ("orders_d96a_unoc.edi", "messages/0/segments/9/5", "12 Rue de la République"),
    ("orders_d01b_v4.edi", "syntax", {"identifier": "UNOC", "version": "4"}),
    ("orders_d01b_v4.edi", "separators/repetition", "*"),
    ("orders_d01b_v4.edi", "newline", "\r\n"),
    ("orders_d01b_v4.edi", "header/3", ["20240304", "1200"]),
    ("orders_d01b_v4.edi", "messages/0/segments/4/4/0", "Bitte 2 * 6 Kartons je Palette"),
    ("ordrsp_d96a_decimal_comma.edi", "separators/decimal", ","),
    ("ordrsp_d96a_decimal_comma.edi", "messages/1/segments/11/1", ["AAA", "0,85"]),
    (
        "ordrsp_d96a_decimal_comma.edi",
        "messages/0/segments/6/4",
        "Société Générale de Distribution",
    ),
    ("desadv_d96a_unoa_no_una.edi", "una", False),
    ("desadv_d96a_unoa_no_una.edi", "newline", None),
    ("desadv_d96a_unoa_no_una.edi", "syntax", {"identifier": "UNOA", "version": "3"}),
    ("desadv_d96a_unoa_no_una.edi", "messages/0/segments/7/4", "ZENTRALLAGER NORD + SUED"),
    ("invoic_d96a_unob_v2.edi", "syntax", {"identifier": "UNOB", "version": "2"}),
    ("invoic_d96a_unob_v2.edi", "trailer", ["3", "INV2401310001"]),
    (
        "invoic_d96a_unob_v2.edi",
        "messages/2/segments/8/1",
        ["invoices@mueller-suesswaren.example", "EM"],
    ),
    ("invrpt_d96a_unow_v4.edi", "syntax", {"identifier": "UNOW", "version": "4"}),
    ("invrpt_d96a_unow_v4.edi", "messages/0/segments/4/4", "Hurtownia Spożywcza Łódź Sp. z o.o."),
    ("invrpt_d96a_unow_v4.edi", "messages/0/segments/5/4", "Ελαιόλαδο Κρήτης Α.Ε."),  # noqa: RUF001
    ("invrpt_d96a_unow_v4.edi", "messages/0/segments/8/3/3", "Oliwa z oliwek extra virgin 1 l*6"),
    ("pricat_d96a_group.edi", "groups/0/header/4", "GRP0001"),
    ("pricat_d96a_group.edi", "groups/0/trailer", ["2", "GRP0001"]),
    ("pricat_d96a_group.edi", "groups/0/messages/1/reference", "PC2"),
    ("iftsta_d96a_una_inline.edi", "una_newline", False),
    ("iftsta_d96a_una_inline.edi", "header/1", ["CARRIER-DE-0042", "ZZZ", ""]),
    ("contrl_d3.edi", "messages/0/segments/6", ["UCD", "12", ["1", "2"]]),
    ("orders_d96a_unob_level_b.edi", "separators", Separators.level_b_defaults().to_tree()),
    ("orders_d96a_bom_unoa.edi", "bom", True),
    ("orders_d96a_bom_unoa.edi", "syntax", {"identifier": "UNOA", "version": "3"}),
    ("orders_d96a_two_interchanges.edi", "interchanges/1/header/4", "TWO0002"),
    ("orders_d96a_two_interchanges.edi", "interchanges/1/final_newline", ""),
    (
        "orders_d96a_unob_level_b.edi",
        "messages/0/segments/3/4",
        "O'Brien + Sons: deliver 50% now, rest on call?",
    ),
]


@pytest.mark.parametrize(("name", "path", "value"), QUIRKS)
def test_sample_quirks_reach_the_tree(name: str, path: str, value: Any) -> None:
    assert _at(envelope.decode(sample(name)), path) == value


def test_every_valid_sample_has_its_quirk_checked() -> None:
    assert {name for name, _, _ in QUIRKS} == set(VALID)


# --- broken interchanges ----------------------------------------------------------------

ENVELOPE = "the interchange envelope has 1 fault: "
FAILURES: dict[str, tuple[str, str]] = {
    "unt_count.edi": (
        ENVELOPE + "control count 7 does not match the 9 segments from UNH to UNT",
        "segment 10 (UNT), element 1, line 11",
    ),
    "unt_reference.edi": (
        ENVELOPE + "control reference '2' differs from '1' in UNH",
        "segment 10 (UNT), element 2, line 11",
    ),
    "unz_count.edi": (
        ENVELOPE + "control count 11 does not match the 1 messages",
        "segment 11 (UNZ), element 1, line 12",
    ),
    "missing_unz.edi": (
        ENVELOPE + "expected UNZ to close the interchange, found the end of the file",
        "segment 10 (UNT), line 11",
    ),
    "cut_mid_segment.edi": (
        "text after the last segment terminator \"'\": 'LIN+1++40008'",
        "segment 7, line 8",
    ),
    "unoa_lower_case.edi": (
        "character 'e' (U+0065) is not allowed in UNOA",
        "line 1, character 173",
    ),
    "unow_invalid_utf8.edi": (
        "byte 0xfc at offset 207 is not valid UNOW (utf-8)",
        "line 7",
    ),
    "release_at_end.edi": (
        "a release character escapes the terminator of segment 5 (FTX), which runs on "
        "into 'NAD+BY+4012345000009'",
        "segment 5 (FTX), line 6",
    ),
    "release_at_end_of_file.edi": (
        'a release character escapes the terminator of the last segment: "UNZ+1+ORD0001777?\'"',
        "segment 11, line 12",
    ),
    "garbage_after_end.edi": (
        "text after the last segment terminator \"'\": '------=_Part_4711_1234567890.1'",
        "segment 12, line 14",
    ),
    "segment_without_tag.edi": (
        "segment 8 does not start with a segment tag: '+21:48'",
        "segment 8, line 9",
    ),
    "line_break_in_value.edi": (
        "a line break inside a segment, in data: 'DTM+137:202611\\n20:102'",
        "segment 4 (DTM), element 1, component 2, line 2",
    ),
    "empty_segment.edi": (
        'segment 9 is empty: two segment terminators "\'" in a row',
        "segment 9, line 9",
    ),
    "x12_850.edi": (
        "an interchange starts with UNA or UNB, found b'ISA*00*          *00'",
        "segment 1, line 1",
    ),
    "xml_order.edi": (
        "an interchange starts with UNA or UNB, found b'<?xml version=\"1.0\" '",
        "segment 1, line 1",
    ),
}


def test_every_broken_sample_has_its_expected_failure() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.edi")) == sorted(FAILURES)


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_broken_samples_fail_precisely(name: str) -> None:
    message, where = FAILURES[name]
    with pytest.raises(DecodeError) as caught:
        codec.decode((BROKEN / name).read_bytes())
    assert type(caught.value) is DecodeError
    assert (caught.value.message, caught.value.where) == (message, where)


def test_envelope_faults_are_all_listed_with_codes() -> None:
    data = sample("invoic_d96a_unob_v2.edi").replace(b"UNT+23+2'", b"UNT+22+9'")
    data = data.replace(b"UNZ+3+INV2401310001'", b"UNZ+4+INV2401310002'")
    faults = envelope.read(data).faults
    assert [(f.segment, f.tag, f.code, f.element, f.message_ref) for f in faults] == [
        (47, "UNT", "29", 1, "2"),
        (47, "UNT", "28", 2, "2"),
        (71, "UNZ", "29", 1, None),
        (71, "UNZ", "28", 2, None),
    ]
    with pytest.raises(DecodeError) as caught:
        envelope.decode(data)
    assert caught.value.message.startswith("the interchange envelope has 4 faults: ")
    assert [p.where for p in caught.value.problems] == [
        "segment 47 (UNT), element 1, line 48",
        "segment 47 (UNT), element 2, line 48",
        "segment 71 (UNZ), element 1, line 72",
        "segment 71 (UNZ), element 2, line 72",
    ]


def test_segments_outside_a_message_have_code_33() -> None:
    data = sample("orders_d96a_unoc.edi").replace(b"UNZ+1+", b"FTX+AAI+++stray'\nUNZ+1+")
    data += b"UNZ+1+ORD0001776'\n"
    assert [(f.segment, f.tag, f.code) for f in envelope.read(data).faults] == [
        (27, "FTX", "33"),
        (29, "UNZ", "33"),
    ]


# --- split -------------------------------------------------------------------------------


def test_split_gives_one_interchange_per_message() -> None:
    data = sample("invoic_d96a_unob_v2.edi")
    lines = data.split(b"\r\n")
    una, unb, body = lines[0], lines[1], lines[2:-2]
    parts = codec.split(data)
    assert len(parts) == 3
    for n, part in enumerate(parts):
        message = body[n * 23 : (n + 1) * 23]
        assert message[0] == f"UNH+{n + 1}+INVOIC:D:96A:UN:EAN008'".encode()
        assert message[-1] == f"UNT+23+{n + 1}'".encode()
        assert part == b"\r\n".join([una, unb, *message, b"UNZ+1+INV2401310001'", b""])
        assert codec.decode(part)["messages"][0]["reference"] == str(n + 1)


def test_split_keeps_the_group_and_the_una_quirk() -> None:
    parts = codec.split(sample("pricat_d96a_group.edi"))
    assert [p.decode("latin-1").splitlines()[-2:] for p in parts] == [
        ["UNE+1+GRP0001'", "UNZ+1+PC0000000091'"],
        ["UNE+1+GRP0001'", "UNZ+1+PC0000000091'"],
    ]
    assert [envelope.decode(p)["groups"][0]["messages"][0]["reference"] for p in parts] == [
        "PC1",
        "PC2",
    ]
    first, second = codec.split(sample("iftsta_d96a_una_inline.edi"))
    assert first.startswith(b"UNA:+.? 'UNB+UNOC:3+CARRIER-DE-0042:ZZZ:+")
    assert second.endswith(b"UNT+11+2'\nUNZ+1+ST24011906'\n")


def test_split_of_a_broken_envelope_fails() -> None:
    with pytest.raises(DecodeError):
        codec.split((BROKEN / "unz_count.edi").read_bytes())


# --- encoding: charsets, transliteration, separators ----------------------------------


def test_encode_refuses_a_character_the_charset_lacks() -> None:
    tree = envelope.decode(sample("orders_d96a_unoc.edi"))
    with pytest.raises(EncodeError) as caught:
        EdifactCodec(options(charset="UNOA")).encode(tree)
    assert caught.value.message == "character 'n' (U+006E) cannot be written in UNOA"
    assert caught.value.where == "segment 6 (FTX) at /messages/0/segments/4"
    assert "transliterate: true" in (caught.value.hint or "")
    with pytest.raises(EncodeError) as caught:
        EdifactCodec(options(charset="UNOB")).encode(tree)
    assert caught.value.message == "character 'ü' (U+00FC) cannot be written in UNOB"
    assert caught.value.where == "segment 7 (FTX) at /messages/0/segments/5"


def test_encode_names_the_segment_after_released_terminators() -> None:
    # UNA and the released ' in FTX end with a "'" too: segments are counted, not "'"
    tree = envelope.decode(sample("orders_d96a_unoc.edi"))
    tree["messages"][0]["segments"][5][4] = "Tor 3, Kantine's Rampe"
    with pytest.raises(EncodeError) as caught:
        EdifactCodec(options(charset="UNOB")).encode(tree)
    assert caught.value.message == "character 'ü' (U+00FC) cannot be written in UNOB"
    assert caught.value.where == "segment 9 (NAD) at /messages/0/segments/7"


def test_encode_transliterates_when_asked() -> None:
    tree = envelope.decode(sample("orders_d96a_unoc.edi"))
    data = EdifactCodec(options(charset="UNOA", transliterate=True)).encode(tree)
    text = data.decode("ascii")
    assert "UNB+UNOA:3+4012345000009:14+" in text
    assert "NAD+BY+4012345000009::9++MULLER SUSSWAREN GMBH ?+ CO. KG+KONIGSTRASSE 12+" in text
    assert "FTX+DEL+++TOR 3 NEBEN MULLER?'S KANTINE'" in text
    again = envelope.decode(data)
    assert again["syntax"] == {"identifier": "UNOA", "version": "3"}
    polish = envelope.decode(sample("invrpt_d96a_unow_v4.edi"))
    to_latin1 = EdifactCodec(options(charset="UNOC", transliterate=True))
    # only what Latin-1 lacks is folded: ó stays, Ł and ż do not
    with pytest.raises(EncodeError) as caught:  # no folding makes Greek Latin
        to_latin1.encode(polish)
    assert caught.value.message == "character '\u0395' (U+0395) cannot be written in UNOC"
    assert caught.value.where == "segment 7 (NAD) at /messages/0/segments/5"
    segments = polish["messages"][0]["segments"]
    segments[:] = [s for s in segments if s[0] != "IMD" and "GR" not in s]
    latin = to_latin1.encode(polish).decode("latin-1")
    assert "NAD+BY+5901234000004::9++Hurtownia Spozywcza Lódz Sp. z o.o.+" in latin
    assert "+ul. Zólkiewskiego 7+Gdansk++80-001+PL'" in latin


def test_encode_with_other_separators_charset_and_line_ends() -> None:
    tree = envelope.decode(sample("orders_d96a_unoc.edi"))
    seps = {"component": "|", "element": "^", "decimal": ",", "release": "\\"}
    seps |= {"repetition": "*", "segment": "~"}
    data = EdifactCodec(options(separators=seps, charset="UNOW", newline="\r\n")).encode(tree)
    lines = data.decode("utf-8").split("\r\n")
    assert lines[:2] == [
        "UNA|^,\\*~",
        "UNB^UNOW|3^4012345000009|14^4098765000001|14^240115|1030^ORD0001776^^ORDERS~",
    ]
    assert lines[9] == (
        "NAD^BY^4012345000009||9^^Müller Süßwaren GmbH + Co. KG^Königstraße 12^Stuttgart^^70173^DE~"
    )
    assert lines[7] == "FTX^DEL^^^Tor 3 neben Müller's Kantine~"
    again = envelope.decode(data)
    assert again["separators"] == seps
    assert segments_of(again)[1:] == segments_of(tree)[1:]
    never = EdifactCodec(options(una="never", newline="")).encode(
        envelope.decode(sample("desadv_d96a_unoa_no_una.edi"))
    )
    assert never == sample("desadv_d96a_unoa_no_una.edi")
    always = EdifactCodec(options(una="always")).encode(
        envelope.decode(sample("desadv_d96a_unoa_no_una.edi"))
    )
    assert always == b"UNA:+.? '" + sample("desadv_d96a_unoa_no_una.edi")


def test_encode_escapes_the_repetition_separator_only_in_version_4() -> None:
    tree = envelope.decode(sample("orders_d01b_v4.edi"))
    assert b"Bitte 2 ?* 6 Kartons" in envelope.encode(tree)
    tree["syntax"]["version"] = "3"
    tree["header"][0] = ["UNOC", "3"]
    tree["separators"]["repetition"] = " "
    assert b"Bitte 2 * 6 Kartons" in envelope.encode(tree)


def test_repetitions_in_syntax_version_4() -> None:
    data = (
        b"UNA:+.?*'UNB+UNOC:4+A:14+B:14+20240101:1200+R1'UNH+1+XYZMSG:D:01B:UN'"
        b"ABC+a*b:c*?*d+e'UNT+3+1'UNZ+1+R1'"
    )
    tree = envelope.decode(data)
    assert tree["messages"][0]["segments"][1] == ["ABC", {"repeat": ["a", ["b", "c"], "*d"]}, "e"]
    assert envelope.encode(tree) == data


# --- regressions found while writing these tests ----------------------------------------


def test_a_long_unterminated_tail_fails_fast() -> None:
    # the lexer used finditer(), retrying from every character of an unterminated tail
    data = ("UNA:+.? 'UNB+UNOC:3+A+B+240101:1200+1" + "~FTX+AAI+++A?+B" * 20_000).encode()
    started = time.perf_counter()
    with pytest.raises(DecodeError) as caught:
        envelope.decode(data)
    assert time.perf_counter() - started < 20  # quadratic: far over a minute
    assert caught.value.where == "segment 1, line 1"


def test_line_numbers_are_counted_once() -> None:
    # every segment's line used to be counted from the start of the file: quadratic
    body = "".join(
        f"UNH+{n}+ORDERS:D:96A:UN'\nBGM+220+{n}+9'\nDTM+137:20240101:102'\nUNT+4+{n}'\n"
        for n in range(1, 15_001)
    )
    data = f"UNB+UNOC:3+A+B+240101:1200+R1'\n{body}UNZ+15000+R2'\n".encode()
    started = time.perf_counter()
    faults = envelope.read(data).faults
    assert time.perf_counter() - started < 30  # quadratic: minutes
    assert [(f.segment, f.line) for f in faults] == [(60_002, 60_002)]


# --- CONTRL --------------------------------------------------------------------------------


def contrl(reading: Reading, **extra: Any) -> str:
    tree = build_contrl(reading, reference="CTL0001", date_time=WHEN, **extra)
    data = codec.encode(tree)
    codec.decode(data)  # valid against CONTRL D:3, envelope included
    assert envelope.decode(data) == tree  # the same shape as a decoded interchange
    return data.decode("latin-1")


def test_contrl_for_an_accepted_interchange() -> None:
    reading = envelope.read(sample("orders_d96a_unoc.edi"))
    assert contrl(reading) == (
        "UNA:+.? '\n"
        "UNB+UNOC:3+4098765000001:14+4012345000009:14+240201:0705+CTL0001'\n"
        "UNH+1+CONTRL:D:3:UN'\n"
        "UCI+ORD0001776+4012345000009:14+4098765000001:14+7'\n"
        "UNT+3+1'\n"
        "UNZ+1+CTL0001'\n"
    )


def test_contrl_reports_each_message_when_asked() -> None:
    reading = envelope.read(sample("invoic_d96a_unob_v2.edi"))
    assert contrl(reading, report_messages=True) == (
        "UNA:+.? '\r\n"
        "UNB+UNOB:2+4012345000009:14+4098765000001:14+240201:0705+CTL0001'\r\n"
        "UNH+1+CONTRL:D:3:UN'\r\n"
        "UCI+INV2401310001+4098765000001:14+4012345000009:14+7'\r\n"
        "UCM+1+INVOIC:D:96A:UN:EAN008+7'\r\n"
        "UCM+2+INVOIC:D:96A:UN:EAN008+7'\r\n"
        "UCM+3+INVOIC:D:96A:UN:EAN008+7'\r\n"
        "UNT+6+1'\r\n"
        "UNZ+1+CTL0001'\r\n"
    )


def test_contrl_for_a_rejected_interchange() -> None:
    reading = envelope.read((BROKEN / "unz_count.edi").read_bytes())
    assert contrl(reading) == (
        "UNA:+.? '\n"
        "UNB+UNOC:3+4098765000001:14+4012345000009:14+240201:0705+CTL0001'\n"
        "UNH+1+CONTRL:D:3:UN'\n"
        "UCI+ORD0001777+4012345000009:14+4098765000001:14+4+29+UNZ+1'\n"
        "UNT+3+1'\n"
        "UNZ+1+CTL0001'\n"
    )
    # no UNZ: the interchange is rejected, and with it every message in it
    missing = envelope.read((BROKEN / "missing_unz.edi").read_bytes())
    assert contrl(missing, report_messages=True).splitlines()[3:6] == [
        "UCI+ORD0001777+4012345000009:14+4098765000001:14+4+13+UNZ'",
        "UCM+1+ORDERS:D:96A:UN:EAN008+4'",
        "UNT+4+1'",
    ]


def test_contrl_rejects_a_message_with_a_bad_trailer() -> None:
    reading = envelope.read((BROKEN / "unt_count.edi").read_bytes())
    assert contrl(reading).splitlines()[3:6] == [
        "UCI+ORD0001777+4012345000009:14+4098765000001:14+7'",
        "UCM+1+ORDERS:D:96A:UN:EAN008+4+29+UNT+1'",
        "UNT+4+1'",
    ]


def test_contrl_with_segment_and_data_element_errors() -> None:
    data = sample("orders_d96a_unoc.edi")
    data = data.replace(b"QTY+21:48'", b"QTY+21:4x8'")
    data = data.replace(b"BGM+220+4500012345+9'", b"BGM+220+4500012345+9+AB+X'")
    data = data.replace(b"CNT+2:2'", b"CNT+2:2'\nXYZ+1'").replace(b"UNT+25+1'", b"UNT+26+1'")
    reading = envelope.read(data)
    assert reading.faults == []
    faults = codec.check_messages(reading.tree)
    assert [(f.message_segment, f.code, f.element, f.component) for f in faults] == [
        (2, "16", 5, None),
        (16, "37", 1, 2),
        (25, "15", None, None),
    ]
    assert contrl(reading, extra_faults=faults).splitlines()[3:10] == [
        "UCI+ORD0001776+4012345000009:14+4098765000001:14+7'",
        "UCM+1+ORDERS:D:96A:UN:EAN008+4'",
        "UCS+2'",
        "UCD+16+5'",
        "UCS+16'",
        "UCD+37+1:2'",
        "UCS+25+15'",
    ]


def test_contrl_places_faults_by_reference_and_position() -> None:
    reading = envelope.read(sample("invoic_d96a_unob_v2.edi"))
    faults = [
        Fault("too long", 30, "NAD", "39", element=4, message_ref="2", message_segment=5),
        Fault(
            "missing", 30, "NAD", "13", element=4, component=2, message_ref="2", message_segment=5
        ),
        Fault("unexpected", 31, "RFF", "15", message_ref="2", message_segment=6),
        Fault("repeated", 31, "RFF", "35", message_ref="2", message_segment=6),
        Fault("bad UNH", 2, "UNH", "12", element=2, component=5, message_ref="1"),
    ]
    assert contrl(reading, extra_faults=faults).splitlines()[3:12] == [
        "UCI+INV2401310001+4098765000001:14+4012345000009:14+7'",
        "UCM+1+INVOIC:D:96A:UN:EAN008+4+12+UNH+2:5'",
        "UCM+2+INVOIC:D:96A:UN:EAN008+4'",
        "UCS+5'",
        "UCD+39+4'",
        "UCD+13+4:2'",
        "UCS+6+15'",
        "UCS+6+35'",
        "UNT+10+1'",
    ]


def test_contrl_tells_messages_with_the_same_reference_apart() -> None:
    data = sample("invoic_d96a_unob_v2.edi").replace(b"UNH+2+", b"UNH+1+")
    data = data.replace(b"UNT+23+2'", b"UNT+23+1'")
    reading = envelope.read(data)
    second = Fault("too long", 30, "NAD", "39", element=4, message_ref="1", message_segment=5)
    assert contrl(reading, extra_faults=[second]).splitlines()[4:7] == [
        "UCM+1+INVOIC:D:96A:UN:EAN008+4'",
        "UCS+5'",
        "UCD+39+4'",
    ]
    answer = build_contrl(reading, reference="X", extra_faults=[second], report_messages=True)
    assert [s[3] for s in answer["messages"][0]["segments"] if s[0] == "UCM"] == ["7", "4", "7"]


def test_contrl_for_a_functional_group() -> None:
    data = sample("pricat_d96a_group.edi").replace(b"UNE+2+GRP0001'", b"UNE+3+GRP0001'")
    assert contrl(envelope.read(data)).splitlines()[3:6] == [
        "UCI+PC0000000091+4098765000001:14+4012345000009:14+7'",
        "UCF+GRP0001+4098765000001:14+4012345000009:14+4+29+UNE+1'",
        "UNT+4+1'",
    ]
    no_une = sample("pricat_d96a_group.edi").replace(b"UNE+2+GRP0001'\n", b"")
    assert contrl(envelope.read(no_une)).splitlines()[4] == (
        "UCF+GRP0001+4098765000001:14+4012345000009:14+4+13+UNE'"
    )
    stray = sample("pricat_d96a_group.edi").replace(b"UNH+PC2", b"BGM+1'\nUNH+PC2")
    assert contrl(envelope.read(stray)).splitlines()[4] == (
        "UCF+GRP0001+4098765000001:14+4012345000009:14+4+33'"
    )
    accepted = contrl(envelope.read(sample("pricat_d96a_group.edi")), report_messages=True)
    assert accepted.splitlines()[4:7] == [
        "UCF+GRP0001+4098765000001:14+4012345000009:14+7'",
        "UCM+PC1+PRICAT:D:96A:UN:EAN008+7'",
        "UCM+PC2+PRICAT:D:96A:UN:EAN008+7'",
    ]


def test_contrl_answers_a_syntax_2_interchange_in_its_identifier_and_version() -> None:
    unoa_v2 = sample("desadv_d96a_unoa_no_una.edi").replace(b"UNB+UNOA:3+", b"UNB+UNOA:2+")
    text = contrl(envelope.read(unoa_v2))
    assert text.startswith("UNB+UNOA:2+"), text[:40]
    assert "UNOA:3" not in text
    assert (
        contrl(envelope.read(sample("invoic_d96a_unob_v2.edi")))
        .splitlines()[1]
        .startswith("UNB+UNOB:2+")
    )
    # a charset asked for is kept, in the sender's version
    tree = build_contrl(envelope.read(unoa_v2), reference="R", charset="UNOC")
    assert tree["header"][0] == ["UNOC", "2"]


def test_contrl_from_a_syntax_4_utf8_interchange_is_syntax_3() -> None:
    text = contrl(envelope.read(sample("invrpt_d96a_unow_v4.edi")))
    assert text.splitlines()[:2] == [
        "UNA:+.? '",
        "UNB+UNOC:3+5201234000009:14+5901234000004:14+240201:0705+CTL0001'",
    ]
    level_b = contrl(envelope.read(sample("orders_d96a_unob_level_b.edi")))
    assert level_b.startswith("UNB\x1dUNOB\x1f3\x1d5012345000006\x1f14\x1d")


@pytest.mark.parametrize("name", VALID)
def test_contrl_for_every_sample_is_a_valid_interchange(name: str) -> None:
    for reading in envelope.read(sample(name)).interchanges:
        contrl(reading, report_messages=True)


# --- differential: pydifact ------------------------------------------------------------

PYDIFACT_CANNOT = {
    "orders_d96a_bom_unoa.edi": "no byte order mark handling (the mark is read into UNB)",
    "orders_d96a_two_interchanges.edi": "one interchange per text, not several",
    "orders_d96a_unob_level_b.edi": (
        "no level B default separators (IS1/IS3/IS4 without UNA) and '?' is always a release"
    ),
}


def _pydifact_view(element: Any) -> Any:
    """Our element as pydifact models it: trailing empty components are dropped."""
    if not isinstance(element, list):
        return element
    parts = list(element)
    while parts and parts[-1] == "":
        parts.pop()
    return parts[0] if len(parts) == 1 else (parts or "")


def _differential_params() -> list[Any]:
    params = []
    for name in VALID:
        reason = PYDIFACT_CANNOT.get(name)
        if reason is None:
            params.append(pytest.param(name, id=name))
        else:
            params.append(
                pytest.param(
                    name,
                    id=f"{name} [skipped: pydifact has {reason}]",
                    marks=pytest.mark.skip(reason=f"pydifact has {reason}"),
                )
            )
    return params


@pytest.mark.parametrize("name", _differential_params())
def test_same_segments_as_pydifact(name: str) -> None:
    from pydifact.parser import Parser
    from pydifact.segmentcollection import Interchange

    data = sample(name)
    tree = envelope.decode(data)
    text = data.decode(charset_for(tree["syntax"]["identifier"]).codec)
    with warnings.catch_warnings():
        # pydifact warns that it has no segment definitions for these directories
        warnings.simplefilter("ignore")
        interchange = Interchange.from_str(text)
        stream = [s for s in Parser().parse(text) if s.tag != "UNA"]
    ours = [[s[0], *(_pydifact_view(e) for e in s[1:])] for s in segments_of(tree)]
    assert [[s.tag, *s.elements] for s in stream] == ours
    assert [[s.tag, *s.elements] for s in interchange.segments] == ours[1:-1]  # no UNB/UNZ


def test_the_pydifact_skip_list_names_real_samples() -> None:
    assert set(PYDIFACT_CANNOT) <= set(VALID)


# --- properties ------------------------------------------------------------------------

PUNCTUATION = string.punctuation  # printable, not letters, digits or space
ENVELOPE_TAGS = {"UNA", "UNB", "UNG", "UNE", "UNH", "UNT", "UNZ"}
TEXT = string.ascii_letters + string.digits + " .,-/äöüßÄÖÜéèçñÅø"


@st.composite
def separator_sets(draw: st.DrawFn) -> dict[str, str]:
    chars = draw(st.lists(st.sampled_from(PUNCTUATION), min_size=6, max_size=6, unique=True))
    keys = ("component", "element", "decimal", "release", "repetition", "segment")
    return dict(zip(keys, chars, strict=True))


@st.composite
def interchanges(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, Any]]:
    seps = draw(separator_sets())
    version = draw(st.sampled_from(["3", "4"]))
    value = st.text(alphabet=TEXT + "".join(seps.values()), max_size=10)
    composite = st.lists(value, min_size=2, max_size=4)
    simple = st.one_of(value, composite)
    elements = [simple]
    if version == "4":
        elements.append(st.lists(simple, min_size=2, max_size=3).map(lambda r: {"repeat": r}))
    element = st.one_of(*elements)
    tag = st.from_regex(r"[A-Z][A-Z0-9]{2}", fullmatch=True).filter(
        lambda t: t not in ENVELOPE_TAGS
    )
    segment = st.builds(lambda t, e: [t, *e], tag, st.lists(element, max_size=5))
    messages = []
    for n in range(1, draw(st.integers(1, 3)) + 1):
        body = draw(st.lists(segment, max_size=6))
        ref = f"M{n}"
        segments = [["UNH", ref, ["ORDERS", "D", "96A", "UN"]], *body]
        segments.append(["UNT", str(len(segments) + 1), ref])
        messages.append(
            {
                "type": "ORDERS",
                "version": "D",
                "release": "96A",
                "agency": "UN",
                "reference": ref,
                "segments": segments,
            }
        )
    tree = {
        "syntax": {"identifier": "UNOC", "version": version},
        "header": [["UNOC", version], ["SENDER", "14"], ["RECIPIENT", "14"], ["240101", "1200"]],
        "messages": messages,
        "trailer": [str(len(messages)), "REF42"],
        "una": True,
        "separators": seps,
        "newline": None,
    }
    tree["header"].append("REF42")
    return seps, tree


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interchanges(), st.sampled_from([None, "\n", "\r\n"]))
def test_generated_trees_survive_encode_and_decode(
    generated: tuple[dict[str, str], dict[str, Any]], newline: str | None
) -> None:
    seps, tree = generated
    tree["newline"] = newline
    data = EdifactCodec(options(separators=seps)).encode(tree)
    assert data.startswith(("UNA" + "".join(seps.values()) + (newline or "")).encode())
    assert envelope.decode(data) == tree


def _mutations() -> st.SearchStrategy[bytes]:
    originals = [sample(name) for name in VALID] + [
        (BROKEN / name).read_bytes() for name in sorted(FAILURES)
    ]
    special = [*b"'+:?* \r\n\x1c\x1d\x1fUNBHTZGEA019", 0x00, 0xC3, 0xFF, 0x80]

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(originals)))
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data)))
            kind = draw(st.sampled_from(["set", "insert", "delete", "cut", "copy"]))
            if kind == "set" and at < len(data):
                data[at] = draw(st.sampled_from(special))
            elif kind == "insert":
                data[at:at] = bytes(draw(st.lists(st.sampled_from(special), max_size=4)))
            elif kind == "delete":
                del data[at : at + draw(st.integers(1, 12))]
            elif kind == "cut":
                del data[at:]
            elif kind == "copy" and data:
                start = draw(st.integers(0, len(data) - 1))
                data[at:at] = data[start : start + draw(st.integers(1, 40))]
        return bytes(data)

    return mutate()


def _only_message_errors(decode: Callable[[bytes], Any], data: bytes, allowed: Any) -> None:
    """Any other exception (IndexError, ValueError ...) escapes and fails the test."""
    with contextlib.suppress(allowed):
        decode(data)


FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ARBITRARY = st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=200).map(lambda b: b"UNB+UNOC:3+" + b),
    st.binary(max_size=200).map(lambda b: b"UNA" + b),
    st.binary(max_size=200).map(lambda b: b"UNA:+.? 'UNB+UNOW:4+A+B+1+R'UNH+1+" + b),
)


@FUZZ
@given(ARBITRARY)
def test_arbitrary_bytes_only_raise_decode_errors(data: bytes) -> None:
    _only_message_errors(envelope.decode, data, DecodeError)
    _only_message_errors(read_interchange, data, DecodeError)  # under the codec's net


@FUZZ
@given(_mutations())
def test_mutated_samples_only_raise_decode_errors(data: bytes) -> None:
    _only_message_errors(envelope.decode, data, DecodeError)
    _only_message_errors(read_interchange, data, DecodeError)
    # the default codec also checks message definitions: a violation is its own error
    _only_message_errors(codec.decode, data, (DecodeError, SchemaValidationError))
