"""The xml codec: convention, hardening, XSD validation, streaming and properties."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.errors import (
    ConfigError,
    DecodeError,
    EncodeError,
    HubError,
    LimitExceeded,
    SchemaValidationError,
)
from hub.formats import Codec, make_codec
from hub.formats.limits import DecodeLimits
from hub.formats.xml_codec import XmlCodec, XmlOptions, iter_records

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data" / "xml"
XSD = ROOT / "schemas" / "xsd" / "stock-report.xsd"
STOCK_NS = "urn:switchboard:example:stock-report:1"

codec = XmlCodec()


@pytest.fixture(scope="module")
def stock() -> XmlCodec:
    return XmlCodec(XmlOptions(xsd=XSD))


def decode(text: str, **options: Any) -> Any:
    return XmlCodec(XmlOptions(**options)).decode(textwrap.dedent(text).strip().encode())


# --- the convention: decode ------------------------------------------------------------


def test_decode_the_convention() -> None:
    tree = decode(
        """
        <order id="7" status="open">
          <number>1001</number>
          <note/>
          <note></note>
          <line><sku>A</sku></line>
          <paid currency="EUR">13.90</paid>
          <flag currency="EUR"/>
          <padded>  two  spaces  </padded>
        </order>
        """
    )
    assert tree == {
        "order": {
            "@id": "7",
            "@status": "open",
            "number": "1001",
            "note": [None, None],
            "line": {"sku": "A"},
            "paid": {"@currency": "EUR", "#text": "13.90"},
            "flag": {"@currency": "EUR"},
            "padded": "  two  spaces  ",
        }
    }
    keys = ["@id", "@status", "number", "note", "line", "paid", "flag", "padded"]
    assert list(tree["order"]) == keys


def test_an_empty_root_is_none() -> None:
    assert codec.decode(b"<empty/>") == {"empty": None}


def test_repeated_siblings_become_a_list_in_document_order() -> None:
    tree = decode("<r><c/><b>1</b><b>2</b><b>3</b></r>")
    assert tree == {"r": {"c": None, "b": ["1", "2", "3"]}}


def test_whitespace_between_child_elements_is_layout() -> None:
    assert decode("<r>\n\t <a>x</a>\r\n  <b> </b>\n</r>") == {"r": {"a": "x", "b": " "}}


def test_comments_processing_instructions_and_cdata() -> None:
    tree = decode("<?pi x?><r><!-- c --><a>x<!-- c -->y<?pi?>z</a><b><![CDATA[<&>]]></b></r>")
    assert tree == {"r": {"a": "xyz", "b": "<&>"}}


def test_namespaces_keep_the_documents_prefixes() -> None:
    tree = codec.decode((DATA / "purchase-order.xml").read_bytes())
    assert tree == {
        "po:PurchaseOrder": {
            "@xmlns:po": "urn:example:po",
            "@xmlns:addr": "urn:example:address",
            "@number": "PO-4711",
            "po:Buyer": {
                "addr:Name": {"@xml:lang": "de", "#text": "Müller & Söhne GmbH"},
                "addr:City": "Köln",
            },
            "po:Line": {
                "@no": "1",
                "po:Sku": "BOLT-100",
                "po:Quantity": {"@unit": "EA", "#text": "500"},
            },
            "po:Note": "Deliver to gate 3 <not gate 4>",
            "Extension": {
                "@xmlns": "urn:example:vendor",
                "Flag": "  keep these spaces  ",
                "Empty": None,
            },
        }
    }
    assert codec.decode(codec.encode(tree)) == tree


def test_namespaced_attributes_and_undeclared_default_namespace() -> None:
    tree = decode('<r xmlns="urn:d" xmlns:p="urn:p" p:a="1" a="2"><c xmlns="">x</c></r>')
    assert tree == {
        "r": {
            "@xmlns": "urn:d",
            "@xmlns:p": "urn:p",
            "@p:a": "1",
            "@a": "2",
            "c": {"@xmlns": "", "#text": "x"},
        }
    }
    assert codec.encode(tree).endswith(b'<c xmlns="">x</c></r>')


def test_prefixes_are_kept_when_two_name_one_namespace() -> None:
    tree = decode('<a:r xmlns:a="urn:x" xmlns:b="urn:x"><b:c>1</b:c><a:c>2</a:c></a:r>')
    assert tree == {"a:r": {"@xmlns:a": "urn:x", "@xmlns:b": "urn:x", "b:c": "1", "a:c": "2"}}
    assert b"<b:c>1</b:c><a:c>2</a:c>" in codec.encode(tree)


@pytest.mark.parametrize(
    "lists",
    [["Item"], ["Report/Item"], ["/Report/Item"], ["Item", "Other"]],
)
def test_lists_option_makes_single_elements_lists(lists: list[str]) -> None:
    tree = decode("<Report><Item>1</Item><Box><Item>2</Item></Box></Report>", lists=lists)
    inner = ["2"] if lists[0] == "Item" else "2"
    assert tree == {"Report": {"Item": ["1"], "Box": {"Item": inner}}}


def test_lists_option_paths_end_anywhere_unless_anchored() -> None:
    text = "<R><A><B>1</B></A><C><A><B>2</B></A></C></R>"
    assert decode(text, lists=["A/B"]) == {"R": {"A": {"B": ["1"]}, "C": {"A": {"B": ["2"]}}}}
    assert decode(text, lists=["/R/A/B"]) == {"R": {"A": {"B": ["1"]}, "C": {"A": {"B": "2"}}}}


def test_lists_option_does_not_apply_to_the_root() -> None:
    assert decode("<Item>1</Item>", lists=["Item"]) == {"Item": "1"}


@pytest.mark.parametrize("entry", ["", "/", "a//b", "a/", " a", "a /b"])
def test_lists_option_rejects_malformed_entries(entry: str) -> None:
    with pytest.raises(ValidationError, match="not an element name or path"):
        XmlOptions(lists=[entry])


@pytest.mark.parametrize(
    ("text", "line", "snippet"),
    [
        ("<p>Hello <b>world</b></p>", 1, "'Hello'"),
        ("<p>\n  <b>x</b>\n  tail text\n  <i>y</i>\n</p>", 3, "'tail text'"),
        ("<p>\n  <b>x</b>\n\n  last words\n</p>", 2, "'last words'"),
        ("<r>\n<p>\n<b/>&#160;\n</p>\n</r>", 3, "'\\xa0'"),
    ],
)
def test_mixed_content_is_refused_with_its_line(text: str, line: int, snippet: str) -> None:
    with pytest.raises(DecodeError) as caught:
        XmlCodec(XmlOptions(order="refuse")).decode(text.encode())
    assert caught.value.message.startswith("mixed content: <")
    assert snippet in caught.value.message
    assert caught.value.where == f"line {line}"
    assert caught.value.hint


# --- hardening -------------------------------------------------------------------------


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(DecodeError) as caught:
        codec.decode((DATA / "billion-laughs.xml").read_bytes())
    assert time.perf_counter() - started < 10  # expanded, it would take minutes and gigabytes
    assert caught.value.message == "DTDs and entities are not allowed"
    assert caught.value.where == "line 2"
    assert "lol" not in str(caught.value)


SECRET = "TOP-SECRET-7f3a9c"


XXE_DOCUMENTS = [
    # (document, where its DOCTYPE is)
    ('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "{uri}">]>\n<r>&x;</r>', 2),
    ('<!DOCTYPE r [\n<!ENTITY % x SYSTEM "{uri}">\n%x;\n]>\n<r>&y;</r>', 1),
    ('<!-- {uri} -->\n\n<!DOCTYPE r [<!ENTITY x SYSTEM "{uri}">]><r a="&x;"/>', 3),
    ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "{uri}">]><r/>', 2),
]


@pytest.mark.parametrize(("template", "line"), XXE_DOCUMENTS)
@pytest.mark.parametrize("streaming", [False, True])
def test_external_entities_are_refused_and_nothing_of_the_file_leaks(
    tmp_path: Path, template: str, line: int, streaming: bool
) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    text = template.replace("{uri}", secret_file.as_uri())
    data = text.encode("utf-16" if 'encoding="UTF-16"' in text else "utf-8")
    tree: Any = None
    with pytest.raises(DecodeError) as caught:
        tree = list(iter_records(io.BytesIO(data), "r")) if streaming else codec.decode(data)
    assert tree is None
    error = caught.value
    assert error.message == "DTDs and entities are not allowed"
    assert error.where == f"line {line}"
    assert SECRET not in str(error) + json.dumps(error.to_dict()) + repr(error.args)


@pytest.mark.parametrize("streaming", [False, True])
def test_a_doctype_naming_an_external_dtd_is_accepted_and_the_dtd_never_read(
    tmp_path: Path, streaming: bool
) -> None:
    dtd = tmp_path / "secret.dtd"
    dtd.write_text(f'<!ENTITY x SYSTEM "{(tmp_path / "s.txt").as_uri()}">\n', encoding="utf-8")
    (tmp_path / "s.txt").write_text(SECRET, encoding="utf-8")
    plain = f'<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "{dtd.as_uri()}">\n<r><a>1</a></r>'
    read = (
        list(iter_records(io.BytesIO(plain.encode()), "r"))
        if streaming
        else [codec.decode(plain.encode())]
    )
    assert read == [{"r": {"a": "1"}}]
    # An entity the DTD would declare is refused where it is used: it cannot be expanded.
    for body in ("<r><a>&x;</a></r>", '<r a="&x;"/>'):
        data = plain.replace("<r><a>1</a></r>", body).encode()
        with pytest.raises(DecodeError) as caught:
            list(iter_records(io.BytesIO(data), "r")) if streaming else codec.decode(data)
        assert "Entity 'x' not defined" in caught.value.message
        assert caught.value.where == "line 3"
        assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("document", "doctype"),
    [
        (b"<!DOCTYPE r>\n<r/>", "<!DOCTYPE r>"),
        (b"<!DOCTYPE r PUBLIC '-//A//B' 'b.dtd' ><r/>", "PUBLIC"),
        (b'<!-- <!DOCTYPE r [ --><!DOCTYPE r SYSTEM "a>b[c"><r/>', "SYSTEM"),
    ],
)
def test_doctypes_without_internal_subset(document: bytes, doctype: str) -> None:
    assert codec.decode(document) == {"r": None}


def test_a_doctype_after_a_comment_that_looks_safe_is_still_read() -> None:
    data = b'<!-- <!DOCTYPE r SYSTEM "x"> -->\n<!DOCTYPE r [<!ENTITY a "b">]>\n<r>&a;</r>'
    with pytest.raises(DecodeError, match="DTDs and entities are not allowed") as caught:
        codec.decode(data)
    assert caught.value.where == "line 2"


def test_size_limit() -> None:
    small = XmlCodec(XmlOptions(max_bytes=20))
    assert small.decode(b"<r>" + b"x" * 13 + b"</r>") == {"r": "x" * 13}
    too_big = r"21 bytes, more than max_bytes allows \(20\)"
    with pytest.raises(LimitExceeded, match=too_big) as caught:
        small.decode(b"<r>" + b"x" * 14 + b"</r>")
    assert (caught.value.limit, caught.value.status) == ("max_bytes", 413)
    assert caught.value.hint
    assert "iter_records" in caught.value.hint
    assert XmlOptions().max_bytes == 50 * 1024 * 1024


def test_depth_limit() -> None:
    shallow = XmlCodec(limits=DecodeLimits(max_depth=3))
    assert shallow.decode(b"<a><b><c/></b></a>") == {"a": {"b": {"c": None}}}
    with pytest.raises(LimitExceeded, match="<d> nests deeper than 3 levels") as caught:
        shallow.decode(b"<a>\n<b>\n<c>\n<d/></c></b></a>")
    assert caught.value.where == "line 4"
    assert caught.value.limit == "max_depth"
    assert DecodeLimits().max_depth == 100


def test_depth_beyond_the_parsers_limit_is_a_depth_error() -> None:
    with pytest.raises(LimitExceeded, match="deeper than 100 levels"):
        codec.decode(b"<a>" * 300 + b"</a>" * 300)
    with pytest.raises(LimitExceeded, match="deeper than 100 levels"):
        codec.decode(b"<a>" * 101 + b"</a>" * 101)
    deepest = XmlCodec(limits=DecodeLimits(max_depth=256))
    assert deepest.decode(b"<a>" * 256 + b"</a>" * 256)
    with pytest.raises(LimitExceeded, match="deeper than 256 levels"):  # libxml2's own limit
        deepest.decode(b"<a>" * 300 + b"</a>" * 300)
    with pytest.raises(ValidationError):
        DecodeLimits(max_depth=257)
    with pytest.raises(ValidationError, match=r"input\.limits\.max_depth"):
        XmlOptions.model_validate({"max_depth": 3})


@pytest.mark.parametrize(
    ("data", "where", "fragment"),
    [
        (b"<a>\n  <b></c>\n</a>", "line 2, column 10", "Opening and ending tag mismatch"),
        (b'<a x="1" x="2"/>', "line 1, column 15", "Attribute x redefined"),
        (b"<a/><b/>", "line 1, column 5", "Extra content at the end"),
        (b"<a>Zo\xeb</a>", "line 1, column 6", "Invalid bytes in character encoding"),
        (b"<a>&nbsp;</a>", "line 1, column 10", "Entity 'nbsp' not defined"),
        (b'<?xml version="1.0" encoding="bogus"?><a/>', "line 1, column 37", "Unsupported"),
        (b"<a", "line 1, column 3", "Couldn't find end of Start Tag"),
        (b"<p:a/>", "line 1, column 5", "Namespace prefix p on a is not defined"),
    ],
)
def test_syntax_errors_carry_line_and_column(data: bytes, where: str, fragment: str) -> None:
    with pytest.raises(DecodeError) as caught:
        codec.decode(data)
    assert caught.value.where == where
    assert caught.value.message.startswith("invalid XML: ")
    assert fragment in caught.value.message
    assert not caught.value.message.endswith(where)  # said once, in where
    assert caught.value.stage == "decode"


@pytest.mark.parametrize("data", [b"", b"  \n", b"\xef\xbb\xbf", b"<?xml version='1.0'?>"])
def test_a_body_without_a_root_element(data: bytes) -> None:
    with pytest.raises(DecodeError, match=r"empty|no root|Start tag expected"):
        codec.decode(data)


def test_bom_and_utf16_documents() -> None:
    assert codec.decode(b"\xef\xbb\xbf<a>x</a>") == {"a": "x"}
    data = '<?xml version="1.0" encoding="UTF-16"?><a>Zoë 日本</a>'.encode("utf-16")
    assert codec.decode(data) == {"a": "Zoë 日本"}


# --- encode ----------------------------------------------------------------------------


def test_encode_is_compact_with_a_declaration() -> None:
    tree = {"r": {"@id": "1", "a": ["x", None], "b": {"@k": "v", "#text": "t"}}}
    assert codec.encode(tree) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<r id="1"><a>x</a><a/><b k="v">t</b></r>'
    )


def test_encode_pretty_without_declaration() -> None:
    pretty = XmlCodec(XmlOptions(pretty=True, xml_declaration=False))
    tree = {"r": {"a": {"b": "  x  "}, "c": ["1", "2"], "d": {"@k": "v"}}}
    assert pretty.encode(tree).decode() == textwrap.dedent(
        """\
        <r>
          <a>
            <b>  x  </b>
          </a>
          <c>1</c>
          <c>2</c>
          <d k="v"/>
        </r>
        """
    )
    assert codec.decode(pretty.encode(tree)) == tree


def test_encode_scalars() -> None:
    tree = {"r": {"i": 42, "f": 2.5, "big": 1e300, "t": True, "n": None, "e": "", "@a": 0}}
    assert codec.decode(codec.encode(tree)) == {
        "r": {"@a": "0", "i": "42", "f": "2.5", "big": "1e+300", "t": "true"}
        | {"n": None, "e": None}
    }


def test_encode_leaves_out_attributes_and_text_that_are_none() -> None:
    assert codec.encode({"r": {"@a": None, "#text": None}}).endswith(b"<r/>")


def test_encode_escapes_what_xml_would_change() -> None:
    awkward = "<&>\"' \t\n\r\r\n]]> end"
    tree = {"r": {"@a": awkward, "#text": awkward}}
    out = codec.encode(tree)
    assert b"&#13;" in out
    assert b"&#10;" in out
    assert codec.decode(out) == tree


def test_encode_in_other_encodings() -> None:
    tree = {"r": {"@x": "Zoë €", "b": "日本 Zoë €"}}
    latin1 = XmlCodec(XmlOptions(encoding="latin-1")).encode(tree)
    assert latin1.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<r x="Zo\xeb &#8364;')
    utf16 = XmlCodec(XmlOptions(encoding="utf-16", xml_declaration=False)).encode(tree)
    assert utf16.startswith(b"\xff\xfe<\x00r\x00")
    for data in (latin1, utf16, XmlCodec(XmlOptions(encoding="cp1252")).encode(tree)):
        assert codec.decode(data) == tree


def test_encode_refuses_names_the_encoding_cannot_write() -> None:
    with pytest.raises(EncodeError, match="cannot write the element name") as caught:
        XmlCodec(XmlOptions(encoding="ascii")).encode({"r": {"Zoë": "x"}})
    assert caught.value.where == "#/r/Zoë"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"encoding": "klingon"}, "unknown text encoding"),
        ({"encoding": "base64"}, "unknown text encoding"),
        ({"encoding": "utf-16-le"}, "not ASCII-compatible"),
        ({"encoding": "cp037"}, "not ASCII-compatible"),
        ({"encoding": "latin-1", "xml_declaration": False}, "cannot tell the encoding"),
        ({"max_bytes": 0}, "greater than or equal to 1"),
        ({"indent": 2}, "Extra inputs are not permitted"),
    ],
)
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        XmlOptions.model_validate(options)


@pytest.mark.parametrize(
    ("tree", "where", "fragment"),
    [
        ({"a": 1, "b": 2}, "#", "one root element, the tree has 2 keys"),
        ({}, "#", "one root element, the tree has 0 keys"),
        (["r"], "#", "the tree is not a dict"),
        ({"r": ["x", "y"]}, "#/r", "the root element cannot be a list"),
        ({"r": {"a b": 1}}, "#/r/a b", "'a b' is not a valid XML element name"),
        ({"r": {"1st": 1}}, "#/r/1st", "not a valid XML element name"),
        ({"r": {"a:b:c": 1}}, "#/r/a:b:c", "not a valid XML element name"),
        ({"r": {"@a b": 1}}, "#/r/@a b", "not a valid XML attribute name"),
        ({"r": {"x": [1, [2]]}}, "#/r/x/1", "a list directly inside a list"),
        ({"r": {"x": [{"y": {"z": object()}}]}}, "#/r/x/0/y/z", "type object has no XML form"),
        ({"r": {"x": b"bytes"}}, "#/r/x", "type bytes has no XML form"),
        ({"r": {"x": float("nan")}}, "#/r/x", "not a finite number"),
        ({"r": {"x": float("inf")}}, "#/r/x", "not a finite number"),
        ({"r": {"x": "a\x00b"}}, "#/r/x", "U+0000, which XML 1.0 cannot carry"),
        ({"r": {"@a": "\ud800"}}, "#/r/@a", "U+D800"),
        ({"r": {"@a": {"b": 1}}}, "#/r/@a", "attribute value must be"),
        ({"r": {"#text": [1]}}, "#/r/#text", "'#text' must be"),
        ({"r": {"#comment": "x"}}, "#/r/#comment", "unknown key '#comment'"),
        ({"r": {"#text": "t", "c": 1}}, "#/r", "mixed content"),
        ({"r": {"p:c": 1}}, "#/r/p:c", "prefix 'p' of element 'p:c' is not declared"),
        ({"r": {"c": {"@q:a": 1}}}, "#/r/c/@q:a", "prefix 'q' of attribute 'q:a' is not"),
        ({"r": {"@xmlns:p": ""}}, "#/r/@xmlns:p", "needs a namespace URI"),
        ({"r": {"@xmlns:xmlns": "urn:x"}}, "#/r/@xmlns:xmlns", "reserved"),
        ({"r": {"@xmlns:1p": "urn:x"}}, "#/r/@xmlns:1p", "not a valid namespace prefix"),
        ({"r": {"@xmlns": 3}}, "#/r/@xmlns", "namespace URI must be a string"),
        ({"r": {1: "x"}}, "#/r/1", "key 1 is not a string"),
        ({2: "x"}, "#/2", "key 2 is not a string"),
        ({"r": {"a": {"b": [{"@c d": 1}]}}}, "#/r/a/b/0/@c d", "not a valid XML attribute"),
        ({"r/s": None}, "#/r~1s", "not a valid XML element name"),
        (
            {"r": {"@xmlns:p": "urn:x", "@xmlns:q": "urn:x", "@p:a": 1, "@q:a": 2}},
            "#/r/@q:a",
            "repeats one in the same namespace",
        ),
        ({"r": {"x": 10**5000}}, "#/r/x", "digits"),
    ],
)
def test_encode_errors_name_the_path_in_the_tree(tree: Any, where: str, fragment: str) -> None:
    with pytest.raises(EncodeError) as caught:
        codec.encode(tree)
    assert caught.value.where == where
    assert fragment in caught.value.message
    assert caught.value.message.startswith("cannot encode as XML: ")
    assert caught.value.stage == "encode"


def test_encode_depth_limit() -> None:
    tree: Any = "leaf"
    for _ in range(5):
        tree = {"a": tree}
    assert XmlCodec(limits=DecodeLimits(max_depth=5)).encode(tree)
    with pytest.raises(EncodeError, match="deeper than 4 elements"):
        XmlCodec(limits=DecodeLimits(max_depth=4)).encode(tree)


def test_xml_prefix_needs_no_declaration() -> None:
    tree = {"r": {"@xml:lang": "en", "#text": "hi"}}
    assert codec.decode(codec.encode(tree)) == tree


# --- XSD -------------------------------------------------------------------------------


def test_the_sample_report_decodes_with_lists_from_the_xsd(stock: XmlCodec) -> None:
    tree = stock.decode((DATA / "stock-report.xml").read_bytes())
    report = tree["StockReport"]
    assert report["@xmlns"] == STOCK_NS
    assert report["Warehouse"] == {"@code": "HAM-1", "Name": "Hamburg Nord", "Country": "DE"}
    assert [item["@sku"] for item in report["Item"]] == ["BOLT-100", "CBL-2001", "PNT-310"]
    assert report["Item"][1] == {
        "@sku": "CBL-2001",
        "Quantity": {"@unit": "M", "#text": "350"},
        "Location": ["R07-01"],
    }
    assert report["Item"][2]["Description"] == "Primer, grey & fast-drying"
    assert stock.decode(stock.encode(tree)) == tree
    # Without the XSD one item is not a list, and neither is one location.
    plain = codec.decode((DATA / "stock-report.xml").read_bytes())["StockReport"]
    assert plain["Item"][1]["Location"] == "R07-01"


def test_a_report_with_one_item_still_has_a_list(stock: XmlCodec) -> None:
    tree = {
        "StockReport": {
            "@xmlns": STOCK_NS,
            "@generated": "2024-05-01T06:00:00Z",
            "Warehouse": {"@code": "W1", "Name": "W", "Country": "DE"},
            "Item": [{"@sku": "AB-123", "Quantity": {"@unit": "EA", "#text": 1}, "Location": "X"}],
        }
    }
    decoded = stock.decode(stock.encode(tree))
    assert decoded["StockReport"]["Item"] == [
        {"@sku": "AB-123", "Quantity": {"@unit": "EA", "#text": "1"}, "Location": ["X"]}
    ]


def test_xsd_violations_are_problems_with_line_and_path(stock: XmlCodec) -> None:
    with pytest.raises(SchemaValidationError) as caught:
        stock.decode((DATA / "stock-report-invalid.xml").read_bytes())
    error = caught.value
    assert error.message == "the document breaks stock-report.xsd: 3 error(s)"
    assert [p.where for p in error.problems] == [
        "line 12, /StockReport/Item[2]/Quantity",
        "line 15, /StockReport/Item[3]",
        "line 16, /StockReport/Item[3]/Quantity",
    ]
    assert error.where == "line 12, /StockReport/Item[2]/Quantity"
    messages = [p.message for p in error.problems]
    assert messages[0] == (
        "Element 'Quantity': 'lots' is not a valid value of the atomic type 'xs:nonNegativeInteger'"
    )
    assert "The attribute 'sku' is required but missing" in messages[1]
    assert "'BOX' is not an element of the set" in messages[2]
    assert error.stage == "validate"


def test_xsd_paths_use_the_documents_prefixes(stock: XmlCodec) -> None:
    data = (DATA / "stock-report-invalid.xml").read_text(encoding="utf-8")
    data = data.replace("<", "<s:").replace("<s:/", "</s:").replace("<s:?", "<?")
    data = data.replace('xmlns="', 'xmlns:s="')
    with pytest.raises(SchemaValidationError) as caught:
        stock.decode(data.encode())
    first = caught.value.problems[0]
    assert first.where == "line 12, /s:StockReport/s:Item[2]/s:Quantity"
    assert first.message.startswith("Element 's:Quantity': 'lots'")


def test_xsd_is_checked_on_encode(stock: XmlCodec) -> None:
    tree = stock.decode((DATA / "stock-report.xml").read_bytes())
    tree["StockReport"]["Item"][1]["Quantity"]["#text"] = -3
    del tree["StockReport"]["Warehouse"]["Country"]
    with pytest.raises(SchemaValidationError) as caught:
        stock.encode(tree)
    wheres = [p.where or "" for p in caught.value.problems]
    assert [w.split(", ", 1)[1] for w in wheres] == [
        "/StockReport/Warehouse",
        "/StockReport/Item[2]/Quantity",
    ]
    assert "Missing child element(s). Expected is ( Country )" in caught.value.problems[0].message


def test_at_most_fifty_xsd_violations_are_listed(stock: XmlCodec) -> None:
    items = "".join(
        f'<Item sku="bad-{i}"><Quantity unit="EA">1</Quantity><Location>X</Location></Item>'
        for i in range(60)
    )
    data = (
        f'<StockReport xmlns="{STOCK_NS}" generated="2024-05-01T06:00:00Z">'
        f'<Warehouse code="W"><Name>n</Name><Country>DE</Country></Warehouse>{items}</StockReport>'
    )
    with pytest.raises(SchemaValidationError) as caught:
        stock.decode(data.encode())
    assert len(caught.value.problems) == 50
    assert "60 error(s) (showing the first 50)" in caught.value.message


def test_missing_xsd_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="XSD file not found"):
        XmlCodec(XmlOptions(xsd=tmp_path / "absent.xsd"))
    with pytest.raises(ConfigError, match="XSD file is a directory"):
        XmlCodec(XmlOptions(xsd=tmp_path))


def test_malformed_xsd_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xsd"
    path.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n<xs:element>')
    with pytest.raises(ConfigError, match="not well-formed XML") as caught:
        XmlCodec(XmlOptions(xsd=path))
    assert caught.value.where is not None
    assert caught.value.where.startswith(f"{path}:")


def test_invalid_xsd_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "wrong.xsd"
    path.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
        '  <xs:element name="a" type="nope"/>\n</xs:schema>\n'
    )
    with pytest.raises(ConfigError, match="not a valid XML Schema") as caught:
        XmlCodec(XmlOptions(xsd=path))
    assert caught.value.where == f"{path}:2"
    assert "'nope' does not resolve" in caught.value.message


def test_make_codec_resolves_the_xsd_against_the_config_directory() -> None:
    made = make_codec("xml", {"xsd": "xsd/stock-report.xsd"}, base_dir=ROOT / "schemas")
    assert isinstance(made, XmlCodec)
    assert made.schema is not None
    assert made.schema.path == XSD
    assert made.decode((DATA / "stock-report.xml").read_bytes())["StockReport"]["Item"]


SHAPES_XSD = """\
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t"
           elementFormDefault="qualified">
  <xs:include schemaLocation="parts.xsd"/>
  <xs:element name="Root">
    <xs:complexType>
      <xs:sequence>
        <xs:element ref="t:Head"/>
        <xs:group ref="t:Lines"/>
        <xs:choice maxOccurs="3">
          <xs:element name="A" type="xs:string"/>
          <xs:element name="B" type="xs:string"/>
        </xs:choice>
        <xs:choice>
          <xs:element name="C" type="xs:string"/>
          <xs:sequence><xs:element name="D"/><xs:element name="C" type="xs:string"/></xs:sequence>
        </xs:choice>
        <xs:element name="E" type="xs:string"/>
        <xs:element name="E2" type="xs:string"/>
        <xs:element name="E2" type="xs:string" minOccurs="0"/>
        <xs:element name="Local" form="unqualified" type="xs:string" maxOccurs="2"/>
        <xs:element name="Tree" type="t:Tree" minOccurs="0"/>
        <xs:element ref="t:Animal" maxOccurs="unbounded"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:complexType name="Tree">
    <xs:sequence>
      <xs:element name="Leaf" type="xs:string" maxOccurs="unbounded"/>
      <xs:element name="Tree" type="t:Tree" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:element name="Animal" type="xs:string"/>
  <xs:element name="Cat" type="xs:string" substitutionGroup="t:Animal"/>
