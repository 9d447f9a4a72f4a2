"""Calls of registered functions in an expression, compiled for speed.

A call is checked at load time (the name, the number of arguments, a literal code-list
name) and compiled into a closure specialised for its number of arguments, so a run pays
for no argument list, no generator and no dictionary look-up per call. A call of a pure
function whose arguments are all literals is made once, at load time (``segment('UNS',
'S')``), and a failure there is a load-time problem located at the call.

Every call still charges the run's budget: a list or a long text given to a function
counts its length as work, and a new list or long text a function returns counts against
``max_values`` / ``max_text`` (:mod:`hub.mapping.limits`).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any, Protocol

from hub.mapping.functions.registry import FUNCTIONS, FunctionError, FunctionSpec, lookup
from hub.mapping.paths import MISSING
from hub.mapping.syntax import Node
from hub.mapping.values import (
    LONG_TEXT,
    SHORT_TEXT,
    Scope,
    charge_text,
    failure,
    plain,
    show,
    sources_of,
    truthy,
)

__all__ = [
    "CAUGHT",
    "CallCompiler",
    "compile_call",
    "fail_call",
    "finish_call",
    "foldable",
    "resolve_call",
    "special_forms",
]

Evaluator = Callable[[Scope], Any]
#: What a function may raise for a bad value: turned into a run-time MappingError.
CAUGHT = (FunctionError, ValueError, TypeError, ArithmeticError, LookupError)


class CallCompiler(Protocol):
    """What :func:`compile_call` needs of the expression compiler."""

    @property
    def codelist_names(self) -> set[str] | None: ...

    @property
    def functions(self) -> dict[str, Any]: ...

    def bound(self, names: list[str]) -> AbstractContextManager[list[int]]: ...

    def compile(self, node: Node) -> Evaluator: ...

    def problem(self, node: Node, message: str, hint: str | None = None) -> None: ...


#: The functions that take an inline function (``x -> ...``).
INLINE_TAKERS: tuple[str, ...] = ("any", "distinct", "every", "filter", "find", "group_by")
INLINE_TAKERS += ("map", "reduce", "sort_by")
#: Calls the compiler handles itself (they decide which arguments run): name -> compiler.
SpecialForm = Callable[[CallCompiler, Node], Evaluator]
_SPECIAL: dict[str, SpecialForm] = {}


def special_forms() -> dict[str, SpecialForm]:
    """``if``, and the list functions with an inline function (:mod:`hub.mapping.lambdas`)."""
    if not _SPECIAL:
        from hub.mapping import builders, lambdas

        _SPECIAL.update(lambdas.FORMS)
        _SPECIAL.update(builders.FORMS)
    return _SPECIAL


def _missing(s: Scope) -> Any:
    return MISSING


def compile_call(compiler: CallCompiler, node: Node) -> Evaluator:
    """The closure for call ``node``; load-time problems go to ``compiler.problem``."""
    found = resolve_call(compiler, node)
    if isinstance(found, FunctionSpec):
        return finish_call(compiler, node, found)
    return found


def resolve_call(compiler: CallCompiler, node: Node) -> Evaluator | FunctionSpec:
    """The checks of call ``node`` at load time: the registered function it calls (a plain
    call, its arguments not compiled yet), or the closure of any other call (``if``, a list
    function with an inline function, a function of the mapping, a load-time problem)."""
    name: str = node.value
    special = special_forms().get(name)
    if special is not None:
        return special(compiler, node)
    own = compiler.functions.get(name)
    if own is not None:
        from hub.mapping.lambdas import call_user_function

        return call_user_function(compiler, node, own)
    if any(arg.kind == "lambda" for arg in node.args):
        bad = next(arg for arg in node.args if arg.kind == "lambda")
        compiler.problem(
            bad,
            f"{name}() does not take an inline function",
            "inline functions are arguments of " + ", ".join(INLINE_TAKERS),
        )
        return _missing
    spec = lookup(name)
    if spec is None:
        names = sorted({*FUNCTIONS, *special_forms(), *compiler.functions})
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        compiler.problem(
            node,
            f"unknown function {name!r}",
            ("did you mean " + ", ".join(close) + "?")
            if close
            else "see docs/mapping-functions.md for the functions",
        )
        return _missing
    count = len(node.args)
    if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
        compiler.problem(
            node,
            f"{name}() takes {spec.arity()} argument{'s' if spec.arity() != '1' else ''}, "
            f"got {count}",
            spec.doc,
        )
        return _missing
    _check_codelist(compiler, node, spec)
    _check_pattern(compiler, node, spec)
    return spec


def foldable(spec: FunctionSpec, node: Node) -> bool:
    """Whether the call may be made once at load time (:func:`_fold` decides)."""
    return spec.name in _FOLDABLE and all(a.kind == "lit" for a in node.args)


def finish_call(compiler: CallCompiler, node: Node, spec: FunctionSpec) -> Evaluator:
    """The closure of a plain call of ``spec`` that :func:`resolve_call` found."""
    name: str = node.value
    args = [compiler.compile(a) for a in node.args]
    folded = _fold(compiler, node, spec)
    if folded is not None:
        return folded
    tail = _literal_tail(spec, node)
    if tail is not None:  # format_number(total, 2), substring(name, 0, 35)
        return _call_first(name, spec.call, args[0], tail, sources_of(node))
    return _invoker(name, spec, args, sources_of(node))


def _literal_tail(spec: FunctionSpec, node: Node) -> tuple[Any, ...] | None:
    """The arguments after the first when all are short literals (and there are one or two).

    They are passed as they are, with no evaluator per call; a literal long enough to count
    as work (:data:`LONG_TEXT`) keeps the general call, which charges it.
    """
    rest = node.args[1:]
    if spec.needs_context or not 1 <= len(rest) <= 2 or any(a.kind != "lit" for a in rest):
        return None
    values = tuple(a.value for a in rest)
    if any(type(v) is list or (type(v) is str and len(v) > LONG_TEXT) for v in values):
        return None
    return values


def _call_first(
    name: str, call: Callable[..., Any], first: Evaluator, tail: tuple[Any, ...], sources: Any
) -> Evaluator:
    """A call whose arguments after the first are literals: only the first is evaluated."""

    def invoke_first(s: Scope) -> Any:
        a = first(s)
        if a is MISSING:
            a = None
        elif type(a) is list or (type(a) is str and len(a) > LONG_TEXT):
            s.run.tick(len(a))
        try:
            result = call(a, *tail)
            kind = type(result)
            if kind is Decimal:
                return plain(result)
        except CAUGHT as exc:
            raise fail_call(s, name, (a, *tail), exc, sources) from None
        if kind is str:
            if len(result) > SHORT_TEXT and result is not a:
                _settle(s, result, kind, tail)
        elif kind is list and result is not a:
            s.run.add_values(len(result))
        return result

    return invoke_first


def _check_codelist(compiler: CallCompiler, node: Node, spec: FunctionSpec) -> None:
    names = compiler.codelist_names
    if (
        names is None
        or not spec.needs_context
        or not _takes_codelist(spec.call)
        or not node.args
        or node.args[0].kind != "lit"
        or not isinstance(node.args[0].value, str)
        or node.args[0].value in names
    ):
        return
    known = sorted(names)
    close = difflib.get_close_matches(node.args[0].value, known, n=3)
    compiler.problem(
        node.args[0],
        f"unknown code list {node.args[0].value!r}",
        ("did you mean " + ", ".join(close) + "?")
        if close
        else ("available: " + ", ".join(known) if known else "no code lists found"),
    )


#: Pure functions whose result is no bigger than their arguments: made at load time when
#: every argument is a literal (a function that can build a big value is made per run, so
#: the run's budget counts it).
_FOLDABLE = frozenset(
    {"segment", "composite", "number", "round", "integer", "abs", "format_number", "upper"}
    | {"lower", "trim", "substring", "coalesce"}
)


#: Functions whose argument at this index is a regular expression, checked at load time.
_PATTERN_ARG = {"matches": 1, "extract": 1, "replace_all": 1}


def _check_pattern(compiler: CallCompiler, node: Node, spec: FunctionSpec) -> None:
    index = _PATTERN_ARG.get(spec.name)
    if index is None or len(node.args) <= index:
        return
    arg = node.args[index]
    if arg.kind != "lit" or not isinstance(arg.value, str):
        compiler.problem(
            arg,
            f"the pattern of {spec.name}() must be a literal text",
            "patterns are checked when the mapping loads: write it in quotes",
        )
        return
    from hub.mapping.functions.patterns import check_pattern

    problem = check_pattern(arg.value)
    if problem is not None:
        compiler.problem(arg, f"pattern {arg.value!r}: {problem}")


def _fold(compiler: CallCompiler, node: Node, spec: FunctionSpec) -> Evaluator | None:
    """A pure call of literals, made now: its value (a fresh copy of a list per use)."""
    if spec.name not in _FOLDABLE or any(a.kind != "lit" for a in node.args):
        return None
    values = [a.value for a in node.args]
    try:
        result = spec.call(*values)
        if type(result) is Decimal:
            result = plain(result)
    except CAUGHT:
        return None  # fails when run, named like any run-time failure
    if type(result) is str and len(result) > SHORT_TEXT:
        return None  # charged against max_text when made
    if type(result) is list:
        if any(isinstance(item, list | dict) for item in result):
            return None  # nested: made per use, so no two outputs share a part
        size = len(result)
        copy = result

        def fresh(s: Scope) -> Any:
            s.run.add_values(size)
            return list(copy)

        return fresh
    if isinstance(result, dict):
        return None
    return lambda s: result


def _invoker(
    name: str,
    spec: FunctionSpec,
    args: list[Evaluator],
    sources: list[tuple[str, str, list[str | int]]],
) -> Evaluator:
    """A closure for this number of arguments: no list, no generator on the way."""
    call = spec.call
    if spec.needs_context:
        return _with_context(name, call, args, sources)
    count = len(args)
    if count == 0:
        return _call0(name, call, sources)
    if count == 1:
        return _call1(name, call, args[0], sources)
    if count == 2:
        return _call2(name, call, args[0], args[1], sources)
    if count == 3:
        return _call3(name, call, args[0], args[1], args[2], sources)
    return _calln(name, call, args, sources, with_context=False)


def fail_call(
    s: Scope,
    name: str,
    values: tuple[Any, ...],
    exc: BaseException,
    sources: list[tuple[str, str, list[str | int]]],
) -> Exception:
    shown = ", ".join(show(v) for v in values)
    return failure(s, f"{name}({shown})", str(exc) or type(exc).__name__, sources)


def _charge(s: Scope, value: Any) -> None:
    """An argument's length as work, for a list or a long text (the clock is read in time)."""
    kind = type(value)
    if kind is list or (kind is str and len(value) > LONG_TEXT):
        s.run.tick(len(value))


