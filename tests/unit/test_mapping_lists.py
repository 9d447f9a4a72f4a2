"""The mapping language's lists, grouping, checks, functions and rule variables."""

from __future__ import annotations

import textwrap
import threading
from typing import Any

import pytest

from hub.errors import ConfigError, MappingError
from hub.mapping import MappingLimits, parse_mapping

ROWS = {
    "rows": [
        {"sku": "B", "qty": 2, "price": "1.50", "unit": "Stk", "tags": ["x", "y"]},
        {"sku": "A", "qty": 0, "price": "3.00", "unit": "Stk", "tags": ["z"]},
        {"sku": "B", "qty": 5, "price": "1.50", "unit": "Stk", "tags": []},
        {"sku": "C", "qty": 1, "price": "10", "unit": "kg"},
    ],
    "number": "1001",
}


def out(expr: str, tree: Any = ROWS) -> Any:
    mapping = parse_mapping(f"name: t\nfields:\n  out: |-\n    {expr}\n", "t.yaml")
    return mapping.apply(tree)["out"]


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(textwrap.dedent(text), "m.yaml")
    return [str(p) for p in caught.value.problems]


def run_error(text: str, tree: Any = ROWS, **limits: Any) -> MappingError:
    mapping = parse_mapping(
        textwrap.dedent(text), "m.yaml", limits=MappingLimits(**limits) if limits else None
    )
    with pytest.raises(MappingError) as caught:
        mapping.apply_all(tree)
    return caught.value


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("map(rows, r -> $r.qty * $r.price)", [3, 0, 7.5, 10]),
        ("sum(map(rows, r -> $r.qty * $r.price))", 20.5),
        ("map(rows, (r, i) -> $i)", [0, 1, 2, 3]),
        ("map(rows, r -> $r.missing)", []),
        ("filter(rows, r -> $r.qty > 1)[*].qty", [2, 5]),
        ("find(rows, r -> $r.sku == 'C').price", "10"),
        ("find(rows, r -> $r.sku == 'Z')", None),
        ("any(rows, r -> $r.qty == 0)", True),
        ("every(rows, r -> $r.qty > 0)", False),
        ("reduce(rows, (t, r) -> $t + $r.qty, 100)", 108),
        ("sort_by(rows, r -> $r.sku)[*].sku", ["A", "B", "B", "C"]),
        ("sort_by(rows, r -> $r.price, 'desc')[*].price", ["3.00", "10", "1.50", "1.50"]),
        ("sort_by(rows, r -> number($r.price), 'desc')[*].price", ["10", "3.00", "1.50", "1.50"]),
        ("sort_by(rows, r -> $r.qty)[*].qty", [0, 1, 2, 5]),
        ("distinct(rows[*].sku)", ["B", "A", "C"]),
        ("distinct(rows, r -> $r.unit)[*].sku", ["B", "C"]),
        ("map(group_by(rows, r -> $r.sku), g -> $g.key)", ["B", "A", "C"]),
        ("map(group_by(rows, r -> $r.sku), g -> sum($g.items[*].qty))", [7, 0, 1]),
        ("chunk(range(5), 2)", [[0, 1], [2, 3], [4]]),
        ("range(1, 7, 2)", [1, 3, 5]),
        ("rows[*].tags[*]", ["x", "y", "z"]),
        ("$root.rows[*].sku", ["B", "A", "B", "C"]),
        ("count($root.rows[*].tags[*])", 3),
        ("switch(rows[0].qty, 1, 'one', '2', 'two', 'other')", "two"),
        ("switch('x', 'a', 1)", None),
        ("contains(array(1, 2), '1')", True),
        ("'10' == 10", True),
        ("first(rows).sku", "B"),
        ("last(rows[*].sku)", "C"),
        ("map(array(1, 2), x -> map(array(10, 20), y -> $x + $y))", [[11, 21], [12, 22]]),
        ("add_months('2024-01-31', 1)", "2024-02-29"),
        ("add_days('20240227', 3, '102')", "20240301"),
        ("days_between('2024-02-01', '2024-03-01')", 29),
        ("end_of_month('2023-02-10')", "2023-02-28"),
        ("extract('Order #4711 shipped', '#([0-9]+)', 1)", "4711"),
        ("matches('DE123456789', '^DE[0-9]{9}$')", True),
        ("replace_all('a1b22c', '[0-9]+', '-')", "a-b-c"),
        ("chunks('ABCDEFG', 3)", ["ABC", "DEF", "G"]),
        ("wrap('a long delivery note', 10)", ["a long", "delivery", "note"]),
        ("round(2.5, 0, 'half_even')", 2),
        ("ceil('2.1')", 3),
        ("floor(-2.1)", -3),
    ],
)
def test_constructs(expr: str, expected: Any) -> None:
    assert out(expr) == expected


