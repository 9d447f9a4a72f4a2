"""Calls the compiler shapes itself: list functions with an inline function, and checks.

``map(line_items, l -> $l.price * $l.quantity)`` runs the inline function once per item,
with the item bound to ``$l`` (``(l, i) -> ...`` binds its position too). The inline
function sees everything the call's place sees (the rule's item, ``$root``, variables)
plus its parameters; its plain paths stay those of the rule, so write ``$l.price`` for the
item's field. Every item counts as work against the run's budget, and every list a form
returns counts against ``max_values`` (:mod:`hub.mapping.limits`).

Also here: ``if`` and ``switch`` (only the branch taken runs), ``array`` (no call at all),
``assert`` and ``fail`` (the admin's own message, reported with the rule like any run-time
error), and calls of the mapping's own ``functions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.mapping.calls import CallCompiler, compile_if
from hub.mapping.limits import EvalError
from hub.mapping.paths import MISSING
from hub.mapping.syntax import Node
from hub.mapping.values import (
    Scope,
    decimal_of,
    equal,
    failure,
    is_number,
    show,
    sources_of,
    text_of_value,
    truthy,
)

__all__ = [
    "FORMS",
    "UserFunction",
    "assertion_failed",
    "call_user_function",
    "distinct_by",
    "distinct_values",
    "equal",
    "failed",
    "grouped",
    "sorted_or_fail",
    "texts_only",
]

Evaluator = Callable[[Scope], Any]


@dataclass(frozen=True)
class _Inline:
    """A compiled inline function: its parameters' slots in the run, and its body."""

    slots: list[int]
    body: Evaluator


def _missing(s: Scope) -> Any:
    return MISSING


def _inline(
    compiler: CallCompiler, node: Node, arg: int, name: str, params: tuple[int, int]
) -> _Inline | None:
    """Argument ``arg`` of ``node`` as an inline function of ``params`` (min, max) names."""
    if len(node.args) <= arg or node.args[arg].kind != "lambda":
        where = node.args[arg] if len(node.args) > arg else node
        compiler.problem(
            where,
            f"argument {arg + 1} of {name}() must be an inline function",
            _USAGE[name],
        )
        return None
    fn = node.args[arg]
    names: list[str] = fn.value
    low, high = params
    if not low <= len(names) <= high:
        wanted = str(low) if low == high else f"{low} or {high}"
        compiler.problem(
            fn, f"the inline function of {name}() takes {wanted} parameters", _USAGE[name]
        )
        return None
    with compiler.bound(names) as slots:
        body = compiler.compile(fn.args[0])
    return _Inline(slots, body)


def _arity(compiler: CallCompiler, node: Node, name: str, low: int, high: int) -> bool:
    count = len(node.args)
    if low <= count <= high:
        return True
    wanted = str(low) if low == high else f"{low} to {high}"
    compiler.problem(node, f"{name}() takes {wanted} arguments, got {count}", _USAGE[name])
    return False


def _values(
    compiler: CallCompiler, node: Node, skip: int, end: int | None = None, start: int = 0
) -> list[Evaluator]:
    """The plain arguments of ``node`` (from ``start`` up to ``end``), all but the inline
    function at ``skip``."""
    out: list[Evaluator] = []
    for index, arg in enumerate(node.args[:end]):
        if index == skip or index < start:
            continue
        if arg.kind == "lambda":
            compiler.problem(arg, "only one argument here is an inline function")
            out.append(_missing)
        else:
            out.append(compiler.compile(arg))
    return out


def _items(s: Scope, value: Any) -> list[Any]:
    """The list a form loops over; null and missing are an empty list, one value a list of one."""
    if value is MISSING or value is None:
        return []
    items = value if type(value) is list else [value]
    s.run.tick(len(items))  # each item is work: the clock is read in time
    return items


