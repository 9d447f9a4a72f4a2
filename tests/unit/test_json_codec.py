"""hub.formats: the JSON codec, the codec registry and JSON Schema validation."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.errors import (
    ConfigError,
    DecodeError,
    EncodeError,
    LimitExceeded,
    SchemaValidationError,
)
from hub.formats import Codec, JsonCodec, JsonOptions, JsonSchema, make_codec
from hub.formats.limits import DecodeLimits, check_tree

codec = JsonCodec()

# --- decode ----------------------------------------------------------------------


def test_decode_a_document() -> None:
    assert codec.decode(b'{"a": [1, 2.5, "x", true, null]}') == {"a": [1, 2.5, "x", True, None]}


def test_decode_scalars_and_unicode() -> None:
    assert codec.decode(b"42") == 42
    assert codec.decode('"Zo\u00eb \U0001f950"'.encode()) == "Zo\u00eb \U0001f950"


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'{"a": 1,}', "line 1, column 9"),
        (b'{\n  "a": 1\n  "b": 2\n}', "line 3, column 3"),
        (b'{"a": tru}', "line 1, column 7"),
        (b'{"a": 1} {"b": 2}', "line 1, column 10"),
        (b"[1, 2", "line 1, column 6"),
    ],
)
def test_decode_errors_carry_line_and_column(data: bytes, where: str) -> None:
    with pytest.raises(DecodeError) as caught:
        codec.decode(data)
    assert caught.value.where == where
    assert caught.value.message.startswith("invalid JSON: ")
    assert caught.value.hint
    assert caught.value.stage == "decode"


def test_non_utf8_byte_position() -> None:
    with pytest.raises(DecodeError) as caught:
        codec.decode(b'{"name": "Zo\xeb"}')
    assert caught.value.where == "byte 12"
    assert "0xeb" in caught.value.message
    assert caught.value.hint == "JSON must be UTF-8 encoded"


def test_non_utf8_byte_position_after_a_bom() -> None:
    # The position counts bytes of the body as received, BOM included.
    with pytest.raises(DecodeError) as caught:
        codec.decode(b'\xef\xbb\xbf{"a": "\xff"}')
    assert caught.value.where == "byte 10"
    assert "0xff" in caught.value.message


@pytest.mark.parametrize("data", [b"", b"   ", b"\n\t\r\n", b"\xef\xbb\xbf"])
def test_empty_body(data: bytes) -> None:
    with pytest.raises(DecodeError, match="empty"):
        codec.decode(data)


@pytest.mark.parametrize("data", [b"NaN", b'{"a": NaN}', b"[Infinity]", b'{"a": -Infinity}'])
def test_nan_and_infinity_are_rejected(data: bytes) -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        codec.decode(data)


def test_bom_is_accepted() -> None:
    assert codec.decode(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_very_deep_nesting_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        codec.decode(b"[" * 200_000 + b"]" * 200_000)


def test_duplicate_object_keys_keep_the_last() -> None:
    assert codec.decode(b'{"a": 1, "a": 2}') == {"a": 2}


# --- encode --------------------------------------------------------------------------


def test_encode_is_compact_utf8_by_default() -> None:
    assert (
        codec.encode({"name": "Zo\u00eb", "n": [1, None]})
        == '{"name": "Zo\u00eb", "n": [1, null]}'.encode()
    )


def test_encode_options() -> None:
    pretty = JsonCodec(JsonOptions(indent=2, ensure_ascii=True))
    assert pretty.encode({"a": "\u00eb"}) == b'{\n  "a": "\\u00eb"\n}'


def test_encode_round_trip() -> None:
    tree = {"order": "1001", "lines": [{"qty": 2, "price": 13.9}], "paid": True, "note": None}
    assert codec.decode(codec.encode(tree)) == tree


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_encode_rejects_non_finite_floats(value: float) -> None:
    with pytest.raises(EncodeError):
        codec.encode({"x": value})


def test_encode_rejects_non_json_values() -> None:
    with pytest.raises(EncodeError, match="cannot encode as JSON"):
        codec.encode({"when": object()})


def test_encode_rejects_a_lone_surrogate_with_an_encode_error() -> None:
    # The decoder accepts "\ud800" (valid JSON escape); encoding that string to UTF-8 must
    # fail as the typed EncodeError, never as a bare UnicodeEncodeError.
    tree = codec.decode(b'{"a": "\\ud800"}')
    with pytest.raises(EncodeError):
        codec.encode(tree)


def test_codec_protocol_and_registry() -> None:
    assert isinstance(codec, Codec)
    made = make_codec("json", {"indent": 1})
    assert isinstance(made, JsonCodec)
    assert made.encode([1]) == b"[\n 1\n]"
    assert (JsonCodec.name, JsonCodec.content_type, JsonCodec.extension) == (
        "json",
        "application/json",
        "json",
    )


# --- properties ----------------------------------------------------------------------

JSON_TREES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=30,
)


@given(tree=JSON_TREES)
def test_decode_inverts_encode(tree: Any) -> None:
    assert codec.decode(codec.encode(tree)) == tree


@given(tree=JSON_TREES, indent=st.none() | st.integers(0, 8), ascii_only=st.booleans())
def test_decode_inverts_encode_with_any_options(
    tree: Any, indent: int | None, ascii_only: bool
) -> None:
    encoder = JsonCodec(JsonOptions(indent=indent, ensure_ascii=ascii_only))
    assert codec.decode(encoder.encode(tree)) == tree


@given(data=st.binary(max_size=200))
def test_decode_of_arbitrary_bytes_only_raises_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        codec.decode(data)


@given(text=st.text(alphabet='{}[]":,0123456789.eE+-tfnrulasNIn \\u"', max_size=60))
def test_decode_of_json_like_text_only_raises_decode_error(text: str) -> None:
    with contextlib.suppress(DecodeError):
        codec.decode(text.encode())


@given(text=st.text(max_size=50))
def test_encode_of_any_string_is_encode_error_or_round_trips(text: str) -> None:
    try:
        out = codec.encode({"s": text})
    except EncodeError:
        return
    assert codec.decode(out) == {"s": text}


LIMITS = st.builds(
    DecodeLimits,
    max_depth=st.integers(1, 6),
    max_nodes=st.integers(1, 40),
    max_string_length=st.integers(1, 40),
)
NUMBERS = st.sampled_from(["1e400", "-1e400", "1" * 310 + ".5", "1.5e3", "2", "1E-400"])


def _limit_outcome(decode: Any, data: bytes) -> Any:
    try:
        return "tree", decode(data)
    except (DecodeError, LimitExceeded) as exc:
        return type(exc).__name__, exc.message, exc.where


@given(tree=JSON_TREES, number=NUMBERS, limits=LIMITS, indent=st.none() | st.just(2))
def test_the_limits_shortcut_decides_as_the_full_check(
    tree: Any, number: str, limits: DecodeLimits, indent: int | None
) -> None:
    """A text short enough skips the size checks (it cannot break them): every outcome,
    tree or error with its place, is what json.loads and the full check give."""
    text = json.dumps([tree, tree], indent=indent).replace("[", f"[{number}, ", 1)

    def reference(data: bytes) -> Any:
        decoded = json.loads(data)
        check_tree(decoded, limits)
        return decoded

    assert _limit_outcome(JsonCodec(limits=limits).decode, text.encode()) == _limit_outcome(
        reference, text.encode()
    )


# --- JSON Schema -------------------------------------------------------------------------

ORDER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["number", "line_items"],
    "properties": {
        "number": {"type": "string"},
        "line_items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku"],
                "properties": {
                    "sku": {"type": "string"},
                    "quantity": {"type": "number", "exclusiveMinimum": 0},
                },
            },
        },
        "a/b": {"type": "integer"},
    },
}


@pytest.fixture
def order_schema(tmp_path: Path) -> JsonSchema:
    path = tmp_path / "order.schema.json"
    path.write_text(json.dumps(ORDER_SCHEMA), encoding="utf-8")
    return JsonSchema(path)


def test_valid_document_passes(order_schema: JsonSchema) -> None:
    order_schema.check({"number": "1", "line_items": [{"sku": "A", "quantity": 1}]})


def test_every_violation_is_reported_with_a_json_pointer(order_schema: JsonSchema) -> None:
    document = {
        "number": 1001,
        "line_items": [{"sku": "A", "quantity": 0}, {"quantity": 2}],
        "a/b": "x",
    }
    with pytest.raises(SchemaValidationError) as caught:
        order_schema.check(document)
    error = caught.value
    wheres = sorted(p.where or "" for p in error.problems)
    assert wheres == ["#/a~1b", "#/line_items/0/quantity", "#/line_items/1", "#/number"]
    assert "4 error(s)" in error.message
    assert "order.schema.json" in error.message
    assert error.where in wheres
    by_where = {p.where: p.message for p in error.problems}
    assert "'sku' is a required property" in by_where["#/line_items/1"]
    assert "1001 is not of type 'string'" in by_where["#/number"]


def test_a_root_violation_points_at_the_root(order_schema: JsonSchema) -> None:
    with pytest.raises(SchemaValidationError) as caught:
        order_schema.check([])
    assert [p.where for p in caught.value.problems] == ["#"]


def test_at_most_fifty_violations_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "ints.schema.json"
    path.write_text('{"type": "array", "items": {"type": "integer"}}', encoding="utf-8")
    with pytest.raises(SchemaValidationError) as caught:
        JsonSchema(path).check(["x"] * 60)
    assert len(caught.value.problems) == 50
    assert "60 error(s) (showing the first 50)" in caught.value.message


def test_shipped_schema_accepts_the_example_order() -> None:
    root = Path(__file__).resolve().parents[2]
    schema = JsonSchema(root / "schemas" / "json" / "woocommerce-order.schema.json")
    schema.check(json.loads((root / "examples" / "woocommerce-order.json").read_text("utf-8")))


def test_schema_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="schema file not found"):
        JsonSchema(tmp_path / "absent.json")


def test_schema_file_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "type": "object",\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON") as caught:
        JsonSchema(path)
    assert caught.value.where == f"{path}:3:1"


def test_schema_file_not_a_schema(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"properties": {"a": {"type": "nonsense"}}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a valid JSON Schema") as caught:
        JsonSchema(path)
    assert caught.value.where is not None
    assert caught.value.where.startswith(f"{path}#/properties/a")


def test_schema_file_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"title": "Zo\u00eb"}'.encode("latin-1"))
    with pytest.raises(ConfigError):
        JsonSchema(path)


def test_schema_path_that_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        JsonSchema(tmp_path)


def test_a_schema_file_is_compiled_once_until_it_changes(tmp_path: Path) -> None:
    import os

    from hub.formats.schema import load_schema

    path = tmp_path / "s.json"
    path.write_text('{"type": "object"}', encoding="utf-8")
    first = load_schema(path)
    assert load_schema(path) is first
    path.write_text('{"type": "array"}', encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert load_schema(path) is not first


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (b"[[[1]]]", True),  # three levels: as deep as allowed
        (b"[[[[1]]]]", False),  # four
        (b'{"a": "[[[[[[", "b": {"c": [1]}}', True),  # brackets in a string are no levels
        (b'[{"a": [{"b": 1}]}]', False),  # arrays and objects both count
    ],
)
def test_depth_is_checked_whatever_the_text_holds(text: bytes, ok: bool) -> None:
    """The walk of the tree is skipped only when the text has too few brackets to nest
    deeper than max_depth; the answer is the walk's."""
    codec = JsonCodec(limits=DecodeLimits(max_depth=3))
    if ok:
        codec.decode(text)
    else:
        with pytest.raises(LimitExceeded):
            codec.decode(text)


@pytest.mark.parametrize("deep", [3, 4])
def test_depth_of_a_long_text_is_read_from_its_brackets(deep: int) -> None:
    """Past 64 KB the brackets are not counted first (a long text nearly always has more
    than max_depth): the depth read from them decides, strings holding brackets or not."""
    nested = "[" * (deep - 1) + "1" + "]" * (deep - 1)
    for filler in ("x" * 70_000, "[" * 70_000):
        text = json.dumps({"pad": filler}).encode()[:-1] + b', "n": ' + nested.encode() + b"}"
        assert len(text) > 65_536
        codec = JsonCodec(limits=DecodeLimits(max_depth=3))
        if deep == 3:
            assert codec.decode(text)["n"] == json.loads(nested)
        else:
            with pytest.raises(LimitExceeded, match="max_depth"):
                codec.decode(text)