def test_a_lambda_keeps_the_scope_of_its_place() -> None:
    mapping = parse_mapping(
        textwrap.dedent(
            """\
            name: t
            vars: {min: "1"}
            fields:
              lines:
                each: rows
                fields:
                  same_sku: "count(filter($root.rows, o -> $o.sku == sku))"
                  above_min: "count(filter($root.rows, o -> $o.qty > $min))"
            """
        ),
        "t.yaml",
    )
    lines = mapping.apply(ROWS)["lines"]
    assert [line["same_sku"] for line in lines] == [2, 1, 2, 1]
    assert {line["above_min"] for line in lines} == {2}


def test_rule_vars_are_per_item_and_seen_by_where() -> None:
    mapping = parse_mapping(
        textwrap.dedent(
            """\
            name: t
            fields:
              lines:
                each: rows
                vars: {net: "qty * price", big: "$net > 5"}
                where: $big
                fields: {sku: sku, net: $net, pos: $pos, index: $index}
              label: {expr: "$n & '!'", vars: {n: number}}
            """
        ),
        "t.yaml",
    )
    result = mapping.apply(ROWS)
    assert result["lines"] == [
        {"sku": "B", "net": 7.5, "pos": 0, "index": 2},
        {"sku": "C", "net": 10, "pos": 1, "index": 3},
    ]
    assert result["label"] == "1001!"


def test_functions_of_the_mapping() -> None:
    mapping = parse_mapping(
        textwrap.dedent(
            """\
            name: t
            functions:
              net: "(p, q) -> $p * $q"
              gross: "(p, q) -> net($p, $q) * 1.19"
              label: "(xs) -> join(map($xs, x -> upper($x)), '/')"
            fields:
              nets: "map(rows, r -> net($r.price, $r.qty))"
              gross: "gross(net(2, 5), 1)"
              label: "label(rows[*].sku)"
            """
        ),
        "t.yaml",
    )
    assert mapping.apply(ROWS) == {"nets": [3, 0, 7.5, 10], "gross": 11.9, "label": "B/A/B/C"}


def test_split_where_keeps_matching_items() -> None:
    mapping = parse_mapping(
        "name: t\nsplit: rows\nwhere: 'qty > 0'\nfields: {sku: sku, pos: $pos}\n", "t.yaml"
    )
    assert mapping.apply_all(ROWS) == [
        {"sku": "B", "pos": 0},
        {"sku": "B", "pos": 1},
        {"sku": "C", "pos": 2},
    ]


