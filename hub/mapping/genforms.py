"""The list functions with an inline function, written as loops in generated code.

``filter(rows, r -> $r.qty > 2)`` as closures calls the body's closure once per item and
builds a list of its values before filtering; here the body's statements are written inside
a ``for`` loop of the expression's generated function (:mod:`hub.mapping.codegen`), and the
parameter is read from a local of the loop. The parameter's slot of the run is still set
for every item, so any part of the body left to the closures reads it as before.

Each loop does what the closure of :mod:`hub.mapping.lambdas` does, in the same order: the
list is read and charged (as the closures' ``_items`` does it), the body runs per item,
the result is charged, and grouping, sorting and distinct use the closures' own helpers, so
the outputs, the budget charges and the errors are the same (the differential test of
tests/unit/test_mapping_codegen.py compares both). A form whose arguments the closures
would refuse at load time is left to them, so they report the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.mapping import lambdas
from hub.mapping.syntax import Node
from hub.mapping.values import sources_of

__all__ = ["FORM_HELPERS", "FormGen"]

#: The forms written as loops: name -> (fewest, most) parameters of the inline function.
_PARAMS = {
    "map": (1, 2),
    "filter": (1, 2),
    "find": (1, 2),
    "any": (1, 2),
    "every": (1, 2),
    "reduce": (2, 2),
    "sort_by": (1, 1),
    "group_by": (1, 1),
    "distinct": (1, 1),
}
#: How many arguments each takes (the inline function is always the second).
_ARITY = {"reduce": (3, 3), "sort_by": (2, 3)}
_BOOLEAN = frozenset({"cmp", "and", "or", "not"})

#: Helpers the loops call, by the name the generator knows them by.
FORM_HELPERS: dict[str, Any] = {
    "grouped": lambdas.grouped,
    "sorted_or_fail": lambdas.sorted_or_fail,
    "distinct_by": lambdas.distinct_by,
    "distinct_values": lambdas.distinct_values,
    "assertion_failed": lambdas.assertion_failed,
    "fail_failed": lambdas.failed,
    "texts_only": lambdas.texts_only,
    "fromkeys": dict.fromkeys,
}


def _loopable(node: Node) -> bool:
    """Whether ``node`` is a form with its arguments as the closures accept them."""
    name: str = node.value
    params = _PARAMS.get(name)
    if params is None:
        return False
    args = node.args
    low, high = _ARITY.get(name, (2, 2))
    if not low <= len(args) <= high or args[1].kind != "lambda":
        return False
    if any(a.kind == "lambda" for i, a in enumerate(args) if i != 1):
        return False
    if not params[0] <= len(args[1].value) <= params[1]:
        return False
    if name == "sort_by" and len(args) == 3:
        order = args[2]
        return order.kind == "lit" and order.value in ("asc", "desc")
    return True


class FormGen:
    """The loops of :class:`hub.mapping.codegen._Gen` (a mixin: it writes into its source)."""

    c: Any
    lines: list[str]
    indent: int
    blocks: int
    #: Slots of the run held in a local of an enclosing loop: slot -> the local's name.
    slot_names: dict[int, str]

    emit: Callable[[str], None]
    const: Callable[[Any], str]
    helper: Callable[[str], str]
    tmp: Callable[[], str]
    charge: Callable[..., None]
    ticks: Callable[..., None]
    expr: Callable[[Node], str]

    def form(self, node: Node, max_blocks: int) -> str | None:
        """The loop of form ``node``; None when the closures make it (or report it)."""
        name: str = node.value
        if name in ("assert", "fail"):
            return self.checked(node)
        if name == "distinct" and len(node.args) == 1 and node.args[0].kind != "lambda":
            items, out = self.items(self.expr(node.args[0])), self.tmp()
            sources = self.const(sources_of(node))
            self.emit(f"if {self.helper('texts_only')}({items}):")  # texts: their own keys
            self.emit(f"    {out} = list({self.helper('fromkeys')}({items}))")
            self.charge(f"len({out})", 1)
            self.emit("else:")
            self.emit(f"    {out} = {self.helper('distinct_values')}(s, {items}, {sources})")
            return out
        if self.blocks >= max_blocks or not _loopable(node):
            return None
        items = self.items(self.expr(node.args[0]))
        fn = node.args[1]
        names: list[str] = fn.value
        with self.c.bound(names) as slots:
            return self.loop(node, items, fn.args[0], slots)

    def items(self, value: str) -> str:
        """The list a form loops over, read and charged as the closures read it: null and
        missing are an empty list, one value a list of one, each item one operation."""
        items, missing = self.tmp(), self.helper("MISSING")
        self.emit(f"if {value} is None or {value} is {missing}:")
        self.emit(f"    {items} = []")
        self.emit("else:")
        self.emit(f"    {items} = {value} if type({value}) is list else [{value}]")
        self.ticks(f"len({items})", 1)
        return items

    def checked(self, node: Node) -> str | None:
        """``assert(check, message)`` and ``fail(message)``: the message made only to fail."""
        name: str = node.value
        wanted = 2 if name == "assert" else 1
        if len(node.args) != wanted or any(a.kind == "lambda" for a in node.args):
            return None
        out = self.tmp()
        if name == "fail":
            message = self.expr(node.args[0])
            self.emit(f"raise {self.helper('fail_failed')}({message})")
            self.emit(f"{out} = None")
            return out
        check = self.expr(node.args[0])
        test = check if node.args[0].kind in _BOOLEAN else f"{self.helper('truthy')}({check})"
        self.emit(f"if {test}:")
        self.emit(f"    {out} = True")
        self.emit("else:")
        self.indent += 1
        message = self.expr(node.args[1])
        self.emit(f"raise {self.helper('assertion_failed')}({message})")
        self.indent -= 1
        return out

    def loop(self, node: Node, items: str, body: Node, slots: list[int]) -> str:
        name: str = node.value
        missing = self.helper("MISSING")
        run_slots, item, out = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{run_slots} = s.run.slots")
        first = int(slots[0])
        if name == "reduce":
            return self.fold(node, items, body, slots, run_slots)
        start = {"map": "[]", "filter": "[]", "group_by": "[]", "sort_by": "[]"}
        start |= {"distinct": "[]", "find": "None"}
        start |= {"any": "False", "every": "True"}
        self.emit(f"{out} = {start[name]}")
        if len(slots) == 2:
            index = self.tmp()
            self.emit(f"for {index}, {item} in enumerate({items}):")
            self.emit(f"    {run_slots}[{int(slots[1])}] = {index}")
            self.slot_names[int(slots[1])] = index
        else:
            self.emit(f"for {item} in {items}:")
        self.indent += 1
        self.blocks += 1
        self.emit(f"{run_slots}[{first}] = {item}")
        self.slot_names[first] = item
        value = self.expr(body)
        test = value if body.kind in _BOOLEAN else f"{self.helper('truthy')}({value})"
        if name == "map":
            self.emit(f"if {value} is not {missing}:")
            self.emit(f"    {out}.append({value})")
        elif name == "filter":
            self.emit(f"if {test}:")
            self.emit(f"    {out}.append({item})")
        elif name == "find":
            self.emit(f"if {test}:")
            self.emit(f"    {out} = {item}")
            self.emit("    break")
        elif name in ("any", "every"):
            every = name == "every"
            self.emit(f"if {'not ' if every else ''}{test}:")
            self.emit(f"    {out} = {not every}")
            self.emit("    break")
        else:  # the keys of group_by, sort_by and distinct
            self.emit(f"{out}.append({value})")
        self.blocks -= 1
        self.indent -= 1
        for slot in slots:
            self.slot_names.pop(int(slot), None)
        if name in ("map", "filter"):
            self.charge(f"len({out})")
        elif name == "group_by":
            self.emit(f"{out} = {self.helper('grouped')}(s, {items}, {out})")
        elif name == "sort_by":
            descending = len(node.args) == 3 and node.args[2].value == "desc"
            sources = self.const(sources_of(node))
            self.emit(
                f"{out} = {self.helper('sorted_or_fail')}(s, {items}, {out}, {descending}, "
                f"{sources})"
            )
        elif name == "distinct":
            sources = self.const(sources_of(node))
            self.emit(f"{out} = {self.helper('distinct_by')}(s, {items}, {out}, {sources})")
        return out

    def fold(self, node: Node, items: str, body: Node, slots: list[int], run_slots: str) -> str:
        """``reduce(list, (total, x) -> ..., start)``: the start runs after the list is read."""
        missing = self.helper("MISSING")
        out, acc, item = self.tmp(), self.tmp(), self.tmp()
        first, second = int(slots[0]), int(slots[1])
        # The body is compiled before the start, as written (load-time problems in that
        # order), but runs after it: its statements are kept aside meanwhile.
        outer, self.lines = self.lines, []
        self.indent += 1
        self.blocks += 1
        self.emit(f"{acc} = None if {out} is {missing} else {out}")
        self.emit(f"{run_slots}[{first}] = {acc}")
        self.emit(f"{run_slots}[{second}] = {item}")
        self.slot_names[first], self.slot_names[second] = acc, item
        value = self.expr(body)
        self.emit(f"{out} = {value}")
        self.slot_names.pop(first, None)
        self.slot_names.pop(second, None)
        self.blocks -= 1
        self.indent -= 1
        loop, self.lines = self.lines, outer
        total = self.expr(node.args[2])
        self.emit(f"{out} = {total}")
        self.emit(f"for {item} in {items}:")
        self.lines += loop
        return out
