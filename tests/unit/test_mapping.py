"""The field-copy mapping (hub.mapping) and source paths (hub.mapping.paths)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.errors import ConfigError, MappingError
from hub.mapping import FieldCopyMapping, Mapping, load_mapping, parse_mapping
from hub.mapping.paths import MISSING, PathSyntaxError, compile_path

ROOT = Path(__file__).resolve().parents[2]


def compile_fields(fields: str, name: str = "m") -> FieldCopyMapping:
    """A mapping from the YAML text of its ``fields`` block."""
    text = f"name: {name}\nfields:\n" + textwrap.indent(textwrap.dedent(fields), "  ")
    return parse_mapping(text, "m.yaml")


def mapping_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(textwrap.dedent(text), "m.yaml")
    return caught.value


# --- applying ------------------------------------------------------------------------


def test_copy_a_top_level_field() -> None:
    mapping = compile_fields("order_number: number\n")
    assert mapping.apply({"number": "1001", "other": 1}) == {"order_number": "1001"}


def test_a_missing_optional_field_is_left_out() -> None:
    mapping = compile_fields("order_number: number\nnote: customer_note\n")
    assert mapping.apply({"number": "7"}) == {"order_number": "7"}


def test_a_null_optional_field_is_copied_as_null() -> None:
    mapping = compile_fields("note: customer_note\n")
    assert mapping.apply({"customer_note": None}) == {"note": None}


def test_copy_keeps_any_json_value() -> None:
    mapping = compile_fields("v: value\n")
    for value in (0, False, "", [1, {"a": None}], {"deep": [1.5]}):
        assert mapping.apply({"value": value}) == {"v": value}


def test_nested_source_paths_and_nested_target_objects() -> None:
    mapping = compile_fields(
        """\
        customer:
          fields:
            email: billing.email
            first_line: billing.address.lines[0]
            last_line: billing.address.lines[-1]
        """
    )
    source = {"billing": {"email": "a@b.c", "address": {"lines": ["x", "y", "z"]}}}
    assert mapping.apply(source) == {
        "customer": {"email": "a@b.c", "first_line": "x", "last_line": "z"}
    }


def test_each_builds_one_item_per_source_item_with_relative_paths() -> None:
    mapping = compile_fields(
        """\
        number: number
        lines:
          each: line_items
          fields:
            sku: sku
            qty: quantity
            kind: {value: item}
        """
    )
    source = {
        "number": "9",
        "line_items": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1, "x": 0}, {}],
    }
    assert mapping.apply(source) == {
        "number": "9",
        "lines": [
            {"sku": "A", "qty": 2, "kind": "item"},
            {"sku": "B", "qty": 1, "kind": "item"},
            {"kind": "item"},
        ],
    }


def test_each_over_a_missing_or_null_list_gives_an_empty_list() -> None:
    mapping = compile_fields("lines: {each: items, fields: {a: a}}\n")
    assert mapping.apply({}) == {"lines": []}
    assert mapping.apply({"items": None}) == {"lines": []}


def test_each_over_something_that_is_not_a_list_is_a_mapping_error() -> None:
    mapping = compile_fields("lines: {each: items, fields: {a: a}}\n")
    with pytest.raises(MappingError) as caught:
        mapping.apply({"items": {"a": 1}})
    assert "'lines'" in caught.value.message
    assert "dict" in caught.value.message
    assert caught.value.where == "m.yaml rule lines"


def test_nested_each() -> None:
    mapping = compile_fields(
        """\
        orders:
          each: orders
          fields:
            lines:
              each: items
              fields: {sku: sku}
        """
    )
    source = {"orders": [{"items": [{"sku": "a"}, {"sku": "b"}]}, {"items": []}]}
    assert mapping.apply(source) == {
        "orders": [{"lines": [{"sku": "a"}, {"sku": "b"}]}, {"lines": []}]
    }


def test_default_is_used_for_missing_and_null_values_only() -> None:
    mapping = compile_fields("currency: {path: currency, default: EUR}\n")
    assert mapping.apply({}) == {"currency": "EUR"}
    assert mapping.apply({"currency": None}) == {"currency": "EUR"}
    assert mapping.apply({"currency": "USD"}) == {"currency": "USD"}
    assert mapping.apply({"currency": ""}) == {"currency": ""}


def test_required_field_present() -> None:
    mapping = compile_fields("number: {path: number, required: true}\n")
    assert mapping.apply({"number": 0}) == {"number": 0}


@pytest.mark.parametrize(
    ("source", "reason"),
    [({}, "is missing"), ({"b": {}}, "is missing"), ({"b": {"email": None}}, "is null")],
)
def test_required_field_without_value_names_the_rule_and_the_path(
    source: dict[str, Any], reason: str
) -> None:
    mapping = compile_fields(
        """\
        customer:
          fields:
            email: {path: b.email, required: true}
        """
    )
    with pytest.raises(MappingError) as caught:
        mapping.apply(source)
    error = caught.value
    assert "customer.email" in error.message
    assert "'b.email'" in error.message
    assert reason in error.message
    assert error.where == "m.yaml rule customer.email"
    assert error.hint is not None
    assert "default" in error.hint


def test_required_with_a_default_uses_the_default() -> None:
    mapping = compile_fields("n: {path: n, required: true, default: 0}\n")
    assert mapping.apply({}) == {"n": 0}


def test_required_inside_each_fails_for_the_bad_item() -> None:
    mapping = compile_fields("lines: {each: items, fields: {q: {path: q, required: true}}}\n")
    assert mapping.apply({"items": [{"q": 1}]}) == {"lines": [{"q": 1}]}
    with pytest.raises(MappingError, match=r"lines\.q"):
        mapping.apply({"items": [{"q": 1}, {}]})


def test_literal_values() -> None:
    mapping = compile_fields(
        """\
        kind: {value: sales_order}
        count: {value: 3}
        nothing: {value: null}
        tags: {value: [a, b]}
        """
    )
    assert mapping.apply({}) == {
        "kind": "sales_order",
        "count": 3,
        "nothing": None,
        "tags": ["a", "b"],
    }


def test_mapping_is_a_protocol_instance_with_name_and_hash() -> None:
    first = compile_fields("a: a\n", name="first")
    assert isinstance(first, Mapping)
    assert first.name == "first"
    assert len(first.content_hash) == 16
    assert compile_fields("a: a\n", name="first").content_hash == first.content_hash
    assert compile_fields("a: b\n", name="first").content_hash != first.content_hash


def test_apply_does_not_modify_the_source() -> None:
    mapping = compile_fields("items: {each: items, fields: {a: a}}\ncopy: items\n")
    source = {"items": [{"a": 1, "b": 2}]}
    before = json.dumps(source)
    mapping.apply(source)
    assert json.dumps(source) == before


def test_shipped_woocommerce_mapping_on_the_example_order() -> None:
    mapping = load_mapping(ROOT / "mappings" / "woocommerce-order-to-erp.yaml")
    order = json.loads((ROOT / "examples" / "woocommerce-order.json").read_text("utf-8"))
    out = mapping.apply(order)
    assert mapping.name == "woocommerce-order-to-erp"
    assert out["document_type"] == "sales_order"
    assert out["order_number"] == order["number"]
    assert out["customer"]["email"] == order["billing"]["email"]
    assert len(out["lines"]) == len(order["line_items"])
    assert out["lines"][0]["item"] == order["line_items"][0]["sku"]
    assert out["lines"][0]["quantity"] == order["line_items"][0]["quantity"]


# --- compile errors ----------------------------------------------------------------


def test_bad_path_in_a_short_rule_points_at_the_bad_character() -> None:
    error = mapping_error(
        """\
        name: m
        fields:
          email: billing..email
        """
    )
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert problem.message == "bad path 'billing..email': unexpected '.'"
    # one coordinate system: no "character 9" in the message, the column says where
    # `  email: billing..email`: the path starts in column 10, its 9th character is column 18
    assert problem.where == "m.yaml:3:18"
    assert problem.hint == "write paths like a.b[0].c"


def test_bad_path_under_a_path_key_points_at_the_bad_character() -> None:
    error = mapping_error(
        """\
        name: m
        fields:
          email:
            path: billing..email
        """
    )
    # `    path: billing..email`: the path starts in column 11, its 9th character is column 19
    assert [p.where for p in error.problems] == ["m.yaml:4:19"]


def test_bad_path_in_a_quoted_flow_value_points_at_the_bad_character() -> None:
    error = mapping_error(
        """\
        name: m
        fields:
          x: {path: 'a..b'}
        """
    )
    # `  x: {path: 'a..b'}`: the path's text starts in column 14 (after the quote)
    assert [p.where for p in error.problems] == ["m.yaml:3:16"]


def test_bad_each_path_is_reported() -> None:
    error = mapping_error(
        """\
        name: m
        fields:
          lines:
            each: "items["
            fields: {a: a}
        """
    )
    assert len(error.problems) == 1
    assert error.problems[0].where is not None
    assert error.problems[0].where.startswith("m.yaml:4:")


def test_unknown_rule_option_is_located_at_the_option() -> None:
    error = mapping_error(
        """\
        name: m
        fields:
          b: {path: q, wat: 1}
          c:
            path: q
            requried: true
        """
    )
    assert [(p.where, p.message) for p in error.problems] == [
        ("m.yaml:3:16", "unknown rule option 'wat'"),
        ("m.yaml:6:5", "unknown rule option 'requried'"),
    ]
    assert error.problems[0].hint is not None
    assert "required" in error.problems[0].hint


def test_three_mistakes_give_three_problems() -> None:
    error = mapping_error(
        """\
        name: m
        fields:
          a: x..y
          b: {path: q, wat: 1}
          c: {default: 1}
        """
    )
    assert error.message == "mapping m.yaml has 3 problems"
    wheres = [p.where for p in error.problems]
    assert len(wheres) == 3
    assert all(w is not None and w.startswith("m.yaml:") for w in wheres)
    assert [w.split(":")[1] for w in wheres if w] == ["3", "4", "5"]
    assert "needs one of `path`, `value`, `fields` or `each`" in error.problems[2].message


def test_top_level_problems() -> None:
    error = mapping_error(
        """\
        nmae: typo
        fields: []
        """
    )
    messages = [p.message for p in error.problems]
    assert "unknown key 'nmae'" in messages
    assert "`name` must be a non-empty string" in messages
    assert "`fields` must map target keys to rules" in messages


def test_a_mapping_file_must_be_a_mapping() -> None:
    error = mapping_error("- a\n- b\n")
    assert "must be a YAML mapping" in error.problems[0].message


def test_rule_of_the_wrong_type() -> None:
    error = mapping_error("name: m\nfields:\n  a: 5\n  b: {path: 7}\n")
    assert [p.where for p in error.problems] == ["m.yaml:3:3", "m.yaml:4:7"]
    assert "must be a source path or a mapping of options" in error.problems[0].message
    assert "must be a string, not int" in error.problems[1].message


def test_each_without_fields() -> None:
    error = mapping_error("name: m\nfields:\n  lines: {each: items}\n")
    assert "`each` needs `fields`" in error.problems[0].message


def test_nested_fields_must_be_a_mapping() -> None:
    error = mapping_error("name: m\nfields:\n  c:\n    fields: [a]\n")
    assert [p.where for p in error.problems] == ["m.yaml:4:5"]


def test_duplicate_target_keys_are_reported() -> None:
    error = mapping_error("name: m\nfields:\n  a: x\n  a: y\n")
    assert [p.where for p in error.problems] == ["m.yaml:4"]


def test_env_syntax_is_not_substituted_in_mappings() -> None:
    mapping = compile_fields("a: {value: '${NOT_SUBSTITUTED}'}\n")
    assert mapping.apply({}) == {"a": "${NOT_SUBSTITUTED}"}


def test_load_mapping_reports_file_positions(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("name: m\nfields:\n  a: {path: a, bad: 1}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert caught.value.problems[0].where == f"{path}:3:16"


def test_load_mapping_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read mapping"):
        load_mapping(tmp_path / "absent.yaml")


# --- compile_path ----------------------------------------------------------------------

TREE = {
    "a": {"b": [{"c": 1}, {"c": None}], "flag": False},
    "list": [[10, 11], [12]],
    "odd-key": {"@id": "x", "$v": 2},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a", TREE["a"]),
        ("a.b[0].c", 1),
        ("a.b[1].c", None),
        ("a.b[-1].c", None),
        ("a.flag", False),
        ("list[0][1]", 11),
        ("list[-1][0]", 12),
        ("odd-key.@id", "x"),
        ("odd-key.$v", 2),
    ],
)
def test_compile_path_reads_values(path: str, expected: Any) -> None:
    assert compile_path(path)(TREE) == expected


@pytest.mark.parametrize(
    "path", ["missing", "a.missing", "a.b[2]", "a.b[-3]", "a.b.c", "a.b[0].c.d", "a[0]", "list.x"]
)
def test_compile_path_missing_is_missing(path: str) -> None:
    assert compile_path(path)(TREE) is MISSING


def test_compile_path_on_a_list_root() -> None:
    assert compile_path("[1].a")([{"a": 0}, {"a": 5}]) == 5


def test_missing_repr() -> None:
    assert repr(MISSING) == "MISSING"


@pytest.mark.parametrize(
    ("path", "column"),
    [("", 1), (".a", 1), ("a..b", 3), ("a.", 3), ("a[x]", 2), ("a[0", 2), ("1a", 1), ("a b", 2)],
)
def test_compile_path_syntax_errors_have_a_column(path: str, column: int) -> None:
    with pytest.raises(PathSyntaxError) as caught:
        compile_path(path)
    assert caught.value.column == column


KEYS = st.from_regex(r"[A-Za-z_@$][A-Za-z0-9_@$-]{0,8}", fullmatch=True)
LEAVES = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
TREES = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=25,
)


@given(tree=TREES, data=st.data())
def test_compile_path_reads_the_value_at_any_generated_path(tree: Any, data: st.DataObject) -> None:
    node, text = tree, ""
    while isinstance(node, dict | list) and node and data.draw(st.booleans(), label="descend"):
        if isinstance(node, dict):
            key = data.draw(st.sampled_from(sorted(node)), label="key")
            text += f".{key}" if text else key
            node = node[key]
        else:
            index = data.draw(st.integers(-len(node), len(node) - 1), label="index")
            text += f"[{index}]"
            node = node[index]
    if not text:
        return  # the empty path is not a path
    assert compile_path(text)(tree) == node


@pytest.mark.parametrize(
    ("path", "column"),
    [("a.[0]", 3), ("a[0]b", 5), ("a..b", 3), ("a.", 3), ("[x]", 1), (".a", 1)],
)
def test_malformed_paths_are_refused_at_the_right_character(path: str, column: int) -> None:
    with pytest.raises(PathSyntaxError) as caught:
        compile_path(path)
    assert caught.value.column == column


def test_index_steps_may_follow_each_other_and_names() -> None:
    read = compile_path("rows[1][0].v")
    assert read({"rows": [[{"v": 1}], [{"v": 2}]]}) == 2


def test_a_rule_mixing_kinds_is_refused() -> None:
    error = mapping_error(
        """\
        name: m
        fields:
          a: {path: x, value: 1}
          b: {value: 2, required: true}
        """
    )
    assert [(p.where, p.message) for p in error.problems] == [
        ("m.yaml:3:3", "rule 'a' mixes `value` and `path`"),
        ("m.yaml:4:17", "rule 'b': `required` only applies to a `path` rule"),
    ]
