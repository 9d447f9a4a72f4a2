"""hub.formats.csv_codec: samples, typing by a row schema, located errors, round trips."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.errors import ConfigError, DecodeError, EncodeError, LimitExceeded
from hub.formats.base import Codec
from hub.formats.csv_codec import MAX_PROBLEMS, CsvCodec, CsvOptions
from hub.formats.limits import DecodeLimits
from hub.formats.registry import make_codec

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data" / "csv"
STOCK_SCHEMA = ROOT / "schemas" / "json" / "stock-report-row.schema.json"
PRICE_SCHEMA = DATA / "price-list-row.schema.json"


def german(**extra: Any) -> CsvCodec:
    """The codec for the German stock report sample."""
    options: dict[str, Any] = {
        "delimiter": ";",
        "encoding": "cp1252",
        "skip_rows": 1,
        "decimal": ",",
        "schema": STOCK_SCHEMA,
        **extra,
    }
    return CsvCodec(CsvOptions.model_validate(options))


def schema_file(tmp_path: Path, properties: dict[str, Any], **extra: Any) -> Path:
    path = tmp_path / "row.schema.json"
    document = {"type": "object", "properties": properties, **extra}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def decode_error(codec: CsvCodec, data: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        codec.decode(data)
    return caught.value


def encode_error(codec: CsvCodec, tree: Any) -> EncodeError:
    with pytest.raises(EncodeError) as caught:
        codec.encode(tree)
    return caught.value


# --- the samples ------------------------------------------------------------------------

STOCK_ROWS = [
    {
        "Artikelnr": "10-4711",
        "Bezeichnung": "Schraube M6\u00d740, verzinkt",
        "Lagerort": "A-01-03",
        "Menge": 1200,
        "Einheit": "Stk",
        "Preis": 0.12,
        "Gesperrt": False,
        "Bemerkung": None,
    },
    {
        "Artikelnr": "10-4712",
        "Bezeichnung": "D\u00fcbel; Nylon 8 mm",
        "Lagerort": "A-01-04",
        "Menge": 850,
        "Einheit": "Stk",
        "Preis": 0.08,
        "Gesperrt": False,
        "Bemerkung": None,
    },
    {
        "Artikelnr": "20-0815",
        "Bezeichnung": 'Kleber "Extra stark"',
        "Lagerort": "B-02-01",
        "Menge": 14,
        "Einheit": "Tube",
        "Preis": 12.5,
        "Gesperrt": True,
        "Bemerkung": "Charge 2403\r\nHaltbar bis 09/2025",
    },
    {
        "Artikelnr": "30-1000",
        "Bezeichnung": "Fachboden 1.200 mm",
        "Lagerort": "C-10-01",
        "Menge": 3,
        "Einheit": "Stk",
        "Preis": None,
        "Gesperrt": False,
        "Bemerkung": "Preis auf Anfrage",
    },
    {
        "Artikelnr": "40-0042",
        "Bezeichnung": "Kabelbinder 200\u00d74,8 mm (100 St\u00fcck)",
        "Lagerort": "A-03-11",
        "Menge": -2,
        "Einheit": "Pck",
        "Preis": 4.95,
        "Gesperrt": True,
        "Bemerkung": "Inventurdifferenz",
    },
]

PRICE_ROWS = [
    {
        "sku": "CAF-001",
        "name": "Caf\u00e9 Crema, 1 kg",
        "price": 14.9,
        "currency": "EUR",
        "min_qty": 1,
        "in_stock": True,
        "valid_from": "2025-03-01",
    },
    {
        "sku": "CAF-002",
        "name": "Espresso \u201eNapoli\u201c 500 g",
        "price": 8.5,
        "currency": "EUR",
        "min_qty": 6,
        "in_stock": True,
        "valid_from": "2025-03-01",
    },
    {
        "sku": "TEE-100",
        "name": 'Gr\u00fcner Tee "Sencha"',
        "price": 6.25,
        "currency": "EUR",
        "min_qty": 10,
        "in_stock": False,
        "valid_from": None,
    },
    {
        "sku": "MUG-010",
        "name": "Becher \u2615 0,3 l",
        "price": 3,
        "currency": "EUR",
        "min_qty": 12,
        "in_stock": True,
        "valid_from": "2025-04-01",
    },
]


def test_german_stock_report_decodes_to_typed_rows() -> None:
    tree = german().decode((DATA / "stock-report-de.csv").read_bytes())
    assert tree == {"rows": STOCK_ROWS}
    assert [type(row["Menge"]) for row in tree["rows"]] == [int] * 5
    assert list(tree["rows"][0]) == [
        "Artikelnr",
        "Bezeichnung",
        "Lagerort",
        "Menge",
        "Einheit",
        "Preis",
        "Gesperrt",
        "Bemerkung",
    ]


def test_german_stock_report_without_a_schema_keeps_the_text() -> None:
    codec = CsvCodec(CsvOptions(delimiter=";", encoding="cp1252", skip_rows=1))
    rows = codec.decode((DATA / "stock-report-de.csv").read_bytes())["rows"]
    assert rows[0]["Menge"] == "1200"
    assert rows[0]["Preis"] == "0,12"
    assert rows[0]["Bemerkung"] == ""
    assert rows[3]["Preis"] == ""


def test_utf8_price_list_with_a_bom_decodes_to_typed_rows() -> None:
    data = (DATA / "price-list.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    codec = CsvCodec(CsvOptions(schema_=PRICE_SCHEMA))
    assert codec.decode(data) == {"rows": PRICE_ROWS}
    # the first column is "sku", not "\ufeffsku"
    assert CsvCodec().decode(data)["rows"][0]["sku"] == "CAF-001"


@pytest.mark.parametrize(
    ("codec", "sample"),
    [
        (german(), "stock-report-de.csv"),
        (CsvCodec(CsvOptions(schema_=PRICE_SCHEMA)), "price-list.csv"),
        (
            CsvCodec(CsvOptions(delimiter=";", encoding="cp1252", skip_rows=1)),
            "stock-report-de.csv",
        ),
        (CsvCodec(), "price-list.csv"),
    ],
)
def test_samples_decode_encode_decode(codec: CsvCodec, sample: str) -> None:
    tree = codec.decode((DATA / sample).read_bytes())
    encoded = codec.encode(tree)
    # skip_rows drops the title line on decode; encode does not write one
    again = CsvCodec(codec.options.model_copy(update={"skip_rows": 0})).decode(encoded)
    assert again == tree
    assert list(again["rows"][0]) == list(tree["rows"][0])


def test_german_stock_report_encodes_with_decimal_commas_in_cp1252() -> None:
    encoded = german().encode({"rows": STOCK_ROWS})
    lines = encoded.decode("cp1252").split("\r\n")
    assert lines[0] == "Artikelnr;Bezeichnung;Lagerort;Menge;Einheit;Preis;Gesperrt;Bemerkung"
    assert lines[1] == "10-4711;Schraube M6\u00d740, verzinkt;A-01-03;1200;Stk;0,12;false;"
    assert lines[2] == '10-4712;"D\u00fcbel; Nylon 8 mm";A-01-04;850;Stk;0,08;false;'
    assert lines[3] == '20-0815;"Kleber ""Extra stark""";B-02-01;14;Tube;12,5;true;"Charge 2403'
    assert lines[5] == "30-1000;Fachboden 1.200 mm;C-10-01;3;Stk;;false;Preis auf Anfrage"
    assert b"\xd7" in encoded  # the multiplication sign in cp1252


