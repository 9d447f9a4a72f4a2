"""Expressions compiled to Python source do what the closures do (hub/mapping/codegen.py).

A differential test: generated expressions over generated inputs, each mapping compiled
twice (with the code generator, and with every node a closure), must give the same output,
or fail with the same message, location and hint, under small limits so that limit
failures are compared too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.errors import HubError
from hub.mapping import expr, fieldcopy, genrules, parse_mapping
from hub.mapping.limits import MappingLimits

LIMITS = MappingLimits(max_values=60, max_text=400)

_NUMBER_TEXTS = ["1.5", " 2 ", "-3", "0", "1e3", "abc", "", "10", "007", "0.1", "-0", "-0.0", "12"]
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.sampled_from([10**30, -(10**12), 2**70]),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from(_NUMBER_TEXTS),
    st.text(max_size=8),
)
value = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("qt"), inner),
    max_leaves=6,
)
row = st.fixed_dictionaries({}, optional={"q": value, "t": value})
document = st.fixed_dictionaries(
    {},
    optional={"a": value, "b": value, "c": value, "rows": st.lists(row, max_size=5) | value},
)

_LITERALS = ["1", "0", "2.5", "-4", "'x'", "''", "'1.5'", "null", "true", "false", "'abc'"]
_PATHS = ["a", "b", "c", "a.q", "b.t", "rows", "rows[*].q", "rows[0].t", "$root.a", "$v"]
_PATHS += ["$.a", "$root.rows[*].t", "nope", "a[1]"]
_BINARY = ["+", "-", "*", "/", "&", "==", "!=", "<", "<=", ">", ">=", "and", "or"]
_ONE = ["trim", "upper", "lower", "number", "abs", "count", "sum", "integer", "not"]
_ONE += ["distinct", "string", "length", "max", "min"]
_TWO = ["default", "coalesce", "round", "contains", "join", "pad_left", "format_number"]


def _expressions(paths: list[str]) -> st.SearchStrategy[str]:
    base = st.sampled_from(_LITERALS) | st.sampled_from(paths)

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(_BINARY), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda e: f"-({e})"),
            st.tuples(st.sampled_from(_ONE), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(_TWO), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
            st.tuples(inner, inner).map(lambda t: f"substring({t[0]}, 1, 2) & {t[1]}"),
            st.tuples(inner, inner).map(lambda t: f"array({t[0]}, {t[1]})"),
            inner.map(lambda e: f"array({e})"),
            st.tuples(inner, inner).map(lambda t: f"composite({t[0]}, {t[1]})"),
            st.tuples(inner, st.sampled_from(["''", "'9'", "null", "1.50"])).map(
                lambda t: f"composite({t[0]}, {t[1]})"
            ),
            st.tuples(st.sampled_from(["'QTY'", "'x'", "a", "'BGM'"]), inner, inner).map(
                lambda t: f"segment({t[0]}, {t[1]}, {t[2]})"
            ),
            inner.map(lambda e: f"segment('UNS', {e}, '')"),
        )

    return st.recursive(base, grow, max_leaves=8)


_ITEM = ["$r.q", "$r.t", "$r", "a", "$i", "rows[*].q"]
_LISTS = ["rows", "rows[*].q", "a", "$root.rows", "null", "b.t"]
_FORMS = ["map", "filter", "find", "any", "every", "sort_by", "group_by", "distinct"]
inline_form = st.one_of(
    st.tuples(
        st.sampled_from(_FORMS), st.sampled_from(_LISTS), _expressions(_ITEM[:4] + _ITEM[5:])
    ).map(lambda t: f"{t[0]}({t[1]}, r -> {t[2]})"),
    st.tuples(st.sampled_from(["map", "filter", "find", "any", "every"]), _expressions(_ITEM)).map(
        lambda t: f"{t[0]}(rows, (r, i) -> {t[1]})"
    ),
    st.tuples(_expressions(["$t", "$r.q", "$r"]), _expressions(_PATHS[:6])).map(
        lambda t: f"reduce(rows, (t, r) -> {t[0]}, {t[1]})"
    ),
    _expressions(["$r.q", "$r.t"]).map(lambda e: f"sort_by(rows, r -> {e}, 'desc')"),
    _expressions(["$r.q", "$g.key"]).map(
        lambda e: f"map(group_by(rows, r -> $r.t), g -> map($g.items, r -> {e}))"
    ),
    _expressions(_PATHS[:6]).map(lambda e: f"distinct({e})"),
    st.tuples(_expressions(_PATHS[:6]), _expressions(_PATHS[:6])).map(
        lambda t: f"assert({t[0]}, {t[1]})"
    ),
    _expressions(_PATHS[:6]).map(lambda e: f"if(a, fail({e}), 1)"),
)
expression = st.one_of(_expressions(_PATHS), inline_form)


def _outcome(text: str, tree: Any) -> tuple[Any, ...]:
    try:
        mapping = parse_mapping(text, "t.yaml", limits=LIMITS)
    except HubError as exc:
        return ("load", str(exc), exc.where, exc.hint, [str(p) for p in exc.problems])
    try:
        return ("ok", json.dumps(mapping.apply(tree), sort_keys=True, default=repr))
    except HubError as exc:
        return ("run", str(exc), exc.where, exc.hint)


def _both(text: str, tree: Any) -> None:
    generated = _outcome(text, tree)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(expr, "GEN_KINDS", frozenset())
        patch.setattr(genrules, "ENABLED", False)
        closures = _outcome(text, tree)
    assert generated == closures, text


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=expression, when=expression, tree=document)
def test_generated_code_matches_the_closures(source: str, when: str, tree: dict[str, Any]) -> None:
    text = (
        "name: t\nvars:\n  v: " + json.dumps("b") + "\nfields:\n"
        f"  out: {json.dumps(source)}\n"
        f"  guarded:\n    expr: {json.dumps(source)}\n    when: {json.dumps(when)}\n"
        "  lines:\n    each: rows\n    fields:\n"
        f"      x: {json.dumps(source.replace('$v', '$index'))}\n"
    )
    _both(text, tree)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=inline_form, tree=document)
def test_inline_functions_written_as_loops_match_the_closures(
    form: str, tree: dict[str, Any]
) -> None:
    """map, filter, group_by, ... with an inline function are loops in the generated code."""
    _both(f"name: t\nfields:\n  out: {json.dumps(form)}\n", tree)


_RULE = st.sampled_from(
    [
        "q",
        "{path: q, default: 0}",
        "{expr: 'q & t', required: true}",
        "{value: {x: [1, 2]}}",
        "{fields: {n: t, m: {value: 1}}}",
        "{expr: t, when: 'q != null'}",
        "{expr: '$w', vars: {w: 'q * 2'}}",
        "{path: $parent.a, default: none}",
        "'$index + $pos'",
        "{each: rows, fields: {z: q, p: '$parent_index'}}",
        "{each: 't', where: '$ != null', fields: {v: $}}",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=st.lists(_RULE, min_size=1, max_size=5),
    where=st.sampled_from(["", "where: 'q != 1'", "where: 'q > t'"]),
    local=st.sampled_from(["", "vars: {u: 'q + 1'}", "vars: {u: 'sum(t)'}"]),
    tree=document,
)
def test_rules_written_as_one_function_match_the_closures(
    rules: list[str], where: str, local: str, tree: dict[str, Any]
) -> None:
    """The rules of an output as one generated function (hub/mapping/genrules.py)."""
    fields = "".join(f"      k{n}: {rule}\n" for n, rule in enumerate(rules))
    extra = "".join(f"    {line}\n" for line in (where, local) if line)
    text = (
        "name: t\nfields:\n  top: a\n  lit: {value: [1, {b: 2}]}\n"
        f"  lines:\n    each: rows\n{extra}    fields:\n{fields}"
    )
    _both(text, tree)


def test_the_generator_is_used_and_the_closures_are_not() -> None:
    """The differential test compares two different paths: the generated one is real."""
    mapping = parse_mapping("name: t\nfields:\n  out: 'trim(a) & \"!\"'\n", "t.yaml")
    assert mapping.apply({"a": " x "}) == {"out": "x!"}
    names = {c.co_name for c in _code_objects(mapping)}
    assert "_expr" in names  # the rule's evaluator is a generated function


def _code_objects(mapping: Any) -> list[Any]:
    """Code objects of the closures reachable from the mapping's rules."""
    seen: list[Any] = []
    stack = list(mapping._rules)
    while stack:
        fn = stack.pop()
        code = getattr(fn, "__code__", None)
        if code is None or code in seen:
            continue
        seen.append(code)
        for cell in fn.__closure__ or ():
            try:
                content = cell.cell_contents
            except ValueError:
                continue
            if callable(content):
                stack.append(content)
            elif isinstance(content, list | tuple):
                stack.extend(c for c in content if callable(c))
    return seen


