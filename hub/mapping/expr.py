"""The mapping expression language: parsed once by hand, compiled to Python closures.

No ``eval``/``exec``: an expression is tokenized and parsed into a small tree of
:class:`Node` (:mod:`hub.mapping.syntax`), then compiled here into nested closures
``fn(scope) -> value``. Paths read dict keys and list indexes only, so there is no
attribute access; functions come from :mod:`hub.mapping.functions` only (checked at load
time). Numbers, texts and the work of one run are bounded (:mod:`hub.mapping.limits`).
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.mapping.functions.registry import FUNCTIONS, FunctionError, lookup
from hub.mapping.limits import (
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_TEXT_LENGTH,
    EvalError,
    bounded,
    bounded_int,
)
from hub.mapping.paths import MISSING, step_reader
from hub.mapping.syntax import WILD, ExprSyntaxError, Node, parse_expr

__all__ = [
    "MAX_ITEMS",
    "WILD",
    "EvalError",
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

Evaluator = Callable[["Scope"], Any]


@dataclass(frozen=True)
class ExprProblem:
    """A load-time problem found after parsing (unknown function, bad arity, ...)."""

    message: str
    offset: int
    hint: str | None = None


# --- run time ---------------------------------------------------------------------------


class Scope:
    """Where an expression runs: the current item and what encloses it."""

    __slots__ = ("index", "item", "pos", "root", "run", "skey", "tkey", "up", "vars")

    def __init__(
        self,
        item: Any,
        up: Scope | None,
        root: Any,
        vars: dict[str, Any],
        run: Any,
        index: int | None = None,
        pos: int = 0,
        tkey: str = "",
        skey: str = "",
    ) -> None:
        self.item = item
        self.up = up
        self.root = root
        self.vars = vars
        self.run = run
        self.index = index  # position in the source list
        self.pos = pos  # position in the output list
        self.tkey = tkey  # the target key of the loop rule (dotted, relative to `up`)
        self.skey = skey  # the loop's source expression

    def target(self, rel: str) -> str:
        """The concrete target path of rule ``rel`` here: ``lines[2].net_amount``."""
        if self.up is None:
            return rel
        head = self.up.target(self.tkey) + f"[{self.pos}]"
        return f"{head}.{rel}" if rel else head

    def source(self, rel: str) -> str:
        """The concrete source path of ``rel`` (relative to this item)."""
        if self.up is None:
            return rel
        head = self.up.source(self.skey) + f"[{self.index}]"
        if not rel:
            return head
        return head + rel if rel.startswith("[") else f"{head}.{rel}"


def truthy(value: Any) -> bool:
    return value is not MISSING and bool(value)


def show(value: Any) -> str:
    """A value as it appears in error messages (long ones shortened)."""
    if value is None or value is MISSING:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) <= 60:
            return repr(value)
        return repr(value[:50]) + f"... ({len(value):,} characters)"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        text = _SHORT.repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    text = str(value)
    return text if len(text) <= 60 else text[:30] + "..." + text[-12:]


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxstring = 3, 6, 6, 40


#: Numeric text longer than this is refused before it is parsed (digits, sign, point, exponent).
_NUMBER_TEXT = MAX_DIGITS + 8
#: Text arguments longer than this count their length as work (lists always do).
_LONG = 256
#: Texts a function returns count against ``max_text`` when longer than this (shorter ones
#: are bounded by ``max_values``: each is a value of the output, or soon dropped).
_SHORT_TEXT = 32
_MIN_ADJUSTED = -MAX_EXPONENT
_TEXT_LIMIT = f"{MAX_TEXT_LENGTH:,}"
#: Two whole numbers with more bits than this together multiply out of range.
_INT_BITS = MAX_EXPONENT * 3322 // 1000 + 2


def _decimal(value: Any) -> Decimal:
    """A number or numeric text as a Decimal, of at most :data:`MAX_DIGITS` digits.

    Its exponent is checked where a result leaves the arithmetic (:func:`_plain`): Decimal
    arithmetic on a huge exponent is cheap (28 significant digits); turning one into an
    ``int`` is not.
    """
    kind = type(value)
    if kind is str:
        text = value.strip()
        if len(text) > _NUMBER_TEXT:
            raise EvalError(f"{show(value)} is not a number of at most {MAX_DIGITS} digits")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise EvalError(f"{show(value)} is not a number") from None
        if number.is_finite():
            return number
        raise EvalError(f"{show(value)} is not a number")
    if kind is int:
        return Decimal(value)  # at most 4,300 digits (Python's limit on reading one)
    if isinstance(value, bool):
        raise EvalError(f"{show(value)} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        return _decimal(str(value))
    raise EvalError(f"{show(value)} is not a number")


def _plain(number: Decimal) -> int | float:
    """A Decimal result as tree data: ``int`` when whole, else the nearest float."""
    if not (_MIN_ADJUSTED < number.adjusted() < MAX_EXPONENT or not number):
        bounded(number)  # raises, saying the range
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _numeric_pair(a: Any, b: Any) -> tuple[Decimal, Decimal] | None:
    """Both as Decimals when one is a number and the other a number or numeric text."""
    if not (_is_number(a) or _is_number(b)):
        return None
    if not all(_is_number(v) or isinstance(v, str) for v in (a, b)):
        return None
    try:
        return _decimal(a), _decimal(b)
    except EvalError:
        return None


def _text(value: Any) -> str:
    if value is None or value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(_plain(value))
    if isinstance(value, int | float):
        return str(value)
    raise EvalError(f"cannot join a {type(value).__name__} as text")


# --- compiler ----------------------------------------------------------------------------


@dataclass
class Env:
    """What an expression may refer to where it is written."""

    variables: list[str]
    depth: int  # loops around it (each, split); $parent and $index need one
    problems: list[ExprProblem] = field(default_factory=list)
    codelist_names: set[str] | None = None


def compile_expr(node: Node, env: Env) -> Evaluator:
    """Compile ``node``; load-time problems are appended to ``env.problems``."""
    return _Compiler(env).compile(node)


def _reader(steps: list[str | int]) -> Callable[[Any], Any]:
    if WILD in steps:
        cut = steps.index(WILD)
        head = _reader(steps[:cut]) if cut else (lambda n: n)
        rest = steps[cut + 1 :]
        tail = _reader(rest) if rest else (lambda n: n)

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

    def problem(self, node: Node, message: str, hint: str | None = None) -> None:
        self.env.problems.append(ExprProblem(message, node.pos, hint))

    def compile(self, node: Node) -> Evaluator:
        method: Callable[[Node], Evaluator] = getattr(self, "c_" + node.kind)
        return method(node)

    def c_lit(self, node: Node) -> Evaluator:
        value = node.value
        return lambda s: value

    def c_path(self, node: Node) -> Evaluator:
        base, steps = node.value
        if base == "":
            read = _reader(steps)
            if len(steps) == 1 and isinstance(steps[0], str):
                key = steps[0]

                def item_key(s: Scope) -> Any:
                    item = s.item
                    return item.get(key, MISSING) if isinstance(item, dict) else MISSING

                return item_key
            if WILD in steps:  # a new list: its items count against the run's budget

                def read_all(s: Scope) -> Any:
                    found = read(s.item)
                    if type(found) is list:
                        s.run.add_values(len(found))
                    return found

                return read_all
            return lambda s: read(s.item)
        read = _reader(steps) if steps else (lambda n: n)
        if base == "$":
            return lambda s: read(s.item)
        if base == "$root":
            return lambda s: read(s.root)
        if base in ("$parent", "$index") and self.env.depth < 1:
            self.problem(node, f"`{base}` is only available inside `each` or `split`")
            return lambda s: MISSING
        if base == "$parent":
            return lambda s: read(s.up.item if s.up is not None else MISSING)
        if base == "$index":
            if steps:
                self.problem(node, "`$index` is a number and has no fields")
            return lambda s: s.index
        name = base[1:]
        if name not in self.env.variables:
            close = difflib.get_close_matches(name, self.env.variables, n=3)
            self.problem(
                node,
                f"unknown variable {base!r}",
                "did you mean " + ", ".join(f"${c}" for c in close) + "?"
                if close
                else "define it under `vars` before its use; built in: $, $root, $parent, $index",
            )
            return lambda s: MISSING
        return lambda s: read(s.vars.get(name, MISSING))

    def c_neg(self, node: Node) -> Evaluator:
        inner = self.compile(node.args[0])

        def neg(s: Scope) -> Any:
            value = inner(s)
            if value is None or value is MISSING:
                return None
            if type(value) is int:
                return -value
            return _plain(-_decimal(value))

        return neg

    def c_not(self, node: Node) -> Evaluator:
        inner = self.compile(node.args[0])
        return lambda s: not truthy(inner(s))

    def c_and(self, node: Node) -> Evaluator:
        left, right = (self.compile(a) for a in node.args)
        return lambda s: truthy(left(s)) and truthy(right(s))

    def c_or(self, node: Node) -> Evaluator:
        left, right = (self.compile(a) for a in node.args)
        return lambda s: truthy(left(s)) or truthy(right(s))

    def c_bin(self, node: Node) -> Evaluator:
        op = node.value
        left, right = (self.compile(a) for a in node.args)
        sources = _sources(node)
        if op == "&":

            def join(s: Scope) -> str:
                a, b = _text(left(s)), _text(right(s))
                size = len(a) + len(b)
                if size > MAX_TEXT_LENGTH:
                    reason = f"the text would have {size:,} characters (at most {_TEXT_LIMIT})"
                    raise _failure(s, f"{show(a)} & {show(b)}", reason, sources)
                if size > _SHORT_TEXT:
                    _charge_text(s.run, size)
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
                        if a.bit_length() + b.bit_length() > _INT_BITS:
                            raise EvalError("the product is out of range")
                        return bounded_int(a * b)
                x, y = _decimal(a), _decimal(b)
                if op == "+":
                    return _plain(x + y)
                if op == "-":
                    return _plain(x - y)
                if op == "*":
                    return _plain(x * y)
                if y == 0:
                    raise EvalError("division by zero")
                return _plain(x / y)
            except EvalError as exc:
                raise _failure(s, f"{show(a)} {op} {show(b)}", str(exc), sources) from None

        return arith

    def c_cmp(self, node: Node) -> Evaluator:
        op = node.value
        left, right = (self.compile(a) for a in node.args)
        sources = _sources(node)

        def compare(s: Scope) -> bool:
            a = left(s)
            b = right(s)
            a = None if a is MISSING else a
            b = None if b is MISSING else b
            pair = _numeric_pair(a, b)
            if pair is not None:
                a, b = pair
            if op == "==":
                return bool(a == b)
            if op == "!=":
                return bool(a != b)
            if not (pair is not None or (isinstance(a, str) and isinstance(b, str))):
                raise _failure(
                    s,
                    f"{show(a)} {op} {show(b)}",
                    "only numbers or texts can be ordered",
                    sources,
                )
            if op == "<":
                return bool(a < b)
            if op == "<=":
                return bool(a <= b)
            if op == ">":
                return bool(a > b)
            return bool(a >= b)

        return compare

    def c_call(self, node: Node) -> Evaluator:
        name: str = node.value
        args = [self.compile(a) for a in node.args]
        count = len(args)
        if name == "if":
            if count != 3:
                self.problem(
                    node,
                    f"if() takes 3 arguments, got {count}",
                    "if(condition, value_when_true, value_when_false)",
                )
                return lambda s: MISSING
            cond, yes, no = args
            return lambda s: yes(s) if truthy(cond(s)) else no(s)
        spec = lookup(name)
        if spec is None:
            names = sorted({*FUNCTIONS, "if"})
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
            self.problem(
                node,
                f"unknown function {name!r}",
                ("did you mean " + ", ".join(close) + "?")
                if close
                else "see docs/mappings.md for the functions",
            )
            return lambda s: MISSING
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            self.problem(
                node,
                f"{name}() takes {spec.arity()} argument{'s' if spec.arity() != '1' else ''}, "
                f"got {count}",
                spec.doc,
            )
            return lambda s: MISSING
        if (
            spec.needs_context
            and self.env.codelist_names is not None
            and _takes_codelist(spec.call)
            and node.args
            and node.args[0].kind == "lit"
            and isinstance(node.args[0].value, str)
            and node.args[0].value not in self.env.codelist_names
        ):
            known = sorted(self.env.codelist_names)
            close = difflib.get_close_matches(node.args[0].value, known, n=3)
            self.problem(
                node.args[0],
                f"unknown code list {node.args[0].value!r}",
                ("did you mean " + ", ".join(close) + "?")
                if close
                else ("available: " + ", ".join(known) if known else "no code lists found"),
            )
        call = spec.call
        sources = _sources(node)
        with_context = spec.needs_context

        if count == 1 and not with_context:
            only = args[0]

            def invoke_one(s: Scope) -> Any:
                value = only(s)
                if value is MISSING:
                    value = None
                else:
                    given = type(value)
                    if (given is str and len(value) > _LONG) or given is list:
                        s.run.tick(len(value))  # the function's work: the clock is read in time
                try:
                    result = call(value)
                    kind = type(result)
                    if kind is Decimal:
                        return _plain(result)
                except (FunctionError, ValueError, TypeError, ArithmeticError, LookupError) as exc:
                    reason = str(exc) or type(exc).__name__
                    raise _failure(s, f"{name}({show(value)})", reason, sources) from None
                if kind is str:
                    if len(result) > _SHORT_TEXT and result is not value:
                        _charge_text(s.run, len(result))
                elif kind is list and result is not value:
                    s.run.add_values(len(result))
                return result

            return invoke_one

        def invoke(s: Scope) -> Any:
            values: list[Any] = [None if v is MISSING else v for v in [a(s) for a in args]]
            for v in values:
                given = type(v)
                if (given is str and len(v) > _LONG) or given is list:
                    s.run.tick(len(v))
            try:
                result = call(s.run, *values) if with_context else call(*values)
                kind = type(result)
                if kind is Decimal:
                    return _plain(result)
            except (FunctionError, ValueError, TypeError, ArithmeticError, LookupError) as exc:
                shown = ", ".join(show(v) for v in values)
                reason = str(exc) or type(exc).__name__
                raise _failure(s, f"{name}({shown})", reason, sources) from None
            if kind is str:
                if len(result) > _SHORT_TEXT and not any(result is v for v in values):
                    _charge_text(s.run, len(result))  # a new text, not an argument as it was
            elif kind is list and not any(result is v for v in values):
                s.run.add_values(len(result))
            return result

        return invoke


def _charge_text(run: Any, size: int) -> None:
    """``size`` characters built; the run's budget fails past ``max_text``."""
    run.text += size
    if run.text > run.max_text:
        run.add_text(0)  # raises, naming the limit


def _sources(node: Node) -> list[tuple[str, str, list[str | int]]]:
    """The path operands of ``node`` (direct ones), to name them in run-time errors."""
    found = []
    for arg in node.args:
        if arg.kind == "path":
            base, steps = arg.value
            found.append((base, arg.text, steps))
    return found


def _steps_text(steps: list[str | int]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _failure(
    scope: Scope, what: str, reason: str, sources: list[tuple[str, str, list[str | int]]]
) -> EvalError:
    names = []
    for base, text, steps in sources:
        if base == "":
            names.append(scope.source(text))
        elif base == "$":
            names.append(scope.source(_steps_text(steps)))
        elif base == "$root":
            names.append(_steps_text(steps) or "$root")
        else:
            names.append(text)
    suffix = f" (from {', '.join(names)})" if names else ""
    return EvalError(f"{what} failed: {reason}{suffix}")


def _takes_codelist(call: Callable[..., Any]) -> bool:
    """Context functions whose first real argument is named ``codelist`` (``lookup``)."""
    import inspect

    params = list(inspect.signature(call).parameters)
    return len(params) > 1 and params[1] == "codelist"
