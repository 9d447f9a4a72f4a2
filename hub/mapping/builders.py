"""``segment(...)`` and ``composite(...)`` compiled in place: the EDIFACT builders of a mapping.

An outbound EDIFACT mapping calls them for every segment of every line, mostly with literal
qualifiers (``segment('QTY', composite('21', quantity, 'PCE'))``). Compiled here rather than
called through :mod:`hub.mapping.calls`, a literal argument is converted once, when the
mapping loads, and a run converts only what it reads; the result is the same as the
registered functions' (:mod:`hub.mapping.functions.edifact`), failures included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.mapping.calls import CAUGHT, CallCompiler
from hub.mapping.functions import edifact
from hub.mapping.paths import MISSING
from hub.mapping.syntax import Node
from hub.mapping.values import Scope, failure, show, sources_of

__all__ = ["FORMS"]

Evaluator = Callable[[Scope], Any]
#: An argument: its text when it is a literal (converted at load time), else its evaluator.
_Part = tuple[Any, Evaluator | None]


def _parts(compiler: CallCompiler, node: Node, args: list[Node]) -> list[_Part] | None:
    parts: list[_Part] = []
    for arg in args:
        if arg.kind == "lit":
            try:
                parts.append((edifact.element_text(arg.value), None))
            except CAUGHT as exc:
                compiler.problem(arg, f"{node.value}(): {exc}")
                return None
        else:
            parts.append((None, compiler.compile(arg)))
    return parts


def _values(s: Scope, parts: list[_Part], out: list[Any]) -> bool:
    """Every part's text appended to ``out``; True when one of them is a list (a composite)."""
    add = out.append
    nested = False
    for text, evaluate in parts:
        if evaluate is None:
            add(text)
            continue
        value = evaluate(s)
        kind = type(value)
        if kind is str:
            add(value)
        elif value is None or value is MISSING:
            add("")
        elif kind is list:
            add(value)
            nested = True
        else:
            add(edifact.element_text(value))
    return nested


def _ends_in_text(parts: list[_Part]) -> bool:
    """The last part is a literal that is not empty: nothing trailing is ever dropped."""
    return bool(parts) and parts[-1][1] is None and parts[-1][0] not in ("", [])


def _form_segment(compiler: CallCompiler, node: Node) -> Evaluator:
    if not node.args:
        compiler.problem(node, "segment() takes at least 1 argument, got 0", _SEGMENT_DOC)
        return lambda s: MISSING
    first = node.args[0]
    parts = _parts(compiler, node, node.args[1:])
    tag_of: Evaluator | None = None
    tag: Any = None
    if first.kind == "lit":
        tag = first.value
        try:
            edifact.check_tag(tag)
        except CAUGHT as exc:
            compiler.problem(first, str(exc), _SEGMENT_DOC)
            return lambda s: MISSING
    else:
        tag_of = compiler.compile(first)
    if parts is None:
        return lambda s: MISSING
    sources = sources_of(node)
    trim = not _ends_in_text(parts)

    def segment(s: Scope) -> Any:
        try:
            name = tag
            if tag_of is not None:
                name = tag_of(s)
                edifact.check_tag(None if name is MISSING else name)
            values = [name]
            _values(s, parts, values)
        except CAUGHT as exc:
            raise _failed(s, "segment", node, exc, sources) from None
        if trim:
            while len(values) > 1 and (values[-1] == "" or values[-1] == []):
                values.pop()
        s.run.add_values(len(values))
        return values

    return segment


def _form_composite(compiler: CallCompiler, node: Node) -> Evaluator:
    parts = _parts(compiler, node, node.args)
    if parts is None:
        return lambda s: MISSING
    sources = sources_of(node)
    trim = not _ends_in_text(parts)

    def composite(s: Scope) -> Any:
        values: list[Any] = []
        try:
            nested = _values(s, parts, values)
        except CAUGHT as exc:
            raise _failed(s, "composite", node, exc, sources) from None
        if trim:
            while values and (values[-1] == "" or values[-1] == []):
                values.pop()
        if nested:
            for value in values:
                if type(value) is list:
                    reason = "a component cannot itself have components"
                    raise failure(s, f"composite({show(value)}, ...)", reason, sources)
        if len(values) == 1:
            return values[0]
        s.run.add_values(len(values))
        return values

    return composite


def _failed(s: Scope, name: str, node: Node, exc: BaseException, sources: Any) -> Exception:
    return failure(s, f"{name}({node.text[len(name) + 1 : -1]})", str(exc), sources)


_SEGMENT_DOC = "segment('BGM', '220', number, '9') -> ['BGM', '220', '1001', '9']"

FORMS: dict[str, Callable[[CallCompiler, Node], Evaluator]] = {
    "segment": _form_segment,
    "composite": _form_composite,
}