def _settle(s: Scope, result: Any, kind: type, given: tuple[Any, ...]) -> Any:
    """Charge a new list or long text the call made (not an argument handed back)."""
    if kind is str:
        if len(result) > SHORT_TEXT and not any(result is v for v in given):
            charge_text(s.run, len(result))
    elif kind is list and not any(result is v for v in given):
        s.run.add_values(len(result))
    return result


def _call0(name: str, call: Callable[..., Any], sources: Any) -> Evaluator:
    def invoke0(s: Scope) -> Any:
        try:
            result = call()
        except CAUGHT as exc:
            raise fail_call(s, name, (), exc, sources) from None
        kind = type(result)
        if kind is str or kind is list:
            return _settle(s, result, kind, ())
        return result

    return invoke0


def _call1(name: str, call: Callable[..., Any], first: Evaluator, sources: Any) -> Evaluator:
    def invoke1(s: Scope) -> Any:
        a = first(s)
        if a is MISSING:
            a = None
        elif type(a) is list or (type(a) is str and len(a) > LONG_TEXT):
            s.run.tick(len(a))
        try:
            result = call(a)
            kind = type(result)
            if kind is Decimal:
                return plain(result)
        except CAUGHT as exc:
            raise fail_call(s, name, (a,), exc, sources) from None
        if kind is list:
            if result is not a:
                s.run.add_values(len(result))
        elif kind is str and len(result) > SHORT_TEXT and result is not a:
            charge_text(s.run, len(result))
        return result

    return invoke1