def test_codec_protocol_and_registry(tmp_path: Path) -> None:
    assert isinstance(CsvCodec(), Codec)
    assert (CsvCodec.name, CsvCodec.content_type, CsvCodec.extension) == ("csv", "text/csv", "csv")
    schema = schema_file(tmp_path, {"n": {"type": "integer"}})
    made = make_codec("csv", {"delimiter": "|", "schema": schema.name}, base_dir=tmp_path)
    assert isinstance(made, CsvCodec)
    assert made.options.schema_ == schema
    assert made.decode(b"n|s\r\n7|x\r\n") == {"rows": [{"n": 7, "s": "x"}]}


# --- options -------------------------------------------------------------------------------


@pytest.mark.parametrize("tab", ["\t", "\\t", "tab"])
def test_a_tab_delimiter_can_be_spelled_out(tab: str) -> None:
    codec = CsvCodec(CsvOptions.model_validate({"delimiter": tab}))
    assert codec.options.delimiter == "\t"
    assert codec.decode(b"a\tb\r\n1,5\t2;3\r\n") == {"rows": [{"a": "1,5", "b": "2;3"}]}


@pytest.mark.parametrize(
    "options",
    [
        {"delimiter": ":"},
        {"quotechar": "|"},
        {"encoding": "klingon"},
        {"encoding": "rot13"},  # a codec, but not a text encoding
        {"columns": []},
        {"columns": ["a", "a"]},
        {"columns": ["a", " "]},
        {"skip_rows": -1},
        {"decimal": ";"},
        {"line_terminator": "\r"},
        {"quoting": "none"},
        {"sheet": 1},
    ],
)
def test_bad_options_are_validation_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CsvOptions.model_validate(options)


def test_header_false_with_columns() -> None:
    codec = CsvCodec(CsvOptions(header=False, columns=["sku", "qty"], delimiter=";"))
    assert codec.decode(b"A-1;2\r\nB-2;3\r\n") == {
        "rows": [{"sku": "A-1", "qty": "2"}, {"sku": "B-2", "qty": "3"}]
    }
    assert codec.encode({"rows": [{"sku": "A-1", "qty": 2}]}) == b"A-1;2\r\n"
    assert codec.decode(b"") == {"rows": []}


def test_header_false_without_columns_numbers_the_columns() -> None:
    codec = CsvCodec(CsvOptions(header=False))
    assert codec.decode(b"x,y\r\n1,2\r\n") == {
        "rows": [{"column_1": "x", "column_2": "y"}, {"column_1": "1", "column_2": "2"}]
    }
    error = decode_error(codec, b"x,y\r\n1,2,3\r\n")
    assert error.message == "line 2 has 3 fields, the first line has 2"


