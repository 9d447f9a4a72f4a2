"""The mapping expression language: parsed once by hand, compiled to Python closures.

No ``eval`` of mapping text: an expression is tokenized and parsed into a small tree of
:class:`Node` (:mod:`hub.mapping.syntax`), then compiled here into nested closures
``fn(scope) -> value``; the common node kinds are written as the Python source of one
function per expression instead (:mod:`hub.mapping.codegen`, no mapping text in it).
Paths read dict keys and list indexes only, so there is no attribute access; functions
come from :mod:`hub.mapping.functions` only (checked at load time), compiled by
:mod:`hub.mapping.calls`. Numbers, texts and the work of one run are bounded
(:mod:`hub.mapping.limits`).
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hub.mapping.calls import compile_call
from hub.mapping.codegen import GEN_KINDS, generate, slow_compare, worth_generating
from hub.mapping.limits import MAX_TEXT_LENGTH, EvalError, bounded_int
from hub.mapping.paths import MISSING, step_reader
from hub.mapping.syntax import BUILT_IN, WILD, ExprSyntaxError, Node, parse_expr
from hub.mapping.values import (
    INT_BITS,
    SHORT_TEXT,
    TEXT_LIMIT,
    Scope,
    charge_text,
    decimal_of,
    failure,
    plain,
    show,
    sources_of,
    text_of_value,
    truthy,
)

__all__ = [
    "MAX_ITEMS",
    "WILD",
    "Env",
    "EvalError",
    "Evaluator",
    "ExprProblem",
    "ExprSyntaxError",
    "Node",
    "Scope",
    "compile_expr",
    "parse_expr",
    "truthy",
]

#: The most items one ``each`` or ``split`` may loop over.
MAX_ITEMS = 100_000

Evaluator = Callable[[Scope], Any]


@dataclass(frozen=True)
class ExprProblem:
    """A load-time problem found after parsing (unknown function, bad arity, ...)."""

    message: str
    offset: int
    hint: str | None = None


# --- compiler ----------------------------------------------------------------------------


@dataclass
class Env:
    """What an expression may refer to where it is written."""

    variables: list[str]
    depth: int  # loops around it (each, split); $parent and $index need one
    problems: list[ExprProblem] = field(default_factory=list)
    codelist_names: set[str] | None = None
    #: The mapping's own functions (``functions:``), by name, defined before this point.
    functions: dict[str, Any] = field(default_factory=dict)
    #: Compiling a function of the mapping: only its parameters may be read.
    pure: bool = False
    #: Slots of the run for inline function and function parameters: how many are taken
    #: (one counter shared by every expression of a mapping) and the names in scope here.
    slots: list[int] = field(default_factory=lambda: [0])
    locals: dict[str, int] = field(default_factory=dict)


def compile_expr(node: Node, env: Env) -> Evaluator:
    """Compile ``node``; load-time problems are appended to ``env.problems``."""
    return _Compiler(env).compile(node)


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


#: Expressions whose value is always true or false (no truth test needed).
_BOOLEAN = frozenset({"cmp", "and", "or", "not"})


def _missing(s: Scope) -> Any:
    return MISSING


def _same(node: Any) -> Any:
    return node


def _reader(steps: list[str | int]) -> Callable[[Any], Any]:
    if WILD in steps:
        cut = steps.index(WILD)
        head = _reader(steps[:cut]) if cut else (lambda n: n)
        rest = steps[cut + 1 :]
        tail = _reader(rest) if rest else (lambda n: n)

        if WILD in rest:  # a[*].b[*].c: one flat list, as a list is expected

            def every_flat(node: Any) -> Any:
                items = head(node)
                if not isinstance(items, list):
                    return MISSING if items is MISSING else []
                out: list[Any] = []
                for item in items:
                    found = tail(item)
                    if type(found) is list:
                        out.extend(found)
                return out

            return every_flat

        if len(rest) == 1 and type(rest[0]) is str:  # rows[*].qty: one key of every item
            key = rest[0]

            def every_key(node: Any) -> Any:
                items = head(node)
                if not isinstance(items, list):
                    return MISSING if items is MISSING else []
                found = [i.get(key, MISSING) if isinstance(i, dict) else MISSING for i in items]
                return [v for v in found if v is not MISSING]

            return every_key

        def every(node: Any) -> Any:
            items = head(node)
            if not isinstance(items, list):
                return MISSING if items is MISSING else []
            found = [tail(item) for item in items]
            return [v for v in found if v is not MISSING]

        return every
    return step_reader(steps)


class _Compiler:
    def __init__(self, env: Env) -> None:
        self.env = env

    @property
    def codelist_names(self) -> set[str] | None:
        return self.env.codelist_names

    @property
    def functions(self) -> dict[str, Any]:
        return self.env.functions

    @contextmanager
    def bound(self, names: list[str]) -> Iterator[list[int]]:
        """Compile with ``names`` (parameters) known: each reads a slot of the run.

        A parameter is a slot of the run (``run.slots[k]``), set before its body runs: no
        scope or dictionary is made per call, and runs on several threads do not meet. A
        slot is never in use twice at once: functions of the mapping call only those
        defined before them, so nothing recurses.
        """
        before = dict(self.env.locals)
        taken = []
        for name in names:
            slot = self.env.slots[0]
            self.env.slots[0] += 1
            self.env.locals[name] = slot
            taken.append(slot)
        try:
            yield taken
        finally:
            self.env.locals = before

    def problem(self, node: Node, message: str, hint: str | None = None) -> None:
        self.env.problems.append(ExprProblem(message, node.pos, hint))

    def compile(self, node: Node) -> Evaluator:
        # GEN_KINDS empty: every node a closure (the differential test compares both).
        if node.kind in GEN_KINDS and worth_generating(node):
            return generate(self, node)
        return self.closure(node)

    def closure(self, node: Node) -> Evaluator:
        """``node`` as a closure (its operands compiled by :meth:`compile`)."""
        method: Callable[[Node], Evaluator] = getattr(self, "c_" + node.kind)
        return method(node)

    def c_lit(self, node: Node) -> Evaluator:
        value = node.value
        return lambda s: value

    def c_path(self, node: Node) -> Evaluator:
        base, steps = node.value
        evaluate = self.base_path(node, base, steps)
        if WILD not in steps:
            return evaluate

        def read_all(s: Scope) -> Any:  # a new list: its items count against the budget
            found = evaluate(s)
            if type(found) is list:
                s.run.add_values(len(found))
            return found

        return read_all

    def base_path(self, node: Node, base: str, steps: list[str | int]) -> Evaluator:
        """Read ``steps`` from what ``base`` names: the item, the root, a variable."""
        if self.env.pure and (base in ("", "$") or base[1:] in BUILT_IN):
            self.problem(
                node,
                f"a function defined in the mapping reads only its parameters, not {node.text!r}",
                "pass the value as an argument",
            )
            return _missing
        if base == "":
            if len(steps) == 1 and isinstance(steps[0], str):
                key = steps[0]

                def item_key(s: Scope) -> Any:
                    item = s.item
                    return item.get(key, MISSING) if isinstance(item, dict) else MISSING

                return item_key
            read = _reader(steps)
            return lambda s: read(s.item)
        read = _reader(steps) if steps else _same
        if base == "$":
            return lambda s: read(s.item)
        if base == "$root":
            return lambda s: read(s.root)
        if base in ("$parent", "$index", "$pos") and self.env.depth < 1:
            self.problem(node, f"`{base}` is only available inside `each` or `split`")
            return _missing
        if base == "$parent":
            return lambda s: read(s.up.item if s.up is not None else MISSING)
        if base in ("$parent_index", "$parent_pos"):
            return self.outer_position(node, base, steps)
        if base in ("$index", "$pos"):
            if steps:
                self.problem(node, f"`{base}` is a number and has no fields")
            if base == "$pos":
                return lambda s: s.pos
            return lambda s: s.index
        name = base[1:]
        slot = self.env.locals.get(name)
        if slot is not None:
            if not steps:
                return lambda s: s.run.slots[slot]
            if len(steps) == 1 and type(steps[0]) is str:  # $r.sku: one step, no reader call
                key = steps[0]

                def slot_key(s: Scope) -> Any:
                    value = s.run.slots[slot]
                    return value.get(key, MISSING) if isinstance(value, dict) else MISSING

                return slot_key
            return lambda s: read(s.run.slots[slot])
        if name not in self.env.variables:
            close = difflib.get_close_matches(name, self.env.variables, n=3)
            self.problem(
                node,
                f"unknown variable {base!r}",
                "did you mean " + ", ".join(f"${c}" for c in close) + "?"
                if close
                else "define it under `vars` before its use; "
                "built in: $, $root, $parent, $index, $pos, $parent_index, $parent_pos",
            )
            return _missing
        if not steps:
            return lambda s: s.vars.get(name, MISSING)
        return lambda s: read(s.vars.get(name, MISSING))

    def outer_position(self, node: Node, base: str, steps: list[str | int]) -> Evaluator:
        """``$parent_index`` / ``$parent_pos``: the position of the item one loop up.

        Only a loop inside another loop (``each`` in ``each`` or in ``split``) has one: the
        item of a first-level loop is the whole source, which has no position.
        """
        if self.env.depth < 2:
            self.problem(
                node,
                f"`{base}` is only available in an `each` inside another `each` or `split`",
                "in a first-level loop, $index is the item's own position",
            )
            return _missing
        if steps:
            self.problem(node, f"`{base}` is a number and has no fields")
        if base == "$parent_pos":
            return lambda s: s.up.pos  # type: ignore[union-attr]  # depth >= 2: an outer loop
        return lambda s: s.up.index  # type: ignore[union-attr]

    def c_get(self, node: Node) -> Evaluator:
        """Steps into a computed value: ``find(rows, r -> $r.ok).sku``."""
        inner = self.compile(node.args[0])
        steps: list[str | int] = node.value
        read = _reader(steps)
        wild = WILD in steps

        def get(s: Scope) -> Any:
            found = read(inner(s))
            if wild and type(found) is list:
                s.run.add_values(len(found))
            return found

        return get

    def c_lambda(self, node: Node) -> Evaluator:
        self.problem(node, "an inline function is only allowed as the argument of a list function")
        return _missing

    def c_neg(self, node: Node) -> Evaluator:
        inner = self.compile(node.args[0])

        def neg(s: Scope) -> Any:
            value = inner(s)
            if value is None or value is MISSING:
                return None
            if type(value) is int:
                return -value
            return plain(-decimal_of(value))

        return neg

    def c_not(self, node: Node) -> Evaluator:
        inner = self.compile(node.args[0])
        return lambda s: not truthy(inner(s))

    def c_and(self, node: Node) -> Evaluator:
        left, right = (self.compile(a) for a in node.args)
        if all(a.kind in _BOOLEAN for a in node.args):  # no truth test needed
            return lambda s: left(s) and right(s)
        return lambda s: truthy(left(s)) and truthy(right(s))

    def c_or(self, node: Node) -> Evaluator:
        left, right = (self.compile(a) for a in node.args)
        if all(a.kind in _BOOLEAN for a in node.args):
            return lambda s: left(s) or right(s)
        return lambda s: truthy(left(s)) or truthy(right(s))

    def c_bin(self, node: Node) -> Evaluator:
        op = node.value
        left, right = (self.compile(a) for a in node.args)
        sources = sources_of(node)
        if op == "&":

            def join(s: Scope) -> str:
                a, b = text_of_value(left(s)), text_of_value(right(s))
                size = len(a) + len(b)
                if size > MAX_TEXT_LENGTH:
                    reason = f"the text would have {size:,} characters (at most {TEXT_LIMIT})"
                    raise failure(s, f"{show(a)} & {show(b)}", reason, sources)
                if size > SHORT_TEXT:
                    charge_text(s.run, size)
                return a + b

            return join

        def arith(s: Scope) -> Any:
            a = left(s)
            b = right(s)
            if a is None or a is MISSING or b is None or b is MISSING:
                return None
            try:
                if type(a) is int and type(b) is int:
                    if op == "+":
                        return bounded_int(a + b)
                    if op == "-":
                        return bounded_int(a - b)
                    if op == "*":
                        if a.bit_length() + b.bit_length() > INT_BITS:
                            raise EvalError("the product is out of range")
                        return bounded_int(a * b)
                x, y = decimal_of(a), decimal_of(b)
                if op == "+":
                    return plain(x + y)
                if op == "-":
                    return plain(x - y)
                if op == "*":
                    return plain(x * y)
                if y == 0:
                    raise EvalError("division by zero")
                return plain(x / y)
            except EvalError as exc:
                raise failure(s, f"{show(a)} {op} {show(b)}", str(exc), sources) from None

        return arith

    def c_cmp(self, node: Node) -> Evaluator:
        op = node.value
        left, right = (self.compile(a) for a in node.args)
        sources = sources_of(node)
        test = _COMPARE[op]
        ordered = op not in ("==", "!=")
        slow = slow_compare(op, sources)

        literal = node.args[1]
        if literal.kind == "lit" and not ordered and literal.value is None:
            if op == "==":  # x == null: missing or null, as the general case finds
                return lambda s: (value := left(s)) is None or value is MISSING
            return lambda s: (value := left(s)) is not None and value is not MISSING
        if literal.kind == "lit" and (
            type(literal.value) in (str, int) or (type(literal.value) is bool and not ordered)
        ):
            constant = literal.value
            same = type(constant)

            def compare_literal(s: Scope) -> bool:  # x == 'text', x > 2: nothing to evaluate
                a = left(s)
                if type(a) is same:
                    return bool(test(a, constant))
                return slow(s, a, constant)

            return compare_literal

        def compare(s: Scope) -> bool:
            a = left(s)
            b = right(s)
            kind = type(a)
            if kind is type(b) and (kind is str or kind is int or (kind is bool and not ordered)):
                return bool(test(a, b))  # the common case: no conversion to make
            return slow(s, a, b)

        return compare

    def c_call(self, node: Node) -> Evaluator:
        return compile_call(self, node)
