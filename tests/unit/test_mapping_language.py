"""The mapping language: expressions, rule kinds, vars, split, load and run-time errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.errors import ConfigError, MappingError
from hub.mapping import FieldCopyMapping, load_mapping, parse_mapping
from hub.mapping.expr import MAX_ITEMS, ExprSyntaxError, parse_expr
from hub.mapping.functions.registry import FUNCTIONS, FunctionError, function


def _register() -> None:
    if "t_shout" in FUNCTIONS:
        return

    @function("t_shout", doc="t_shout('a') -> 'A!'")
    def shout(text: str) -> str:
        return str(text).upper() + "!"

    @function("t_num", doc="t_num('1.5') -> 1.5")
    def num(text: Any) -> float:
        try:
            return float(text)
        except (TypeError, ValueError):
            raise FunctionError("not a number") from None

    @function("t_join", doc="t_join(a, b, ...) -> 'a+b'")
    def join(*parts: Any) -> str:
        return "+".join(str(p) for p in parts)


_register()


def compile_text(text: str, source: str = "m.yaml") -> FieldCopyMapping:
    return parse_mapping(textwrap.dedent(text), source)


def fields(body: str) -> FieldCopyMapping:
    return compile_text("name: m\nfields:\n" + textwrap.indent(textwrap.dedent(body), "  "))


def evaluate(expr: str, tree: Any = None) -> Any:
    mapping = compile_text(f"name: m\nfields:\n  v: {json.dumps(expr)}\n")
    return mapping.apply(tree if tree is not None else {}).get("v", "<missing>")


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        compile_text(text)
    return [str(p) for p in caught.value.problems]


# --- expressions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("7 / 2", 3.5),
        ("-2 * 3", -6),
        ("0.1 + 0.2", 0.3),
        ("qty * price", 37.5),
        ("'a' & 1 + 2 & 'b'", "a3b"),
        ("1 + 1 == 2", True),
        ("not 1 == 2", True),
        ("1 < 2 and 2 < 1 or true", True),
        ("1 < 2 and (2 < 1 or false)", False),
        ("'10' > 9", True),
        ("'b' > 'a'", True),
        ("price == 12.5", True),
        ("null", None),
        ("'it''s'", "it's"),
        ('"dq"', "dq"),
        ("if(qty > 2, 'many', 'few')", "many"),
        ("missing + 1", None),
        ("missing & 'x'", "x"),
        ("t_shout(name)", "ANN!"),
        ("t_join(1, 'a', qty)", "1+a+3"),
        ("items[*].n", [1, 2]),
        ("items[0].n + items[-1].n", 3),
    ],
)
def test_expressions(expr: str, expected: Any) -> None:
    tree = {"qty": 3, "price": "12.50", "name": "ann", "items": [{"n": 1}, {"n": 2}]}
    assert evaluate(expr, tree) == expected


def test_a_missing_path_leaves_the_key_out() -> None:
    assert evaluate("nothing.here") == "<missing>"


@pytest.mark.parametrize(
    ("expr", "offset", "message"),
    [
        ("a +", 3, "unexpected end of expression"),
        ("a b", 2, "unexpected 'b'"),
        ("(a", 2, "expected ')'"),
        ("'abc", 0, "unterminated text literal"),
        ("a = b", 2, "unexpected '='"),
        ("a.b()", 1, "attribute access"),
        ("'x'.upper()", 3, "unexpected '.'"),
        ("1 < 2 < 3", 6, "cannot be chained"),
        ("f(1,", 4, "unexpected end"),
        ("a..b", 2, "bad path"),
        ("", 0, "empty expression"),
    ],
)
def test_syntax_errors_have_an_offset(expr: str, offset: int, message: str) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse_expr(expr)
    assert caught.value.offset == offset
    assert message in caught.value.message


def test_precedence_tree() -> None:
    node = parse_expr("a or b and not c == 1 & 2 + 3 * 4")
    assert node.kind == "or"
    right = node.args[1]
    assert right.kind == "and"
    assert right.args[1].kind == "not"
    cmp = right.args[1].args[0]
    assert cmp.kind == "cmp"
    concat = cmp.args[1]
    assert concat.value == "&"
    assert concat.args[1].value == "+"
    assert concat.args[1].args[1].value == "*"


# --- rules ---------------------------------------------------------------------------------


def test_rule_kinds_when_and_nesting() -> None:
    mapping = fields(
        """\
        a: {expr: "n * 2"}
        b: {path: n}
        c: {value: [1, 2]}
        d: {fields: {e: "n + 1"}}
        f: {expr: n, when: "n > 5"}
        g: {value: "yes", when: "n < 5"}
        h: {expr: missing, default: 0}
        """
    )
    assert mapping.apply({"n": 3}) == {
        "a": 6,
        "b": 3,
        "c": [1, 2],
        "d": {"e": 4},
        "g": "yes",
        "h": 0,
    }


def test_each_where_index_parent_root() -> None:
    mapping = fields(
        """\
        lines:
          each: items
          where: "qty > 0"
          fields:
            i: $index
            total: "qty * price"
            order: $parent.number
            batch: $root.batch
            parts:
              each: parts
              fields: {p: "$parent.sku & '-' & $", r: $root.number}
        """
    )
    tree = {
        "number": "N1",
        "batch": 9,
        "items": [
            {"sku": "A", "qty": 2, "price": "1.25", "parts": ["x", "y"]},
            {"sku": "B", "qty": 0, "price": "1"},
            {"sku": "C", "qty": 1, "price": 2},
        ],
    }
    assert mapping.apply(tree) == {
        "lines": [
            {
                "i": 0,
                "total": 2.5,
                "order": "N1",
                "batch": 9,
                "parts": [{"p": "A-x", "r": "N1"}, {"p": "A-y", "r": "N1"}],
            },
            {"i": 2, "total": 2, "order": "N1", "batch": 9, "parts": []},
        ]
    }


def test_vars_are_evaluated_once_in_order() -> None:
    mapping = compile_text(
        """\
        name: m
        vars:
          cur: "currency"
          label: "$cur & '-' & number"
        fields:
          a: $label
          lines: {each: items, fields: {c: $cur}}
        """
    )
    assert mapping.apply({"currency": "EUR", "number": 7, "items": [{}]}) == {
        "a": "EUR-7",
        "lines": [{"c": "EUR"}],
    }


def test_split_gives_one_output_per_item() -> None:
    mapping = compile_text(
        """\
        name: m
        vars: {b: batch}
        split: orders
        fields: {n: number, i: $index, b: $b, r: $root.batch}
        """
    )
    tree = {"batch": "B", "orders": [{"number": 1}, {"number": 2}]}
    assert mapping.splits
    assert mapping.apply(tree) == [
        {"n": 1, "i": 0, "b": "B", "r": "B"},
        {"n": 2, "i": 1, "b": "B", "r": "B"},
    ]
    assert mapping.apply_all(tree) == mapping.apply(tree)
    assert fields("a: a\n").apply_all({"a": 1}) == [{"a": 1}]


def test_loops_are_bounded() -> None:
    mapping = fields("lines: {each: items, fields: {a: a}}\n")
    with pytest.raises(MappingError, match="limit"):
        mapping.apply({"items": [{}] * (MAX_ITEMS + 1)})


# --- load-time errors ----------------------------------------------------------------------


def test_load_time_problems_are_all_reported_with_columns() -> None:
    found = problems(
        """\
        name: m
        vars:
          x: "upper(a"
        fields:
          a: "uper(b)"
          b: {expr: "t_shout(a, b)"}
          c: "$nope & 1"
          d: {expr: a, colour: red}
          e: {expr: a, value: 1}
          f: "'x' & a.b()"
          g: $index
        """
    )
    assert found == [
        "m.yaml:3:14: unexpected end of expression, expected ',' or ')'",
        found[1],  # the close names depend on the registered functions
        "m.yaml:6:14: t_shout() takes 1 argument, got 2 (t_shout('a') -> 'A!')",
        "m.yaml:7:7: unknown variable '$nope' (define it under `vars` before its use; "
        "built in: $, $root, $parent, $index, $pos, $parent_index, $parent_pos)",
        "m.yaml:8:16: unknown rule option 'colour' (allowed: default, each, expr, fields, path, "
        "required, value, vars, when, where)",
        "m.yaml:9:3: rule 'e' mixes `value` and `expr` (a rule is one of: a source path, `path`, "
        "`value`, `fields`, or `each` + `fields`)",
        "m.yaml:10:14: attribute access and method calls are not supported "
        "(call functions by name: upper(a.b))",
        "m.yaml:11:6: `$index` is only available inside `each` or `split`",
    ]
    assert found[1].startswith("m.yaml:5:7: unknown function 'uper'")


def test_parent_index_is_the_outer_loops_position() -> None:
    mapping = compile_text(
        textwrap.dedent(
            """\
            name: m
            split: orders
            where: ok
            fields:
              lines:
                each: lines
                where: "q > 0"
                fields:
                  at: "$parent_index & '/' & $parent_pos & ' ' & $index & '/' & $pos"
                  tags:
                    each: tags
                    fields: {t: "$parent_index & ':' & $parent.sku & ':' & $"}
            """
        )
    )
    tree = {
        "orders": [
            {"ok": False, "lines": [{"q": 1}]},
            {
                "ok": True,
                "lines": [{"q": 0}, {"q": 1, "sku": "A", "tags": ["x", "y"]}, {"q": 2, "sku": "B"}],
            },
        ]
    }
    # the order is split item 1 but output 0; the lines after `where` keep their source index
    assert mapping.apply_all(tree) == [
        {
            "lines": [
                {"at": "1/0 1/0", "tags": [{"t": "1:A:x"}, {"t": "1:A:y"}]},
                {"at": "1/0 2/1", "tags": []},
            ]
        }
    ]


def test_parent_index_in_nested_each_and_inline_function() -> None:
    mapping = fields(
        """\
        groups:
          each: groups
          fields:
            rows:
              each: rows
              fields:
                id: "($parent_index + 1) * 100 + $index + 1"
                seen: "map(array(1, 2), x -> $x + $parent_index)"
        """
    )
    tree = {"groups": [{"rows": [1, 2]}, {"rows": [3]}]}
    assert mapping.apply(tree) == {
        "groups": [
            {"rows": [{"id": 101, "seen": [1, 2]}, {"id": 102, "seen": [1, 2]}]},
            {"rows": [{"id": 201, "seen": [2, 3]}]},
        ]
    }


def test_parent_index_needs_a_loop_inside_a_loop() -> None:
    found = problems(
        """\
        name: m
        functions:
          f: "(x) -> $x + $parent_index"
        vars:
          parent_pos: "1"
        fields:
          a: $parent_index
          b: {each: rows, fields: {i: $parent_index, p: $parent_pos.x}}
          c: "map(rows, parent_index -> 1)"
        """
    )
    assert found == [
        "m.yaml:3:19: a function defined in the mapping reads only its parameters, not "
        "'$parent_index' (pass the value as an argument)",
        "m.yaml:5:3: `$parent_pos` is built in; choose another name",
        "m.yaml:7:6: `$parent_index` is only available in an `each` inside another `each` or "
        "`split` (in a first-level loop, $index is the item's own position)",
        "m.yaml:8:31: `$parent_index` is only available in an `each` inside another `each` or "
        "`split` (in a first-level loop, $index is the item's own position)",
        "m.yaml:8:49: `$parent_pos` is only available in an `each` inside another `each` or "
        "`split` (in a first-level loop, $index is the item's own position)",
        "m.yaml:9:17: `$parent_index` is built in; name the parameter otherwise",
    ]


def test_three_mistakes_three_problems() -> None:
    found = problems(
        """\
        name: m
        fields:
          a: "1 +"
          b: "zzz(1)"
          c: "$later"
        """
    )
    assert [p.split(": ")[0] for p in found] == ["m.yaml:3:10", "m.yaml:4:7", "m.yaml:5:7"]


def test_a_var_may_not_use_a_later_var() -> None:
    found = problems("name: m\nvars:\n  a: $b\n  b: '1'\nfields: {x: $a}\n")
    assert found == [
        "m.yaml:3:6: unknown variable '$b' "
        "(define it under `vars` before its use; built in: $, $root, $parent, $index, $pos, "
        "$parent_index, $parent_pos)"
    ]


def test_target_schema_fields_are_checked(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "number": {"type": "string"},
            "lines": {"type": "array", "items": {"properties": {"sku": {}}}},
        },
    }
    (tmp_path / "out.json").write_text(json.dumps(schema), encoding="utf-8")
    text = (
        "name: m\ntarget: {schema: out.json}\nfields:\n  numbr: number\n"
        "  lines: {each: items, fields: {sku: sku, qty: q}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_mapping(text, str(tmp_path / "m.yaml"))
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}/m.yaml:4:3: target field 'numbr' is not in the target schema out.json "
        "(did you mean number?)",
        f"{tmp_path}/m.yaml:5:43: target field 'lines.qty' is not in the target schema out.json "
        "(known: sku)",
    ]


# --- run-time errors ----------------------------------------------------------------------


def test_function_failure_names_target_call_and_source() -> None:
    mapping = fields("lines: {each: line_items, fields: {net_amount: 't_num(total)'}}\n")
    with pytest.raises(MappingError) as caught:
        mapping.apply({"line_items": [{"total": "1"}, {"total": "2"}, {"total": "12,5x"}]})
    assert caught.value.message == (
        "lines[2].net_amount: t_num('12,5x') failed: not a number (from line_items[2].total)"
    )
    assert caught.value.where == "m.yaml rule lines.net_amount"


def test_arithmetic_failure_names_the_values() -> None:
    mapping = fields("t: 'qty * price'\n")
    with pytest.raises(MappingError) as caught:
        mapping.apply({"qty": 2, "price": "abc"})
    assert caught.value.message == ("t: 2 * 'abc' failed: 'abc' is not a number (from qty, price)")
    with pytest.raises(MappingError, match="division by zero"):
        fields("t: 'qty / 0'\n").apply({"qty": 2})


# --- safety -----------------------------------------------------------------------------------


def test_python_is_not_reachable() -> None:
    found = problems('name: m\nfields:\n  a: "__import__(\'os\')"\n  b: "a.__class__()"\n')
    assert found[0].startswith("m.yaml:3:7: unknown function '__import__'")
    assert found[1].startswith("m.yaml:4:8: attribute access")
    # a dunder is just a dict key that is not there
    assert evaluate("a.__class__", {"a": {}}) == "<missing>"


# --- hypothesis: arithmetic agrees with Python ------------------------------------------------

_LEAF = st.integers(-20, 20).map(lambda n: (f"({n})" if n < 0 else str(n), n))


def _combine(children: st.SearchStrategy[tuple[str, int]]) -> st.SearchStrategy[tuple[str, int]]:
    def build(pair: tuple[tuple[str, int], str, tuple[str, int]]) -> tuple[str, int]:
        (lt, lv), op, (rt, rv) = pair
        value = {"+": lv + rv, "-": lv - rv, "*": lv * rv}[op]
        return f"({lt} {op} {rt})", value

    return st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(build)


@given(st.recursive(_LEAF, _combine, max_leaves=12))
def test_arithmetic_matches_python(case: tuple[str, int]) -> None:
    text, expected = case
    assert evaluate(text) == expected


@given(st.lists(st.integers(0, 9), min_size=2, max_size=6), st.data())
def test_flat_arithmetic_respects_precedence(numbers: list[int], data: st.DataObject) -> None:
    ops = [data.draw(st.sampled_from(["+", "-", "*"])) for _ in numbers[1:]]
    text = str(numbers[0]) + "".join(f" {op} {n}" for op, n in zip(ops, numbers[1:], strict=True))
    # the expected value, by precedence: fold the products first, then sum left to right
    terms: list[int] = [numbers[0]]
    signs: list[int] = [1]
    for op, n in zip(ops, numbers[1:], strict=True):
        if op == "*":
            terms[-1] *= n
        else:
            terms.append(n)
            signs.append(1 if op == "+" else -1)
    assert evaluate(text) == sum(s * t for s, t in zip(signs, terms, strict=True))


def test_lookup_checks_the_code_list_name_at_load_and_the_code_at_run(tmp_path: Path) -> None:
    from hub.mapping import load_mapping as load

    (tmp_path / "codelists").mkdir()
    (tmp_path / "codelists" / "units.yaml").write_text("kg: KGM\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\nfields:\n  a: lookup('unitz', x)\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(bad)
    assert [(p.where, p.message) for p in caught.value.problems] == [
        (f"{bad}:3:13", "unknown code list 'unitz'")
    ]
    good = tmp_path / "good.yaml"
    good.write_text("name: t\nfields:\n  a: lookup('units', x)\n", encoding="utf-8")
    mapping = load(good)
    assert mapping.apply({"x": "kg"}) == {"a": "KGM"}
    with pytest.raises(MappingError, match=r"code 'zz' is not in code list 'units'"):
        mapping.apply({"x": "zz"})


# --- wording: what is wrong, said once, at one line:column ---------------------------------


@pytest.mark.parametrize(
    ("value", "where", "message"),
    [
        ("line_items[0.sku", "3:16", "bad path 'line_items[0.sku': missing ']' to close '[0'"),
        ('"upper(items[0)"', "3:18", "bad path 'items[0': missing ']' to close '[0'"),
        ('"$root.items[0"', "3:18", "bad path '$root.items[0': missing ']' to close '[0'"),
        ('"items[*.sku"', "3:12", "bad path 'items[*.sku': missing ']' to close '[*'"),
        ("items[", "3:11", "bad path 'items[': missing index and ']' after '['"),
        ("items[x]", "3:11", "bad path 'items[x]': an index is a whole number in brackets"),
        ("billing..email", "3:14", "bad path 'billing..email': unexpected '.'"),
    ],
)
def test_a_missing_bracket_is_said_as_such_at_its_line_and_column(
    value: str, where: str, message: str
) -> None:
    found = problems(f"name: m\nfields:\n  a: {value}\n")
    assert len(found) == 1
    assert found[0].startswith(f"m.yaml:{where}: {message}")
    assert "unexpected '['" not in found[0]
    assert "character" not in found[0]  # one coordinate system: line:column


def test_problems_in_a_multi_line_expression_are_on_their_own_line() -> None:
    found = problems(
        """\
        name: m
        fields:
          folded: >-
            t_join(
              a,
              nope(c))
          plain: t_shout(b) &
            zzz(c)
          quoted: "t_shout(b) &\\n nope(c)"
        """
    )
    assert [p.split(": ")[0] for p in found] == [
        "m.yaml:6:7",  # `      nope(c))`
        "m.yaml:8:5",  # `    zzz(c)`
        "m.yaml:9:27",  # after the escape `\n` and a space
    ]


def test_a_target_key_beside_each_belongs_under_fields_and_names_the_rule() -> None:
    found = problems(
        """\
        name: m
        fields:
          order:
            fields:
              lines:
                each: line_items
                sku: sku
                fields: {qty: quantity}
          address:
            fields: {city: city}
            street: street
        """
    )
    assert found == [
        "m.yaml:7:9: rule 'order.lines': 'sku' is not a rule option; the target keys of each "
        "item go under `fields:` (write lines: {each: ..., fields: {sku: ...}})",
        "m.yaml:11:5: rule 'address': 'street' is not a rule option; the target keys of the "
        "object go under `fields:` (write address: {fields: {street: ...}})",
    ]


def test_a_misspelt_rule_option_gets_did_you_mean() -> None:
    found = problems("name: m\nfields:\n  a: {path: x, requird: true}\n  b: {path: x, wat: 1}\n")
    assert found[0] == "m.yaml:3:16: unknown rule option 'requird' (did you mean required?)"
    assert found[1].startswith("m.yaml:4:16: unknown rule option 'wat' (allowed: default,")


def test_a_missing_mapping_file_gets_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "woocommerce-order-to-erp.yaml").write_text("name: x\nfields: {a: b}\n")
    with pytest.raises(ConfigError) as caught:
        load_mapping(tmp_path / "woocomerce-order-to-erp.yaml")
    assert caught.value.hint == "did you mean woocommerce-order-to-erp.yaml?"