def test_columns_rename_the_header_by_position() -> None:
    codec = CsvCodec(CsvOptions(columns=["sku", "qty"]))
    assert codec.decode(b"Artikel,Menge\r\nA-1,2\r\n") == {"rows": [{"sku": "A-1", "qty": "2"}]}
    error = decode_error(codec, b"Artikel,Menge,Lager\r\nA-1,2,X\r\n")
    assert error.message == "the header has 3 fields, the columns option names 2"
    assert error.where == "line 1"
    error = decode_error(codec, b"Artikel,Menge\r\nA-1,2,X\r\n")
    assert error.message == "line 2 has 3 fields, the columns option names 2"
    assert codec.encode({"rows": [{"qty": 2, "sku": "A-1"}]}) == b"sku,qty\r\nA-1,2\r\n"


def test_skip_rows_and_blank_lines() -> None:
    data = b"Report of 2025-03-03\r\n\r\na,b\r\n\r\n1,2\r\n\r\n"
    assert CsvCodec(CsvOptions(skip_rows=1)).decode(data) == {"rows": [{"a": "1", "b": "2"}]}
    error = decode_error(CsvCodec(CsvOptions(skip_rows=1, skip_blank_lines=False)), data)
    # the blank line 2 is the header then, with one unnamed column
    assert error.message == "column 1 of the header has no name"
    assert error.where == "line 2, column 1"
    single = CsvCodec(CsvOptions(skip_blank_lines=False))
    assert single.decode(b"a\r\n\r\nx\r\n") == {"rows": [{"a": ""}, {"a": "x"}]}
    assert CsvCodec().decode(b"a\r\n\r\nx\r\n") == {"rows": [{"a": "x"}]}


def test_skip_rows_past_the_end() -> None:
    error = decode_error(CsvCodec(CsvOptions(skip_rows=3)), b"title\r\n")
    assert error.message == "the data has no header line after the 1 skipped line(s)"


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"\xef\xbb\xbf"])
def test_no_header_line(data: bytes) -> None:
    error = decode_error(CsvCodec(), data)
    assert error.message == "the data has no header line"
    assert error.hint is not None


def test_a_header_alone_is_no_rows() -> None:
    assert CsvCodec().decode(b"a,b\r\n") == {"rows": []}


def test_single_quote_as_quotechar() -> None:
    codec = CsvCodec(CsvOptions(quotechar="'"))
    assert codec.decode(b"a,b\n'x, y','it''s'\n") == {"rows": [{"a": "x, y", "b": "it's"}]}
    assert codec.encode({"rows": [{"a": "x, y", "b": "it's"}]}) == b"a,b\r\n'x, y','it''s'\r\n"


def test_a_utf8_bom_means_utf8_whatever_the_encoding_says() -> None:
    data = "\ufeffname\r\nK\u00f6ln\r\n".encode()
    for encoding in ("utf-8", "utf-8-sig", "cp1252", "latin-1"):
        codec = CsvCodec(CsvOptions(encoding=encoding))
        assert codec.decode(data) == {"rows": [{"name": "K\u00f6ln"}]}, encoding
    assert CsvCodec(CsvOptions(encoding="utf-8-sig")).decode(b"name\r\nx\r\n") == {
        "rows": [{"name": "x"}]
    }


def test_utf16_is_read_and_written() -> None:
    codec = CsvCodec(CsvOptions(encoding="utf-16"))
    data = codec.encode({"rows": [{"name": "K\u00f6ln \u2615"}]})
    assert data.startswith((b"\xff\xfe", b"\xfe\xff"))
    assert codec.decode(data) == {"rows": [{"name": "K\u00f6ln \u2615"}]}


# --- typing by the row schema ----------------------------------------------------------------


def test_types_by_schema(tmp_path: Path) -> None:
    schema = schema_file(
        tmp_path,
        {
            "i": {"type": "integer"},
            "n": {"type": "number"},
            "m": {"type": ["number", "null"]},
            "b": {"type": "boolean"},
            "s": {"type": ["string", "null"]},
            "t": {"type": "string"},
            "u": {},
            "ns": {"type": ["number", "string"]},
        },
    )
    codec = CsvCodec(CsvOptions(delimiter=";", decimal=",", schema_=schema))
    data = (
        b"i;n;m;b;s;t;u;ns;x\r\n"
        b" 12 ;-1,5;;TRUE;;;;2,5;7\r\n"
        b"+3;,5;1e3;0;x;12;12;n/a;\r\n"
        b"12,00;7;  ;false; ; ;u;3;x\r\n"
    )
    assert codec.decode(data) == {
        "rows": [
            {"i": 12, "n": -1.5, "m": None, "b": True, "s": None, "t": "", "u": "", "ns": 2.5}
            | {"x": "7"},
            {"i": 3, "n": 0.5, "m": 1000.0, "b": False, "s": "x", "t": "12", "u": "12"}
            | {"ns": "n/a", "x": ""},
            {"i": 12, "n": 7, "m": None, "b": False, "s": " ", "t": " ", "u": "u", "ns": 3}
            | {"x": "x"},
        ]
    }


