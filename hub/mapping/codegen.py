"""Expressions compiled to Python source once, at load time: one function per expression.

The closure compiler (:mod:`hub.mapping.expr`) makes one Python call per operator node; on a
small input that fixed cost is most of a run. Here the common node kinds (literals, plain
paths, comparisons, ``and``/``or``/``not``, ``if``, arithmetic, ``&`` and calls of the
registered functions) become the statements of one generated function, the list functions
with an inline function become loops in it (:mod:`hub.mapping.genforms`), and the run's
budget is charged in place; any other node (``$parent``, ``a[*].b[*]``, the mapping's own
functions, ``switch``, ...) stays the closure the closure compiler makes, called from the
generated code. The generated code does what the closures do, statement for statement: the
same Decimal arithmetic, null handling, budget charges and error messages (a differential
test compares both).

Mapping text comes from admins and from ``POST /preview``: no text of it is ever written
into the generated source. Every value (literals, keys, names, closures, helpers) is an
argument of the factory that makes the function, referred to as ``k0``, ``k1``, ...; the
source holds only those names, generated temporaries, fixed operators and small integers.
"""

from __future__ import annotations

import functools
import operator
import weakref
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from hub.mapping.calls import CAUGHT, fail_call, finish_call, foldable, resolve_call
from hub.mapping.functions import aggregates, edifact, numbers, strings
from hub.mapping.functions.registry import FunctionSpec
from hub.mapping.genforms import FORM_HELPERS, FormGen
from hub.mapping.gensource import SourceWriter
from hub.mapping.limits import MAX_TEXT_LENGTH, EvalError, bounded_int
from hub.mapping.paths import MISSING, step_reader
from hub.mapping.syntax import BUILT_IN, WILD, Node
from hub.mapping.values import (
    INT_BITS,
    LONG_TEXT,
    SHORT_TEXT,
    TEXT_LIMIT,
    Scope,
    charge_text,
    decimal_of,
    failure,
    numeric_pair,
    plain,
    show,
    sources_of,
    text_of_value,
    truthy,
)

__all__ = [
    "GEN_KINDS",
    "MAX_NODES",
    "SIZED",
    "UNKNOWN_SIZE",
    "ClosureCompiler",
    "factory",
    "generate",
    "slow_compare",
    "worth_generating",
]

Evaluator = Callable[[Scope], Any]

#: Node kinds this module writes as source (others stay closures).
GEN_KINDS = frozenset({"lit", "path", "cmp", "and", "or", "not", "neg", "bin", "call"})
#: The most nodes one generated function is written for (see :func:`worth_generating`).
MAX_NODES = 400
#: The generated functions of ``segment``, ``composite``, ``array`` and ``if`` that leave
#: the output size of the value they return in ``s.run.size`` (see :meth:`_Gen.sized`).
SIZED: weakref.WeakSet[Evaluator] = weakref.WeakSet()
#: Added to a size the code cannot know: a list or object found by a path, a variable or
#: a function may be shared, so it is walked instead. Any sum holding it stays negative
#: (no run holds 2**62 values).
UNKNOWN_SIZE = -(1 << 62)
#: Calls whose generated value carries its size.
_SIZED_CALLS = frozenset({"segment", "composite", "array", "if"})
#: Nodes whose generated value is never a list or an object (a number, text, bool or null).
_SCALAR_KINDS = frozenset({"cmp", "and", "or", "not", "neg", "bin"})
#: The longest generated source kept in the cache of compiled sources (characters).
_CACHED_SOURCE = 16_000
#: Deeper than this, a subtree is left to the closures (Python limits indentation to 100).
_MAX_INDENT = 40
#: Nested ``try`` blocks at most (Python allows 20).
_MAX_BLOCKS = 12
#: The operators, as written in the generated source (fixed texts, never the mapping's).
_CMP_SOURCE = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ARITH_SOURCE = {"+": "+", "-": "-", "*": "*", "/": "/"}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_BOOLEAN = frozenset({"cmp", "and", "or", "not"})
#: Calls written as loops or checks (:mod:`hub.mapping.genforms`).
_FORMS = frozenset({"map", "filter", "find", "any", "every", "reduce", "sort_by", "group_by"})
_FORMS |= {"distinct", "assert", "fail"}
#: The only built-ins the generated code uses.
_BUILTINS = {"bool": bool, "dict": dict, "int": int, "isinstance": isinstance, "len": len}
_BUILTINS |= {"enumerate": enumerate, "list": list, "str": str, "type": type}
#: Helpers the generated code calls, by the name it uses for them.
_HELPERS: dict[str, Any] = {
    "MISSING": MISSING,
    "LONG_TEXT": LONG_TEXT,
    "SHORT_TEXT": SHORT_TEXT,
    "CAUGHT": CAUGHT,
    "Decimal": Decimal,
    "EvalError": EvalError,
    "plain": plain,
    "charge_text": charge_text,
    "fail_call": fail_call,
    "truthy": truthy,
    "decimal_of": decimal_of,
    "bounded_int": bounded_int,
    "failure": failure,
    "show": show,
    "text_of_value": text_of_value,
    "INT_BITS": INT_BITS,
    "MAX_TEXT_LENGTH": MAX_TEXT_LENGTH,
    "TEXT_LIMIT": TEXT_LIMIT,
}


