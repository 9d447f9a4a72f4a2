"""The mapping expression language: parsed once by hand, compiled to Python closures.

No ``eval``/``exec``: an expression is tokenized, parsed by recursive descent into a
small tree of :class:`Node`, then compiled into nested closures ``fn(scope) -> value``.
Paths read dict keys and list indexes only, so there is no attribute access; functions
come from :mod:`hub.mapping.functions` only (checked at load time).

Precedence, loosest first: ``or``, ``and``, ``not``, comparisons (``== != < <= > >=``,
not chained), ``&`` (text join), ``+ -``, ``* /``, unary ``-``, then literals, paths,
``$`` references, calls and parentheses.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.mapping.functions.registry import FUNCTIONS, FunctionError, lookup
from hub.mapping.paths import MISSING, PathSyntaxError, parse_path, step_reader

__all__ = [
    "MAX_ITEMS",
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

_PATH_CHARS = re.compile(r"[A-Za-z0-9_@$.\[\]-]*")
_NAME_START = re.compile(r"[A-Za-z_@\[]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d+(\.\d+)?")
_KEYWORDS = {"true": True, "false": False, "null": None}
_WORD_OPS = {"and", "or", "not"}
_OPS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "&", "(", ")", ",")
_PATH_HINT = "write paths like a.b[0].c"


class ExprSyntaxError(ValueError):
    """An expression that cannot be parsed; ``offset`` is the 0-based character."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


@dataclass(frozen=True)
class ExprProblem:
    """A load-time problem found after parsing (unknown function, bad arity, ...)."""

    message: str
    offset: int
    hint: str | None = None


class EvalError(ValueError):
    """A run-time failure; the rule adds the target path and raises MappingError."""


@dataclass
class Node:
    kind: str  # lit path call if bin neg not and or
    pos: int
    text: str
    value: Any = None  # lit: the value; path: (base, steps); bin: the operator
    args: list[Node] = field(default_factory=list)


# --- tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: str  # num str name var op word end
    pos: int
    text: str
    value: Any = None


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        if pos >= end:
            out.append(_Tok("end", pos, ""))
            return out
        ch = text[pos]
        if ch in "'\"":
            chars: list[str] = []
            i = pos + 1
            while True:
                if i >= end:
                    raise ExprSyntaxError(
                        "unterminated text literal", pos, f"close it with {ch} (double it inside)"
                    )
                if text[i] == ch:
                    if i + 1 < end and text[i + 1] == ch:
                        chars.append(ch)
                        i += 2
                        continue
                    break
                chars.append(text[i])
                i += 1
            out.append(_Tok("str", pos, text[pos : i + 1], "".join(chars)))
            pos = i + 1
            continue
        number = _NUMBER.match(text, pos)
        if number:
            raw = number.group(0)
            after = number.end()
            if after < end and (text[after].isalpha() or text[after] in "_@"):
                raise ExprSyntaxError(f"unexpected {text[after]!r} after number {raw}", after)
            out.append(_Tok("num", pos, raw, float(raw) if "." in raw else int(raw)))
            pos = after
            continue
        if ch == "$":
            ident = _IDENT.match(text, pos + 1)
            name_end = ident.end() if ident else pos + 1
            rest = _PATH_CHARS.match(text, name_end)
            rest_end = rest.end() if rest else name_end
            steps: list[str | int] = []
            if rest_end > name_end:
                tail = text[name_end:rest_end]
                if tail[0] not in ".[":
                    raise ExprSyntaxError(f"unexpected {tail[0]!r}", name_end)
                try:
                    steps = parse_path("_" + tail)[1:]
                except PathSyntaxError as exc:
                    raise ExprSyntaxError(
                        f"bad path {text[pos:rest_end]!r}: {exc.reason}",
                        name_end + exc.column - 2,
                        _PATH_HINT,
                    ) from None
            name = ident.group(0) if ident else ""
            out.append(_Tok("var", pos, text[pos:rest_end], (name, steps)))
            pos = rest_end
            continue
        if _NAME_START.match(ch):
            match = _PATH_CHARS.match(text, pos)
            assert match is not None
            stop = match.end()
            while text.startswith("*", stop) and text[stop - 1] == "[":  # a[*].b
                stop += 2 if text.startswith("*]", stop) else 1  # `a[*` fails below: no ]
                more = _PATH_CHARS.match(text, stop)
                stop = more.end() if more else stop
            raw = text[pos:stop]
            if raw in _WORD_OPS:
                out.append(_Tok("word", pos, raw))
            elif raw in _KEYWORDS:
                out.append(_Tok("num", pos, raw, _KEYWORDS[raw]))  # a literal
            else:
                out.append(_Tok("name", pos, raw, _wild_path(raw, pos)))
            pos = stop
            continue
        for op in _OPS:
            if text.startswith(op, pos):
                out.append(_Tok("op", pos, op))
                pos += len(op)
                break
        else:
            hint = "use == to compare" if ch == "=" else None
            raise ExprSyntaxError(f"unexpected {ch!r}", pos, hint)


