"""Real-world XML (issue 17): namespaces by URI, cXML's DOCTYPE and mixed content, sibling
order, Schematron business rules. Every document here was written for the project."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hub.errors import ConfigError, DecodeError, EncodeError, SchemaValidationError
from hub.formats.xml_codec import XmlCodec, XmlOptions, iter_records
from hub.mapping.paths import compile_path

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data" / "xml"
UBL_CASES = ROOT / "mappings" / "tests" / "ubl-invoice-to-accounting"
RULES = ROOT / "schemas" / "schematron" / "peppol-bis3-invoice-rules.sch"
UBL = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def canonical(data: bytes, *, prefixes: bool = True) -> str:
    """C14N 2.0 without comments, text trimmed (whitespace is layout), optionally prefix-blind."""
    text = data.decode("utf-8").split("?>", 1)[-1] if data.startswith(b"<?xml") else data.decode()
    if "<!DOCTYPE" in text:  # C14N has no DOCTYPE; the hub's parser never reads the DTD
        start = text.index("<!DOCTYPE")
        text = text[:start] + text[text.index(">", start) + 1 :]
    return str(etree.canonicalize(text, strip_text=True, rewrite_prefixes=not prefixes))


@pytest.fixture(scope="module")
def usual() -> bytes:
    return (UBL_CASES / "ubl-prefixes.input.xml").read_bytes()


@pytest.fixture(scope="module")
def jaxb() -> bytes:
    return (UBL_CASES / "jaxb-prefixes.input.xml").read_bytes()


# --- 1. namespaces by URI ----------------------------------------------------------------


def test_two_prefix_conventions_are_one_document(usual: bytes, jaxb: bytes) -> None:
    assert canonical(usual, prefixes=False) == canonical(jaxb, prefixes=False)
    codec = XmlCodec(XmlOptions(namespaces=UBL, lists=["cac:InvoiceLine"]))
    first, second = codec.decode(usual), codec.decode(jaxb)
    assert first == second
    invoice = first["ubl:Invoice"]
    assert invoice["cbc:ID"] == "NW-2024-0815"
    assert [line["cbc:ID"] for line in invoice["cac:InvoiceLine"]] == ["1", "2"]
    assert (
        compile_path("ubl:Invoice.cac:InvoiceLine[1].cac:Price.cbc:PriceAmount.@currencyID")(second)
        == "EUR"
    )


def test_without_the_option_names_keep_the_senders_prefixes(jaxb: bytes) -> None:
    tree = XmlCodec().decode(jaxb)
    assert tree["ns2:Invoice"]["ns3:ID"] == "NW-2024-0815"


def test_the_route_names_re_encode_to_the_same_document(usual: bytes, jaxb: bytes) -> None:
    codec = XmlCodec(XmlOptions(namespaces=UBL, pretty=True))
    for data in (usual, jaxb):
        again = codec.encode(codec.decode(data))
        assert canonical(again, prefixes=False) == canonical(data, prefixes=False)
        assert b"<ubl:Invoice " in again
        assert b"<cbc:ID>NW-2024-0815</cbc:ID>" in again


def test_a_clashing_sender_prefix_is_renamed_not_merged() -> None:
    data = (
        b'<x:Order xmlns:x="urn:o" xmlns:cbc="urn:not-ubl" cbc:flag="1">'
        b"<cbc:ID>theirs</cbc:ID><y:ID xmlns:y='" + UBL["cbc"].encode() + b"'>ours</y:ID>"
        b"</x:Order>"
    )
    codec = XmlCodec(XmlOptions(namespaces=UBL))
    tree = codec.decode(data)
    assert tree == {
        "x:Order": {
            "@xmlns:x": "urn:o",
            "@xmlns:cbc_1": "urn:not-ubl",
            "@cbc_1:flag": "1",
            "cbc_1:ID": "theirs",
            "cbc:ID": {"@xmlns:cbc": UBL["cbc"], "#text": "ours"},
        }
    }
    assert canonical(codec.encode(tree), prefixes=False) == canonical(data, prefixes=False)


def test_encoding_declares_the_route_prefixes_the_tree_uses() -> None:
    codec = XmlCodec(XmlOptions(namespaces=UBL, xml_declaration=False))
    data = codec.encode({"ubl:Invoice": {"cbc:ID": "7", "cac:InvoiceLine": [{"cbc:ID": "1"}]}})
    declarations = " ".join(f'xmlns:{p}="{UBL[p]}"' for p in ("cac", "cbc", "ubl"))
    assert (
        data
        == (
            f"<ubl:Invoice {declarations}>"
            "<cbc:ID>7</cbc:ID><cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine></ubl:Invoice>"
        ).encode()
    )


def test_a_default_namespace_takes_the_route_prefix() -> None:
    data = f'<Invoice xmlns="{UBL["ubl"]}"><Note>x</Note></Invoice>'.encode()
    tree = XmlCodec(XmlOptions(namespaces=UBL)).decode(data)
    assert tree == {"ubl:Invoice": {"@xmlns:ubl": UBL["ubl"], "ubl:Note": "x"}}


@pytest.mark.parametrize(
    ("namespaces", "message"),
    [
        ({"a:b": "urn:x"}, "is not a namespace prefix"),
        ({"xmlns": "urn:x"}, "is not a namespace prefix"),
        ({"a": ""}, "needs a namespace URI"),
        ({"a": "urn:x", "b": "urn:x"}, "name the same namespace"),
    ],
)
def test_bad_namespaces_option(namespaces: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        XmlOptions(namespaces=namespaces)


def test_records_match_by_namespace_whatever_the_prefix(usual: bytes, jaxb: bytes) -> None:
    options = XmlOptions(namespaces=UBL)
    for data in (usual, jaxb):
        records = list(iter_records(io.BytesIO(data), "cac:InvoiceLine", options=options))
        assert [r["cac:InvoiceLine"]["cbc:ID"] for r in records] == ["1", "2"]


def test_a_record_tag_matching_nothing_is_an_error_naming_what_is_there(jaxb: bytes) -> None:
    with pytest.raises(DecodeError) as caught:
        list(iter_records(io.BytesIO(jaxb), "cac:InvoiceLine"))
    message = caught.value.message
    assert "no element of the document matches the record tag 'cac:InvoiceLine'" in message
    assert f"<ns4:InvoiceLine> in namespace {UBL['cac']}" in message
    assert "namespaces" in (caught.value.hint or "")


# --- 2. cXML: the DOCTYPE and mixed content ----------------------------------------------


def test_a_cxml_order_request_decodes_with_its_mixed_content() -> None:
    data = (DATA / "cxml-order-request.xml").read_bytes()
    tree = XmlCodec(XmlOptions(lists=["ItemOut"])).decode(data)
    order = tree["cXML"]["Request"]["OrderRequest"]
    comments = order["OrderRequestHeader"]["Comments"]
    assert comments["@xml:lang"] == "de"
    [text, attachment] = comments["#content"]
    assert text.strip() == "Bitte bis Freitag liefern; Lieferschein beilegen."
    assert attachment == {"Attachment": {"URL": "cid:delivery-terms-4471@hafenkontor.example"}}
    first, second = (item["ItemDetail"]["Description"] for item in order["ItemOut"])
    assert first == {
        "@xml:lang": "en",
        "#content": ["Torque wrench, 40-200 Nm, with case", {"ShortName": "Torque wrench"}],
    }
    assert second == {"@xml:lang": "en", "#text": "Steel cable & clamps, 6 mm"}


def test_cxml_re_encodes_with_its_doctype_to_the_same_document() -> None:
    data = (DATA / "cxml-order-request.xml").read_bytes()
    doctype = {"name": "cXML", "system": "http://xml.cxml.org/schemas/cXML/1.2.060/cXML.dtd"}
    codec = XmlCodec(XmlOptions.model_validate({"doctype": doctype, "pretty": True}))
    again = codec.encode(codec.decode(data))
    assert again.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.060/cXML.dtd">\n<cXML '
    )
    assert canonical(again) == canonical(data)
    assert codec.decode(again) == codec.decode(data)
    # Mixed content is written as it is, never indented into.
    assert b"with case<ShortName>Torque wrench</ShortName></Description>" in again


def test_a_public_doctype_option() -> None:
    options = XmlOptions.model_validate(
        {"doctype": {"name": "r", "public": "-//Example//DTD R//EN", "system": "r.dtd"}}
    )
    assert XmlCodec(options).encode({"r": None}).split(b"\n")[1] == (
        b'<!DOCTYPE r PUBLIC "-//Example//DTD R//EN" "r.dtd">'
    )


@pytest.mark.parametrize(
    ("doctype", "message"),
    [
        ({"name": "a b", "system": "x"}, "not an XML element name"),
        ({"name": "r", "system": 'x"y'}, "may not hold"),
        ({"name": "r", "system": "x", "public": "é"}, "public identifier"),
        ({"name": "r", "system": "x", "internal": "[]"}, "Extra inputs"),
    ],
)
def test_bad_doctype_option(doctype: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        XmlOptions.model_validate({"doctype": doctype})


def test_cxml_with_an_internal_subset_stays_refused() -> None:
    data = (DATA / "cxml-order-request.xml").read_bytes()
    data = data.replace(b'cXML.dtd">', b'cXML.dtd" [<!ENTITY x "y">]>')
    with pytest.raises(DecodeError, match="DTDs and entities are not allowed") as caught:
        XmlCodec().decode(data)
    assert caught.value.where == "line 2"


# --- 3. interleaved siblings keep their order --------------------------------------------


def test_interleaved_siblings_keep_document_order() -> None:
    data = (DATA / "opentrans-order-interleaved.xml").read_bytes()
    codec = XmlCodec()
    tree = codec.decode(data)
    address = tree["ORDER"]["ORDER_HEADER"]["ORDER_INFO"]["PARTIES"]["PARTY"]["ADDRESS"]
    assert address == {
        "#content": [
            {"bmecat:NAME": "Nordlicht Werkzeuge GmbH"},
            {"bmecat:EMAIL": "orders@nordlicht.example"},
            {"bmecat:PUBLIC_KEY": {"@type": "PGP", "#text": "KEY-ORDERS-1"}},
            {"bmecat:EMAIL": "billing@nordlicht.example"},
            {"bmecat:PUBLIC_KEY": {"@type": "PGP", "#text": "KEY-BILLING-2"}},
        ]
    }
    assert canonical(codec.encode(tree)) == canonical(data)


def test_interleaved_siblings_can_be_refused_with_their_place() -> None:
    data = (DATA / "opentrans-order-interleaved.xml").read_bytes()
    with pytest.raises(DecodeError) as caught:
        XmlCodec(XmlOptions(order="refuse")).decode(data)
    assert caught.value.message == (
        "interleaved children: <ADDRESS> has <bmecat:EMAIL> again after <bmecat:PUBLIC_KEY>; "
        "grouping them by name would change what belongs together"
    )
    assert caught.value.where == "line 17"
    assert "order: keep" in (caught.value.hint or "")


def test_runs_of_one_name_are_still_lists() -> None:
    tree = XmlCodec().decode(b"<r><a>1</a><a>2</a><b/><c>3</c><c>4</c></r>")
    assert tree == {"r": {"a": ["1", "2"], "b": None, "c": ["3", "4"]}}


def test_ordered_form_in_records_and_with_attributes() -> None:
    data = b'<o><p id="1"><e>a</e><k>1</k><e>b</e></p><p id="2"><e>c</e></p></o>'
    records = list(iter_records(io.BytesIO(data), "p"))
    assert records == [
        {"p": {"@id": "1", "#content": [{"e": "a"}, {"k": "1"}, {"e": "b"}]}},
        {"p": {"@id": "2", "e": "c"}},
    ]


@pytest.mark.parametrize(
    ("tree", "where", "fragment"),
    [
        ({"r": {"#content": "x"}}, "#/r/#content", "must be a list"),
        ({"r": {"#content": [{"a": 1, "b": 2}]}}, "#/r/#content/0", "a dict with one key"),
        ({"r": {"#content": [{"@a": 1}]}}, "#/r/#content/0", "not an element name"),
        ({"r": {"#content": [], "a": 1}}, "#/r", "holds all of an element's children"),
        ({"r": {"#content": [{"a": float("nan")}]}}, "#/r/#content/0/a", "not a finite"),
        ({"r": {"#content": ["x\x01"]}}, "#/r/#content/0", "U+0001"),
    ],
)
def test_bad_ordered_content_is_an_encode_error(tree: Any, where: str, fragment: str) -> None:
    with pytest.raises(EncodeError) as caught:
        XmlCodec().encode(tree)
    assert caught.value.where == where
    assert fragment in caught.value.message


def test_ordered_content_encodes_lists_texts_and_nones() -> None:
    tree = {"p": {"#content": ["Hello ", {"b": ["big", "bold"]}, None, " world", {"i": None}]}}
    assert XmlCodec(XmlOptions(xml_declaration=False, pretty=True)).encode(tree) == (
        b"<p>Hello <b>big</b><b>bold</b> world<i/></p>\n"
    )


# --- 4. Schematron business rules --------------------------------------------------------


@pytest.fixture(scope="module")
def peppol() -> XmlCodec:
    return XmlCodec(XmlOptions(schematron=RULES, namespaces=UBL))


def test_a_valid_invoice_passes_the_rules(peppol: XmlCodec, usual: bytes, jaxb: bytes) -> None:
    assert peppol.decode(usual) == peppol.decode(jaxb)
    assert peppol.decode(peppol.encode(peppol.decode(jaxb)))["ubl:Invoice"]["cbc:ID"]


def test_failed_assertions_are_listed_with_rule_message_and_place(
    peppol: XmlCodec, usual: bytes
) -> None:
    data = usual.replace(
        b'currencyID="EUR">53.20</cbc:TaxAmount>\n    <cac:TaxSubtotal>',
        (b'currencyID="EURO">53.20</cbc:TaxAmount>\n    <cac:TaxSubtotal>'),
    ).replace(b"<cbc:DocumentCurrencyCode>EUR<", b"<cbc:DocumentCurrencyCode>EURO<")
    data = data.replace(b"<cbc:IssueDate>2024-06-03<", b"<cbc:IssueDate>03.06.2024<")
    with pytest.raises(SchemaValidationError) as caught:
        peppol.decode(data)
    error = caught.value
    assert error.message == (
        "the document breaks the business rules of peppol-bis3-invoice-rules.sch: "
        "3 failed assertion(s)"
    )
    assert [(p.where, p.message) for p in error.problems] == [
        (
            "line 5, /Invoice",
            "[BR-03] An invoice has an issue date written YYYY-MM-DD (cbc:IssueDate), "
            "not '03.06.2024'.",
        ),
        (
            "line 12, /Invoice/cbc:DocumentCurrencyCode",
            "[BR-CL-04] The invoice currency 'EURO' is not an ISO 4217 currency code.",
        ),
        (
            "line 46, /Invoice/cac:TaxTotal/cbc:TaxAmount",
            "[BR-CL-03] The currency of cbc:TaxAmount ('EURO') is not an ISO 4217 currency code.",
        ),
    ]  # BR-CO-15 holds: the tax amount is in the document's currency, both 'EURO'

    assert error.where == "line 5, /Invoice"
    assert "castable as xs:date" in (error.problems[0].hint or "")


def test_warnings_alone_pass_and_are_reported_beside_errors(peppol: XmlCodec, usual: bytes) -> None:
    warned = usual.replace(
        b'"EUR">160.00</cbc:LineExtensionAmount>', b'"EUR">160.00</cbc:LineExtensionAmount><!---->'
    )
    warned = warned.replace(
        b'<cbc:InvoicedQuantity unitCode="H87">20<', b'<cbc:InvoicedQuantity unitCode="H87">21<'
    )
    assert peppol.decode(warned)  # R120 (quantity x price) is a warning only
    broken = warned.replace(b"<cbc:ID>NW-2024-0815</cbc:ID>", b"<cbc:ID> </cbc:ID>")
    with pytest.raises(SchemaValidationError) as caught:
        peppol.decode(broken)
    kinds = [(p.message.split("]")[0], p.is_warning) for p in caught.value.problems]
    assert kinds == [("[BR-02", False), ("[PEPPOL-EN16931-R120", True)]
    assert "1 failed assertion(s)" in caught.value.message


def test_rules_are_checked_on_encode(peppol: XmlCodec) -> None:
    with pytest.raises(SchemaValidationError, match="business rules"):
        peppol.encode({"ubl:Invoice": {"cbc:ID": "1"}})


def test_rules_do_not_stream(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="whole documents"):
        XmlCodec(XmlOptions(schematron=RULES)).iter_records(io.BytesIO(b"<r/>"), "r")


SCH_HEAD = '<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">\n'


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        (
            '<pattern>\n<rule context="r">\n<assert test="count(a) =">x</assert>\n</rule>\n'
            "</pattern>",
            "the Schematron expression 'count(a) =' does not compile",
            4,
        ),
        (
            '<pattern>\n<rule context="p:r">\n<assert test="true()">x</assert></rule></pattern>',
            "the Schematron expression 'p:r' does not compile",
            3,
        ),
        ('<include href="other.sch"/>', "Schematron <include> is not supported", 2),
        ("<pattern><rule><assert test='1'>x</assert></rule></pattern>", "needs a context", 2),
    ],
)
def test_broken_rules_are_config_errors_with_file_and_line(
    tmp_path: Path, body: str, message: str, line: int
) -> None:
    path = tmp_path / "rules.sch"
    path.write_text(SCH_HEAD + body + "\n</schema>\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        XmlCodec(XmlOptions(schematron=path))
    assert message in caught.value.message
    assert caught.value.where == f"{path}:{line}"


def test_abstract_rules_lets_and_reports(tmp_path: Path) -> None:
    path = tmp_path / "rules.sch"
    path.write_text(
        SCH_HEAD + '<let name="max" value="3"/>\n'
        "<pattern id='p'>\n"
        '<rule abstract="true" id="counted"><assert id="C1" test="count(*) le $max">'
        "<name/> has <value-of select='count(*)'/> children, at most <emph><value-of "
        "select='$max'/></emph></assert></rule>\n"
        '<rule context="box"><extends rule="counted"/><let name="w" value="@w"/>'
        '<report id="W1" test="$w = \'heavy\'" flag="warning">heavy box</report></rule>\n'
        "</pattern>\n</schema>\n",
        encoding="utf-8",
    )
    codec = XmlCodec(XmlOptions(schematron=path))
    assert codec.decode(b'<box w="heavy"><a/></box>') == {"box": {"@w": "heavy", "a": None}}
    with pytest.raises(SchemaValidationError) as caught:
        codec.decode(b'<r>\n<box w="heavy"><a/><a/><a/><a/></box></r>')
    assert [str(p).split(" (")[0] for p in caught.value.problems] == [
        "line 2, /r/box: [C1] box has 4 children, at most 3",
        "line 2, /r/box: warning: [W1] heavy box",
    ]


def test_a_rule_on_the_document_node_is_placed_at_the_root(tmp_path: Path) -> None:
    path = tmp_path / "rules.sch"
    path.write_text(
        SCH_HEAD + '<pattern><rule context="/"><assert id="D1" test="count(//a) lt 2">'
        "too many</assert></rule></pattern>\n</schema>\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaValidationError) as caught:
        XmlCodec(XmlOptions(schematron=path)).decode(b"<?xml version='1.0'?>\n<r><a/><a/></r>")
    assert str(caught.value.problems[0]).startswith("line 2, /r: [D1] too many")


def test_a_missing_rules_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        XmlCodec(XmlOptions(schematron=tmp_path / "nope.sch"))
    (tmp_path / "x.sch").write_text("<schema/>", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an ISO Schematron schema"):
        XmlCodec(XmlOptions(schematron=tmp_path / "x.sch"))


# --- 5. smaller: charsets, XSD imports -----------------------------------------------------

MOJIBAKE = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<r>\n<a>Kaistraße</a></r>'.encode()


def test_utf8_bytes_under_a_latin1_declaration_are_refused_with_the_line() -> None:
    with pytest.raises(DecodeError) as caught:
        XmlCodec().decode(MOJIBAKE)
    assert caught.value.message == (
        "the document declares encoding 'ISO-8859-1' but holds UTF-8: 'ß' would read as 'Ã\\x9f'"
    )
    assert caught.value.where == "line 3"
    with pytest.raises(DecodeError, match="holds UTF-8"):
        list(iter_records(io.BytesIO(MOJIBAKE), "a"))


def test_a_charset_mismatch_can_be_accepted_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tree = XmlCodec(XmlOptions(charset_mismatch="warn")).decode(MOJIBAKE)
    assert tree == {"r": {"a": "KaistraÃ\x9fe"}}  # as declared
    assert "line 3: the document declares encoding 'ISO-8859-1'" in caplog.text
    assert XmlCodec(XmlOptions(charset_mismatch="ignore")).decode(MOJIBAKE) == tree


def test_real_latin1_is_not_a_mismatch() -> None:
    data = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<r>Kaistraße Ã</r>'.encode("latin-1")
    assert XmlCodec().decode(data) == {"r": "Kaistraße Ã"}
    utf8 = '<?xml version="1.0" encoding="UTF-8"?>\n<r>Kaistraße</r>'.encode()
    assert XmlCodec().decode(utf8) == {"r": "Kaistraße"}


def test_a_missing_xsd_import_is_located_where_it_is_imported(tmp_path: Path) -> None:
    (tmp_path / "main.xsd").write_text(
        '<?xml version="1.0"?>\n'
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:m">\n'
        '  <xs:include schemaLocation="parts.xsd"/>\n'
        "</xs:schema>\n",
        encoding="utf-8",
    )
    (tmp_path / "parts.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:m"\n'
        '           xmlns:o="urn:o">\n'
        "\n"
        '  <xs:import namespace="urn:o" schemaLocation="common/other.xsd"/>\n'
        '  <xs:element name="r" type="o:T"/>\n'
        "</xs:schema>\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        XmlCodec(XmlOptions(xsd=tmp_path / "main.xsd"))
    assert caught.value.where == f"{tmp_path / 'parts.xsd'}:4"
    assert "other.xsd" in caught.value.message


GLOBAL_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t"
    xmlns="urn:t" elementFormDefault="qualified">
  <xs:element name="R"><xs:complexType><xs:sequence>
    <xs:element ref="A" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="A"><xs:complexType><xs:sequence>
    <xs:element name="N" type="xs:int"/></xs:sequence></xs:complexType></xs:element>
</xs:schema>
"""


