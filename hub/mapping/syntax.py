"""The mapping expression language's syntax: tokens, and a parser into a tree of :class:`Node`.

Hand-written precedence climbing, loosest first: ``or``, ``and``, ``not``, comparisons
(``== != < <= > >=``, not chained), ``&`` (text join), ``+ -``, ``* /``, unary ``-``, then
literals, paths, ``$`` references, calls and parentheses. Nesting is bounded
(:data:`~hub.mapping.limits.MAX_EXPRESSION_DEPTH`): the parser, the compiler and the
evaluator recurse once per level, so the limit keeps them far from Python's recursion limit,
and a deeper expression is refused at the character where the limit is crossed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hub.mapping.limits import MAX_DIGITS, MAX_EXPRESSION_DEPTH, MAX_WILDCARDS
from hub.mapping.paths import PathSyntaxError, parse_path

__all__ = ["WILD", "ExprSyntaxError", "Node", "parse_expr", "parse_function"]

_PATH_CHARS = re.compile(r"[A-Za-z0-9_@$.:\[\]-]*")  # ':' for XML's cbc:ID
_NAME_START = re.compile(r"[A-Za-z_@\[]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d+(\.\d+)?")
_KEYWORDS = {"true": True, "false": False, "null": None}
_WORD_OPS = {"and", "or", "not"}
_OPS = ("->", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "&", "(", ")", ",")
_PATH_HINT = "write paths like a.b[0].c"


class ExprSyntaxError(ValueError):
    """An expression that cannot be parsed; ``offset`` is the 0-based character."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


@dataclass
class Node:
    kind: str  # lit path call if bin neg not and or
    pos: int
    text: str
    value: Any = None  # lit: the value; path: (base, steps); bin: the operator
    args: list[Node] = field(default_factory=list)
    depth: int = 1  # levels of the tree below and including this node


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
            if len(raw) - ("." in raw) > MAX_DIGITS:
                raise ExprSyntaxError(
                    f"a number has more than {MAX_DIGITS} digits", pos, "write it as text"
                )
            out.append(_Tok("num", pos, raw, float(raw) if "." in raw else int(raw)))
            pos = after
            continue
        if ch == "$":
            ident = _IDENT.match(text, pos + 1)
            name_end = ident.end() if ident else pos + 1
            rest_end = _path_end(text, name_end)
            steps: list[str | int] = []
            if rest_end > name_end:
                tail = text[name_end:rest_end]
                if tail[0] not in ".[":
                    raise ExprSyntaxError(f"unexpected {tail[0]!r}", name_end)
                _check_wildcards(text, name_end, tail)
                steps = _wild_path("_" + tail, name_end - 1, text[pos:rest_end])[1:]
            name = ident.group(0) if ident else ""
            out.append(_Tok("var", pos, text[pos:rest_end], (name, steps)))
            pos = rest_end
            continue
        if ch in ".[" and out and out[-1].kind == "op" and out[-1].text == ")":
            stop = _path_end(text, pos)  # steps into what a call or parentheses gave
            tail = text[pos:stop]
            _check_wildcards(text, pos, tail)
            steps = _wild_path("_" + tail, pos - 1, tail)[1:]
            out.append(_Tok("steps", pos, tail, steps))
            pos = stop
            continue
        if _NAME_START.match(ch):
            stop = _path_end(text, pos)
            raw = text[pos:stop]
            _check_wildcards(text, pos, raw)
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


def _path_end(text: str, pos: int) -> int:
    """Where the path starting at ``pos`` ends: ``[*]`` steps included, before any ``->``."""
    match = _PATH_CHARS.match(text, pos)
    stop = match.end() if match else pos
    while text.startswith("*", stop) and text[stop - 1] == "[":  # a[*].b
        stop += 2 if text.startswith("*]", stop) else 1  # `a[*` fails below: no ]
        more = _PATH_CHARS.match(text, stop)
        stop = more.end() if more else stop
    arrow = text.find("->", pos, stop)
    return arrow if arrow >= 0 else stop


def _check_wildcards(text: str, pos: int, raw: str) -> None:
    if raw.count(WILD) > MAX_WILDCARDS:
        cut = pos
        for _ in range(MAX_WILDCARDS + 1):
            cut = text.index(WILD, cut) + len(WILD)
        raise ExprSyntaxError(f"a path may have at most {MAX_WILDCARDS} [*] steps", cut - len(WILD))


def _wild_path(raw: str, pos: int, shown: str | None = None) -> list[str | int]:
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
                f"bad path {shown or raw!r}: {exc.reason}",
                pos + offset + exc.column - 1 - shift,
                _PATH_HINT,
            ) from None
        steps.extend(parsed[shift:])
        offset += len(part) + 3
    return steps


# --- parser -----------------------------------------------------------------------------


#: Binary operators: (precedence, node kind); higher binds tighter. ``not`` sits at 3.
_BINARY: dict[str, tuple[int, str]] = {
    "or": (1, "or"),
    "and": (2, "and"),
    **dict.fromkeys(("==", "!=", "<", "<=", ">", ">="), (4, "cmp")),
    "&": (5, "bin"),
    "+": (6, "bin"),
    "-": (6, "bin"),
    "*": (7, "bin"),
    "/": (7, "bin"),
}
_NOT_LEVEL = 3
_DEPTH_HINT = "split the expression: give parts of it names under `vars`"