def test_local_refs_are_followed(tmp_path: Path) -> None:
    schema = schema_file(
        tmp_path,
        {"price": {"$ref": "#/$defs/price"}},
        **{"$defs": {"price": {"$ref": "#/$defs/amount"}, "amount": {"type": "number"}}},
    )
    assert CsvCodec(CsvOptions(schema_=schema)).decode(b"price\r\n1.25\r\n") == {
        "rows": [{"price": 1.25}]
    }


def test_a_column_cannot_be_an_object(tmp_path: Path) -> None:
    schema = schema_file(tmp_path, {"a/b": {"type": ["object", "null"]}})
    with pytest.raises(ConfigError) as caught:
        CsvCodec(CsvOptions(schema_=schema))
    assert caught.value.message == "column 'a/b' has type 'object', which a CSV cell cannot hold"
    assert caught.value.where == f"{schema}#/properties/a~1b"


def test_the_schema_must_describe_an_object(tmp_path: Path) -> None:
    path = tmp_path / "rows.schema.json"
    path.write_text('{"type": "array"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="must describe one row"):
        CsvCodec(CsvOptions(schema_=path))


def test_a_missing_schema_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="schema file not found"):
        CsvCodec(CsvOptions(schema_=tmp_path / "absent.json"))


def test_columns_must_fit_the_schema() -> None:
    with pytest.raises(ConfigError) as caught:
        CsvCodec(CsvOptions(header=False, columns=["Artikelnr", "Menge"], schema_=STOCK_SCHEMA))
    assert caught.value.message == (
        "the columns option does not fit the schema: there is no column 'Lagerort', "
        "which the schema stock-report-row.schema.json requires"
    )


# --- decode errors: exact messages and places --------------------------------------------------

REPORT = (
    "Stock report\r\n"  # 1, skipped
    "Item;Name;Quantity;Note\r\n"  # 2
    "A-1;Bolt;12,5;\r\n"  # 3
    'A-2;"Nut\r\nM6";3;x\r\n'  # 4-5
    "\r\n"  # 6
    "A-3;Washer;4;y;extra\r\n"  # 7
)


def report_codec(tmp_path: Path) -> CsvCodec:
    schema = schema_file(
        tmp_path,
        {"Quantity": {"type": "number"}, "Note": {"type": ["string", "null"]}},
        required=["Item", "Quantity"],
    )
    return CsvCodec(CsvOptions(delimiter=";", decimal=",", skip_rows=1, schema_=schema))


def test_report_decodes(tmp_path: Path) -> None:
    rows = report_codec(tmp_path).decode(REPORT.replace(";extra", "").encode())["rows"]
    assert [row["Quantity"] for row in rows] == [12.5, 3, 4]
    assert rows[1]["Name"] == "Nut\r\nM6"


def test_wrong_number_of_fields_names_the_physical_line(tmp_path: Path) -> None:
    error = decode_error(report_codec(tmp_path), REPORT.encode())
    assert error.message == "line 7 has 5 fields, the header has 4"
    assert error.where == "line 7"
    assert error.hint == "a value that contains ';' must be quoted"
    assert error.problems == []
    plain = CsvCodec(CsvOptions(delimiter=";", skip_rows=1))
    error = decode_error(plain, b"Title\r\na;b;c;d\r\n1;2\r\n")
    assert error.message == "line 3 has 2 fields, the header has 4"
    assert error.hint == (
        "empty values still need their delimiters; a line break inside a value must be quoted"
    )


def test_a_value_that_is_not_a_number(tmp_path: Path) -> None:
    data = REPORT.replace(";extra", "").replace("4;y", "12,5x;y").encode()
    error = decode_error(report_codec(tmp_path), data)
    assert error.message == "'12,5x' in column 'Quantity' is not a number (decimal mark ',')"
    assert error.where == "line 7, column 'Quantity'"


def test_the_other_decimal_mark_gets_a_hint(tmp_path: Path) -> None:
    data = REPORT.replace(";extra", "").replace("4;y", "4.5;y").encode()
    error = decode_error(report_codec(tmp_path), data)
    assert error.message == "'4.5' in column 'Quantity' is not a number (decimal mark ',')"
    assert error.hint == "the value has the other decimal mark; the `decimal` option is ','"


def test_an_empty_cell_where_the_schema_wants_a_value(tmp_path: Path) -> None:
    data = REPORT.replace(";extra", "").replace("4;y", ";y").encode()
    error = decode_error(report_codec(tmp_path), data)
    assert error.message == "column 'Quantity' is empty, but the schema wants a number"
    assert error.where == "line 7, column 'Quantity'"
    assert error.hint == 'to allow empty cells, add "null" to its type: ["number", "null"]'


def test_the_line_of_a_cell_after_a_multi_line_field(tmp_path: Path) -> None:
    data = REPORT.replace(";extra", "").replace('M6";3', 'M6";three').encode()
    error = decode_error(report_codec(tmp_path), data)
    assert error.where == "line 5, column 'Quantity'"