def _too_long(s: Scope, a: str, b: str, size: int, sources: Any) -> EvalError:
    reason = f"the text would have {size:,} characters (at most {TEXT_LIMIT})"
    return failure(s, f"{show(a)} & {show(b)}", reason, sources)


def _arith_failure(s: Scope, a: Any, op: str, b: Any, exc: EvalError, sources: Any) -> EvalError:
    return failure(s, f"{show(a)} {op} {show(b)}", str(exc), sources)


#: A builder's argument computed when the mapping runs (not a literal converted at load).
_COMPUTED = object()


def _literal_texts(node: Node) -> list[Any] | None:
    """Each argument's text if it is a literal, else :data:`_COMPUTED`; None when the
    closures must report a problem (no tag, a bad tag or literal)."""
    texts: list[Any] = []
    if node.value == "segment" and not node.args:
        return None
    for index, arg in enumerate(node.args):
        if arg.kind != "lit":
            texts.append(_COMPUTED)
            continue
        try:
            if node.value == "segment" and index == 0:
                edifact.check_tag(arg.value)
                texts.append(arg.value)
            else:
                texts.append(edifact.element_text(arg.value))
        except CAUGHT:
            return None
    return texts


def _built_failure(s: Scope, name: str, node: Node, exc: BaseException, sources: Any) -> Any:
    return failure(s, f"{name}({node.text[len(name) + 1 : -1]})", str(exc), sources)


def _no_components(s: Scope, values: list[Any], sources: Any) -> None:
    for value in values:
        if type(value) is list:
            reason = "a component cannot itself have components"
            raise failure(s, f"composite({show(value)}, ...)", reason, sources)


_HELPERS["too_long"] = _too_long
_HELPERS["built_failure"] = _built_failure
_HELPERS["no_components"] = _no_components
_HELPERS["check_tag"] = edifact.check_tag
_HELPERS["element_text"] = edifact.element_text
_HELPERS["arith_failure"] = _arith_failure
_HELPERS.update(FORM_HELPERS)
_HELPERS["small_ints"] = aggregates.small_ints
_HELPERS["EMPTY"] = []  # compared with only (an empty element), never changed
_HELPERS["UNKNOWN_SIZE"] = UNKNOWN_SIZE
_HELPERS["sum"], _HELPERS["min"], _HELPERS["max"] = sum, min, max