def _loop(
    name: str, fn: _Inline, node: Node, finish: Callable[[Scope, list[Any], Any], Any]
) -> Callable[[Evaluator], Evaluator]:
    """The shared shape: evaluate the list, bind each item, let ``finish`` run the body."""
    sources = sources_of(node)

    def make(listing: Evaluator) -> Evaluator:
        def run(s: Scope) -> Any:
            items = _items(s, listing(s))
            try:
                return finish(s, items, fn)
            except _BadValue as exc:
                raise failure(s, f"{name}()", str(exc), sources) from None

        return run

    return make


class _BadValue(EvalError):
    """A value a form cannot work with (a key that is a list, ...)."""


def _apply(s: Scope, items: list[Any], fn: _Inline) -> list[Any]:
    """The body's value for every item (``(x, i) ->``: with its position)."""
    slots, body, first = s.run.slots, fn.body, fn.slots[0]
    # The comprehension assigns each item to its slot itself: no append call per item.
    if len(fn.slots) == 1:
        return [body(s) for slots[first] in items]
    second = fn.slots[1]
    return [body(s) for slots[second], slots[first] in enumerate(items)]


def _form_map(compiler: CallCompiler, node: Node) -> Evaluator:
    if not _arity(compiler, node, "map", 2, 2):
        return _missing
    (listing,) = _values(compiler, node, 1)
    fn = _inline(compiler, node, 1, "map", (1, 2))
    if fn is None:
        return _missing

    def finish(s: Scope, items: list[Any], fn: _Inline) -> list[Any]:
        found = [v for v in _apply(s, items, fn) if v is not MISSING]
        s.run.add_values(len(found))
        return found

    return _loop("map", fn, node, finish)(listing)


def _form_filter(compiler: CallCompiler, node: Node) -> Evaluator:
    if not _arity(compiler, node, "filter", 2, 2):
        return _missing
    (listing,) = _values(compiler, node, 1)
    fn = _inline(compiler, node, 1, "filter", (1, 2))
    if fn is None:
        return _missing

    def finish(s: Scope, items: list[Any], fn: _Inline) -> list[Any]:
        keep = _apply(s, items, fn)
        found = [item for item, ok in zip(items, keep, strict=True) if truthy(ok)]
        s.run.add_values(len(found))
        return found

    return _loop("filter", fn, node, finish)(listing)


def _form_find(compiler: CallCompiler, node: Node) -> Evaluator:
    if not _arity(compiler, node, "find", 2, 2):
        return _missing
    (listing,) = _values(compiler, node, 1)
    fn = _inline(compiler, node, 1, "find", (1, 2))
    if fn is None:
        return _missing

    def finish(s: Scope, items: list[Any], fn: _Inline) -> Any:
        slots, body = s.run.slots, fn.body
        for index, item in enumerate(items):
            slots[fn.slots[0]] = item
            if len(fn.slots) > 1:
                slots[fn.slots[1]] = index
            if truthy(body(s)):
                return item
        return None

    return _loop("find", fn, node, finish)(listing)


def _quantifier(name: str, every: bool) -> Callable[[CallCompiler, Node], Evaluator]:
    def form(compiler: CallCompiler, node: Node) -> Evaluator:
        if not _arity(compiler, node, name, 2, 2):
            return _missing
        (listing,) = _values(compiler, node, 1)
        fn = _inline(compiler, node, 1, name, (1, 2))
        if fn is None:
            return _missing

        def finish(s: Scope, items: list[Any], fn: _Inline) -> bool:
            slots, body = s.run.slots, fn.body
            for index, item in enumerate(items):
                slots[fn.slots[0]] = item
                if len(fn.slots) > 1:
                    slots[fn.slots[1]] = index
                if truthy(body(s)) != every:
                    return not every
            return every

        return _loop(name, fn, node, finish)(listing)

    return form


def _form_reduce(compiler: CallCompiler, node: Node) -> Evaluator:
    if not _arity(compiler, node, "reduce", 3, 3):
        return _missing
    (listing,) = _values(compiler, node, 1, 1)  # compiled in the order they are written
    fn = _inline(compiler, node, 1, "reduce", (2, 2))
    (start,) = _values(compiler, node, 1, None, 2)
    if fn is None:
        return _missing

    def finish(s: Scope, items: list[Any], fn: _Inline) -> Any:
        slots, body = s.run.slots, fn.body
        total = start(s)
        acc, each = fn.slots
        for item in items:
            slots[acc] = None if total is MISSING else total
            slots[each] = item
            total = body(s)
        return total

    return _loop("reduce", fn, node, finish)(listing)


