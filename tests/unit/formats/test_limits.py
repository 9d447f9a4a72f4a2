"""Decoding limits: each codec refuses what exceeds each limit, naming the limit and the place."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.config.models import HubConfig
from hub.errors import DecodeError, LimitExceeded
from hub.formats import make_codec
from hub.formats.base import CodecOptions, Tree
from hub.formats.csv_codec import CsvCodec
from hub.formats.edifact import EdifactCodec
from hub.formats.json_codec import JsonCodec, bracket_depth
from hub.formats.limits import DecodeLimits, check_tree
from hub.formats.registry import CheckedCodec, takes_limits
from hub.formats.xml_codec import XmlCodec, XmlOptions, iter_records

ROOT = Path(__file__).resolve().parents[3]


def refused(codec: Any, data: bytes, limit: str) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as caught:
        codec.decode(data)
    error = caught.value
    assert error.limit == limit
    assert limit in error.message
    assert error.hint is not None
    assert f"limits.{limit}" in error.hint
    assert error.to_dict()["limit"] == {
        "name": limit,
        "found": error.found,
        "maximum": error.maximum,
    }
    assert error.found > error.maximum
    return error


# --- the value type and the config ------------------------------------------------------


def test_defaults_and_statuses() -> None:
    limits = DecodeLimits()
    assert (limits.max_depth, limits.max_nodes, limits.max_attributes) == (100, 1_000_000, 256)
    assert limits.max_string_length == 1024 * 1024
    assert (limits.max_segments, limits.max_segment_elements) == (1_000_000, 1_000)
    assert (limits.max_rows, limits.max_columns, limits.max_namespaces) == (1_000_000, 1000, 256)
    size = LimitExceeded("max_nodes", found=2, maximum=1, what="x")
    shape = LimitExceeded("max_depth", found=2, maximum=1, what="x")
    assert (size.status, shape.status) == (413, 400)
    assert size.code == "limit_exceeded"
    assert isinstance(size, DecodeError)


def test_a_route_overrides_single_keys_of_the_hub_wide_limits() -> None:
    config = HubConfig.model_validate(
        {
            "limits": {"max_depth": 50, "max_nodes": 10},
            "routes": {
                "r": {
                    "input": {"format": "xml", "limits": {"max_nodes": 99}},
                    "sinks": [{"name": "s", "type": "file"}],
                }
            },
        }
    )
    merged = config.routes["r"].input.merged_limits(config.limits)
    assert (merged.max_depth, merged.max_nodes, merged.max_attributes) == (50, 99, 256)
    assert HubConfig().limits == DecodeLimits()


# --- JSON ------------------------------------------------------------------------------


def test_json_depth_within_and_beyond_what_python_parses() -> None:
    codec = JsonCodec(limits=DecodeLimits(max_depth=3))
    assert codec.decode(b'{"a": [[1]]}') == {"a": [[1]]}
    error = refused(codec, b'{"a": [[[1]]]}', "max_depth")
    assert error.where == "#/a/0/0"
    deep = b'{"a":\n' + b"[" * 5000 + b"]" * 5000 + b"}"
    error = refused(JsonCodec(), deep, "max_depth")  # a RecursionError in the scanner
    assert error.where == "line 2, column 100"


def _depth(tree: Any) -> int:
    if isinstance(tree, dict):
        return 1 + max(map(_depth, tree.values()), default=0)
    if isinstance(tree, list):
        return 1 + max(map(_depth, tree), default=0)
    return 0


_MARKS = st.text(alphabet='[]{}"\\\\a\n\u00e9\x00', max_size=6)
_TREES = st.recursive(
    st.none() | st.integers() | _MARKS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_MARKS, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(tree=_TREES, ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
def test_json_bracket_depth_is_the_trees_depth_unless_a_string_holds_a_bracket(
    tree: Any, ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(tree, ensure_ascii=ascii_only, indent=indent)
    found = bracket_depth(text.encode("utf-8", "surrogatepass"))
    brackets_in_strings = any(c in s for s in _strings(tree) for c in "[]{}")  # keys too
    assert found == (None if brackets_in_strings else _depth(tree))


def _strings(tree: Any) -> list[str]:
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict):
        return [*tree, *(s for v in tree.values() for s in _strings(v))]
    if isinstance(tree, list):
        return [s for v in tree for s in _strings(v)]
    return []


def test_json_depth_of_a_long_text_is_read_from_its_brackets() -> None:
    codec = JsonCodec(limits=DecodeLimits(max_depth=3))
    wide = {"a": [[{"b": "x"}] for _ in range(10)]}  # more brackets than max_depth allows
    error = refused(codec, json.dumps(wide).encode(), "max_depth")
    assert error.where == "#/a/0/0"
    quoted = {"a": [['\\"]', "[[[[", "\\", "}}}"] for _ in range(10)]}
    assert codec.decode(json.dumps(quoted).encode()) == quoted  # depth 3: from its tree
    assert bracket_depth(json.dumps(quoted).encode()) is None
    flat = [[1, '\\"', "a\\"] for _ in range(10)]
    assert codec.decode(json.dumps(flat).encode()) == flat
    assert bracket_depth(json.dumps(flat).encode()) == 2


def test_json_nodes_strings_and_keys() -> None:
    codec = JsonCodec(limits=DecodeLimits(max_nodes=5, max_string_length=5))
    assert codec.decode(b'[1, "abcde", {"k": null}]') == [1, "abcde", {"k": None}]
    assert refused(codec, b"[1, 2, 3, 4, 5]", "max_nodes").where == "#"
    assert refused(codec, b"[[1, 2], [3, 4]]", "max_nodes").where == "#/1"
    assert refused(codec, b'[{"k": "abcdef"}]', "max_string_length").where == "#/0/k"
    assert refused(codec, b'{"abcdef": 1}', "max_string_length").where == "#/abcdef"


def test_json_numbers_python_cannot_hold_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="4300 digits") as caught:
        JsonCodec().decode(b'{"n":\n 1' + b"0" * 5000 + b"}")
    assert caught.value.where == "line 2, column 2"
    with pytest.raises(DecodeError, match="out of range") as caught:
        JsonCodec().decode(b'{"n": [1e999999]}')
    assert caught.value.where == "#/n/0"


# --- XML -------------------------------------------------------------------------------


def attributes(count: int, prefix: str = "") -> bytes:
    return b" ".join(f'{prefix}a{i}="{i}"'.encode() for i in range(count))


def test_xml_attribute_count_is_refused_before_they_are_read() -> None:
    data = b"<r>\n<order " + attributes(200_000) + b"/></r>"
    error = refused(XmlCodec(), data, "max_attributes")
    assert error.where == "line 2, /r/order"
    assert error.found == 200_000
    declarations = b'<r xmlns:p="urn:p" xmlns:q="urn:q" ' + attributes(255) + b"/>"
    assert refused(XmlCodec(), declarations, "max_attributes").found == 257


def test_xml_many_attributes_decode_in_document_order_when_allowed() -> None:
    many = 1_000  # past the point where attributes are read with XPath
    data = b'<r xmlns:p="urn:p"><e ' + attributes(many, "p:") + b' b="x"/></r>'
    tree = XmlCodec(limits=DecodeLimits(max_attributes=many + 1)).decode(data)
    element = tree["r"]["e"]
    assert list(element)[:2] == ["@p:a0", "@p:a1"]
    assert len(element) == many + 1
    assert (element["@p:a999"], element["@b"]) == ("999", "x")
    assert all(type(value) is str for value in element.values())


def test_xml_namespaces_in_scope() -> None:
    declared = b" ".join(f'xmlns:n{i}="urn:{i}"'.encode() for i in range(5))
    codec = XmlCodec(limits=DecodeLimits(max_namespaces=4))
    assert codec.decode(b"<r " + declared[:-17] + b"/>")
    error = refused(codec, b"<r>\n<a " + declared + b"/></r>", "max_namespaces")
    assert error.where == "line 2, /r/a"


def test_xml_elements_depth_and_text() -> None:
    codec = XmlCodec(limits=DecodeLimits(max_nodes=3, max_depth=2, max_string_length=4))
    assert codec.decode(b"<r><a>abcd</a><a/></r>") == {"r": {"a": ["abcd", None]}}
    assert refused(codec, b"<r><a/><a/>\n<a/></r>", "max_nodes").where == "line 2, /r/a"
    assert refused(codec, b"<r><a>\n<b/></a></r>", "max_depth").where == "line 2"
    assert refused(codec, b"<r><a>abcde</a></r>", "max_string_length").where == "line 1, /r/a"
    assert refused(codec, b'<r><a b="abcde"/></r>', "max_string_length").where == ("line 1, /r/a")


def test_xml_streams_count_elements_per_record() -> None:
    limits = DecodeLimits(max_nodes=2, max_attributes=1)
    data = b"<r>" + b"<i><x/></i>" * 50 + b"</r>"
    assert len(list(iter_records(io.BytesIO(data), "i", limits=limits))) == 50
    with pytest.raises(LimitExceeded) as caught:
        list(iter_records(io.BytesIO(b"<r><i><x/><x/></i></r>"), "i", limits=limits))
    assert caught.value.limit == "max_nodes"
    with pytest.raises(LimitExceeded) as caught:  # outside the records too
        list(iter_records(io.BytesIO(b'<r a="1" b="2"><i/></r>'), "i", limits=limits))
    assert caught.value.limit == "max_attributes"


def test_xml_streams_with_an_xsd_refuse_many_attributes_before_listing_violations() -> None:
    codec = XmlCodec(XmlOptions(xsd=ROOT / "schemas/xsd/stock-report.xsd"))
    data = (
        b'<StockReport xmlns="urn:switchboard:example:stock-report:1"\n '
        + attributes(1_000)
        + b"/>"
    )
    with pytest.raises(LimitExceeded) as caught:
        list(codec.iter_records(io.BytesIO(data), "Item"))
    assert (caught.value.limit, caught.value.where) == ("max_attributes", "line 2")  # its end
    assert caught.value.found == refused(codec, data, "max_attributes").found == 1_001


def test_xml_namespaced_attributes_keep_the_innermost_prefix() -> None:
    data = (
        b'<r xmlns:a="urn:x"><s xmlns:b="urn:x" b:k="1"/><t xmlns:a="urn:y" xmlns:c="urn:x"'
        b' c:k="2"/></r>'
    )
    assert XmlCodec().decode(data) == {
        "r": {
            "@xmlns:a": "urn:x",
            "s": {"@xmlns:b": "urn:x", "@b:k": "1"},
            "t": {"@xmlns:a": "urn:y", "@xmlns:c": "urn:x", "@c:k": "2"},
        }
    }


# --- CSV -------------------------------------------------------------------------------


def test_csv_rows_columns_and_fields() -> None:
    codec = CsvCodec(limits=DecodeLimits(max_rows=2, max_columns=2, max_string_length=3))
    assert codec.decode(b"a,b\r\n1,2\r\n3,4\r\n") == {
        "rows": [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    }
    assert refused(codec, b"a,b\r\n1,2\r\n3,4\r\n5,6\r\n", "max_rows").where == "line 4"
    assert refused(codec, b"a,b,c\r\n", "max_columns").where == "line 1"
    assert refused(codec, b"a,b\r\n1,2,3\r\n", "max_columns").where == "line 2"
    assert refused(codec, b"a,b\r\n1,abcd\r\n", "max_string_length").where == "line 2, column 2"


# --- EDIFACT ---------------------------------------------------------------------------

HEAD = b"UNA:+.? '\nUNB+UNOC:3+A+B+240101:1200+R1'\nUNH+1+ORDERS:D:96A:UN'\n"


def interchange(body: bytes, segments: int) -> bytes:
    return HEAD + body + f"UNT+{segments}+1'\nUNZ+1+R1'\n".encode()


def test_edifact_segments() -> None:
    codec = EdifactCodec(limits=DecodeLimits(max_segments=20), options=None)
    body = b"FTX+AAI+++TEXT'\n" * 30
    error = refused(codec, interchange(body, 32), "max_segments")
    assert error.where == "segment 21, line 22"


def test_edifact_elements_components_repeats_and_values() -> None:
    codec = EdifactCodec(limits=DecodeLimits(max_segment_elements=5, max_string_length=8))
    many = b"FTX" + b"+x" * 6 + b"'\n"
    assert refused(codec, interchange(many, 3), "max_segment_elements").where == (
        "segment 3 (FTX), line 4"
    )
    components = b"FTX+" + b":".join([b"x"] * 6) + b"'\n"
    error = refused(codec, interchange(components, 3), "max_segment_elements")
    assert "6 components" in error.message
    long_value = b"FTX+AAI+++" + b"y" * 9 + b"'\n"
    assert refused(codec, interchange(long_value, 3), "max_string_length").where == (
        "segment 3 (FTX), line 4"
    )
    v4 = HEAD.replace(b"UNA:+.? '", b"UNA:+.?*'").replace(b"UNOC:3", b"UNOC:4")
    repeats = v4 + b"FTX+" + b"*".join([b"r"] * 6) + b"'\nUNT+3+1'\nUNZ+1+R1'\n"
    assert "repeats 6 times" in refused(codec, repeats, "max_segment_elements").message


def test_edifact_lists_at_most_100_envelope_faults() -> None:
    body = b"".join(b"UNH+%d+ORDERS:D:96A:UN'\nUNT+9+%d'\n" % (n, n) for n in range(300))
    data = b"UNB+UNOC:3+A+B+240101:1200+R1'\n" + body + b"UNZ+300+R1'\n"
    with pytest.raises(DecodeError, match="showing the first 100") as caught:
        EdifactCodec().decode(data)
    assert len(caught.value.problems) == 100


# --- codecs from plugins ---------------------------------------------------------------


class _PluginOptions(CodecOptions):
    pass


class _PluginCodec:
    """A third-party codec that knows nothing of limits."""

    name: ClassVar[str] = "plugin"
    content_type: ClassVar[str] = "application/x-plugin"
    extension: ClassVar[str] = "plg"
    options_model: ClassVar[type[CodecOptions]] = _PluginOptions

    def __init__(self, options: _PluginOptions) -> None:
        self.options = options

    def decode(self, data: bytes) -> Tree:
        return json.loads(data)

    def encode(self, tree: Tree) -> bytes:
        return json.dumps(tree).encode()

    def split(self, data: bytes) -> list[bytes]:
        return [data]


def test_a_plugin_codec_without_limits_has_its_trees_checked() -> None:
    assert not takes_limits(_PluginCodec)
    assert takes_limits(JsonCodec)
    assert takes_limits(XmlCodec)
    assert takes_limits(EdifactCodec)
    checked = CheckedCodec(_PluginCodec(_PluginOptions()), DecodeLimits(max_depth=2))
    assert (checked.name, checked.extension) == ("plugin", "plg")
    assert checked.split(b"[]") == [b"[]"]  # everything else is the plugin's
    assert checked.decode(b"[[1]]") == [[1]]
    assert refused(checked, b"[[[1]]]", "max_depth").where == "#/0/0"
    assert checked.encode([1]) == b"[1]"


def test_make_codec_hands_the_limits_to_built_in_codecs() -> None:
    limits = DecodeLimits(max_depth=7)
    for name in ("json", "xml", "csv", "edifact"):
        codec: Any = make_codec(name, limits=limits)
        assert codec.limits is limits
    assert make_codec("json").limits == DecodeLimits()  # type: ignore[attr-defined]


def test_check_tree_counts_every_value() -> None:
    check_tree({"a": [1, "x", None, {"b": True}]}, DecodeLimits(max_nodes=7))
    with pytest.raises(LimitExceeded, match="max_nodes"):
        check_tree({"a": [1, "x", None, {"b": True}]}, DecodeLimits(max_nodes=6))


# --- the defaults refuse nothing that is shipped -----------------------------------------


def _samples() -> list[tuple[str, Path]]:
    found = [("edifact", p) for p in sorted((ROOT / "tests/data/edifact").glob("*.edi"))]
    found += [("xml", p) for p in sorted((ROOT / "tests/data/xml").glob("*.xml"))]
    found += [("xml", p) for p in sorted((ROOT / "examples").rglob("*.xml"))]
    found += [("json", p) for p in sorted((ROOT / "examples").rglob("*.json"))]
    found += [("edifact", p) for p in sorted((ROOT / "examples").rglob("*.edi"))]
    return found


@pytest.mark.parametrize(("name", "path"), _samples(), ids=lambda v: getattr(v, "name", v))
def test_the_default_limits_refuse_no_shipped_sample(name: str, path: Path) -> None:
    codec: Any = make_codec(name, {"validate": False} if name == "edifact" else {})
    try:
        codec.decode(path.read_bytes())
    except LimitExceeded:  # pragma: no cover - the failure this test is for
        raise
    except DecodeError:
        pass  # the samples of broken documents are broken on purpose