def test_integer_and_boolean_errors(tmp_path: Path) -> None:
    schema = schema_file(
        tmp_path, {"i": {"type": "integer"}, "b": {"type": "boolean"}, "x": {"type": "null"}}
    )
    codec = CsvCodec(CsvOptions(schema_=schema))
    error = decode_error(codec, b"i,b,x\r\n1.5,yes,\r\n99999999999999999999999e-3,1,1\r\n")
    assert [(p.where, p.message, p.hint) for p in error.problems] == [
        ("line 2, column 'i'", "'1.5' in column 'i' is not an integer", None),
        (
            "line 2, column 'b'",
            "'yes' in column 'b' is not a boolean",
            "booleans are written true, false, 1 or 0",
        ),
        (
            "line 3, column 'i'",
            "'99999999999999999999999e-3' in column 'i' is not an integer",
            None,
        ),
        ("line 3, column 'x'", "'1' in column 'x' is not empty, as the schema wants", None),
    ]


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("integer", "1e-9999999999999999999999", None),  # beyond Decimal's exponents
        ("integer", "1e9999999999999999999999999", None),
        ("integer", "0e99999", None),
        ("integer", "9" * 5000, None),  # beyond Python's int digits
        ("integer", "1e400", 10**400),
        ("number", "1e-9999999999999999999999", 0.0),
        ("number", "1e9999999999999999999999999", None),  # infinite
        ("number", "1e400", None),
        ("number", "9" * 5000, None),
    ],
)
def test_extreme_numbers(tmp_path: Path, kind: str, text: str, expected: Any) -> None:
    codec = CsvCodec(CsvOptions(schema_=schema_file(tmp_path, {"n": {"type": kind}})))
    data = f"n\r\n{text}\r\n".encode()
    if expected is None:
        assert decode_error(codec, data).where == "line 2, column 'n'"
    else:
        assert codec.decode(data)["rows"][0]["n"] == expected


@pytest.mark.parametrize(
    ("encoding", "data", "message", "where", "hint_word"),
    [
        (
            "utf-8",
            "Ort\r\nK\u00f6ln\r\n".encode("cp1252"),
            "byte 0xf6 is not valid utf-8",
            "line 2, byte 6",
            "cp1252",
        ),
        (
            "utf-8",
            b"\xef\xbb\xbfOrt\r\nK\xf6ln\r\n",
            "byte 0xf6 is not valid utf-8 (the data starts with a UTF-8 byte order mark)",
            "line 2, byte 9",
            "cp1252",
        ),
        ("cp1252", b"a\nb\rc\r\nd\x81", "byte 0x81 is not valid cp1252", "line 4, byte 8", "utf-8"),
    ],
)
def test_bytes_the_encoding_cannot_read(
    encoding: str, data: bytes, message: str, where: str, hint_word: str
) -> None:
    error = decode_error(CsvCodec(CsvOptions(encoding=encoding)), data)
    assert error.message == message
    assert error.where == where
    assert error.hint is not None
    assert "`encoding`" in error.hint
    assert hint_word in error.hint


def test_duplicate_and_empty_header_names() -> None:
    error = decode_error(CsvCodec(CsvOptions(delimiter=";")), b"a;b;;a;\r\n1;2;3;4;5\r\n")
    assert error.message == "the CSV has 3 errors"
    assert [(p.where, p.message) for p in error.problems] == [
        ("line 1, column 3", "column 3 of the header has no name"),
        ("line 1, column 4", "the header names 'a' twice (columns 1 and 4)"),
        ("line 1, column 5", "column 5 of the header has no name"),
    ]
    assert error.problems[2].hint == "a ';' at the end of the line makes an empty last column"


def test_an_unterminated_quote() -> None:
    error = decode_error(CsvCodec(), b'a,b\r\n1,2\r\n3,"four\r\nfive\r\n6,7\r\n')
    assert error.message == "a quoted field in the record starting on line 3 is never closed"
    assert error.where == "line 3"
    assert error.hint == (
        "end the field with '\"'; a '\"' inside a quoted field is written twice ('\"\"')"
    )


def test_text_after_a_closing_quote() -> None:
    error = decode_error(CsvCodec(), b'a,b\r\n1,"2"x\r\n3,4\r\n"5""",6\r\n')
    assert error.message == "a closing '\"' must be followed by ',' or the end of the line"
    assert error.where == "line 2"


def test_a_field_longer_than_the_limit() -> None:
    # an unclosed quote runs to the end: refused by max_string_length (1 MiB by default)
    data = b'a\r\n"' + b"x" * (1024 * 1024 + 10) + b"\r\n"
    with pytest.raises(LimitExceeded) as caught:
        CsvCodec().decode(data)
    assert caught.value.limit == "max_string_length"
    assert caught.value.message.startswith("a field has over 1048576 characters")
    assert caught.value.where == "line 2"
    # a lower limit than the csv module's own is checked field by field
    small = CsvCodec(limits=DecodeLimits(max_string_length=10))
    assert small.decode(b"a,b\r\n1,xxxxxxxxxx\r\n") == {"rows": [{"a": "1", "b": "x" * 10}]}
    with pytest.raises(LimitExceeded) as caught:
        small.decode(b'a,b\r\n1,"x\r\nxxxxxxxxxx"\r\n')
    assert (caught.value.where, caught.value.found) == ("line 2, column 2", 13)