def sort_keys(values: list[Any]) -> list[tuple[int, Any]]:
    """Keys to sort by: by number when any key is a number (numeric texts read as numbers),
    else by text; nulls last."""
    if texts_only(values):  # the common case
        return [(0, v) for v in values]
    numeric = any(is_number(v) for v in values)
    keys: list[tuple[int, Any]] = []
    for value in values:
        if value is None or value is MISSING:
            keys.append((1, 0))
        elif numeric:
            if type(value) is bool or not (is_number(value) or type(value) is str):
                raise _BadValue(f"cannot sort by {show(value)}: keys are numbers or texts")
            try:
                keys.append((0, decimal_of(value)))
            except EvalError:
                raise _BadValue(
                    f"cannot sort numbers and the text {show(value)} together"
                ) from None
        elif type(value) is str:
            keys.append((0, value))
        else:
            raise _BadValue(f"cannot sort by {show(value)}: keys are numbers or texts")
    return keys


def _form_sort_by(compiler: CallCompiler, node: Node) -> Evaluator:
    if not _arity(compiler, node, "sort_by", 2, 3):
        return _missing
    rest = _values(compiler, node, 1)
    fn = _inline(compiler, node, 1, "sort_by", (1, 1))
    listing = rest[0]
    order = node.args[2] if len(node.args) > 2 else None
    descending = False
    if order is not None:
        if order.kind != "lit" or order.value not in ("asc", "desc"):
            compiler.problem(order, "the order of sort_by() is 'asc' or 'desc'", _USAGE["sort_by"])
        descending = order.value == "desc"
    if fn is None:
        return _missing

    def finish(s: Scope, items: list[Any], fn: _Inline) -> list[Any]:
        return sorted_by(s, items, _apply(s, items, fn), descending)

    return _loop("sort_by", fn, node, finish)(listing)


def sorted_by(s: Scope, items: list[Any], values: list[Any], descending: bool) -> list[Any]:
    """``items`` in the order of their keys ``values`` (sort_by()); nulls last either way."""
    if texts_only(values):  # no nulls, no numbers: the texts are the keys
        order = sorted(range(len(items)), key=values.__getitem__, reverse=descending)
        s.run.add_values(len(items))
        return [items[i] for i in order]
    keys = sort_keys(values)
    order = sorted(range(len(items)), key=keys.__getitem__, reverse=descending)
    if descending:  # nulls last either way; sorted() keeps ties in input order
        present = [i for i in order if keys[i][0] == 0]
        order = present + sorted(i for i in order if keys[i][0] == 1)
    s.run.add_values(len(items))
    return [items[i] for i in order]


def sorted_or_fail(
    s: Scope, items: list[Any], values: list[Any], descending: bool, sources: Any
) -> list[Any]:
    """:func:`sorted_by` for generated code: a bad key fails as the closure's does."""
    try:
        return sorted_by(s, items, values, descending)
    except _BadValue as exc:
        raise failure(s, "sort_by()", str(exc), sources) from None


def group_key(value: Any) -> Any:
    """A value as a key for grouping and distinct: numbers by value (1 and 1.0 are one key),
    texts as they are (a text is never a number key), lists and objects deep."""
    if type(value) is str:
        return value  # the common key: no other kind of key is a bare text
    if value is MISSING:
        return None
    if is_number(value):
        return ("n", decimal_of(value))
    if type(value) is list:
        return ("l", tuple(group_key(v) for v in value))
    if type(value) is dict:
        return ("d", tuple(sorted((k, group_key(v)) for k, v in value.items())))
    return (type(value).__name__, value)


