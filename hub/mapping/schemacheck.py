"""Static checks of a mapping against JSON Schemas, before it translates anything.

:func:`check_reads` follows every source path the mapping reads (in expressions, ``each``,
``where``, ``when``, ``vars``, ``split``, function arguments; relative paths inside ``each``
against the items of the looped list) through the route's input schema.
:func:`check_writes` follows the target keys of ``fields`` through the output schema.

A step the schema forbids (``additionalProperties: false``, a key of a string, an index of
an object) is an error; a key it merely does not declare, while it declares others and lets
unknown ones through, is a warning, most often a typo. Where a schema says nothing (no
``properties``, ``{}``, a ``$ref`` to another file) nothing is checked. ``$ref`` within the
file, ``allOf``, ``anyOf``/``oneOf`` (a key is declared if any branch declares it),
``items``/``prefixItems``, ``patternProperties`` and ``additionalProperties`` are followed.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from hub.errors import ConfigError, Problem, Severity
from hub.mapping.expr import WILD, Node
from hub.mapping.outline import Loop, MappingOutline, SourceRead
from hub.paths import FileRoots, confine
from hub.yamlsource import Loc

__all__ = ["SchemaView", "check_reads", "check_target_schema", "check_writes"]

_STEP_TEXT = re.compile(r"\[(?:-?\d+|\*)\]|[A-Za-z_@$][\w@$-]*")
_MAX_DEPTH = 24
#: List functions whose result holds items of their first argument.
_LIST_KEEPING = frozenset({"filter", "sort_by", "distinct", "reverse", "compact"})
_KINDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a number",
    "boolean": "true or false",
    "null": "null",
}


class _Fit(Enum):
    FOUND = "found"  # the schema declares the step: here is its sub-schema
    UNKNOWN = "unknown"  # the schema says nothing here
    OPEN = "open"  # not declared, but allowed: a warning
    FORBIDDEN = "forbidden"  # the schema does not allow it: an error


@dataclass(frozen=True)
class _Step:
    fit: _Fit
    schema: Any = None
    known: tuple[str, ...] = ()
    kind: str = ""  # FORBIDDEN: "closed" (no more keys) or "type" (not an object / a list)
    reason: str = ""


_UNKNOWN = _Step(_Fit.UNKNOWN)


class SchemaView:
    """A JSON Schema document, walked one path step at a time."""

    def __init__(self, schema: Any, name: str) -> None:
        self.root = schema
        self.name = name

    def step(self, schema: Any, step: str | int, depth: int = 0) -> _Step:
        """What ``schema`` says about key or index ``step`` (``[*]``: any item)."""
        if schema is False:
            return _Step(_Fit.FORBIDDEN, kind="closed", reason="the schema allows nothing here")
        if depth > _MAX_DEPTH or not isinstance(schema, dict):
            return _UNKNOWN  # True, {} or something that is not a schema: no constraint
        parts = [self._own(schema, step)]
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self._resolve(ref)
            parts.append(_UNKNOWN if target is None else self.step(target, step, depth + 1))
        for sub in _list(schema.get("allOf")):
            parts.append(self.step(sub, step, depth + 1))
        for keyword in ("anyOf", "oneOf"):
            branches = _list(schema.get(keyword))
            if branches:
                parts.append(_either([self.step(sub, step, depth + 1) for sub in branches]))
        return _both(parts)

    def _own(self, schema: dict[str, Any], step: str | int) -> _Step:
        types = _types(schema)
        if isinstance(step, str) and step != WILD:
            if types is not None and "object" not in types:
                return _Step(_Fit.FORBIDDEN, kind="type", reason=_kind(types))
            props = schema.get("properties")
            props = props if isinstance(props, dict) else {}
            if step in props:
                return _Step(_Fit.FOUND, props[step])
            patterns = schema.get("patternProperties")
            patterns = patterns if isinstance(patterns, dict) else {}
            for pattern, sub in patterns.items():
                try:
                    if re.search(pattern, step):
                        return _Step(_Fit.FOUND, sub)
                except re.error:
                    continue
            known = tuple(str(k) for k in props)
            for keyword in ("additionalProperties", "unevaluatedProperties"):
                if schema.get(keyword) is False:
                    return _Step(
                        _Fit.FORBIDDEN, known=known, kind="closed", reason=f"{keyword}: false"
                    )
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                return _Step(_Fit.FOUND, extra)  # a map: any key, values of this schema
            return _Step(_Fit.OPEN, known=known) if props or patterns else _UNKNOWN
        if types is not None and "array" not in types:
            return _Step(_Fit.FORBIDDEN, kind="type", reason=_kind(types))
        prefix = _list(schema.get("prefixItems"))
        items = schema.get("items")
        if isinstance(step, int) and 0 <= step < len(prefix):
            return _Step(_Fit.FOUND, prefix[step])
        if step == WILD and prefix:
            return _Step(_Fit.FOUND, {"anyOf": [*prefix, *([items] if items is not None else [])]})
        if isinstance(items, dict):
            return _Step(_Fit.FOUND, items)
        return _UNKNOWN

    def _resolve(self, ref: str) -> Any:
        """A ``$ref`` inside this document (``#/$defs/x``, or the document's own ``$id``)."""
        own_id = self.root.get("$id") if isinstance(self.root, dict) else None
        if isinstance(own_id, str) and ref.startswith(own_id + "#"):
            ref = ref[len(own_id) :]
        if not ref.startswith("#"):
            return None
        node = self.root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _types(schema: dict[str, Any]) -> set[str] | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    return None


def _kind(types: set[str]) -> str:
    names = sorted({_KINDS.get(t, t) for t in types})
    return " or ".join(names) if names else "nothing"


def _merge_known(parts: list[_Step]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for part in parts for name in part.known))