def test_required_and_unknown_columns() -> None:
    data = "x\r\nArtikelnr;Menge;Farbe\r\n".encode("cp1252")
    error = decode_error(german(), data)
    assert error.message == "the CSV has 3 errors"
    assert [(p.where, p.message) for p in error.problems] == [
        (
            "line 2",
            "there is no column 'Lagerort', which the schema stock-report-row.schema.json requires",
        ),
        (
            "line 2",
            "there is no column 'Einheit', which the schema stock-report-row.schema.json requires",
        ),
        (
            "line 2",
            "the schema stock-report-row.schema.json has no column 'Farbe' "
            "(its additionalProperties is false)",
        ),
    ]


def test_all_row_errors_come_together(tmp_path: Path) -> None:
    data = (
        b"Title\r\n"
        b"Item;Name;Quantity;Note\r\n"
        b"A-1;Bolt;x;\r\n"
        b'A-2;"Nut";3\r\n'
        b"A-3;Washer;;\r\n"
        b'A-4;"Pin"!;1;\r\n'
        b"A-5;Pin;1,5;ok\r\n"
    )
    error = decode_error(report_codec(tmp_path), data)
    assert error.message == "the CSV has 4 errors"
    assert error.where is None
    assert [(p.where, p.message) for p in error.problems] == [
        (
            "line 3, column 'Quantity'",
            "'x' in column 'Quantity' is not a number (decimal mark ',')",
        ),
        ("line 4", "line 4 has 3 fields, the header has 4"),
        ("line 5, column 'Quantity'", "column 'Quantity' is empty, but the schema wants a number"),
        ("line 6", "a closing '\"' must be followed by ';' or the end of the line"),
    ]
    assert "line 4 has 3 fields" in str(error)


def test_at_most_fifty_problems(tmp_path: Path) -> None:
    data = ("Title\r\nItem;Name;Quantity;Note\r\n" + "A;B;C;D\r\n" * 80).encode()
    error = decode_error(report_codec(tmp_path), data)
    assert len(error.problems) == MAX_PROBLEMS == 50
    assert error.message == "the CSV has more than 50 errors; reading stopped at line 53"
    assert error.problems[-1].where == "line 52, column 'Quantity'"


def test_at_most_fifty_syntax_errors() -> None:
    error = decode_error(CsvCodec(), b"a,b\r\n" + b'"1"x,2\r\n' * 80)
    assert len(error.problems) == 50
    assert error.message == "the CSV has more than 50 errors; reading stopped at line 52"
    assert error.problems[-1].where == "line 51"


def test_the_broken_stock_report_of_the_docs() -> None:
    error = decode_error(german(), (DATA / "stock-report-de-errors.csv").read_bytes())
    assert str(error) == "\n".join(
        [
            "the CSV has 5 errors",
            "  line 4: line 4 has 9 fields, the header has 8"
            " (a value that contains ';' must be quoted)",
            "  line 7, column 'Menge': column 'Menge' is empty, but the schema wants an integer"
            ' (to allow empty cells, add "null" to its type: ["integer", "null"])',
            "  line 7, column 'Preis': '1.250,00' in column 'Preis' is not a number"
            " (decimal mark ',')",
            "  line 8, column 'Menge': '12,5x' in column 'Menge' is not an integer",
            "  line 8, column 'Gesperrt': 'ja' in column 'Gesperrt' is not a boolean"
            " (booleans are written true, false, 1 or 0)",
        ]
    )
    assert error.to_dict()["problems"][0] == {
        "message": "line 4 has 9 fields, the header has 8",
        "where": "line 4",
        "hint": "a value that contains ';' must be quoted",
    }


def test_a_title_line_read_as_the_header_gets_a_hint() -> None:
    codec = CsvCodec(CsvOptions(delimiter=";", encoding="cp1252"))
    error = decode_error(codec, (DATA / "stock-report-de.csv").read_bytes())
    assert error.problems[0].message == "line 2 has 8 fields, the header has 1"
    assert error.problems[0].hint == (
        "the header is a single column: if the first line is a title, set `skip_rows`; "
        "if not, is the delimiter ';'?"
    )


# --- encode ------------------------------------------------------------------------------------


def test_encode_writes_rfc4180_by_default() -> None:
    tree = {
        "rows": [
            {"a": "x", "b": 'say "hi", then\nleave', "c": None},
            {"a": 1.5, "b": True, "c": -7},
        ]
    }
    assert CsvCodec().encode(tree) == (b'a,b,c\r\nx,"say ""hi"", then\nleave",\r\n1.5,true,-7\r\n')