def _call2(
    name: str, call: Callable[..., Any], first: Evaluator, second: Evaluator, sources: Any
) -> Evaluator:
    def invoke2(s: Scope) -> Any:
        a = first(s)
        b = second(s)
        if a is MISSING:
            a = None
        elif type(a) is list or (type(a) is str and len(a) > LONG_TEXT):
            s.run.tick(len(a))
        if b is MISSING:
            b = None
        elif type(b) is list or (type(b) is str and len(b) > LONG_TEXT):
            s.run.tick(len(b))
        try:
            result = call(a, b)
            kind = type(result)
            if kind is Decimal:
                return plain(result)
        except CAUGHT as exc:
            raise fail_call(s, name, (a, b), exc, sources) from None
        if kind is list:
            if result is not a and result is not b:
                s.run.add_values(len(result))
        elif kind is str and len(result) > SHORT_TEXT and result is not a and result is not b:
            charge_text(s.run, len(result))
        return result

    return invoke2


def _call3(
    name: str,
    call: Callable[..., Any],
    first: Evaluator,
    second: Evaluator,
    third: Evaluator,
    sources: Any,
) -> Evaluator:
    def invoke3(s: Scope) -> Any:
        a = first(s)
        b = second(s)
        c = third(s)
        if a is MISSING:
            a = None
        elif type(a) is list or (type(a) is str and len(a) > LONG_TEXT):
            s.run.tick(len(a))
        if b is MISSING:
            b = None
        elif type(b) is list or (type(b) is str and len(b) > LONG_TEXT):
            s.run.tick(len(b))
        if c is MISSING:
            c = None
        elif type(c) is list or (type(c) is str and len(c) > LONG_TEXT):
            s.run.tick(len(c))
        try:
            result = call(a, b, c)
            kind = type(result)
            if kind is Decimal:
                return plain(result)
        except CAUGHT as exc:
            raise fail_call(s, name, (a, b, c), exc, sources) from None
        if kind is list:
            if result is not a and result is not b and result is not c:
                s.run.add_values(len(result))
        elif kind is str and len(result) > SHORT_TEXT:
            _settle(s, result, kind, (a, b, c))
        return result

    return invoke3


