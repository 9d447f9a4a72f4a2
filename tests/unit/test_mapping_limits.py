"""The mapping language's limits: numbers, nesting, and what one run may spend (issue 9)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest
from pydantic import ValidationError

from hub.errors import ConfigError, MappingError
from hub.mapping import MappingLimits, parse_mapping
from hub.mapping.expr import ExprSyntaxError, parse_expr
from hub.mapping.limits import (
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_EXPRESSION_DEPTH,
    MAX_TEXT_LENGTH,
    MAX_WILDCARDS,
    Budget,
    LimitExceeded,
)
from tests.configs import ROOT


def _field(expression: str, **kwargs: Any) -> Any:
    """A mapping of one field ``x`` computed by ``expression``."""
    text = f"name: t\nfields:\n  x: {_quoted(expression)}\n"
    return parse_mapping(text, "t.yaml", **kwargs)


def _quoted(expression: str) -> str:
    return "'" + expression.replace("'", "''") + "'"


def _run_error(expression: str, tree: Any = None) -> MappingError:
    mapping = _field(expression)
    with pytest.raises(MappingError) as caught:
        mapping.apply(tree if tree is not None else {})
    return caught.value


# --- numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "tree"),
    [
        ("'1e999999' * 1", {}),  # froze every request for 40 s
        ("v * 1", {"v": "1e999999"}),
        ("v + 0.5", {"v": "-1E+5000"}),
        ("v * v", {"v": "1e300"}),
        ("1 / v", {"v": "1e-450"}),
        ("round(v, 0)", {"v": 10**500}),
        ("sum(v)", {"v": [10**450, 1]}),
        ("abs(v)", {"v": 1e300 * 1e10}),  # inf
        ("number(v) * 1", {"v": "1" + "0" * 150}),
        ("round(1.5, v)", {"v": 10**6}),
    ],
)
def test_a_number_out_of_range_is_refused_at_once(expression: str, tree: Any) -> None:
    started = time.monotonic()
    error = _run_error(expression, tree)
    assert time.monotonic() - started < 5  # the attack took 40 s
    assert error.where == "t.yaml rule x"
    assert any(
        reason in error.message
        for reason in ("out of range", f"at most {MAX_DIGITS} digits", "finite", "places must")
    ), error.message


def test_numbers_up_to_the_bounds_still_work() -> None:
    assert _field("v * 1").apply({"v": f"1e{MAX_EXPONENT - 1}"}) == {"x": 10 ** (MAX_EXPONENT - 1)}
    assert _field("v * 2").apply({"v": int("9" * MAX_DIGITS)}) == {"x": 2 * int("9" * MAX_DIGITS)}
    assert _field("number(v)").apply({"v": "1.234,5"}) == {"x": 1234.5}


def test_whole_numbers_that_grow_past_the_bound_are_refused() -> None:
    squares = "".join(f"  a{n}: $a{n - 1} * $a{n - 1}\n" for n in range(1, 40))
    text = "name: t\nvars:\n  a0: '99999999999999999999'\n" + squares + "fields:\n  x: $a39\n"
    mapping = parse_mapping(text, "t.yaml")
    with pytest.raises(MappingError) as caught:
        mapping.apply({})
    assert "out of range" in caught.value.message
    assert caught.value.where is not None
    assert caught.value.where.startswith("t.yaml vars.a")


def test_a_literal_with_too_many_digits_is_a_located_load_error() -> None:
    with pytest.raises(ConfigError) as caught:
        _field("1 + " + "9" * (MAX_DIGITS + 1))
    problem = caught.value.problems[0]
    assert problem.message == f"a number has more than {MAX_DIGITS} digits"
    assert problem.where == "t.yaml:3:11"
    _field("9" * MAX_DIGITS)  # up to the limit is fine


def test_a_numeric_text_with_too_many_digits_is_not_a_number() -> None:
    error = _run_error("v * 1", {"v": "9" * (MAX_DIGITS + 50)})
    assert "is not a number of at most 100 digits" in error.message
    assert "characters)" in error.message  # the long text is shortened in the message


# --- nesting, refused where the limit is crossed -------------------------------------


@pytest.mark.parametrize(
    ("nested", "crossing"),
    [
        (lambda n: "(" * n + "1" + ")" * n, lambda n: n),
        (lambda n: "upper(" * n + "'a'" + ")" * n, lambda n: 6 * n),
        (lambda n: "-" * n + "1", lambda n: n - 1),
        (lambda n: "not " * n + "true", lambda n: 4 * n),
        (lambda n: " + ".join(["1"] * (n + 2)), lambda n: 4 * n - 2),
        (lambda n: " and ".join(["a"] * (n + 2)), lambda n: 6 * n - 4),
    ],
    ids=["parentheses", "calls", "minus", "not", "additions", "and"],
)
def test_nesting_past_the_limit_is_refused_at_the_crossing(nested: Any, crossing: Any) -> None:
    parse_expr(nested(MAX_EXPRESSION_DEPTH - 2))  # within the limit
    with pytest.raises(ExprSyntaxError) as caught:
        parse_expr(nested(MAX_EXPRESSION_DEPTH))
    assert caught.value.message == (
        f"the expression nests deeper than {MAX_EXPRESSION_DEPTH} levels "
        "(parentheses, calls and operators)"
    )
    assert caught.value.offset == crossing(MAX_EXPRESSION_DEPTH)
    assert caught.value.hint is not None


@pytest.mark.parametrize("size", [3_000, 50_000])
def test_very_deep_expressions_are_a_load_error_not_a_crash(size: int) -> None:
    """50,000 parentheses gave a 500; 3,000 nested calls reset the connection."""
    for expression in ("(" * size + "1" + ")" * size, "upper(" * size + "'a'" + ")" * size):
        with pytest.raises(ConfigError) as caught:
            _field(expression)
        assert "nests deeper than" in caught.value.problems[0].message


def test_a_mapping_as_deep_as_allowed_runs() -> None:
    depth = MAX_EXPRESSION_DEPTH - 2
    assert _field("(" * depth + "1 + 2" + ")" * depth).apply({}) == {"x": 3}
    chain = " & ".join(["'a'"] * depth)
    assert _field(chain).apply({}) == {"x": "a" * depth}


def test_a_path_with_too_many_wildcards_is_refused_at_the_one_past() -> None:
    parse_expr("a" + "[*]" * MAX_WILDCARDS)
    with pytest.raises(ExprSyntaxError) as caught:
        parse_expr("a" + "[*]" * 3000)
    assert caught.value.message == f"a path may have at most {MAX_WILDCARDS} [*] steps"
    assert caught.value.offset == 1 + 3 * MAX_WILDCARDS


# --- the run's budget -----------------------------------------------------------------

LOOPS = """\
name: loops
fields:
  rows:
    each: items
    fields:
      cells:
        each: $root.items
        fields:
          a: i