def test_encode_options() -> None:
    codec = CsvCodec(CsvOptions(delimiter=";", decimal=",", line_terminator="\n", quoting="all"))
    assert codec.encode({"rows": [{"a": 1.5, "b": "x\ry"}]}) == b'"a";"b"\n"1,5";"x\ry"\n'
    minimal = CsvCodec(CsvOptions(line_terminator="\n"))
    # a lone "\r" is quoted even though lines end with "\n"
    assert minimal.encode({"rows": [{"a": "x\ry", "b": ""}]}) == b'a,b\n"x\ry",\n'
    assert minimal.decode(minimal.encode({"rows": [{"a": "x\ry"}]})) == {"rows": [{"a": "x\ry"}]}


def test_encode_a_single_empty_column_survives_blank_line_skipping() -> None:
    codec = CsvCodec()
    tree = {"rows": [{"a": ""}, {"a": "x"}, {"a": ""}]}
    assert codec.encode(tree) == b'a\r\n""\r\nx\r\n""\r\n'
    assert codec.decode(codec.encode(tree)) == tree


def test_encode_missing_keys_are_empty_cells() -> None:
    tree = {"rows": [{"a": 1, "b": 2}, {"b": 3}]}
    assert CsvCodec().encode(tree) == b"a,b\r\n1,2\r\n,3\r\n"


def test_encode_utf8_sig_writes_a_bom() -> None:
    data = CsvCodec(CsvOptions(encoding="utf-8-sig")).encode({"rows": [{"a": "\u00e9"}]})
    assert data == b"\xef\xbb\xbfa\r\n\xc3\xa9\r\n"


def test_encode_header_only_needs_columns() -> None:
    codec = CsvCodec(CsvOptions(columns=["sku", "qty"]))
    assert codec.encode({"rows": []}) == b"sku,qty\r\n"
    assert codec.decode(b"sku,qty\r\n") == {"rows": []}
    error = encode_error(CsvCodec(), {"rows": []})
    assert error.message == "there are no rows to take the column names from"
    assert error.hint == "set the `columns` option to write a file with only the header"


def test_encode_an_unknown_key_in_a_later_row() -> None:
    error = encode_error(CsvCodec(), {"rows": [{"a": 1, "b": 2}, {"a": 3, "c": 4}]})
    assert error.message == "the key 'c' is not one of the columns ('a', 'b')"
    assert error.where == "rows[1], key 'c'"
    assert error.hint == "the columns are the keys of the first row"


@pytest.mark.parametrize(
    ("tree", "message", "where"),
    [
        ([{"a": 1}], 'a CSV tree is an object with its rows in a list under "rows"', None),
        ({"lines": []}, 'a CSV tree is an object with its rows in a list under "rows"', None),
        ({"rows": [["a"]]}, "a row must be an object, not a list", "rows[0]"),
        ({"rows": [{"a": 1}, "b"]}, "a row must be an object, not a string", "rows[1]"),
        ({"rows": [{}]}, "the first row has no keys: a CSV line needs a column", "rows[0]"),
        (
            {"rows": [{" ": 1}]},
            "a column without a name cannot be written in the header",
            "rows[0], key ' '",
        ),
        ({"rows": [{"a": [1]}]}, "a CSV cell cannot hold a list", "rows[0], key 'a'"),
        ({"rows": [{"a": {"b": 1}}]}, "a CSV cell cannot hold an object", "rows[0], key 'a'"),
        (
            {"rows": [{"a": 1}, {"a": float("nan")}]},
            "nan cannot be written: CSV numbers must be finite",
            "rows[1], key 'a'",
        ),
    ],
)
def test_encode_errors(tree: Any, message: str, where: str | None) -> None:
    error = encode_error(CsvCodec(), tree)
    assert error.message == message
    assert error.where == where
    assert error.stage == "encode"


def test_encode_checks_values_against_the_schema() -> None:
    rows = [dict(STOCK_ROWS[0]), dict(STOCK_ROWS[1])]
    rows[0]["Preis"] = "0.12"
    rows[1]["Menge"] = None
    rows[1]["Gesperrt"] = 0
    error = encode_error(german(), {"rows": rows})
    assert error.message == "the CSV has 3 errors"
    assert [(p.where, p.message) for p in error.problems] == [
        ("rows[0], key 'Preis'", "'0.12' is a string, but column 'Preis' holds a number or null"),
        ("rows[1], key 'Menge'", "the value is null, but column 'Menge' holds an integer"),
        ("rows[1], key 'Gesperrt'", "0 is an integer, but column 'Gesperrt' holds a boolean"),
    ]
    assert error.problems[1].hint == (
        'allow empty cells with "type": ["integer", "null"] in the schema'
    )


def test_encode_accepts_whole_floats_for_integers() -> None:
    rows = [dict(STOCK_ROWS[0], Menge=12.0)]
    assert german().decode(b"title\r\n" + german().encode({"rows": rows}))["rows"][0]["Menge"] == 12
    error = encode_error(german(), {"rows": [dict(STOCK_ROWS[0], Menge=1.5)]})
    assert error.message == "1.5 is a number, but column 'Menge' holds an integer"