def _both(parts: list[_Step]) -> _Step:
    """All of ``parts`` apply (the schema's own keywords, ``$ref``, ``allOf``)."""
    found = [p.schema for p in parts if p.fit is _Fit.FOUND]
    if found:
        return _Step(_Fit.FOUND, found[0] if len(found) == 1 else {"allOf": found})
    known = _merge_known(parts)
    for part in parts:
        if part.fit is _Fit.FORBIDDEN:
            return _Step(_Fit.FORBIDDEN, known=known, kind=part.kind, reason=part.reason)
    if any(p.fit is _Fit.OPEN for p in parts):
        return _Step(_Fit.OPEN, known=known)
    return _UNKNOWN


def _either(parts: list[_Step]) -> _Step:
    """One of ``parts`` applies (``anyOf``, ``oneOf``): declared if any branch declares it."""
    found = [p.schema for p in parts if p.fit is _Fit.FOUND]
    if found:
        return _Step(_Fit.FOUND, found[0] if len(found) == 1 else {"anyOf": found})
    if any(p.fit is _Fit.UNKNOWN for p in parts):
        return _UNKNOWN
    known = _merge_known(parts)
    if any(p.fit is _Fit.OPEN for p in parts):
        return _Step(_Fit.OPEN, known=known)
    kinds = {p.kind for p in parts}
    reasons = list(dict.fromkeys(p.reason for p in parts))
    kind = kinds.pop() if len(kinds) == 1 else "closed"
    reason = " or ".join(reasons) if kind == "type" else reasons[0]
    return _Step(_Fit.FORBIDDEN, known=known, kind=kind, reason=reason)