#: The ``[*]`` step: every item of a list (``line_items[*].total``).
WILD = "[*]"


def _wild_path(raw: str, pos: int) -> list[str | int]:
    steps: list[str | int] = []
    offset = 0
    for number, part in enumerate(raw.split("[*]")):
        if number:
            steps.append(WILD)
            if not part:
                offset += 3
                continue
        text = part if number == 0 else "_" + part
        shift = 0 if number == 0 else 1
        try:
            parsed = parse_path(text)
        except PathSyntaxError as exc:
            raise ExprSyntaxError(
                f"bad path {raw!r}: {exc.reason}",
                pos + offset + exc.column - 1 - shift,
                _PATH_HINT,
            ) from None
        steps.extend(parsed[shift:])
        offset += len(part) + 3
    return steps


# --- parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at(self, kind: str, *texts: str) -> bool:
        tok = self.tok
        return tok.kind == kind and (not texts or tok.text in texts)

    def unexpected(self, what: str = "") -> ExprSyntaxError:
        tok = self.tok
        found = "end of expression" if tok.kind == "end" else repr(tok.text)
        expected = f", expected {what}" if what else ""
        return ExprSyntaxError(f"unexpected {found}{expected}", tok.pos)

    def src(self, start: int) -> str:
        return self.text[start : self.toks[self.i - 1].pos + len(self.toks[self.i - 1].text)]

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ExprSyntaxError("empty expression", 0)
        node = self.or_()
        if self.tok.kind != "end":
            raise self.unexpected("an operator or the end")
        return node

    def _chain(self, kind: str, word: str, sub: Callable[[], Node]) -> Node:
        node = sub()
        while self.at("word", word):
            self.take()
            right = sub()
            node = Node(kind, node.pos, self.src(node.pos), args=[node, right])
        return node

    def or_(self) -> Node:
        return self._chain("or", "or", self.and_)

    def and_(self) -> Node:
        return self._chain("and", "and", self.not_)

    def not_(self) -> Node:
        if self.at("word", "not"):
            start = self.take().pos
            inner = self.not_()
            return Node("not", start, self.src(start), args=[inner])
        return self.compare()

    def compare(self) -> Node:
        left = self.concat()
        if self.at("op", "==", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            right = self.concat()
            left = Node("cmp", left.pos, self.src(left.pos), op, [left, right])
            if self.at("op", "==", "!=", "<", "<=", ">", ">="):
                raise ExprSyntaxError(
                    "comparisons cannot be chained", self.tok.pos, "join them with `and`"
                )
        return left

    def _binary(self, ops: tuple[str, ...], sub: Callable[[], Node]) -> Node:
        node = sub()
        while self.at("op", *ops):
            op = self.take().text
            right = sub()
            node = Node("bin", node.pos, self.src(node.pos), op, [node, right])
        return node

    def concat(self) -> Node:
        return self._binary(("&",), self.additive)

    def additive(self) -> Node:
        return self._binary(("+", "-"), self.term)

    def term(self) -> Node:
        return self._binary(("*", "/"), self.unary)

    def unary(self) -> Node:
        if self.at("op", "-"):
            start = self.take().pos
            inner = self.unary()
            return Node("neg", start, self.src(start), args=[inner])
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind in ("num", "str"):
            self.take()
            return Node("lit", tok.pos, tok.text, tok.value)
        if tok.kind == "op" and tok.text == "(":
            self.take()
            inner = self.or_()
            if not self.at("op", ")"):
                raise self.unexpected("')'")
            self.take()
            return inner
        if tok.kind == "var":
            self.take()
            return Node("path", tok.pos, tok.text, ("$" + tok.value[0], tok.value[1]))
        if tok.kind == "name":
            self.take()
            if self.at("op", "("):
                if not _IDENT.fullmatch(tok.text):
                    marks = [i for i in (tok.text.find("."), tok.text.find("[")) if i >= 0]
                    raise ExprSyntaxError(
                        "attribute access and method calls are not supported",
                        tok.pos + min(marks) if marks else tok.pos,
                        "call functions by name: upper(a.b)",
                    )
                self.take()
                args: list[Node] = []
                if not self.at("op", ")"):
                    args.append(self.or_())
                    while self.at("op", ","):
                        self.take()
                        args.append(self.or_())
                if not self.at("op", ")"):
                    raise self.unexpected("',' or ')'")
                self.take()
                return Node("call", tok.pos, self.src(tok.pos), tok.text, args)
            return Node("path", tok.pos, tok.text, ("", tok.value))
        raise self.unexpected("a value, a path or a function call")


def parse_expr(text: str) -> Node:
    """Parse ``text``; :class:`ExprSyntaxError` has the 0-based offset of the fault."""
    return _Parser(text).parse()


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
    """A value as it appears in error messages."""
    if value is None or value is MISSING:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)