@pytest.mark.parametrize(
    "text",
    [
        "'\\'); import os; os.system(\\'x\\') #'",
        'a."\\n    return 1"',
        "default(a, '\\n__import__(\"os\")')",
    ],
)
def test_mapping_text_never_reaches_the_source(text: str) -> None:
    """Texts that would break out of a string literal are values, not code."""
    _both(f"name: t\nfields:\n  out: {json.dumps(text)}\n", {"a": "y"})


@pytest.mark.parametrize(
    "shape",
    [
        "composite({}, 'x')",
        "segment('QTY', {})",
        "if(a, {}, 1)",
        "({} and b)",
        "trim({})",
        "({} + 1)",
        "array({})",
    ],
)
def test_deep_expressions_load_and_agree(shape: str) -> None:
    """Nesting as deep as the parser allows still compiles (Python limits indentation
    and nested blocks; deeper parts stay closures) and gives what the closures give."""
    text = "a"
    for _ in range(45):
        text = shape.format(text)
    for tree in ({"a": "1", "b": True}, {"a": None}, {}):
        _both(f"name: t\nfields:\n  out: {json.dumps(text)}\n", tree)


def test_a_huge_expression_is_left_to_the_closures() -> None:
    """``compile()`` of one function per huge expression would cost seconds on hostile
    input (POST /preview): past MAX_NODES the closures are made, with the same result."""
    from hub.mapping.codegen import MAX_NODES, worth_generating
    from hub.mapping.syntax import parse_expr

    wide = "array(" + ", ".join(["(a & 'x')"] * (MAX_NODES // 2)) + ")"
    assert not worth_generating(parse_expr(wide))
    assert worth_generating(parse_expr("(a & 'x')"))
    _both(f"name: t\nfields:\n  out: {json.dumps(wide)}\n", {"a": "y"})


def test_generated_rules_count_the_output_as_the_walk_does() -> None:
    """The rules' function counts the output as it builds it (shared parts every time);
    the count is what a walk of the finished output finds."""
    from hub.mapping.expr import Scope
    from hub.mapping.run import Run, output_size

    text = (
        "name: t\nvars:\n  big: 'array(a, a, array(a, a))'\nfields:\n"
        "  lit: {value: {x: [1, [2, 3]], y: {}}}\n"
        "  copy: {path: a, default: [1, 2]}\n"
        "  when: {expr: '$big', when: 'true'}\n"
        "  own: {expr: '$w', vars: {w: 'array($big, $big)'}}\n"
        "  nest: {fields: {p: $big, q: {value: [[]]}}}\n"
        "  rows:\n    each: rows\n    fields:\n      s: $big\n"
        "      inner: {each: '$.t', fields: {v: $, w: {value: [1]}}}\n"
    )
    mapping = parse_mapping(text, "t.yaml")
    assert mapping._fill is not None
    tree = {"a": [1, {"b": [2]}], "rows": [{"t": [1, 2]}, {"t": None}, {}, {"t": [[3], {}]}]}
    root = mapping._root(tree, None)
    out: dict[str, Any] = {}
    assert mapping._fill(Scope(tree, None, tree, root.vars, Run([], mapping.limits)), out) == (
        output_size(out, 10**9)
    )
    assert out == mapping.apply(tree)


_INTRINSIC_INPUTS = ["abcdef", "", "-1.50", "1.50", "0.00", "-0.00", "01.50", "1.5", "12", "0"]
_INTRINSIC_INPUTS += ["x" * 40, "1" * 33 + ".00", " 1.50", "1.50 ", None, 7, 1.5, ["ab"], {"a": 1}]


@pytest.mark.parametrize(
    "source",
    [
        "substring(a, 0, 3)",
        "substring(a, 2, 0)",
        "substring(a, 4, 10)",
        "substring(a, 1, 2) & 'z'",
        "format_number(a, 2)",
        "format_number(a, 0)",
        "format_number(a, 1)",
        "format_number(a, 2, ',')",
    ],
)
def test_functions_written_in_place_match_their_calls(source: str) -> None:
    """substring with whole-number bounds and format_number of text already written so
    are written in place (no call) for a short text; every other value takes the call."""
    for value in _INTRINSIC_INPUTS:
        _both(f"name: t\nfields:\n  out: {json.dumps(source)}\n", {"a": value})


def _counted(mapping: Any, tree: Any) -> tuple[int, dict[str, Any]]:
    """What the rules' function counts for ``tree``, and the output it builds."""
    from hub.mapping.expr import Scope
    from hub.mapping.run import Run

    root = mapping._root(tree, None)
    out: dict[str, Any] = {}
    return mapping._fill(Scope(tree, None, tree, root.vars, Run([], mapping.limits)), out), out


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=_expressions(_PATHS), tree=document)
def test_sizes_the_builders_give_are_what_the_walk_finds(source: str, tree: dict[str, Any]) -> None:
    """``segment``, ``composite``, ``array`` and ``if`` give the output size of what they
    return, so the rules need not walk it; a part they did not make (a path, the shared
    list ``$v`` in every line) is walked. Either way the count is the walk's."""
    from hub.mapping.run import output_size

    rule = json.dumps(source)
    text = (
        "name: t\nvars:\n  v: 'array(a, b, array(a))'\nfields:\n"
        f"  out: {rule}\n  lines:\n    each: rows\n    fields:\n"
        f"      x: {rule}\n      y: {{expr: {rule}, default: [1, [2]]}}\n"
    )
    try:
        mapping = parse_mapping(text, "t.yaml")
        count, out = _counted(mapping, tree)
    except HubError:
        return  # failures are compared with the closures' by the tests above
    assert count == output_size(out, 10**9), source


def test_builders_give_their_size_and_shared_parts_are_still_counted() -> None:
    """A segment made per line is counted without a walk; the same segment holding a list
    shared by every line counts that list every time, and past the limit fails."""
    from hub.mapping.codegen import SIZED

    text = (
        "name: t\nvars:\n  big: 'array(a, a, a, a)'\nfields:\n"
        "  lines:\n    each: rows\n    fields:\n"
        "      own: \"segment('QTY', composite('21', $.q, 'PCE'), "
        "array('x', composite('a', 'b')))\"\n"
        "      shared: \"if($.q == null, null, segment('FTX', 'AAI', $big))\"\n"
    )
    rows = [{"q": n} for n in range(30)]
    specs: list[genrules.Specs] = []

    def capture(rules: Any, given: genrules.Specs) -> Any:
        specs.append(given)
        return genrules.generate_rules(rules, given)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fieldcopy, "generate_rules", capture)
        mapping = parse_mapping(text, "t.yaml", limits=MappingLimits(max_values=2_000))
    copies = [s for s in specs[0].values() if isinstance(s, genrules.Copy)]
    assert {c.key for c in copies} == {"own", "shared"}
    assert all(c.evaluate in SIZED for c in copies)
    count, out = _counted(mapping, {"a": [1, 2, 3], "rows": [{}] * 30})
    # "lines", its 30 items, each 2 keys and the segment: 3 elements, 3 + 2 + 2 inside
    assert count == 1 + 30 + 30 * (2 + 3 + 3 + 2 + 2)
    assert out["lines"][0] == {"own": ["QTY", ["21", "", "PCE"], ["x", ["a", "b"]]], "shared": None}
    with pytest.raises(HubError, match="the output holds more than 2,000 values"):
        mapping.apply({"a": list(range(60)), "rows": rows})


def test_deeply_nested_loops_load_and_agree() -> None:
    """``each`` in ``each`` past the generator's depth: the deeper loops stay closures
    (Python limits nested blocks), with the same output as the closures give."""
    fields = "{v: $, p: '$parent_index'}"
    for _ in range(12):
        fields = f"{{v: $, i: $index, c: {{each: '$', where: '$ != 0', fields: {fields}}}}}"
    text = f"name: t\nfields:\n  top: {{each: a, fields: {fields}}}\n"
    tree: dict[str, Any] = {"a": [1, 0, 2]}
    for depth in range(12):
        tree = {"a": [tree["a"], 0, 3]} if depth % 2 else tree
    _both(text, tree)
    _both(text, {"a": [[[[1, [2, [0, [3]]]]]]]})
    nested: Any = [[], None]
    for _ in range(14):
        nested = [nested, []]
    assert parse_mapping(text, "t.yaml").apply({"a": nested})["top"][0]["c"][0]["c"]
    _both(text, {"a": nested})