def _intrinsic(
    call: Any,
    names: list[str],
    h: Callable[[str], str],
    literals: list[Any],
    const: Callable[[Any], str],
) -> tuple[str, str, bool] | None:
    """A test, and an expression that gives what ``call(*names)`` gives whenever the test
    holds with nothing to charge for its result: the common case of a hot function, written
    in place; the flag says whether the test also means no argument is charged (a short
    text). Texts of at most SHORT_TEXT characters are neither charged as arguments nor as
    results; whole numbers below 10**18 add up exactly as ints (see aggregates).
    ``literals`` holds each argument's literal value (:data:`_COMPUTED` when it has none)."""
    short = f"type({names[0]}) is str and len({names[0]}) <= {h('SHORT_TEXT')}" if names else ""
    if call is strings.substring and len(names) == 3 and _counts(literals[1:]):
        a, start, length = names  # substring(name, 0, 35): a slice of a short text
        return short, f"{a}[{start}:{start} + {length}]", True
    if call is numbers.format_number and len(names) == 2 and _counts(literals[1:]):
        written = numbers.WRITTEN_UNSIGNED.get(literals[1])
        if written is not None:  # format_number('27.80', 2): already written so
            test = f"{short} and {const(written.fullmatch)}({names[0]}) is not None"
            return test, names[0], True
    if len(names) == 1:
        (a,) = names
        if call is strings.trim:
            return f"type({a}) is str and len({a}) <= {h('SHORT_TEXT')}", f"{a}.strip()", True
        if call is aggregates.count:
            return f"type({a}) is list", f"len({a}) - {a}.count(None)", False
        folds = {aggregates.sum_values: "sum", aggregates.max_value: "max"}
        folds[aggregates.min_value] = "min"
        if call in folds:
            return f"{h('small_ints')}({a})", f"{h(folds[call])}({a})", False
    if len(names) == 2 and call is strings.default:
        a, b = names
        return f"type({a}) is str", f"{a} if {a} and not {a}.isspace() else {b}", False
    return None


def _counts(literals: list[Any]) -> bool:
    """Whether every value is a literal whole number of at least 0."""
    return all(type(v) is int and v >= 0 for v in literals)


class ClosureCompiler(Protocol):
    """What the generator needs of :class:`hub.mapping.expr._Compiler`."""

    env: Any

    def closure(self, node: Node) -> Evaluator: ...

    def compile(self, node: Node) -> Evaluator: ...

    def problem(self, node: Node, message: str, hint: str | None = None) -> None: ...


def slow_compare(op: str, sources: Any) -> Callable[[Scope, Any, Any], bool]:
    """A comparison of values of different types (numbers and numeric texts, nulls)."""
    test = _COMPARE[op]
    ordered = op not in ("==", "!=")

    def slow(s: Scope, a: Any, b: Any) -> bool:
        a = None if a is MISSING else a
        b = None if b is MISSING else b
        pair = numeric_pair(a, b)
        if pair is not None:
            a, b = pair
        elif ordered and not (isinstance(a, str) and isinstance(b, str)):
            raise failure(
                s,
                f"{show(a)} {op} {show(b)}",
                "only numbers or texts can be ordered",
                sources,
            )
        return bool(test(a, b))

    return slow


def worth_generating(node: Node) -> bool:
    """Whether ``node`` is written as source: an operator or call (a lone literal or path is
    as fast as its closure) of at most :data:`MAX_NODES` nodes. A bigger expression (a
    hostile ``array(a, a, ...)`` of 50,000 arguments) would cost seconds in ``compile()``;
    its closure is made instead, and its operands are considered one by one."""
    if node.kind not in GEN_KINDS or node.kind in ("lit", "path"):
        return False
    stack, count = [node], 0
    while stack:
        count += 1
        if count > MAX_NODES:
            return False
        stack.extend(stack.pop().args)
    return True


def generate(compiler: ClosureCompiler, node: Node) -> Evaluator:
    """One function for ``node``; load-time problems go to ``compiler.problem``."""
    gen = _Gen(compiler)
    gen.sizing = node.kind == "call" and node.value in _SIZED_CALLS
    before = len(compiler.env.problems)
    result = gen.expr(node)
    if len(compiler.env.problems) != before:
        return lambda s: MISSING  # never run: the mapping does not load
    if gen.only is not None and len(gen.lines) == 1:
        return gen.only  # one closure: no wrapper around it
    size = gen.sizes.get(result) if gen.sizing else None
    if size is None:
        return gen.build(result)
    gen.emit(f"s.run.size = {size}")
    made = gen.build(result)
    SIZED.add(made)
    return made


def _factory(source: str) -> Callable[..., Evaluator]:
    """The ``_make`` of ``source``; a short source is compiled once per distinct source.

    The source holds no value of the mapping, so expressions of the same shape (the same
    rule in many mappings, ``qty * price`` repeated in one) share it: ``compile()`` is the
    dear part of loading, and a hostile mapping repeating one shape pays for it once. Only
    short sources are kept, so the cache stays small (about 20 MB at most) whatever
    /preview is sent.
    """
    if len(source) <= _CACHED_SOURCE:
        return _cached_factory(source)
    return _compile_factory(source)