def _calln(
    name: str,
    call: Callable[..., Any],
    args: list[Evaluator],
    sources: Any,
    *,
    with_context: bool,
) -> Evaluator:
    def invoke(s: Scope) -> Any:
        values = tuple([None if v is MISSING else v for v in [a(s) for a in args]])
        for v in values:
            if type(v) is list or type(v) is str:
                _charge(s, v)
        try:
            result = call(s.run, *values) if with_context else call(*values)
            kind = type(result)
            if kind is Decimal:
                return plain(result)
        except CAUGHT as exc:
            raise fail_call(s, name, values, exc, sources) from None
        if kind is str or kind is list:
            return _settle(s, result, kind, values)
        return result

    return invoke


def _with_context(
    name: str, call: Callable[..., Any], args: list[Evaluator], sources: Any
) -> Evaluator:
    return _calln(name, call, args, sources, with_context=True)


def compile_if(compiler: CallCompiler, node: Node) -> Evaluator:
    """``if(condition, then, else)``: only the branch taken runs."""
    if len(node.args) != 3:
        compiler.problem(
            node,
            f"if() takes 3 arguments, got {len(node.args)}",
            "if(condition, value_when_true, value_when_false)",
        )
        return _missing
    cond, yes, no = (compiler.compile(a) for a in node.args)
    return lambda s: yes(s) if truthy(cond(s)) else no(s)


def _takes_codelist(call: Callable[..., Any]) -> bool:
    """Context functions whose first real argument is named ``codelist`` (``lookup``)."""
    params = list(inspect.signature(call).parameters)
    return len(params) > 1 and params[1] == "codelist"