def _form_group_by(compiler: CallCompiler, node: Node) -> Evaluator:
    if not _arity(compiler, node, "group_by", 2, 2):
        return _missing
    (listing,) = _values(compiler, node, 1)
    fn = _inline(compiler, node, 1, "group_by", (1, 1))
    if fn is None:
        return _missing

    def finish(s: Scope, items: list[Any], fn: _Inline) -> list[dict[str, Any]]:
        return grouped(s, items, _apply(s, items, fn))

    return _loop("group_by", fn, node, finish)(listing)


def grouped(s: Scope, items: list[Any], keys: list[Any]) -> list[dict[str, Any]]:
    """``items`` grouped by their ``keys`` in order of first appearance (group_by())."""
    groups: dict[Any, dict[str, Any]] = {}
    for item, key in zip(items, keys, strict=True):
        key = None if key is MISSING else key
        marker = key if type(key) is str else group_key(key)
        found = groups.get(marker)
        if found is None:
            groups[marker] = {"key": key, "items": [item]}
        else:
            found["items"].append(item)
    s.run.add_values(3 * len(groups) + len(items))
    return list(groups.values())


def _form_distinct(compiler: CallCompiler, node: Node) -> Evaluator:
    if not _arity(compiler, node, "distinct", 1, 2):
        return _missing
    listing = _values(compiler, node, 1)[0]
    fn = _inline(compiler, node, 1, "distinct", (1, 1)) if len(node.args) > 1 else None
    if len(node.args) > 1 and fn is None:
        return _missing
    sources = sources_of(node)

    def distinct(s: Scope) -> Any:
        items = _items(s, listing(s))
        if fn is None:
            return distinct_values(s, items, sources)
        return distinct_by(s, items, _apply(s, items, fn), sources)

    return distinct


def texts_only(values: list[Any]) -> bool:
    """Whether every value is a text (and there is one at least)."""
    return set(map(type, values)) == {str}


def distinct_values(s: Scope, items: list[Any], sources: Any) -> list[Any]:
    """``distinct(list)``: the first of every value (texts are their own keys)."""
    if texts_only(items):
        out = list(dict.fromkeys(items))
        s.run.add_values(len(out))
        return out
    return distinct_by(s, items, items, sources)


def distinct_by(s: Scope, items: list[Any], keys: list[Any], sources: Any) -> list[Any]:
    """The first item of every distinct key (``distinct(rows, r -> ...)``)."""
    seen: set[Any] = set()
    out = []
    try:
        for item, key in zip(items, keys, strict=True):
            marker = group_key(key)
            if marker not in seen:
                seen.add(marker)
                out.append(item)
    except TypeError as exc:  # pragma: no cover - group_key makes every key hashable
        raise failure(s, "distinct()", str(exc), sources) from None
    s.run.add_values(len(out))
    return out


def assertion_failed(message: Any) -> AssertionFailed:
    """The error of a failed ``assert``, with the admin's message."""
    return AssertionFailed(f"check failed: {text_of_value(message)}")


def failed(message: Any) -> AssertionFailed:
    """The error of ``fail(message)``."""
    return AssertionFailed(f"failed: {text_of_value(message)}")


def _form_array(compiler: CallCompiler, node: Node) -> Evaluator:
    """``array(a, b)``: the list of its arguments (null for a missing value)."""
    parts = _values(compiler, node, -1)
    size = len(parts)
    if size == 1:
        (only,) = parts

        def one(s: Scope) -> list[Any]:
            value = only(s)
            s.run.add_values(1)
            return [None if value is MISSING else value]

        return one

    def many(s: Scope) -> list[Any]:
        s.run.add_values(size)
        return [None if v is MISSING else v for v in [p(s) for p in parts]]

    return many


def _form_switch(compiler: CallCompiler, node: Node) -> Evaluator:
    """``switch(value, case1, result1, case2, result2, ..., default)``."""
    if len(node.args) < 3:
        compiler.problem(
            node, f"switch() takes at least 3 arguments, got {len(node.args)}", _USAGE["switch"]
        )
        return _missing
    parts = _values(compiler, node, -1)
    subject, rest = parts[0], parts[1:]
    pairs = [(rest[i], rest[i + 1]) for i in range(0, len(rest) - 1, 2)]
    otherwise = rest[-1] if len(rest) % 2 else None

    def switch(s: Scope) -> Any:
        value = subject(s)
        for case, result in pairs:
            if equal(value, case(s)):
                return result(s)
        return otherwise(s) if otherwise is not None else None

    return switch