def _compile_factory(source: str) -> Callable[..., Evaluator]:
    code = compile(source, "<mapping expression>", "exec")
    namespace: dict[str, Any] = {}
    # The source is made here from fixed texts; every value is an argument of _make.
    exec(code, {"__builtins__": _BUILTINS}, namespace)  # noqa: S102
    make: Callable[..., Evaluator] = namespace["_make"]
    return make


_cached_factory = functools.lru_cache(maxsize=256)(_compile_factory)
#: For :mod:`hub.mapping.genrules`, whose sources follow the same rules.
factory = _factory


class _Gen(FormGen, SourceWriter):
    helpers = _HELPERS

    def __init__(self, compiler: ClosureCompiler) -> None:
        SourceWriter.__init__(self, indent=1)
        self.c = compiler
        self.slot_names: dict[int, str] = {}
        self.blocks = 0
        self.only: Evaluator | None = None
        #: Write the output size of what the builders, ``array`` and ``if`` make.
        self.sizing = False
        #: The name holding a value -> the name (or literal) holding its output size.
        self.sizes: dict[str, str] = {}

    # --- the source being written ------------------------------------------------------

    def charge(self, amount: str, deeper: int = 0) -> None:
        """``s.run.add_values(amount)`` written out: the method runs only to fail or to
        read the clock (``add_values(0)`` then does what ``add_values(amount)`` would)."""
        self.indent += deeper
        run, count = self.tmp(), self.tmp()
        self.emit(f"{run} = s.run")
        self.emit(f"{count} = {amount}")
        self.emit(f"{run}.values += {count}")
        self.emit(f"{run}.ops += {count}")
        self.emit(f"if {run}.values > {run}.max_values or {run}.ops >= {run}.check_at:")
        self.emit(f"    {run}.add_values(0)")
        self.indent -= deeper

    def ticks(self, amount: str, deeper: int = 0) -> None:
        """``s.run.tick(amount)`` written out."""
        self.indent += deeper
        run = self.tmp()
        self.emit(f"{run} = s.run")
        self.emit(f"{run}.ops += {amount}")
        self.emit(f"if {run}.ops >= {run}.check_at:")
        self.emit(f"    {run}.check()")
        self.indent -= deeper

    def add_size(self, total: str, value: str) -> None:
        """``total += `` the output size of ``value``: known, or unknown for a list or object
        the code did not make (it may be shared: the rules walk it)."""
        known = self.sizes.get(value)
        if known is None:
            self.emit(f"if type({value}) is list or type({value}) is dict:")
            self.emit(f"    {total} += {self.helper('UNKNOWN_SIZE')}")
        elif known != "0":
            self.emit(f"{total} += {known}")

    def sized(self, value: str, total: str) -> str:
        """Note ``total`` as the output size of ``value``; ``value``."""
        self.sizes[value] = total
        return value

    def build(self, result: str) -> Evaluator:
        body = "\n".join(self.lines)
        params = ", ".join(self.names)
        source = (
            f"def _make({params}):\n  def _expr(s):\n{body}\n    return {result}\n  return _expr\n"
        )
        made: Evaluator = _factory(source)(*self.values)
        return made

    # --- nodes -------------------------------------------------------------------------

    def expr(self, node: Node) -> str:
        """Write ``node``'s statements; the name that holds its value."""
        if self.indent > _MAX_INDENT or node.kind not in GEN_KINDS:
            return self.closure(self.c.closure(node))
        method: Callable[[Node], str] = getattr(self, "g_" + node.kind)
        out = method(node)
        if self.sizing and node.kind in _SCALAR_KINDS:
            self.sizes.setdefault(out, "0")
        return out

    def closure(self, evaluate: Evaluator) -> str:
        out = self.tmp()
        self.emit(f"{out} = {self.const(evaluate)}(s)")
        self.only = evaluate
        return out

    def g_lit(self, node: Node) -> str:
        return self.sized(self.const(node.value), "0")  # a number or a text

    def g_path(self, node: Node) -> str:
        """A plain path read in place; any other (``[*]``, ``$parent``, ...) its closure."""
        base, steps = node.value
        env = self.c.env
        wild = WILD in steps
        if wild and not (
            steps.count(WILD) == 1
            and len(steps) >= 2
            and steps[-2] == WILD
            and type(steps[-1]) is str
        ):
            return self.closure(self.c.closure(node))  # a[*].b[*], a[*].b.c: the closure
        if env.pure and (base in ("", "$") or base[1:] in BUILT_IN):
            return self.closure(self.c.closure(node))
        out = self.tmp()
        if base in ("", "$"):
            where = "s.item"
        elif base == "$root":
            where = "s.root"
        elif base in ("$parent", "$index", "$pos", "$parent_index", "$parent_pos"):
            return self.closure(self.c.closure(node))
        elif base[1:] in env.locals:
            slot = int(env.locals[base[1:]])
            where = self.slot_names.get(slot) or f"s.run.slots[{slot}]"
        elif base[1:] in env.variables:
            where = f"s.vars.get({self.const(base[1:])}, {self.helper('MISSING')})"
        else:
            return self.closure(self.c.closure(node))  # unknown: its problem is reported
        if wild:
            return self.every_key(where, steps[:-2], steps[-1], out)
        if not steps:
            self.emit(f"{out} = {where}")
        elif len(steps) == 1 and type(steps[0]) is str:
            item = self.tmp()
            self.emit(f"{item} = {where}")
            self.emit(
                f"{out} = {item}.get({self.const(steps[0])}, {self.helper('MISSING')}) "
                f"if isinstance({item}, dict) else {self.helper('MISSING')}"
            )
        else:
            self.emit(f"{out} = {self.const(step_reader(steps))}({where})")
        return out

    def every_key(self, where: str, head: list[str | int], key: str, out: str) -> str:
        """``rows[*].qty``: that key of every item that has it (a new list, charged)."""
        missing = self.helper("MISSING")
        items = self.tmp()
        if len(head) == 1 and type(head[0]) is str:  # rows[*].qty: the step read in place
            self.emit(f"{items} = {where}")
            self.emit(
                f"{items} = {items}.get({self.const(head[0])}, {missing}) "
                f"if isinstance({items}, dict) else {missing}"
            )
        elif head:
            self.emit(f"{items} = {self.const(step_reader(head))}({where})")
        else:
            self.emit(f"{items} = {where}")
        found, each = self.tmp(), self.tmp()
        self.emit(f"if isinstance({items}, list):")
        self.emit(
            f"    {out} = [{found} for {each} in {items} if isinstance({each}, dict) and "
            f"({found} := {each}.get({self.const(key)}, {missing})) is not {missing}]"
        )
        self.charge(f"len({out})", 1)
        self.emit(f"elif {items} is {missing}:")
        self.emit(f"    {out} = {missing}")
        self.emit("else:")
        self.emit(f"    {out} = []")
        self.emit("    s.run.add_values(0)")
        return out

    def g_not(self, node: Node) -> str:
        inner = self.expr(node.args[0])
        out = self.tmp()
        self.emit(f"{out} = not {self.helper('truthy')}({inner})")
        return out

    def g_and(self, node: Node) -> str:
        return self.junction(node, "")

    def g_or(self, node: Node) -> str:
        return self.junction(node, "not ")

    def junction(self, node: Node, negate: str) -> str:
        """``a and b`` / ``a or b``: the right side runs only when needed."""
        plain_bool = all(a.kind in _BOOLEAN for a in node.args)
        left = self.expr(node.args[0])
        out = self.tmp()
        self.emit(f"{out} = {left}" if plain_bool else f"{out} = {self.helper('truthy')}({left})")
        self.emit(f"if {negate}{out}:")
        self.indent += 1
        right = self.expr(node.args[1])
        self.emit(f"{out} = {right}" if plain_bool else f"{out} = {self.helper('truthy')}({right})")
        self.indent -= 1
        return out

    def g_neg(self, node: Node) -> str:
        value = self.expr(node.args[0])
        out = self.tmp()
        missing = self.helper("MISSING")
        self.emit(f"if {value} is None or {value} is {missing}:")
        self.emit(f"    {out} = None")
        self.emit(f"elif type({value}) is int:")
        self.emit(f"    {out} = -{value}")
        self.emit("else:")
        self.emit(f"    {out} = {self.helper('plain')}(-{self.helper('decimal_of')}({value}))")
        return out

    def g_cmp(self, node: Node) -> str:
        op: str = node.value
        written = _CMP_SOURCE[op]
        ordered = op not in ("==", "!=")
        sources = sources_of(node)
        literal = node.args[1]
        missing = self.helper("MISSING")
        a = self.expr(node.args[0])
        out = self.tmp()
        if literal.kind == "lit" and not ordered and literal.value is None:
            if op == "==":
                self.emit(f"{out} = {a} is None or {a} is {missing}")
            else:
                self.emit(f"{out} = {a} is not None and {a} is not {missing}")
            return out
        slow = self.const(slow_compare(op, sources))
        if literal.kind == "lit" and (
            type(literal.value) in (str, int) or (type(literal.value) is bool and not ordered)
        ):
            constant = self.const(literal.value)
            same = self.const(type(literal.value))
            self.emit(f"if type({a}) is {same}:")
            self.emit(f"    {out} = bool({a} {written} {constant})")
            self.emit("else:")
            self.emit(f"    {out} = {slow}(s, {a}, {constant})")
            return out
        b = self.expr(literal)
        kinds = "kind is str or kind is int" + ("" if ordered else " or kind is bool")
        kind = self.tmp()
        self.emit(f"{kind} = type({a})")
        self.emit(f"if {kind} is type({b}) and ({kinds.replace('kind', kind)}):")
        self.emit(f"    {out} = bool({a} {written} {b})")
        self.emit("else:")
        self.emit(f"    {out} = {slow}(s, {a}, {b})")
        return out

    def g_bin(self, node: Node) -> str:
        op: str = node.value
        sources = self.const(sources_of(node))
        h = self.helper
        a = self.expr(node.args[0])
        if op == "&":  # the left side is made a text before the right side runs
            x = self.tmp()
            self.emit(f"{x} = {h('text_of_value')}({a})")
            b = self.expr(node.args[1])
            out, y, size = self.tmp(), self.tmp(), self.tmp()
            self.emit(f"{y} = {h('text_of_value')}({b})")
            self.emit(f"{size} = len({x}) + len({y})")
            self.emit(f"if {size} > {h('MAX_TEXT_LENGTH')}:")
            self.emit(f"    raise {h('too_long')}(s, {x}, {y}, {size}, {sources})")
            self.emit(f"if {size} > {h('SHORT_TEXT')}:")
            self.emit(f"    {h('charge_text')}(s.run, {size})")
            self.emit(f"{out} = {x} + {y}")
            return out
        b = self.expr(node.args[1])
        out = self.tmp()
        written = _ARITH_SOURCE[op]
        missing = h("MISSING")
        exc = self.tmp()
        self.emit(f"if {a} is None or {a} is {missing} or {b} is None or {b} is {missing}:")
        self.emit(f"    {out} = None")
        self.emit("else:")
        self.emit("  try:")
        if op != "/":
            self.emit(f"    if type({a}) is int and type({b}) is int:")
            if op == "*":
                self.emit(f"        if {a}.bit_length() + {b}.bit_length() > {h('INT_BITS')}:")
                self.emit(f"            raise {h('EvalError')}('the product is out of range')")
            self.emit(f"        {out} = {h('bounded_int')}({a} {written} {b})")
            self.emit("    else:")
        else:
            self.emit("    if True:")
        x, y = self.tmp(), self.tmp()
        self.emit(f"        {x} = {h('decimal_of')}({a})")
        self.emit(f"        {y} = {h('decimal_of')}({b})")
        if op == "/":
            self.emit(f"        if {y} == 0:")
            self.emit(f"            raise {h('EvalError')}('division by zero')")
        self.emit(f"        {out} = {h('plain')}({x} {written} {y})")
        self.emit(f"  except {h('EvalError')} as {exc}:")
        self.emit(
            f"    raise {h('arith_failure')}(s, {a}, {self.const(op)}, {b}, {exc}, {sources}) "
            "from None"
        )
        return out

    def g_call(self, node: Node) -> str:
        name: str = node.value
        if name == "if" and len(node.args) == 3:
            return self.g_if(node)
        if name in ("segment", "composite") and self.blocks < _MAX_BLOCKS:
            texts = _literal_texts(node)
            if texts is not None:
                return self.builder(node, texts)
        if name == "array" and not any(a.kind == "lambda" for a in node.args):
            return self.g_array(node)
        if name in _FORMS and name not in self.c.env.functions:
            made = self.form(node, _MAX_BLOCKS)
            if made is not None:
                return made
        found = resolve_call(self.c, node)
        if not isinstance(found, FunctionSpec):
            return self.closure(found)
        spec = found
        if spec.needs_context or foldable(spec, node) or not 1 <= len(node.args) <= 3:
            return self.closure(finish_call(self.c, node, spec))
        return self.invoke(node, spec)

    def g_if(self, node: Node) -> str:
        cond = self.expr(node.args[0])
        out = self.tmp()
        total = self.tmp() if self.sizing else ""
        self.emit(f"if {self.helper('truthy')}({cond}):")
        self.indent += 1
        yes = self.expr(node.args[1])
        self.emit(f"{out} = {yes}")
        self.branch_size(total, yes)
        self.indent -= 1
        self.emit("else:")
        self.indent += 1
        no = self.expr(node.args[2])
        self.emit(f"{out} = {no}")
        self.branch_size(total, no)
        self.indent -= 1
        return self.sized(out, total) if total else out

    def branch_size(self, total: str, value: str) -> None:
        """``total = `` the output size of the branch's ``value`` (when sizing)."""
        if not total:
            return
        known = self.sizes.get(value)
        if known is not None:
            self.emit(f"{total} = {known}")
            return
        self.emit(f"{total} = 0")
        self.add_size(total, value)

    def g_array(self, node: Node) -> str:
        """``array(a, b)``: the list of its values, null for a missing one."""
        missing = self.helper("MISSING")
        if len(node.args) != 1:
            self.charge(str(len(node.args)))  # counted first, as the closure
        values = [self.expr(arg) for arg in node.args]
        if len(node.args) == 1:
            self.charge("1")
        out = self.tmp()
        items = ", ".join(f"None if {v} is {missing} else {v}" for v in values)
        self.emit(f"{out} = [{items}]")
        if not self.sizing:
            return out
        total = self.tmp()
        self.emit(f"{total} = len({out})")
        for value in values:
            self.add_size(total, value)
        return self.sized(out, total)

    def builder(self, node: Node, texts: list[Any]) -> str:
        """``segment(...)`` / ``composite(...)`` as :mod:`hub.mapping.builders` makes them."""
        h = self.helper
        missing = h("MISSING")
        name: str = node.value
        segment = name == "segment"
        sources = self.const(sources_of(node))
        exc = self.tmp()
        parts: list[str] = []
        computed: list[str] = []
        self.emit("try:")
        self.indent += 1
        self.blocks += 1
        for index, (arg, text) in enumerate(zip(node.args, texts, strict=True)):
            if text is not _COMPUTED:
                parts.append(self.const(text))
                continue
            value = self.expr(arg)
            part = self.tmp()
            if value in self.sizes:  # the element is the value, or its text
                self.sizes[part] = self.sizes[value]
            if segment and index == 0:
                self.emit(f"{part} = {value}")
                self.emit(f"{h('check_tag')}(None if {part} is {missing} else {part})")
            else:
                self.emit(f"{part} = {value}")
                self.emit(f"if type({part}) is not str:")
                self.emit(f"    if {part} is None or {part} is {missing}:")
                self.emit(f"        {part} = ''")
                self.emit(f"    elif type({part}) is not list:")
                self.emit(f"        {part} = {h('element_text')}({part})")
                computed.append(part)
            parts.append(part)
        if self.lines[-1].endswith("try:"):
            self.emit("pass")  # every argument a literal: nothing can fail
        self.blocks -= 1
        self.indent -= 1
        self.emit(f"except {h('CAUGHT')} as {exc}:")
        self.emit(
            f"    raise {h('built_failure')}(s, {self.const(name)}, {self.const(node)}, {exc}, "
            f"{sources}) from None"
        )
        out = self.tmp()
        self.emit(f"{out} = [{', '.join(parts)}]")
        elements = texts[1:] if segment else texts  # the builders' _ends_in_text
        trim = not (elements and elements[-1] is not _COMPUTED and elements[-1] not in ("", []))
        if trim:
            keep = "1" if segment else "0"
            empty = self.helper("EMPTY")
            self.emit(f"while len({out}) > {keep} and ({out}[-1] == '' or {out}[-1] == {empty}):")
            self.emit(f"    {out}.pop()")
        if segment:
            self.charge(f"len({out})")
            return self.element_sizes(out, computed) if self.sizing else out
        if computed:
            nested = " or ".join(f"type({p}) is list" for p in computed)
            self.emit(f"if {nested}:")
            self.emit(f"    {h('no_components')}(s, {out}, {sources})")
        self.emit(f"if len({out}) == 1:")
        self.emit(f"    {out} = {out}[0]")
        self.emit("else:")
        self.charge(f"len({out})", 1)
        if not self.sizing:
            return out
        total = self.tmp()  # a text, or a new list of texts (components have none)
        self.emit(f"{total} = len({out}) if type({out}) is list else 0")
        return self.sized(out, total)

    def element_sizes(self, out: str, computed: list[str]) -> str:
        """A segment's output size: its elements, and its composites' components."""
        total = self.tmp()
        self.emit(f"{total} = len({out})")
        for part in computed:
            self.add_size(total, part)
        return self.sized(out, total)

    def invoke(self, node: Node, spec: FunctionSpec) -> str:
        """A call of a registered function, as :mod:`hub.mapping.calls` makes it."""
        h = self.helper
        missing = h("MISSING")
        values = []
        for arg in node.args:
            if arg.kind == "lit" and not (
                type(arg.value) is list or (type(arg.value) is str and len(arg.value) > LONG_TEXT)
            ):
                values.append((self.const(arg.value), False))  # nothing to charge
            else:
                values.append((self.expr(arg), True))
        names, charged = [], []
        for value, check in values:
            if not check:
                names.append(value)
                continue
            own = self.tmp()
            self.emit(f"{own} = None if {value} is {missing} else {value}")
            names.append(own)
            charged.append(own)
        out, kind, exc = self.tmp(), self.tmp(), self.tmp()
        literals = [arg.value if arg.kind == "lit" else _COMPUTED for arg in node.args]
        fast = _intrinsic(spec.call, names, h, literals, self.const)
        if fast is None:
            self.arguments(charged)
            self.call(node, spec, names, out, kind, exc)
            return out
        test, value, quiet = fast
        if not quiet:  # the arguments are charged whichever way it goes
            self.arguments(charged)
        self.emit(f"if {test}:")
        self.emit(f"    {out} = {value}")
        self.emit("else:")
        self.indent += 1
        if quiet:
            self.arguments(charged)
        self.call(node, spec, names, out, kind, exc)
        self.indent -= 1
        return out

    def arguments(self, charged: list[str]) -> None:
        """A list or a long text given to a function counts its length as work."""
        for own in charged:
            long_text = f"len({own}) > {self.helper('LONG_TEXT')}"
            self.emit(f"if type({own}) is list or (type({own}) is str and {long_text}):")
            self.ticks(f"len({own})", 1)

    def call(
        self, node: Node, spec: FunctionSpec, names: list[str], out: str, kind: str, exc: str
    ) -> None:
        """The call itself, its errors, and the charge for a new list or a long text."""
        h = self.helper
        args = ", ".join(names)
        self.emit("try:")
        self.emit(f"    {out} = {self.const(spec.call)}({args})")
        self.emit(f"    {kind} = type({out})")
        self.emit(f"    if {kind} is {h('Decimal')}:")
        self.emit(f"        {out} = {h('plain')}({out})")
        self.emit(f"except {h('CAUGHT')} as {exc}:")
        self.emit(
            f"    raise {h('fail_call')}(s, {self.const(node.value)}, ({args},), {exc}, "
            f"{self.const(sources_of(node))}) from None"
        )
        fresh = " and ".join(f"{out} is not {n}" for n in names)
        self.emit(f"if {kind} is list:")
        self.emit(f"    if {fresh}:")
        self.charge(f"len({out})", 2)
        self.emit(f"elif {kind} is str and len({out}) > {h('SHORT_TEXT')} and {fresh}:")
        self.emit(f"    {h('charge_text')}(s.run, len({out}))")