def test_encode_needs_the_required_columns() -> None:
    rows = [{k: v for k, v in STOCK_ROWS[0].items() if k != "Lagerort"}]
    error = encode_error(german(), {"rows": rows})
    assert error.message == (
        "there is no column 'Lagerort', which the schema stock-report-row.schema.json requires"
    )
    assert error.where == "rows[0]"


def test_encode_characters_the_encoding_lacks() -> None:
    codec = CsvCodec(CsvOptions(encoding="latin-1"))
    error = encode_error(codec, {"rows": [{"name": "K\u00f6ln", "price": "5 \u20ac"}]})
    assert error.message == "'\u20ac' cannot be written in latin-1"
    assert error.where == "rows[0], key 'price'"
    error = encode_error(CsvCodec(), {"rows": [{"\ud800": 1, "b": "\udfff"}]})
    assert [p.where for p in error.problems] == [
        "the header, column '\\ud800'",
        "rows[0], key 'b'",
    ]


def test_encode_stops_after_fifty_problems() -> None:
    error = encode_error(CsvCodec(), {"rows": [{"a": [i]} for i in range(70)]})
    assert len(error.problems) == 50
    assert error.message == "the CSV has more than 50 errors; writing stopped"


# --- properties --------------------------------------------------------------------------------

TRICKY = st.sampled_from([",", ";", "\t", "|", '"', "'", "\n", "\r", " ", "\u00e4", "\u20ac"])
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\ufeff") | TRICKY, max_size=12
)
NAMES = st.lists(TEXT.filter(lambda s: s.strip() != ""), min_size=1, max_size=5, unique=True)


def tables(cells: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    def rows(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
        row = st.fixed_dictionaries(dict.fromkeys(names, cells))
        return st.builds(lambda rs: {"rows": rs}, st.lists(row, min_size=1, max_size=6))

    return NAMES.flatmap(rows)


OPTIONS = st.fixed_dictionaries(
    {
        "delimiter": st.sampled_from([",", ";", "\t", "|"]),
        "quotechar": st.sampled_from(['"', "'"]),
        "line_terminator": st.sampled_from(["\r\n", "\n"]),
        "quoting": st.sampled_from(["minimal", "all"]),
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    }
)


@settings(max_examples=150)
@given(tree=tables(TEXT), options=OPTIONS)
def test_strings_round_trip(tree: dict[str, Any], options: dict[str, Any]) -> None:
    codec = CsvCodec(CsvOptions.model_validate(options))
    decoded = codec.decode(codec.encode(tree))
    assert decoded == tree
    header = list(tree["rows"][0])  # encode writes every row in the first row's order
    assert all(list(row) == header for row in decoded["rows"])


@pytest.fixture(scope="module")
def typed_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("csv") / "typed.schema.json"
    properties = {
        "int": {"type": "integer"},
        "num": {"type": "number"},
        "opt": {"type": ["number", "null"]},
        "flag": {"type": "boolean"},
        "text": {"type": "string"},
    }
    path.write_text(json.dumps({"type": "object", "properties": properties}), encoding="utf-8")
    return path


FLOATS = st.floats(allow_nan=False, allow_infinity=False)
TYPED_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "int": st.integers(),
            "num": FLOATS | st.integers(),
            "opt": st.none() | FLOATS,
            "flag": st.booleans(),
            "text": TEXT,
        }
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150)
@given(
    rows=TYPED_ROWS,
    decimal=st.sampled_from([".", ","]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_typed_rows_round_trip(
    typed_schema: Path, rows: list[dict[str, Any]], decimal: str, delimiter: str
) -> None:
    options = {"decimal": decimal, "delimiter": delimiter, "schema": typed_schema}
    codec = CsvCodec(CsvOptions.model_validate(options))
    decoded = codec.decode(codec.encode({"rows": rows}))
    assert decoded == {"rows": rows}
    for got, sent in zip(decoded["rows"], rows, strict=True):
        assert type(got["num"]) is type(sent["num"])


FUZZ_CODECS = [
    german(skip_rows=0),
    german(skip_blank_lines=False, encoding="utf-8"),
    CsvCodec(CsvOptions(schema_=PRICE_SCHEMA)),
    CsvCodec(CsvOptions(header=False, columns=["Artikelnr", "Lagerort", "Menge", "Einheit"])),
]


@given(data=st.binary(max_size=300), which=st.integers(0, len(FUZZ_CODECS) - 1))
def test_decode_of_arbitrary_bytes_only_raises_decode_error(data: bytes, which: int) -> None:
    with contextlib.suppress(DecodeError):
        FUZZ_CODECS[which].decode(data)


CSV_LIKE = st.text(alphabet=';,"\r\n 0123456789,.-+eE\u00e4truefalsArtiklnMgoLheEi', max_size=120)


@given(text=CSV_LIKE, which=st.integers(0, len(FUZZ_CODECS) - 1))
def test_decode_of_csv_like_text_only_raises_decode_error(text: str, which: int) -> None:
    header = "Artikelnr;Lagerort;Menge;Einheit;Preis;Gesperrt\r\n"
    for data in (text, header + text):
        with contextlib.suppress(DecodeError):
            FUZZ_CODECS[which].decode(data.encode("utf-8"))