def test_one_unexpected_element_no_longer_hides_the_others(tmp_path: Path) -> None:
    (tmp_path / "t.xsd").write_text(GLOBAL_XSD, encoding="utf-8")
    codec = XmlCodec(XmlOptions(xsd=tmp_path / "t.xsd"))
    data = b'<R xmlns="urn:t">\n<X/>\n<A><N>1</N></A>\n<A><N>x</N></A>\n<A><N>y</N></A>\n</R>'
    with pytest.raises(SchemaValidationError) as caught:
        codec.decode(data)
    assert [str(p).split(": Element")[0] for p in caught.value.problems] == [
        "line 2, /R/X",
        "line 4, /R/A[2]/N",
        "line 5, /R/A[3]/N",
    ]


def test_elements_that_cannot_be_checked_alone_are_named(tmp_path: Path) -> None:
    codec = XmlCodec(XmlOptions(xsd=ROOT / "schemas" / "xsd" / "stock-report.xsd"))
    data = (DATA / "stock-report-invalid.xml").read_bytes()
    data = data.replace(b"<Warehouse code", b"<Bogus/><Warehouse code")
    with pytest.raises(SchemaValidationError) as caught:
        codec.decode(data)
    [unexpected, note] = caught.value.problems
    assert "This element is not expected" in unexpected.message
    assert note.is_warning
    assert note.message.startswith("4 element(s) after the unexpected <Bogus> could not be")