"""


def test_a_loop_over_a_loop_ends_at_max_values_before_it_runs() -> None:
    mapping = parse_mapping(LOOPS, "t.yaml", limits=MappingLimits(max_values=10_000))
    items = {"items": [{"i": n} for n in range(100_000)]}  # 1e5 x 1e5 hung every ingest
    started = time.monotonic()
    with pytest.raises(MappingError) as caught:
        mapping.apply(items)
    assert time.monotonic() - started < 5
    assert caught.value.message == (
        "rows: the run produces more than 10,000 values (limit mappings.limits.max_values)"
    )
    assert caught.value.where == "t.yaml rule rows"
    assert caught.value.hint == (
        "raise mappings.limits.max_values in the config if the input is legitimate"
    )


def test_max_values_counts_every_item_and_the_fields_its_rules_may_write() -> None:
    # the top object: 1 field; each row: the item and its 1 field; each cell: 1 + 1
    limits = MappingLimits(max_values=1 + 10 * 2 + 10 * 10 * 2)
    mapping = parse_mapping(LOOPS, "t.yaml", limits=limits)
    items = {"items": [{"i": n} for n in range(10)]}
    assert len(mapping.apply(items)["rows"]) == 10
    items["items"].append({"i": 10})
    with pytest.raises(MappingError, match="more than 221 values"):
        mapping.apply(items)


def test_max_values_counts_split_outputs_and_lists_expressions_make() -> None:
    text = "name: t\nvars:\n  all: items[*].i\nsplit: items\nfields:\n  n: i\n  s: split(t, ',')\n"
    mapping = parse_mapping(text, "t.yaml", limits=MappingLimits(max_values=60))
    small = {"items": [{"i": n, "t": "a,b"} for n in range(10)]}
    assert len(mapping.apply_all(small)) == 10  # 10 (all) + 10 x (2 fields + 2 parts) = 50
    big = {"items": [{"i": n, "t": "a,b,c,d,e,f"} for n in range(10)]}
    with pytest.raises(MappingError, match="more than 60 values"):
        mapping.apply_all(big)


def test_max_text_counts_the_text_a_run_builds() -> None:
    text = 'name: t\nfields:\n  rows:\n    each: items\n    fields:\n      t: "s & s"\n'
    mapping = parse_mapping(text, "t.yaml", limits=MappingLimits(max_text=10_000))
    items = [{"s": "x" * 100} for _ in range(49)]
    assert len(mapping.apply({"items": items})["rows"]) == 49  # 49 x 200 characters
    with pytest.raises(MappingError) as caught:
        mapping.apply({"items": [*items, *items]})
    assert caught.value.message.endswith(
        "the run builds more than 10,000 characters of text (limit mappings.limits.max_text)"
    )
    assert caught.value.where == "t.yaml rule rows.t"


def test_text_doubling_through_vars_is_refused_before_it_is_made() -> None:
    doubling = "".join(f"  t{n}: $t{n - 1} & $t{n - 1}\n" for n in range(1, 40))
    text = "name: t\nvars:\n  t0: \"'xxxxxxxxxx'\"\n" + doubling + "fields:\n  x: length($t39)\n"
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, "t.yaml").apply({})
    assert "limit mappings.limits.max_text" in caught.value.message or (
        f"(at most {MAX_TEXT_LENGTH:,})" in caught.value.message
    )


@pytest.mark.parametrize(
    ("expression", "tree"),
    [
        ("pad_left('a', 1000000000)", {}),
        ("pad_right('a', 1000000000, '.')", {}),
        ("replace(v, 'a', v)", {"v": "a" * 100_000}),
        ("join(v, w)", {"v": ["a"] * 100_000, "w": "b" * 1000}),
    ],
)
def test_a_text_function_refuses_a_giant_result_before_making_it(
    expression: str, tree: Any
) -> None:
    error = _run_error(expression, tree)
    assert f"the limit is {MAX_TEXT_LENGTH:,}" in error.message


QUADRATIC = """\
name: quadratic
vars:
  all: items[*].i