def test_runs_on_several_threads_do_not_share_parameters() -> None:
    mapping = parse_mapping(
        "name: t\nfields:\n  out: 'map(rows, r -> reduce(range($r.n), (t, i) -> $t + $i, 0))'\n",
        "t.yaml",
    )
    trees = [{"rows": [{"n": n + k} for n in range(50)]} for k in range(8)]
    expected = [mapping.apply(tree) for tree in trees]
    found: dict[int, list[Any]] = {}

    def work(k: int) -> None:
        found[k] = [mapping.apply(trees[k]) for _ in range(30)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k in range(8):
        assert all(result == expected[k] for result in found[k])


def test_assert_and_fail_report_the_admins_message_with_the_rule() -> None:
    error = run_error(
        """\
        name: m
        vars:
          adds_up: "assert(sum(rows[*].qty) == 9, 'the lines add up to ' & sum(rows[*].qty))"
        fields: {a: number}
        """
    )
    assert error.message == "vars.adds_up: check failed: the lines add up to 8"
    assert error.where == "m.yaml vars.adds_up"
    error = run_error(
        """\
        name: m
        fields:
          lines:
            each: rows
            fields:
              unit: "switch(unit, 'Stk', 'PCE', fail('unknown unit ' & unit))"
        """
    )
    assert error.message == "lines[3].unit: failed: unknown unit kg"
    assert error.where == "m.yaml rule lines.unit"


def test_run_time_failures_name_the_form() -> None:
    error = run_error("name: m\nfields:\n  a: \"sort_by(array(1, 'x'), v -> $v)\"\n")
    assert "sort_by() failed: cannot sort numbers and the text 'x' together" in error.message


def test_limits_apply_to_lists_the_forms_make() -> None:
    error = run_error(
        "name: m\nfields:\n  a: 'map(range(100000), x -> $x)'\n", {}, max_values=50_000
    )
    assert "max_values" in error.message
    error = run_error("name: m\nfields:\n  a: 'range(100001)'\n", {})
    assert "the range would have 100,001 items; the limit is 100,000" in error.message


def test_load_time_problems_of_the_new_constructs_are_located() -> None:
    found = problems(
        """\
        name: m
        where: "a > 1"
        functions:
          upper: "(x) -> $x"
          bad: "(x) -> sku & $x"
          ok: "(x) -> $x"
        fields:
          a: "upper(rows, r -> $r)"
          b: "map(rows, $r.sku)"
          c: "map(rows, (a, b, c) -> $a)"
          d: "map(rows, r -> $s)"
          e: "ok(1, 2)"
          f: "extract(sku, pattern)"
          g: "matches(sku, '(a+)+$')"
          h: "sort_by(rows, r -> $r, 'up')"
        """
    )
    assert found == [
        "m.yaml:4:3: upper() is a built-in function; choose another name",
        "m.yaml:5:16: a function defined in the mapping reads only its parameters, not 'sku' "
        "(pass the value as an argument)",
        "m.yaml:2:1: `where` at the top level applies to `split` items; add `split`",
        "m.yaml:8:19: upper() does not take an inline function (inline functions are "
        "arguments of any, distinct, every, filter, find, group_by, map, reduce, sort_by)",
        "m.yaml:9:17: argument 2 of map() must be an inline function "
        "(map(line_items, l -> $l.price * $l.quantity))",
        "m.yaml:10:17: the inline function of map() takes 1 or 2 parameters "
        "(map(line_items, l -> $l.price * $l.quantity))",
        "m.yaml:11:22: unknown variable '$s' (define it under `vars` before its use; built in: "
        "$, $root, $parent, $index, $pos, $parent_index, $parent_pos)",
        "m.yaml:12:7: ok() takes 1 argument, got 2 (ok(x) is defined under `functions`)",
        "m.yaml:13:20: the pattern of extract() must be a literal text (patterns are checked "
        "when the mapping loads: write it in quotes)",
        "m.yaml:14:20: pattern '(a+)+$': a repeated group that itself repeats (like (a+)+) can "
        "take exponential time; write the pattern without nesting the repetition",
        "m.yaml:15:30: the order of sort_by() is 'asc' or 'desc' "
        "(sort_by(rows, r -> $r.sku) or sort_by(rows, r -> $r.qty, 'desc'))",
    ]


def test_a_required_guard_names_the_expression_and_the_scope() -> None:
    error = run_error("name: m\nfields:\n  a: {expr: 'null', required: true}\n")
    assert error.message == "required field 'a' has no value: expression 'null' is null"
    assert error.where == "m.yaml rule a"
    error = run_error("name: m\nsplit: rows\nfields:\n  n: {expr: number, required: true}\n")
    assert error.message == ("required field '[0].n' has no value: source path 'number' is missing")
    assert error.hint is not None
    assert "write $root.number for the whole document" in error.hint


def test_element_refuses_a_composite() -> None:
    tree = {"PIA": [["PIA", "5", ["4711", "IN"]]]}
    error = run_error("name: m\nfields:\n  a: 'element(get(PIA[0], 2), 1)'\n", tree)
    assert "element() takes a segment ['TAG', element, ...]" in error.message


def test_an_output_that_repeats_a_part_counts_it_every_time() -> None:
    error = run_error(
        "name: m\nfields:\n  a: 'reduce(range(60), (t, x) -> array($t, $t), 0)'\n", {}
    )
    assert "the output holds more than 5,000,000 values" in error.message
    assert error.hint is not None
    assert "max_values" in error.hint