def _suggest(name: str, known: tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    if close:
        return "did you mean " + ", ".join(close) + "?"
    if known:
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        return f"declared there: {shown}"
    return None


def _steps_text(steps: list[str | int] | tuple[str | int, ...]) -> str:
    text = ""
    for step in steps:
        if step == WILD:
            text += WILD
        elif isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text


def _join(owner: str | None, steps: list[str | int]) -> str | None:
    if owner is None:
        return None
    tail = _steps_text(steps)
    if not owner:
        return tail
    if not tail:
        return owner
    return owner + tail if tail.startswith("[") else f"{owner}.{tail}"


# --- source paths -------------------------------------------------------------------------


def check_reads(outline: MappingOutline, view: SchemaView, label: str) -> list[Problem]:
    """Every source path the mapping reads, against ``view`` (``label``: "the input schema X")."""
    return _Reads(outline, view, label).run()


class _Reads:
    def __init__(self, outline: MappingOutline, view: SchemaView, label: str) -> None:
        self.outline = outline
        self.view = view
        self.label = label
        self.problems: list[Problem] = []
        self.items: dict[int, Any] = {}
        self.vars: dict[str, Any] = {}
        self.busy: set[str] = set()
        #: Inline function parameters in scope while their body is walked: name -> schema.
        self.bound: list[dict[str, Any]] = []

    def run(self) -> list[Problem]:
        for read in self.outline.reads:
            self.walk(read, read.node)
        return self.problems

    def walk(self, read: SourceRead, node: Node) -> None:
        if node.kind == "path":
            self.path(read, node, report=True)
        if node.kind == "get":
            self.steps(read, node, self.infer(read, node.args[0]), node.value, None, report=True)
        if node.kind == "call" and any(arg.kind == "lambda" for arg in node.args):
            item = self.list_item(read, node)
            for arg in node.args:
                if arg.kind == "lambda":
                    with self.binding(node.value, arg.value, item):
                        self.walk(read, arg.args[0])
                else:
                    self.walk(read, arg)
            return
        for arg in node.args:
            self.walk(read, arg)

    def list_item(self, read: SourceRead, node: Node) -> Any:
        """The schema of an item of the list a list function loops over (None: unknown)."""
        if not node.args or node.args[0].kind == "lambda":
            return None
        listing = self.infer(read, node.args[0])
        if listing is None:
            return None
        found = self.view.step(listing, WILD)
        return found.schema if found.fit is _Fit.FOUND else None

    @contextmanager
    def binding(self, function: str, names: list[str], item: Any) -> Iterator[None]:
        """An inline function's parameters: the item (and a number or, in reduce, a total)."""
        if function == "reduce" and len(names) == 2:
            bound = {names[0]: None, names[1]: item}
        else:
            bound = {names[0]: item}
            if len(names) > 1:
                bound[names[1]] = {"type": "number"}
        self.bound.append(bound)
        try:
            yield
        finally:
            self.bound.pop()

    # what a value is, without reporting: None when unknown
    def infer(self, read: SourceRead, node: Node) -> Any:
        if node.kind == "path":
            return self.path(read, node, report=False)
        if node.kind == "lit":
            value = node.value
            kind = {bool: "boolean", int: "number", float: "number", str: "string"}.get(
                type(value), "null"
            )
            return {"type": kind}
        if node.kind == "get":
            inner = self.infer(read, node.args[0])
            return self.steps(read, node, inner, node.value, None, report=False)
        if node.kind == "call" and node.value in _LIST_KEEPING and node.args:
            return self.infer(read, node.args[0])  # filter, sort_by, ...: the same items
        if node.kind == "call" and node.value in ("find", "first", "last") and node.args:
            return self.list_item(read, node)
        if node.kind == "call" and node.value == "group_by" and node.args:
            item = self.list_item(read, node)
            members = {"type": "array", "items": item} if item is not None else {"type": "array"}
            group = {"type": "object", "properties": {"key": {}, "items": members}}
            return {"type": "array", "items": group}
        if node.kind == "call" and node.value == "map" and len(node.args) == 2:
            fn = node.args[1]
            if fn.kind != "lambda":
                return None
            with self.binding("map", fn.value, self.list_item(read, node)):
                body = self.infer(read, fn.args[0])
            return {"type": "array", "items": body} if body is not None else {"type": "array"}
        if node.kind == "call":
            name = node.value
            if any(arg.kind == "lambda" for arg in node.args):
                return None
            args = [self.infer(read, arg) for arg in node.args]
            if name == "array":
                known = [a for a in args if a is not None]
                if len(known) != len(args):
                    return {"type": "array"}
                return {"type": "array", "items": {"anyOf": known}} if known else {"type": "array"}
            choices = {"if": args[1:], "coalesce": args, "default": args, "compact": args[:1]}
            if name in choices:
                options = choices[name]
                if options and all(a is not None for a in options):
                    return options[0] if len(options) == 1 else {"anyOf": options}
        return None

    def item(self, scope: Loop | None) -> Any:
        """The schema of the current item in ``scope`` (the whole document at the top)."""
        if scope is None:
            return self.view.root
        key = id(scope)
        if key not in self.items:
            self.items[key] = None
            if scope.over is not None:
                listing = self.infer(scope.over, scope.over.node)
                if listing is not None:
                    step = self.view.step(listing, WILD)
                    self.items[key] = step.schema if step.fit is _Fit.FOUND else None
        return self.items[key]

    def variable(self, name: str) -> Any:
        for bound in reversed(self.bound):
            if name in bound:
                return bound[name]
        if name not in self.vars:
            read = self.outline.variables.get(name)
            if read is None or name in self.busy:
                return None
            self.busy.add(name)
            self.vars[name] = self.infer(read, read.node)
            self.busy.discard(name)
        return self.vars[name]

    def owner(self, scope: Loop | None) -> str | None:
        """The current item's position in the source as text (``line_items[*]``), if known."""
        if scope is None:
            return ""
        over = scope.over
        if over is None or over.node.kind != "path":
            return None
        base, steps = over.node.value
        if base in ("", "$"):
            start = self.owner(over.scope)
        elif base == "$root":
            start = ""
        else:
            return None
        return _join(start, [*steps, WILD])

    def path(self, read: SourceRead, node: Node, *, report: bool) -> Any:
        base, steps = node.value
        owner: str | None = None
        if base in ("", "$"):
            schema = self.item(read.scope)
            owner = self.owner(read.scope)
        elif base == "$root":
            schema, owner = self.view.root, ""
        elif base == "$parent":
            scope = read.scope
            schema = self.item(scope.parent) if scope is not None else None
            owner = self.owner(scope.parent) if scope is not None else None
        elif base in ("$index", "$pos", "$parent_index", "$parent_pos"):
            return {"type": "number"}
        else:
            schema = self.variable(base[1:])
            owner = base
        return self.steps(read, node, schema, steps, owner, report=report)

    def steps(
        self,
        read: SourceRead,
        node: Node,
        schema: Any,
        steps: list[str | int],
        owner: str | None,
        *,
        report: bool,
    ) -> Any:
        """Follow ``steps`` from ``schema``; report a step the schema does not allow."""
        lists = 0
        for index, step in enumerate(steps):
            if schema is None:
                return None
            found = self.view.step(schema, step)
            if found.fit is _Fit.FOUND:
                schema = found.schema
                lists += step == WILD
                continue
            if found.fit is not _Fit.UNKNOWN and report:
                self.report(read, node, index, found, _join(owner, list(steps[:index])))
            return None
        for _ in range(lists):
            schema = {"type": "array", "items": schema}
        return schema

    def report(
        self, read: SourceRead, node: Node, index: int, found: _Step, owner: str | None
    ) -> None:
        steps = node.value[1] if node.kind == "path" else node.value
        step = steps[index]
        step_text = f"[{step}]" if isinstance(step, int) else str(step)
        # owner None: inside a loop over a computed list; the path text says enough
        inside = "" if owner is None else f" in {owner}" if owner else " at the top level"
        if found.fit is _Fit.OPEN:
            message = f"the {self.label} does not declare {step_text!r}{inside}"
            severity, hint = Severity.WARNING, _suggest(str(step), found.known)
        elif found.kind == "type":
            what = owner or "the document" if owner is not None else "the value read"
            message = f"{what} is {found.reason} in the {self.label}, "
            if isinstance(step, str) and step != WILD:
                message += f"so it has no key {step_text!r}"
            else:
                message += f"not a list, so it has no item {step_text}"
            severity, hint = Severity.ERROR, None
        else:
            message = f"the {self.label} does not allow {step_text!r}{inside} ({found.reason})"
            severity, hint = Severity.ERROR, _suggest(str(step), found.known)
        offset = _step_offset(node, index)
        self.problems.append(
            Problem(
                f"source path {node.text!r}: {message}",
                where=self.outline.where(read.loc, offset),
                hint=hint,
                severity=severity,
            )
        )


def _step_offset(node: Node, index: int) -> int:
    """The character of step ``index`` of a path node, in the expression's text."""
    if node.kind == "get":  # f(x).a.b: the steps follow the call's text
        inner = len(node.args[0].text)
        found = list(_STEP_TEXT.finditer(node.text, inner))
        return node.pos + (found[index].start() if index < len(found) else inner)
    base = node.value[0]
    matches = list(_STEP_TEXT.finditer(node.text))
    position = index + (1 if base else 0)
    if position < len(matches):
        return node.pos + matches[position].start()
    return node.pos


# --- target keys --------------------------------------------------------------------------


def check_writes(outline: MappingOutline, view: SchemaView, label: str) -> list[Problem]:
    """Every target key of ``fields``, against ``view`` (``label``: "the output schema X")."""
    problems: list[Problem] = []
    _writes(outline, view, label, outline.fields, view.root, ("fields",), problems)
    return problems


def _writes(
    outline: MappingOutline,
    view: SchemaView,
    label: str,
    fields: dict[str, Any],
    schema: Any,
    loc: Loc,
    problems: list[Problem],
) -> None:
    for key, spec in fields.items():
        here = (*loc, key)
        name = ".".join(str(p) for p in here[1::2])
        found = view.step(schema, str(key))
        if found.fit is _Fit.UNKNOWN:
            continue
        if found.fit is not _Fit.FOUND:
            if found.kind == "type":  # said once, for the rule that builds the object
                parent = ".".join(str(p) for p in loc[1::2])
                what = f"target field {parent!r} builds" if parent else "the mapping builds"
                problems.append(
                    Problem(
                        f"{what} an object, but the {label} has {found.reason} there",
                        where=outline.where(loc[:-1] if parent else loc),
                    )
                )
                return
            closed = found.fit is _Fit.FORBIDDEN
            problems.append(
                Problem(
                    f"target field {name!r} is not allowed by the {label} ({found.reason})"
                    if closed
                    else f"target field {name!r} is not declared in the {label}",
                    where=outline.where(here),
                    hint=_suggest(str(key), found.known),
                    severity=Severity.ERROR if closed else Severity.WARNING,
                )
            )
            continue
        if not isinstance(spec, dict) or not isinstance(spec.get("fields"), dict):
            continue
        sub = found.schema
        if "each" in spec:
            items = view.step(sub, WILD)
            if items.fit is _Fit.FORBIDDEN:
                problems.append(
                    Problem(
                        f"target field {name!r} builds a list, but the {label} has "
                        f"{items.reason or 'no list'} there",
                        where=outline.where(here),
                    )
                )
                continue
            if items.fit is not _Fit.FOUND:
                continue
            sub = items.schema
        _writes(outline, view, label, spec["fields"], sub, (*here, "fields"), problems)


# --- the mapping's own target schema -----------------------------------------------------


def check_target_schema(
    outline: MappingOutline, ref: Any, base: Path, roots: FileRoots | None = None
) -> list[Problem]:
    """``target: {schema: FILE}`` in a mapping: every target key must be in ``properties``.

    Stricter than :func:`check_writes` (a key the schema does not list is an error even
    where the schema lets unknown keys through): the mapping names this schema as its own.
    With ``roots``, the file must lie inside them (:func:`hub.paths.confine`).
    """
    where = outline.where(("target", "schema"))
    if not isinstance(ref, str) or not ref:
        return [Problem("`schema` must be a path to a JSON Schema file", where=where)]
    path = base / ref
    if roots is not None:
        try:
            path = confine(ref, roots, base=base, what="target schema")
        except ConfigError as exc:
            return [Problem(exc.message, where=where, hint=exc.hint)]
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [
            Problem(
                f"cannot read target schema {ref}: {exc}",
                where=outline.where(("target", "schema")),
                hint="the path is relative to the mapping file",
            )
        ]
    problems: list[Problem] = []
    _listed(outline, outline.fields, schema, ("fields",), ref, problems)
    return problems


def _listed(
    outline: MappingOutline,
    fields: dict[str, Any],
    schema: Any,
    loc: Loc,
    ref: str,
    problems: list[Problem],
) -> None:
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return
    props: dict[str, Any] = schema["properties"]
    for key, spec in fields.items():
        here = (*loc, key)
        if key not in props:
            close = difflib.get_close_matches(str(key), list(props), n=3)
            name = ".".join(str(p) for p in here[1::2])
            problems.append(
                Problem(
                    f"target field {name!r} is not in the target schema {ref}",
                    where=outline.where(here),
                    hint=("did you mean " + ", ".join(close) + "?")
                    if close
                    else "known: " + ", ".join(props),
                )
            )
            continue
        if isinstance(spec, dict) and isinstance(spec.get("fields"), dict):
            sub = props[key]
            if "each" in spec:
                sub = sub.get("items") if isinstance(sub, dict) else None
            _listed(outline, spec["fields"], sub, (*here, "fields"), ref, problems)