fields:
  totals:
    each: items
    fields:
      total: "sum($all)"
"""
BIG = {"items": [{"i": n} for n in range(20_000)]}


def test_a_run_past_max_seconds_ends_with_a_located_error() -> None:
    mapping = parse_mapping(QUADRATIC, "t.yaml", limits=MappingLimits(max_seconds=0.2))
    started = time.monotonic()
    with pytest.raises(MappingError) as caught:
        mapping.apply(BIG)
    assert time.monotonic() - started < 5  # it would run for minutes
    assert caught.value.message.endswith(
        "the run took longer than 0.2 s (limit mappings.limits.max_seconds)"
    )
    assert caught.value.message.startswith("totals[")
    assert caught.value.where is not None
    assert caught.value.where.startswith("t.yaml rule totals")
    assert caught.value.hint is not None


def test_a_cancelled_run_ends_soon() -> None:
    mapping = parse_mapping(QUADRATIC, "t.yaml", limits=MappingLimits(max_seconds=600))
    cancel = threading.Event()
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    try:
        with pytest.raises(MappingError) as caught:
            mapping.apply(BIG, cancel=cancel)
    finally:
        timer.cancel()
    assert "the run was cancelled: the hub is stopping" in caught.value.message


def test_a_long_list_of_rules_reads_the_clock_between_them() -> None:
    rules = "".join(f"  f{n}: sum($all)\n" for n in range(300))
    text = "name: t\nvars:\n  all: items[*].i\nfields:\n" + rules
    mapping = parse_mapping(text, "t.yaml", limits=MappingLimits(max_seconds=0.2))
    with pytest.raises(MappingError, match=r"took longer than 0\.2 s"):
        mapping.apply({"items": [{"i": n} for n in range(200_000)]})


def test_the_budget_reads_the_clock_more_often_when_operations_are_slow() -> None:
    budget = Budget(MappingLimits(max_seconds=60))
    start = budget.stride
    budget.last -= 1  # as if the last stretch took a second
    budget.tick(budget.check_at)
    assert budget.stride < start
    budget.deadline = time.monotonic() - 1
    with pytest.raises(LimitExceeded, match="took longer than 60 s"):
        budget.check()


def test_limits_are_validated() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        MappingLimits(max_seconds=0)
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        MappingLimits(max_values=0)


# --- the function registry under threads ---------------------------------------------


def test_functions_are_known_to_every_thread_that_compiles_first() -> None:
    """Two previews compiling at once in a fresh process: one got "unknown function 'sum'"."""
    script = textwrap.dedent(
        """
        import importlib, threading, time
        real = importlib.import_module
        def slow(name, *args, **kwargs):
            if name.startswith("hub.mapping.functions."):
                time.sleep(0.02)  # widen the window in which the modules are half loaded
            return real(name, *args, **kwargs)
        importlib.import_module = slow
        from hub.mapping.functions.registry import lookup
        found = {}
        def compile_(n):
            found[n] = lookup("sum") is not None
        threads = [threading.Thread(target=compile_, args=(n,)) for n in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(sorted(found.values()))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[True, True, True, True]"