def _decimal(value: Any) -> Decimal:
    kind = type(value)
    if kind is str:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise EvalError(f"{show(value)} is not a number") from None
        if number.is_finite():
            return number
        raise EvalError(f"{show(value)} is not a number")
    if kind is int:
        return Decimal(value)
    if isinstance(value, bool):
        raise EvalError(f"{show(value)} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise EvalError(f"{show(value)} is not a number") from None
        if number.is_finite():
            return number
    raise EvalError(f"{show(value)} is not a number")


def _plain(number: Decimal) -> int | float:
    """A Decimal result as tree data: ``int`` when whole, else the nearest float."""
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
            return lambda s: _text(left(s)) + _text(right(s))

        def arith(s: Scope) -> Any:
            a = left(s)
            b = right(s)
            if a is None or a is MISSING or b is None or b is MISSING:
                return None
            if type(a) is int and type(b) is int:
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
            try:
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
                try:
                    result = call(value)
                except (FunctionError, ValueError, TypeError, ArithmeticError, LookupError) as exc:
                    if isinstance(exc, EvalError):
                        raise
                    reason = str(exc) or type(exc).__name__
                    raise _failure(s, f"{name}({show(value)})", reason, sources) from None
                return _plain(result) if isinstance(result, Decimal) else result

            return invoke_one

        def invoke(s: Scope) -> Any:
            values = [None if v is MISSING else v for v in [a(s) for a in args]]
            try:
                result = call(s.run, *values) if with_context else call(*values)
            except (FunctionError, ValueError, TypeError, ArithmeticError, LookupError) as exc:
                if isinstance(exc, EvalError):
                    raise
                shown = ", ".join(show(v) for v in values)
                reason = str(exc) or type(exc).__name__
                raise _failure(s, f"{name}({shown})", reason, sources) from None
            return _plain(result) if isinstance(result, Decimal) else result

        return invoke


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
