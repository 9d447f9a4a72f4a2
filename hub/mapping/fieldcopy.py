"""The field-copy mapping: a YAML description of the target tree, filled from source paths.

Each entry under ``fields`` builds one target key::

    order_number: number                       # copy a source path
    currency: {path: currency, default: EUR}   # with a default
    buyer_id: {path: customer_id, required: true}
    sender: {value: SHOP01}                    # a literal
    customer: {fields: {...}}                  # a nested object
    lines: {each: line_items, fields: {...}}   # one object per source list item

Inside ``each``, paths are relative to the current item. A richer language
replaces this later behind the same :class:`hub.mapping.Mapping` protocol.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.errors import ConfigError, MappingError, Problem
from hub.formats.base import Tree
from hub.mapping.paths import MISSING, PathSyntaxError, compile_path
from hub.yamlsource import Loc, YamlDocument, parse_yaml

__all__ = ["FieldCopyMapping", "load_mapping", "parse_mapping"]

_Rule = Callable[[Tree, dict[str, Any]], None]
_TOP_KEYS = {"name", "description", "source", "target", "fields"}
_RULE_KEYS = {"path", "default", "required", "value", "fields", "each"}


class FieldCopyMapping:
    """A compiled field-copy mapping."""

    def __init__(self, name: str, content_hash: str, source: str, rules: list[_Rule]) -> None:
        self.name = name
        self.content_hash = content_hash
        self.source = source
        self._rules = rules

    def apply(self, tree: Tree) -> Tree:
        out: dict[str, Any] = {}
        for rule in self._rules:
            rule(tree, out)
        return out


def load_mapping(path: Path) -> FieldCopyMapping:
    """Load and compile a mapping file; every problem is reported with file:line:column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read mapping {path}: {exc.strerror or exc}") from None
    return parse_mapping(text, str(path))


def parse_mapping(text: str, source: str) -> FieldCopyMapping:
    document = parse_yaml(text, source, substitute_env=False)
    compiler = _Compiler(document)
    mapping = compiler.compile(hashlib.sha256(text.encode()).hexdigest()[:16])
    if compiler.problems:
        count = len(compiler.problems)
        raise ConfigError(
            f"mapping {source} has {count} problem{'s' if count != 1 else ''}",
            problems=compiler.problems,
        )
    return mapping