class _Parser:
    """Precedence climbing: one frame per nesting level, so the depth limit is the guard."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.level = 0  # nesting of parentheses, calls, operands and prefixes being parsed

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

    def enter(self, pos: int) -> None:
        """One level deeper; refused at ``pos`` past :data:`MAX_EXPRESSION_DEPTH`."""
        self.level += 1
        if self.level > MAX_EXPRESSION_DEPTH:
            raise _too_deep(pos)

    def node(self, kind: str, pos: int, value: Any, args: list[Node], at: int) -> Node:
        """A node over ``args``; refused at ``at`` when the tree grows too deep."""
        depth = 1 + max((a.depth for a in args), default=0)
        if depth > MAX_EXPRESSION_DEPTH:
            raise _too_deep(at)
        return Node(kind, pos, self.src(pos), value, args, depth)

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ExprSyntaxError("empty expression", 0)
        node = self.expression(1)
        if self.tok.kind != "end":
            raise self.unexpected("an operator or the end")
        return node

    def binary(self) -> tuple[int, str] | None:
        tok = self.tok
        if tok.kind == "word" or tok.kind == "op":
            return _BINARY.get(tok.text)
        return None

    def expression(self, min_level: int) -> Node:
        """Operators binding at least as tight as ``min_level``, left-associative."""
        self.enter(self.tok.pos)
        left = self.operand(min_level)
        compared = False
        while True:
            found = self.binary()
            if found is None or found[0] < min_level:
                break
            level, kind = found
            if kind == "cmp" and compared:
                raise ExprSyntaxError(
                    "comparisons cannot be chained", self.tok.pos, "join them with `and`"
                )
            op = self.take()
            right = self.expression(level + 1)
            value = op.text if kind in ("bin", "cmp") else None
            left = self.node(kind, left.pos, value, [left, right], op.pos)
            compared = kind == "cmp"
        self.level -= 1
        return left

    def operand(self, min_level: int) -> Node:
        if self.at("word", "not") and min_level <= _NOT_LEVEL:
            start = self.take().pos
            inner = self.expression(_NOT_LEVEL)  # one level deeper
            return self.node("not", start, None, [inner], start)
        return self.unary()

    def unary(self) -> Node:
        if self.at("op", "-"):
            start = self.take().pos
            self.enter(start)
            inner = self.unary()
            self.level -= 1
            return self.node("neg", start, None, [inner], start)
        return self.primary()

    def argument(self) -> Node:
        """A call's argument: an expression, or an inline function ``x -> ...``."""
        params = self.lambda_params()
        if params is None:
            return self.expression(1)
        start = self.tok.pos
        names: list[str] = []
        for _ in range(params):
            tok = self.take()
            if tok.kind in ("name", "var"):
                name = tok.text.lstrip("$")
                if name in names:
                    raise ExprSyntaxError(f"parameter {name!r} is named twice", tok.pos)
                if name in _BUILT_IN:
                    raise ExprSyntaxError(
                        f"`${name}` is built in; name the parameter otherwise", tok.pos
                    )
                names.append(name)
        self.take()  # ->
        self.enter(start)
        body = self.expression(1)
        self.level -= 1
        return self.node("lambda", start, names, [body], start)

    def lambda_params(self) -> int | None:
        """How many tokens up to ``->`` when an inline function starts here, else None."""
        toks, i = self.toks, self.i
        if _is_param(toks[i]) and toks[i + 1].kind == "op" and toks[i + 1].text == "->":
            return 1
        if not (toks[i].kind == "op" and toks[i].text == "("):
            return None
        j = i + 1
        while _is_param(toks[j]):
            j += 1
            if toks[j].kind == "op" and toks[j].text == ",":
                j += 1
                continue
            break
        if toks[j].kind == "op" and toks[j].text == ")" and toks[j + 1].text == "->":
            return j - i + 1  # ( a , b ) ; the loop in argument() keeps names only
        return None

    def primary(self) -> Node:
        node = self.value()
        if self.tok.kind == "steps":  # f(x).a[0], (expr).a
            steps = self.take()
            return self.node("get", node.pos, steps.value, [node], steps.pos)
        return node

    def value(self) -> Node:
        tok = self.tok
        if tok.kind in ("num", "str"):
            self.take()
            return Node("lit", tok.pos, tok.text, tok.value)
        if tok.kind == "op" and tok.text == "(":
            self.take()
            inner = self.expression(1)
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
                    args.append(self.argument())
                    while self.at("op", ","):
                        self.take()
                        args.append(self.argument())
                if not self.at("op", ")"):
                    raise self.unexpected("',' or ')'")
                self.take()
                return self.node("call", tok.pos, tok.text, args, tok.pos)
            return Node("path", tok.pos, tok.text, ("", tok.value))
        raise self.unexpected("a value, a path or a function call")


#: Names of the built-in references (``$root``, ...): no variable or parameter may take one.
BUILT_IN = frozenset({"root", "parent", "index", "pos", "parent_index", "parent_pos"})
_BUILT_IN = BUILT_IN | {""}


def _is_param(tok: _Tok) -> bool:
    if tok.kind == "name":
        return _IDENT.fullmatch(tok.text) is not None and tok.text not in _KEYWORDS
    return tok.kind == "var" and not tok.value[1]


def _too_deep(pos: int) -> ExprSyntaxError:
    return ExprSyntaxError(
        f"the expression nests deeper than {MAX_EXPRESSION_DEPTH} levels "
        "(parentheses, calls and operators)",
        pos,
        _DEPTH_HINT,
    )


def parse_expr(text: str) -> Node:
    """Parse ``text``; :class:`ExprSyntaxError` has the 0-based offset of the fault."""
    return _Parser(text).parse()


def parse_function(text: str) -> Node:
    """Parse a function of the mapping file, ``(a, b) -> body``, into a ``lambda`` node."""
    parser = _Parser(text)
    if parser.lambda_params() is None:
        raise ExprSyntaxError(
            "a function is written (parameters) -> expression",
            0,
            "for example: (price, quantity) -> $price * $quantity",
        )
    node = parser.argument()
    if parser.tok.kind != "end":
        raise parser.unexpected("an operator or the end")
    return node