class AssertionFailed(EvalError):
    """``assert`` or ``fail`` in a mapping: the admin's own message."""


def _form_assert(compiler: CallCompiler, node: Node) -> Evaluator:
    if not _arity(compiler, node, "assert", 2, 2):
        return _missing
    check, message = _values(compiler, node, -1)

    def asserted(s: Scope) -> Any:
        if truthy(check(s)):
            return True
        raise assertion_failed(message(s))

    return asserted


def _form_fail(compiler: CallCompiler, node: Node) -> Evaluator:
    if not _arity(compiler, node, "fail", 1, 1):
        return _missing
    (message,) = _values(compiler, node, -1)

    def fail(s: Scope) -> Any:
        raise failed(message(s))

    return fail


@dataclass
class UserFunction:
    """A function of the mapping file (``functions:``): its parameters' slots and its body."""

    name: str
    names: list[str]
    slots: list[int]
    body: Evaluator | None  # None: the body did not compile (reported already)


def call_user_function(compiler: CallCompiler, node: Node, fn: UserFunction) -> Evaluator:
    """A call of the mapping's own function: its arguments set into its parameters' slots.

    The arguments are all evaluated first (``f(f(x))`` is sound), and a function calls only
    those defined before it, so a slot is never in use twice at once.
    """
    if len(node.args) != len(fn.names):
        compiler.problem(
            node,
            f"{fn.name}() takes {len(fn.names)} argument{'s' if len(fn.names) != 1 else ''}, "
            f"got {len(node.args)}",
            f"{fn.name}({', '.join(fn.names)}) is defined under `functions`",
        )
        return _missing
    args = _values(compiler, node, -1)
    body, slots = fn.body, fn.slots
    if body is None:
        return _missing
    if len(args) == 1:
        (only,), (slot,) = args, slots

        def call_one(s: Scope) -> Any:
            value = only(s)
            s.run.slots[slot] = None if value is MISSING else value
            return body(s)

        return call_one
    pairs = list(zip(slots, args, strict=True))

    def call(s: Scope) -> Any:
        values = [(slot, arg(s)) for slot, arg in pairs]
        run_slots = s.run.slots
        for slot, value in values:
            run_slots[slot] = None if value is MISSING else value
        return body(s)

    return call


_USAGE = {
    "map": "map(line_items, l -> $l.price * $l.quantity)",
    "filter": "filter(line_items, l -> $l.quantity > 0)",
    "find": "find(body.MOA, m -> element($m, 1, 1) == '203')",
    "any": "any(line_items, l -> $l.quantity == 0)",
    "every": "every(line_items, l -> $l.sku != null)",
    "reduce": "reduce(line_items, (total, l) -> $total + $l.quantity, 0)",
    "sort_by": "sort_by(rows, r -> $r.sku) or sort_by(rows, r -> $r.qty, 'desc')",
    "group_by": "group_by(rows, r -> $r.sku) -> [{key: 'A', items: [...]}, ...]",
    "distinct": "distinct(rows[*].sku) or distinct(rows, r -> $r.sku)",
    "switch": "switch(code, 'a', 'first', 'b', 'second', 'neither')",
    "assert": "assert(sum(lines[*].net) == total, 'the lines do not add up to the total')",
    "fail": "if(total < 0, fail('a negative total'), total)",
}

FORMS: dict[str, Callable[[CallCompiler, Node], Evaluator]] = {
    "if": compile_if,
    "array": _form_array,
    "map": _form_map,
    "filter": _form_filter,
    "find": _form_find,
    "any": _quantifier("any", every=False),
    "every": _quantifier("every", every=True),
    "reduce": _form_reduce,
    "sort_by": _form_sort_by,
    "group_by": _form_group_by,
    "distinct": _form_distinct,
    "switch": _form_switch,
    "assert": _form_assert,
    "fail": _form_fail,
}