class _Compiler:
    def __init__(self, document: YamlDocument) -> None:
        self.doc = document
        self.problems: list[Problem] = list(document.problems)

    def fail(self, loc: Loc, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, where=self.doc.where(loc, column=True), hint=hint))

    def compile(self, content_hash: str) -> FieldCopyMapping:
        data = self.doc.data
        if not isinstance(data, dict):
            self.fail((), "a mapping file must be a YAML mapping with `name` and `fields`")
            return FieldCopyMapping("?", content_hash, self.doc.source, [])
        for key in data:
            if key not in _TOP_KEYS:
                self.fail(
                    (key,), f"unknown key {key!r}", "allowed: " + ", ".join(sorted(_TOP_KEYS))
                )
        name = data.get("name")
        if not isinstance(name, str) or not name:
            self.fail(("name",), "`name` must be a non-empty string")
            name = "?"
        fields = data.get("fields")
        if not isinstance(fields, dict) or not fields:
            self.fail(("fields",), "`fields` must map target keys to rules")
            return FieldCopyMapping(name, content_hash, self.doc.source, [])
        return FieldCopyMapping(
            name, content_hash, self.doc.source, self.fields(fields, ("fields",))
        )

    def fields(self, spec: dict[str, Any], loc: Loc) -> list[_Rule]:
        return [self.rule(str(key), value, (*loc, key)) for key, value in spec.items()]

    def rule(self, key: str, spec: Any, loc: Loc) -> _Rule:
        rule_name = ".".join(str(p) for p in loc[1::2])  # target keys: fields.a.fields.b -> a.b
        if isinstance(spec, str):
            return self.copy(key, spec, loc, rule_name, default=MISSING, required=False)
        if not isinstance(spec, dict):
            self.fail(loc, f"rule {rule_name!r} must be a source path or a mapping of options")
            return _noop
        for option in spec:
            if option not in _RULE_KEYS:
                self.fail(
                    (*loc, option),
                    f"unknown rule option {option!r}",
                    "allowed: " + ", ".join(sorted(_RULE_KEYS)),
                )
        kinds = [k for k in ("value", "each", "path") if k in spec]
        if "fields" in spec and "each" not in spec:
            kinds.append("fields")
        if len(kinds) > 1:
            self.fail(
                loc,
                f"rule {rule_name!r} mixes {' and '.join(f'`{k}`' for k in kinds)}",
                "a rule is one of: a source path, `path`, `value`, `fields`, or `each` + `fields`",
            )
            return _noop
        extras = [k for k in ("default", "required") if k in spec and kinds and "path" not in kinds]
        if extras:
            self.fail(
                (*loc, extras[0]),
                f"rule {rule_name!r}: `{extras[0]}` only applies to a `path` rule",
            )
        if "value" in spec:
            literal = spec["value"]

            def set_literal(tree: Tree, out: dict[str, Any]) -> None:
                out[key] = literal

            return set_literal
        if "each" in spec:
            return self.each(key, spec, loc, rule_name)
        if "fields" in spec:
            rules = (
                self.fields(spec["fields"], (*loc, "fields"))
                if isinstance(spec["fields"], dict)
                else self._bad_fields(loc)
            )

            def nested(tree: Tree, out: dict[str, Any]) -> None:
                child: dict[str, Any] = {}
                for rule in rules:
                    rule(tree, child)
                out[key] = child

            return nested
        if "path" in spec:
            return self.copy(
                key,
                spec["path"],
                (*loc, "path"),
                rule_name,
                default=spec.get("default", MISSING),
                required=bool(spec.get("required", False)),
            )
        self.fail(loc, f"rule {rule_name!r} needs one of `path`, `value`, `fields` or `each`")
        return _noop

    def _bad_fields(self, loc: Loc) -> list[_Rule]:
        self.fail((*loc, "fields"), "`fields` must map target keys to rules")
        return []

    def reader(self, path: Any, loc: Loc) -> Callable[[Any], Any] | None:
        if not isinstance(path, str):
            self.fail(loc, f"a source path must be a string, not {type(path).__name__}")
            return None
        try:
            return compile_path(path)
        except PathSyntaxError as exc:
            start = self.doc.values.get(loc)
            where = self.doc.where(loc, column=True)
            if start is not None:
                where = f"{self.doc.source}:{start[0]}:{start[1] + exc.column - 1}"
            self.problems.append(Problem(str(exc), where=where, hint="write paths like a.b[0].c"))
            return None

    def copy(
        self, key: str, path: Any, loc: Loc, rule_name: str, *, default: Any, required: bool
    ) -> _Rule:
        read = self.reader(path, loc)
        if read is None:
            return _noop
        source = self.doc.source

        def copy_value(tree: Tree, out: dict[str, Any]) -> None:
            value = read(tree)
            if value is MISSING or value is None:
                if default is not MISSING:
                    out[key] = default
                    return
                if required:
                    raise MappingError(
                        f"required field {rule_name!r} has no value: source path {path!r} "
                        + ("is null" if value is None else "is missing"),
                        where=f"{source} rule {rule_name}",
                        hint="fix the input or give the rule a `default`",
                    )
                if value is MISSING:
                    return
            out[key] = value

        return copy_value

    def each(self, key: str, spec: dict[str, Any], loc: Loc, rule_name: str) -> _Rule:
        read = self.reader(spec["each"], (*loc, "each"))
        fields = spec.get("fields")
        if not isinstance(fields, dict):
            self.fail(loc, f"rule {rule_name!r}: `each` needs `fields` to build each item")
            return _noop
        rules = self.fields(fields, (*loc, "fields"))
        if read is None:
            return _noop
        source, path = self.doc.source, spec["each"]

        def each_item(tree: Tree, out: dict[str, Any]) -> None:
            items = read(tree)
            if items is MISSING or items is None:
                out[key] = []
                return
            if not isinstance(items, list):
                raise MappingError(
                    f"rule {rule_name!r} loops over {path!r}, which is a "
                    f"{type(items).__name__}, not a list",
                    where=f"{source} rule {rule_name}",
                )
            built = []
            for item in items:
                child: dict[str, Any] = {}
                for rule in rules:
                    rule(item, child)
                built.append(child)
            out[key] = built

        return each_item


def _noop(tree: Tree, out: dict[str, Any]) -> None:
    return None