</xs:schema>
"""

PARTS_XSD = """\
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t"
           elementFormDefault="qualified">
  <xs:element name="Head" type="t:Extended"/>
  <xs:complexType name="Base">
    <xs:sequence><xs:element name="Tag" type="xs:string" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="Extended">
    <xs:complexContent>
      <xs:extension base="t:Base">
        <xs:sequence><xs:element name="Note" type="xs:string" minOccurs="0"/></xs:sequence>
      </xs:extension>
    </xs:complexContent>
  </xs:complexType>
  <xs:group name="Lines">
    <xs:sequence>
      <xs:element name="Line" maxOccurs="unbounded">
        <xs:complexType><xs:sequence><xs:element name="Qty" type="xs:int"/></xs:sequence>
        </xs:complexType>
      </xs:element>
    </xs:sequence>
  </xs:group>
</xs:schema>
"""


def test_lists_from_the_xsd_follow_its_constructs(tmp_path: Path) -> None:
    (tmp_path / "shapes.xsd").write_text(SHAPES_XSD, encoding="utf-8")
    (tmp_path / "parts.xsd").write_text(PARTS_XSD, encoding="utf-8")
    shaped = XmlCodec(XmlOptions(xsd=tmp_path / "shapes.xsd"))
    data = (
        '<Root xmlns="urn:t"><Head><Tag>x</Tag></Head><Line><Qty>1</Qty></Line><A>a</A>'
        '<C>c</C><E>e</E><E2>f</E2><Local xmlns="">l</Local>'
        "<Tree><Leaf>1</Leaf><Tree><Leaf>2</Leaf></Tree></Tree><Cat>tom</Cat></Root>"
    )
    assert shaped.decode(data.encode()) == {
        "Root": {
            "@xmlns": "urn:t",
            "Head": {"Tag": ["x"]},  # inherited maxOccurs="unbounded"
            "Line": [{"Qty": "1"}],  # through a group
            "A": ["a"],  # in a repeated choice
            "C": "c",  # twice in a choice: at most once
            "E": "e",
            "E2": ["f"],  # twice in a sequence
            "Local": [{"@xmlns": "", "#text": "l"}],  # unqualified local element
            "Tree": {"Leaf": ["1"], "Tree": {"Leaf": ["2"]}},  # recursive type
            "Cat": ["tom"],  # substitution group member of a repeated ref
        }
    }


# --- streaming -------------------------------------------------------------------------


def test_iter_records_yields_each_record(stock: XmlCodec) -> None:
    records = list(stock.iter_records(DATA / "stock-report.xml", "Item"))
    assert [r["Item"]["@sku"] for r in records] == ["BOLT-100", "CBL-2001", "PNT-310"]
    assert records[1] == {
        "Item": {
            "@xmlns": STOCK_NS,
            "@sku": "CBL-2001",
            "Quantity": {"@unit": "M", "#text": "350"},
            "Location": ["R07-01"],  # a list: the XSD says so
        }
    }
    # Each record is a document of its own: it encodes and decodes back.
    locations = XmlCodec(XmlOptions(lists=["Location"]))
    assert [locations.decode(locations.encode(r)) for r in records] == records


def test_iter_records_from_a_binary_stream_with_options() -> None:
    data = b'<r xmlns:p="urn:p"><p:x n="1"><v>a</v></p:x><y/><p:x n="2"/><p:x n="3"/></r>'
    records = list(iter_records(io.BytesIO(data), "p:x", options=XmlOptions(lists=["v"])))
    assert records == [
        {"p:x": {"@xmlns:p": "urn:p", "@n": "1", "v": ["a"]}},
        {"p:x": {"@xmlns:p": "urn:p", "@n": "2"}},
        {"p:x": {"@xmlns:p": "urn:p", "@n": "3"}},
    ]


def test_iter_records_by_path_keeps_nested_records_in_the_outer_one() -> None:
    data = b"<r><a><i>1</i></a><i><i>2</i></i><b><i>3</i></b></r>"
    assert list(iter_records(io.BytesIO(data), "i")) == [
        {"i": "1"},
        {"i": {"i": "2"}},
        {"i": "3"},
    ]
    assert list(iter_records(io.BytesIO(data), "/r/i")) == [{"i": {"i": "2"}}]
    assert list(iter_records(io.BytesIO(data), "a/i")) == [{"i": "1"}]
    assert list(iter_records(io.BytesIO(data), "r")) == [codec.decode(data)]


def test_iter_records_reports_a_syntax_error_after_the_good_records() -> None:
    data = b"<r>\n<i>1</i>\n<i>2</i>\n<i>3</j>\n</r>"
    seen: list[Any] = []
    with pytest.raises(DecodeError) as caught:
        seen.extend(iter_records(io.BytesIO(data), "i"))
    assert seen == [{"i": "1"}, {"i": "2"}]
    assert caught.value.where == "line 4, column 9"
    assert "Opening and ending tag mismatch" in caught.value.message


def test_iter_records_checks_the_whole_stream_against_the_xsd_first(stock: XmlCodec) -> None:
    seen: list[Any] = []
    with pytest.raises(SchemaValidationError) as caught:
        seen.extend(stock.iter_records(DATA / "stock-report-invalid.xml", "Item"))
    assert seen == []  # not one record of an invalid document
    assert [p.where for p in caught.value.problems] == [
        "line 12, /StockReport/Item[2]/Quantity",
        "line 15, /StockReport/Item[3]",
        "line 16, /StockReport/Item[3]/Quantity",
    ]


def test_iter_records_of_a_big_invalid_stream_places_the_violations() -> None:
    options = XmlOptions(xsd=XSD, max_bytes=100)  # too big to load again: read in slices
    data = io.BytesIO(b"--" + (DATA / "stock-report-invalid.xml").read_bytes())
    data.seek(2)
    with pytest.raises(SchemaValidationError) as caught:
        next(iter_records(data, "Item", options=options))
    problems = caught.value.problems
    assert caught.value.message == "the document breaks stock-report.xsd: 3 error(s)"
    assert problems[0].message == (
        "Element 'Quantity': 'lots' is not a valid value of the atomic type 'xs:nonNegativeInteger'"
    )
    assert [p.where for p in problems] == [
        "line 12, /StockReport/Item[2]/Quantity",
        "line 15, /StockReport/Item[3]",
        "line 16, /StockReport/Item[3]/Quantity",
    ]


def test_iter_records_with_an_xsd_reports_a_syntax_error_as_such(stock: XmlCodec) -> None:
    data = (DATA / "stock-report-invalid.xml").read_bytes().replace(b"</StockReport>", b"</S>")
    with pytest.raises(DecodeError, match="Opening and ending tag mismatch"):
        next(stock.iter_records(io.BytesIO(data), "Item"))


def test_iter_records_with_an_xsd_rewinds_a_seekable_stream(stock: XmlCodec) -> None:
    data = io.BytesIO(b"--" + (DATA / "stock-report.xml").read_bytes())
    data.seek(2)
    assert len(list(stock.iter_records(data, "Item"))) == 3


class _Pipe(io.BytesIO):
    def seekable(self) -> bool:
        return False


def test_iter_records_with_an_xsd_needs_a_seekable_stream(stock: XmlCodec) -> None:
    with pytest.raises(ConfigError, match="needs a file or a seekable stream"):
        next(stock.iter_records(_Pipe((DATA / "stock-report.xml").read_bytes()), "Item"))
    assert len(list(iter_records(_Pipe(b"<r><i/><i/></r>"), "i"))) == 2


def test_iter_records_limits_depth_and_refuses_mixed_content() -> None:
    shallow = DecodeLimits(max_depth=3)
    with pytest.raises(LimitExceeded, match="deeper than 3 levels") as caught:
        list(iter_records(io.BytesIO(b"<a><b><c>\n<d/></c></b></a>"), "b", limits=shallow))
    assert caught.value.where == "line 2"
    with pytest.raises(DecodeError, match="mixed content"):
        list(
            iter_records(
                io.BytesIO(b"<a><b>x<c/></b></a>"), "b", options=XmlOptions(order="refuse")
            )
        )
    assert list(iter_records(io.BytesIO(b"<a><b>x<c/></b></a>"), "b")) == [
        {"b": {"#content": ["x", {"c": None}]}}
    ]


@pytest.mark.parametrize("tag", ["", "a//b", " a"])
def test_iter_records_refuses_a_malformed_record_tag(tag: str) -> None:
    with pytest.raises(ConfigError, match="not an element name or path"):
        list(iter_records(io.BytesIO(b"<a/>"), tag))


def test_iter_records_of_an_empty_stream() -> None:
    with pytest.raises(DecodeError, match="empty"):
        list(iter_records(io.BytesIO(b""), "a"))


def _write_big_report(path: Path, size: int) -> int:
    """A stock report of about ``size`` bytes, written in chunks; returns the item count."""
    note = "n" * 4000
    count = 0
    with path.open("wb") as out:
        out.write(f'<?xml version="1.0"?>\n<StockReport xmlns="{STOCK_NS}">\n'.encode())
        while out.tell() < size:
            out.write(
                "".join(
                    f'<Item sku="AB-{i:06d}"><Description>{note}</Description>'
                    f'<Quantity unit="EA">{i}</Quantity><Location>R1</Location></Item>\n'
                    for i in range(count, count + 500)
                ).encode()
            )
            count += 500
        out.write(b"</StockReport>\n")
    return count


@pytest.fixture(scope="module")
def big_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("stream") / "big.xml"
    count = _write_big_report(path, 20 * 1024 * 1024)
    return path, count


def test_streaming_a_20_mb_file_keeps_python_memory_small(big_report: tuple[Path, int]) -> None:
    path, count = big_report
    assert path.stat().st_size > 20 * 1024 * 1024
    tracemalloc.start()
    try:
        seen = 0
        last: Any = None
        for record in iter_records(path, "Item"):
            seen += 1
            last = record
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert last["Item"]["@sku"] == f"AB-{count - 1:06d}"
    assert peak < 10 * 1024 * 1024, f"peak {peak} bytes"


RSS_PROBE = """\
import resource, sys
from pathlib import Path
from hub.formats.xml_codec import iter_records
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in iter_records(Path(sys.argv[1]), "Item"))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
print(count, (after - before) * scale)
"""


def test_streaming_a_20_mb_file_keeps_the_process_small(big_report: tuple[Path, int]) -> None:
    # tracemalloc does not see libxml2's own memory; the peak resident size of a fresh
    # process does: without clearing elements it grows by the size of the file.
    pytest.importorskip("resource")
    path, count = big_report
    result = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    seen, grown = map(int, result.stdout.split())
    assert seen == count
    assert grown < 10 * 1024 * 1024, f"the process grew by {grown} bytes"


# --- properties ------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-16", "latin-1", "ascii"]

ASCII_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,5}", fullmatch=True).filter(
    lambda n: not n.lower().startswith("xml")
)
NAMES = ASCII_NAMES | st.sampled_from(["Zoë", "日本", "a·b", "x\u203f", "_\u0300", "\U00010000"])
XML_CHARS = st.characters(exclude_categories=["Cs"]).filter(
    lambda c: c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff")
)
TEXTS = st.text(XML_CHARS, min_size=1, max_size=12)


def _trees(names: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Trees as decode makes them, with a prefix ``p`` and maybe a default namespace."""
    qnames = names | names.map(lambda n: f"p:{n}")
    attributes = st.dictionaries(
        qnames.map(lambda n: f"@{n}"), st.text(XML_CHARS, max_size=8), max_size=3
    )
    leaves = (
        st.none()
        | TEXTS
        | attributes.filter(bool)
        | st.builds(lambda a, t: {**a, "#text": t}, attributes.filter(bool), TEXTS)
    )

    def parents(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        child_values = children | st.lists(children, min_size=2, max_size=3)
        return st.builds(
            lambda a, kids: {**a, **kids},
            attributes,
            st.dictionaries(qnames, child_values, min_size=1, max_size=3),
        )

    values = st.recursive(leaves, parents, max_leaves=15)
    return st.builds(_document, qnames, values, st.booleans())


def _document(name: str, value: Any, default_namespace: bool) -> Any:
    declarations = {"@xmlns:p": "urn:p"} | ({"@xmlns": "urn:d"} if default_namespace else {})
    if isinstance(value, dict):
        return {name: {**declarations, **value}}
    return {name: declarations | ({"#text": value} if value else {})}


TREES = _trees(NAMES)
ASCII_TREES = _trees(ASCII_NAMES)


@given(tree=TREES)
def test_decode_inverts_encode(tree: Any) -> None:
    assert codec.decode(codec.encode(tree)) == tree


@given(data=st.data(), pretty=st.booleans(), encoding=st.sampled_from(ENCODINGS))
def test_decode_encode_decode_is_the_identity(
    data: st.DataObject, pretty: bool, encoding: str
) -> None:
    tree = data.draw(TREES if encoding.startswith("utf") else ASCII_TREES)
    writer = XmlCodec(XmlOptions(pretty=pretty, encoding=encoding))
    reader = codec
    written = writer.encode(tree)
    if not encoding.startswith("utf") and _reads_as_utf8(written):
        # Latin text whose bytes happen to be UTF-8 with multi-byte characters ("á" then two
        # C1 controls is "က") is what the mismatch guard refuses as mojibake, by design
        with pytest.raises(DecodeError, match=r"declares encoding .* but holds UTF-8"):
            codec.decode(written)
        reader = XmlCodec(XmlOptions(charset_mismatch="ignore"))
    once = reader.decode(written)
    assert reader.decode(writer.encode(once)) == once == tree


def test_latin_text_whose_bytes_are_also_utf8_is_refused_unless_ignored() -> None:
    """Found by the round trip above: "á" and two C1 controls in ISO-8859-1 are the bytes of
    UTF-8 "က"; the guard cannot tell them from mojibake, and says how to accept them."""
    tree = {"A": "\u00e1\x80\x80"}
    written = XmlCodec(XmlOptions(encoding="ISO-8859-1")).encode(tree)
    assert written.endswith(b"<A>\xe1\x80\x80</A>")
    with pytest.raises(DecodeError, match="charset_mismatch: warn") as refused:
        codec.decode(written)
    assert refused.value.where == "line 2"
    assert XmlCodec(XmlOptions(charset_mismatch="ignore")).decode(written) == tree


def _reads_as_utf8(data: bytes) -> bool:
    """Bytes that are UTF-8 and hold a multi-byte character (hub/formats/xml/charset.py)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not text.isascii()


@given(items=st.lists(st.none() | TEXTS, min_size=1, max_size=3))
def test_lists_option_round_trips_lists_of_one(items: list[Any]) -> None:
    listing = XmlCodec(XmlOptions(lists=["Item"]))
    tree = {"r": {"Item": items}}
    assert listing.decode(listing.encode(tree)) == tree


@given(data=st.binary(max_size=200))
def test_decode_of_arbitrary_bytes_only_raises_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        codec.decode(data)


XML_ISH = st.text(alphabet="<>/=\"'?!&;#x:ab -[]CDATAENTITYDOCTYPExmlns\n\u00e9\x00", max_size=60)


@given(text=XML_ISH)
def test_decode_of_xml_like_text_only_raises_decode_error(text: str) -> None:
    with contextlib.suppress(DecodeError):
        codec.decode(text.encode())


@given(text=XML_ISH)
def test_streaming_xml_like_text_only_raises_decode_error(text: str) -> None:
    with contextlib.suppress(DecodeError):
        list(iter_records(io.BytesIO(text.encode()), "a"))


ANY_KEYS = st.text(alphabet="ab:@#xé_-1 ", max_size=4)
ANY_TREES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(ANY_KEYS, children, max_size=3)
    ),
    max_leaves=12,
)


@given(tree=ANY_TREES | st.dictionaries(ANY_KEYS, ANY_TREES, min_size=1, max_size=1))
def test_encode_raises_encode_error_or_writes_well_formed_xml(tree: Any) -> None:
    try:
        data = codec.encode(tree)
    except EncodeError:
        return
    decoded = codec.decode(data)
    assert codec.decode(codec.encode(decoded)) == decoded


# --- the codec as a plugin -------------------------------------------------------------


def test_codec_protocol_and_registry() -> None:
    assert isinstance(codec, Codec)
    made = make_codec("xml", {"lists": ["Item"], "pretty": True})
    assert isinstance(made, XmlCodec)
    assert made.decode(b"<r><Item>1</Item></r>") == {"r": {"Item": ["1"]}}
    assert (XmlCodec.name, XmlCodec.content_type, XmlCodec.extension) == (
        "xml",
        "application/xml",
        "xml",
    )
    assert XmlCodec.options_model is XmlOptions


def test_every_failure_is_a_hub_error() -> None:
    for action in (
        lambda: codec.decode(b"<"),
        lambda: codec.encode({"a": object()}),
        lambda: XmlCodec(XmlOptions(xsd=Path("/nonexistent.xsd"))),
    ):
        with pytest.raises(HubError):
            action()


def test_the_xml_modules_stay_inside_formats() -> None:
    forbidden = ("hub.store", "hub.api", "hub.cli", "hub.pipeline", "hub.delivery", "hub.sdk")
    files = [*(ROOT / "hub" / "formats" / "xml").glob("*.py"), ROOT / "hub/formats/xml_codec.py"]
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                assert not name.startswith(forbidden), f"{file.name} imports {name}"
                assert not name.startswith("connectors"), f"{file.name} imports {name}"
