"""A mapping's rules written as the Python source of one function per output.

As closures, every rule is a call (``copy_value``, ``set_literal``, ``nested``) and every
``each`` item walks a list of them; on a small input that fixed cost is much of a run. Here
the rules of the whole output become the statements of one function: a literal is one
assignment, a copy rule calls its expression's evaluator (itself generated code, see
:mod:`hub.mapping.codegen`) and applies its default or ``required`` check in place, a
nested object is a dict filled in place, and an ``each`` is a ``for`` loop whose body holds
its item's rules. Any other rule (one with ``when`` or ``vars``, a tick of a long list of
rules) is called as the closure it is.

The statements do what the closures do, in the same order, with the same budget charges
and the same errors (the differential test of tests/unit/test_mapping_codegen.py compares
both). As in :mod:`hub.mapping.codegen`, no mapping text is written into the source: keys,
literals, evaluators and messages are arguments of the factory. Past :data:`MAX_RULES`
rules, or :data:`_MAX_LOOPS` nested loops, the closures run instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.errors import MappingError
from hub.mapping.codegen import SIZED, factory
from hub.mapping.expr import MAX_ITEMS
from hub.mapping.gensource import SourceWriter
from hub.mapping.limits import EvalError, LimitExceeded
from hub.mapping.paths import MISSING
from hub.mapping.run import CLOCK_MASK, Rule, as_items, located, output_size
from hub.mapping.values import Scope, truthy

__all__ = ["ENABLED", "MAX_RULES", "Copy", "Each", "Fill", "Literal", "Nested", "Other", "Specs"]
__all__ += ["generate_rules"]

#: Off: every rule stays its closure (the differential test compares both).
ENABLED = True
#: The most rules (nested ones included) written into one function.
MAX_RULES = 200
#: A literal's values are counted at load time up to this many (a bigger one at run time).
_LITERAL_SIZE = 100_000
#: Loops nested deeper than this stay closures (Python allows 20 nested blocks).
_MAX_LOOPS = 8

Evaluator = Any


@dataclass(frozen=True)
class Literal:
    """``key: {value: ...}``."""

    key: str
    value: Any


@dataclass(frozen=True)
class Copy:
    """A path or expression rule, with its default and ``required`` check."""

    key: str
    evaluate: Evaluator
    default: Any
    required: bool
    rel: str
    where: str
    what: str
    hint: str


@dataclass(frozen=True)
class Nested:
    """``key: {fields: {...}}``."""

    key: str
    rules: list[Rule]


@dataclass(frozen=True)
class Each:
    """``key: {each: ..., where: ..., vars: ..., fields: {...}}``."""

    key: str
    read: Evaluator
    rule_name: str
    text: str
    rel: str
    where: str
    per_item: int
    local: list[tuple[str, Evaluator]]
    keep: Evaluator | None
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class Other:
    """A rule run as its closure (with ``when`` or ``vars``) that writes ``key``."""

    key: str


Spec = Literal | Copy | Nested | Each | Other
#: What each rule closure of a mapping does, for the generator (kept by the compiler).
Specs = dict[Rule, Spec]
#: The generated rules of an output: fills ``out`` and returns the values it holds,
#: counted as :func:`hub.mapping.run.output_size` counts them (past the limit, more).
Fill = Callable[[Scope, dict[str, Any]], int]


def _rule_failed(s: Scope, rel: str, exc: EvalError, where: str) -> MappingError:
    return located(f"{s.target(rel)}: {exc}", exc, where)


def _var_failed(s: Scope, name: str, exc: EvalError, where: str) -> MappingError:
    return located(f"{s.target('')} vars.{name}: {exc}", exc, where)


def _where_failed(s: Scope, exc: EvalError, where: str) -> MappingError:
    return located(f"{s.target('')} (where): {exc}", exc, where)


def _clock(s: Scope, where: str) -> None:
    try:
        s.run.check()
    except LimitExceeded as exc:
        raise located(f"{s.target('')}: {exc}", exc, where) from None


def _required(s: Scope, rel: str, value: Any, what: str, where: str, hint: str) -> MappingError:
    state = "is null" if value is None else "is missing"
    return MappingError(
        f"required field {s.target(rel)!r} has no value: {what} {state}", where=where, hint=hint
    )


_HELPERS: dict[str, Any] = {
    "MISSING": MISSING,
    "EvalError": EvalError,
    "LimitExceeded": LimitExceeded,
    "Scope": Scope,
    "truthy": truthy,
    "as_items": as_items,
    "MAX_ITEMS": MAX_ITEMS,
    "rule_failed": _rule_failed,
    "var_failed": _var_failed,
    "where_failed": _where_failed,
    "clock": _clock,
    "required": _required,
    "size": output_size,
}


def _size(rules: list[Rule], specs: Specs) -> int:
    """Rules under ``rules``, nested ones included."""
    total = 0
    for rule in rules:
        total += 1
        spec = specs.get(rule)
        if isinstance(spec, Nested | Each):
            total += _size(spec.rules, specs)
    return total


def generate_rules(rules: list[Rule], specs: Specs) -> Fill | None:
    """One function running ``rules`` into ``out``; None when the closures should run.

    It counts the values of the output as it builds it: the size of every object and list
    the rules make is added as it is made, and so is the size a generated ``segment``,
    ``composite``, ``array`` or ``if`` gives with its value (:data:`~hub.mapping.codegen.SIZED`:
    it made every list in it); the other lists and objects expressions give are walked
    once at the end (a shared part counted every time), so the rules' own structure and
    what the builders made are never walked.
    """
    if not ENABLED or _size(rules, specs) > MAX_RULES:
        return None
    gen = _RuleGen(specs)
    gen.emit("n = 0")
    gen.emit("walk = []")
    gen.rules(rules, "s", "out")
    gen.emit("n += len(out)")
    gen.emit("if walk:")  # the list itself is not part of the output: its length is taken off
    gen.emit(f"    n += {gen.helper('size')}(walk, s.run.max_values - n + len(walk)) - len(walk)")
    return gen.build()


class _RuleGen(SourceWriter):
    helpers = _HELPERS

    def __init__(self, specs: Specs) -> None:
        super().__init__(indent=2)
        self.specs = specs
        self.loops = 0

    def build(self) -> Fill:
        body = "\n".join(self.lines)
        defaults = "".join(f", {n}={n}" for n in self.names)
        source = (
            f"def _make({', '.join(self.names)}):\n"
            f"    def _rules(s, out{defaults}):\n{body}\n        return n\n    return _rules\n"
        )
        made: Any = factory(source)(*self.values)
        fill: Fill = made
        return fill

    def counted(self, value: str, scope: str) -> None:
        """``value`` to count when it is a list or an object: walked once, at the end."""
        self.emit(f"if type({value}) is list or type({value}) is dict:")
        self.emit(f"    walk.append({value})")

    def counted_sized(self, value: str, size: str | None, scope: str) -> None:
        """``value`` counted by the ``size`` its expression gave (walked when unknown)."""
        if size is None:
            self.counted(value, scope)
            return
        self.emit(f"if {size} >= 0:")
        self.emit(f"    n += {size}")
        self.emit("else:")
        self.emit(f"    walk.append({value})")

    def rules(self, rules: list[Rule], scope: str, out: str) -> None:
        for rule in rules:
            spec = self.specs.get(rule)
            if isinstance(spec, Literal):
                self.emit(f"{out}[{self.const(spec.key)}] = {self.const(spec.value)}")
                size = output_size(spec.value, _LITERAL_SIZE)
                if size > _LITERAL_SIZE:  # a huge literal: walked with the rest, up to the limit
                    self.counted(self.const(spec.value), scope)
                elif size:
                    self.emit(f"n += {self.const(size)}")
            elif isinstance(spec, Copy):
                self.copy(spec, scope, out)
            elif isinstance(spec, Nested):
                child = self.tmp()
                self.emit(f"{child} = {{}}")
                self.rules(spec.rules, scope, child)
                self.emit(f"{out}[{self.const(spec.key)}] = {child}")
                self.emit(f"n += len({child})")
            elif isinstance(spec, Each) and self.loops < _MAX_LOOPS:
                self.each(spec, scope, out)
            else:
                self.emit(f"{self.const(rule)}({scope}, {out})")
                if isinstance(spec, Each | Other):  # what it wrote, walked
                    value = self.tmp()
                    self.emit(f"{value} = {out}.get({self.const(spec.key)})")
                    self.counted(value, scope)

    def copy(self, spec: Copy, scope: str, out: str) -> None:
        h = self.helper
        value, exc = self.tmp(), self.tmp()
        key, missing = self.const(spec.key), h("MISSING")
        self.emit("try:")
        self.emit(f"    {value} = {self.const(spec.evaluate)}({scope})")
        self.emit(f"except {h('EvalError')} as {exc}:")
        self.emit(
            f"    raise {h('rule_failed')}({scope}, {self.const(spec.rel)}, {exc}, "
            f"{self.const(spec.where)}) from None"
        )
        size = None
        if spec.evaluate in SIZED:  # read before anything else runs an expression
            size = self.tmp()
            self.emit(f"{size} = {scope}.run.size")
        if spec.default is not MISSING:
            self.emit(f"if {value} is None or {value} is {missing}:")
            self.emit(f"    {out}[{key}] = {value} = {self.const(spec.default)}")
            self.indent += 1
            self.counted(value, scope)  # the default: a literal of the mapping
            self.indent -= 1
            self.emit("else:")
            self.emit(f"    {out}[{key}] = {value}")
            self.indent += 1
            self.counted_sized(value, size, scope)
            self.indent -= 1
        elif spec.required:
            self.emit(f"if {value} is None or {value} is {missing}:")
            self.emit(
                f"    raise {h('required')}({scope}, {self.const(spec.rel)}, {value}, "
                f"{self.const(spec.what)}, {self.const(spec.where)}, {self.const(spec.hint)})"
            )
            self.emit(f"{out}[{key}] = {value}")
            self.counted_sized(value, size, scope)
        else:
            self.emit(f"if {value} is not {missing}:")
            self.emit(f"    {out}[{key}] = {value}")
            self.counted_sized(value, size, scope)

    def each(self, spec: Each, up: str, out: str) -> None:
        h = self.helper
        where, rel = self.const(spec.where), self.const(spec.rel)
        found, exc, items, built = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        index, item, inner, child = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        shared = self.tmp()
        self.emit("try:")
        self.emit(f"    {found} = {self.const(spec.read)}({up})")
        self.emit(f"except {h('EvalError')} as {exc}:")
        self.emit(f"    raise {h('rule_failed')}({up}, {rel}, {exc}, {where}) from None")
        # as_items, and the budget's add_values, written out for the common case
        self.emit(f"if type({found}) is list and len({found}) <= {h('MAX_ITEMS')}:")
        self.emit(f"    {items} = {found}")
        self.emit("else:")
        self.emit(
            f"    {items} = {h('as_items')}({found}, {self.const(spec.rule_name)}, "
            f"{self.const(spec.text)}, {where})"
        )
        self.emit(f"{built} = []")
        run = self.tmp()
        self.emit(f"{run} = {up}.run")
        self.emit(f"{run}.values += len({items}) * {int(spec.per_item)}")
        self.emit(f"if {run}.values > {run}.max_values:")
        self.emit("    try:")
        self.emit(f"        {run}.add_values(0)")
        self.emit(f"    except {h('LimitExceeded')} as {exc}:")
        self.emit(f"        raise {h('rule_failed')}({up}, {rel}, {exc}, {where}) from None")
        self.emit(f"{shared} = {up}.vars")
        self.emit(f"for {index}, {item} in enumerate({items}):")
        self.indent += 1
        self.loops += 1
        variables = f"dict({shared})" if spec.local else shared
        self.emit(
            f"{inner} = {h('Scope')}({item}, {up}, {up}.root, {variables}, {up}.run, {index}, "
            f"len({built}), {rel}, {self.const(spec.text)})"
        )
        self.emit(f"if {index} & {int(CLOCK_MASK)} == {int(CLOCK_MASK)}:")
        self.emit(f"    {h('clock')}({inner}, {where})")
        for name, evaluate in spec.local:
            self.emit("try:")
            self.emit(f"    {inner}.vars[{self.const(name)}] = {self.const(evaluate)}({inner})")
            self.emit(f"except {h('EvalError')} as {exc}:")
            self.emit(
                f"    raise {h('var_failed')}({inner}, {self.const(name)}, {exc}, {where}) "
                "from None"
            )
        if spec.keep is not None:
            keep = self.tmp()
            self.emit("try:")
            self.emit(f"    {keep} = {h('truthy')}({self.const(spec.keep)}({inner}))")
            self.emit(f"except {h('EvalError')} as {exc}:")
            self.emit(f"    raise {h('where_failed')}({inner}, {exc}, {where}) from None")
            self.emit(f"if not {keep}:")
            self.emit("    continue")
        self.emit(f"{child} = {{}}")
        self.rules(spec.rules, inner, child)
        self.emit(f"{built}.append({child})")
        self.emit(f"n += len({child})")
        self.loops -= 1
        self.indent -= 1
        self.emit(f"{out}[{self.const(spec.key)}] = {built}")
        self.emit(f"n += len({built})")
