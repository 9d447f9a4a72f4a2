"""The mapping language: a YAML description of the target tree, filled by expressions.

Each entry under ``fields`` builds one target key::

    order_number: number                       # an expression (a bare path is one)
    currency: {expr: currency, default: EUR}   # with a default (`path:` is an alias)
    buyer_id: {path: customer_id, required: true}
    sender: {value: SHOP01}                    # a literal
    vip: {expr: "total > 1000", when: "status == 'completed'"}
    customer: {fields: {...}}                  # a nested object
    lines: {each: line_items, where: "quantity > 0", fields: {...}}

Top level: ``vars`` (named expressions evaluated once per run, in order) and ``split``
(an expression giving a list: one output per item). The expression language lives in
:mod:`hub.mapping.expr`; docs/mappings.md describes both. The file keeps its historic
name: every field-copy mapping is a valid mapping in the language.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.errors import ConfigError, MappingError, Problem
from hub.formats.base import Tree
from hub.mapping.calls import special_forms
from hub.mapping.expr import (
    Env,
    EvalError,
    ExprSyntaxError,
    Scope,
    compile_expr,
    parse_expr,
    truthy,
)
from hub.mapping.functions.registry import lookup
from hub.mapping.genrules import Copy, Each, Fill, Literal, Nested, Other, Specs, generate_rules
from hub.mapping.lambdas import UserFunction
from hub.mapping.limits import Cancel, LimitExceeded, MappingLimits
from hub.mapping.outline import Loop, MappingOutline, SourceRead
from hub.mapping.paths import MISSING
from hub.mapping.run import (
    CLOCK_MASK,
    Rule,
    Run,
    as_items,
    check_output_size,
    located,
    output_too_large,
    ticking,
    weight,
)
from hub.mapping.schemacheck import check_target_schema
from hub.mapping.syntax import BUILT_IN, parse_function
from hub.paths import FileRoots
from hub.yamlsource import Loc, YamlDocument, parse_yaml

__all__ = ["FieldCopyMapping", "content_hash", "load_mapping", "parse_mapping"]

_Eval = Callable[[Scope], Any]
_TOP_KEYS = {"name", "description", "source", "target", "fields", "vars", "split", "where"}
_TOP_KEYS |= {"functions"}
_RULE_KEYS = {"path", "expr", "default", "required", "value", "fields", "each", "when", "where"}
_RULE_KEYS |= {"vars"}
_KIND_HINT = "a rule is one of: a source path, `path`, `value`, `fields`, or `each` + `fields`"


class FieldCopyMapping:
    """A compiled mapping (the name is historic: it runs the whole mapping language)."""

    def __init__(
        self,
        name: str,
        content_hash: str,
        source: str,
        rules: list[Rule],
        *,
        variables: list[tuple[str, _Eval]] | None = None,
        split: _Eval | None = None,
        split_text: str = "",
        split_where: _Eval | None = None,
        codelist_dirs: list[Path] | None = None,
        outline: MappingOutline | None = None,
        weight: int = 0,
        slots: int = 0,
        limits: MappingLimits | None = None,
        roots: FileRoots | None = None,
        fill: Fill | None = None,
    ) -> None:
        self.name = name
        self.content_hash = content_hash
        self.source = source
        self._rules = rules
        self._vars = variables or []
        self._split = split
        self._split_text = split_text
        self._split_where = split_where
        self._dirs = codelist_dirs or []
        self._weight = weight  # fields one output's rules may write
        self._slots = slots  # parameters of inline functions and functions: values per run
        self._roots = roots
        #: The rules as one generated function (None: the closures run).
        self._fill = fill
        #: What one run may spend (``mappings.limits``).
        self.limits = limits or MappingLimits()
        #: What the mapping reads and writes, for checks against a route's schemas.
        self.outline = outline

    @property
    def splits(self) -> bool:
        """True when ``split`` is set: :meth:`apply` then returns a list of outputs."""
        return self._split is not None

    def _root(self, tree: Tree, cancel: Cancel | None) -> Scope:
        run = Run(self._dirs, self.limits, cancel, self._roots, self._slots)
        scope = Scope(tree, None, tree, {}, run)
        for name, evaluate in self._vars:
            try:
                value = evaluate(scope)
            except EvalError as exc:
                raise located(f"vars.{name}: {exc}", exc, f"{self.source} vars.{name}") from None
            scope.vars[name] = value
        return scope

    def _build(self, scope: Scope) -> dict[str, Any]:
        run = scope.run
        run.values += self._weight
        if run.values > run.max_values:
            try:
                run.add_values(0)  # raises, naming the limit
            except LimitExceeded as exc:
                raise located(str(exc), exc, self.source) from None
        out: dict[str, Any] = {}
        if self._fill is not None:  # it counts the output as it builds it
            if self._fill(scope, out) > run.max_values:
                too_large = output_too_large(run.max_values)
                raise located(str(too_large), too_large, self.source) from None
            return out
        for rule in self._rules:
            rule(scope, out)
        try:
            check_output_size(out, run.max_values)
        except LimitExceeded as exc:
            raise located(str(exc), exc, self.source) from None
        return out

    def apply(self, tree: Tree, *, cancel: Cancel | None = None) -> Tree:
        """The target tree; with ``split``, the list of target trees (one per item).

        The run ends with a MappingError naming the limit when it goes past
        :attr:`limits`, or soon after ``cancel`` is set.
        """
        if self._split is not None:
            return self.apply_all(tree, cancel=cancel)
        try:
            return self._build(self._root(tree, cancel))
        except EvalError as exc:  # a budget check between rules: no rule to name
            raise located(str(exc), exc, self.source) from None

    def apply_all(self, tree: Tree, *, cancel: Cancel | None = None) -> list[Tree]:
        """Always a list of outputs: one, or one per ``split`` item."""
        try:
            return self._outputs(tree, cancel)
        except EvalError as exc:  # a budget check between rules: no rule to name
            raise located(str(exc), exc, self.source) from None

    def _outputs(self, tree: Tree, cancel: Cancel | None) -> list[Tree]:
        root = self._root(tree, cancel)
        if self._split is None:
            return [self._build(root)]
        where = f"{self.source} split"
        try:
            items = self._split(root)
        except EvalError as exc:
            raise located(f"split: {exc}", exc, where) from None
        items = as_items(items, "split", self._split_text, where)
        outputs: list[Tree] = []
        run = root.run
        for index, item in enumerate(items):
            scope = Scope(item, root, tree, root.vars, run, index, index, "", self._split_text)
            try:
                run.tick(1)
            except LimitExceeded as exc:
                raise located(f"split[{index}]: {exc}", exc, where) from None
            if self._split_where is not None:
                try:
                    keep = truthy(self._split_where(scope))
                except EvalError as exc:
                    raise located(
                        f"split[{index}] (where): {exc}", exc, f"{self.source} where"
                    ) from None
                if not keep:
                    continue
                scope.pos = len(outputs)
            outputs.append(self._build(scope))
        return outputs


def load_mapping(
    path: Path, *, limits: MappingLimits | None = None, roots: FileRoots | None = None
) -> FieldCopyMapping:
    """Load and compile a mapping file; every problem is reported with file:line:column.

    ``limits`` bound each run; with ``roots``, the files the mapping names (its target
    schema, its code lists) must lie inside them (see :func:`hub.paths.confine`).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        hint = None
        if isinstance(exc, FileNotFoundError) and path.parent.is_dir():
            names = sorted(p.name for p in path.parent.iterdir() if p.suffix in (".yaml", ".yml"))
            close = difflib.get_close_matches(path.name, names, n=3)
            hint = "did you mean " + ", ".join(close) + "?" if close else None
        raise ConfigError(f"cannot read mapping {path}: {exc.strerror or exc}", hint=hint) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"mapping {path} is not UTF-8 (byte {exc.start})", hint="save it as UTF-8"
        ) from None
    return parse_mapping(text, str(path), limits=limits, roots=roots)


def content_hash(text: str) -> str:
    """The version of a mapping file's text, as recorded with every message it translates."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_mapping(
    text: str,
    source: str,
    *,
    limits: MappingLimits | None = None,
    roots: FileRoots | None = None,
    base_dir: Path | None = None,
) -> FieldCopyMapping:
    """Compile a mapping file's ``text`` (named ``source`` in messages).

    Paths in it (``target.schema``, ``codelists/``) are relative to ``base_dir``, by default
    the folder of ``source``; see :func:`load_mapping` for ``limits`` and ``roots``.
    """
    document = parse_yaml(text, source, substitute_env=False)
    compiler = _Compiler(document, base_dir, roots)
    mapping = compiler.compile(content_hash(text), limits)
    if compiler.problems:
        count = len(compiler.problems)
        raise ConfigError(
            f"mapping {source} has {count} problem{'s' if count != 1 else ''}",
            problems=compiler.problems,
        )
    return mapping


class _Compiler:
    def __init__(
        self, document: YamlDocument, base_dir: Path | None, roots: FileRoots | None
    ) -> None:
        self.doc = document
        self.roots = roots
        self.problems: list[Problem] = list(document.problems)
        #: What each rule closure does, for the generated rules (hub.mapping.genrules).
        self.specs: Specs = {}
        self.variables: list[str] = []
        self.functions: dict[str, UserFunction] = {}
        self.slots = [0]  # the run's slots for parameters, taken so far
        self.depth = 0
        self.scope: Loop | None = None
        self.outline = MappingOutline(document)
        self.read_at: dict[Loc, SourceRead] = {}
        self.base = base_dir if base_dir is not None else Path(document.source).parent
        self.dirs = [self.base / "codelists"]
        self.codelists: set[str] | None = None
        try:
            from hub.mapping import codelists

            self.codelists = codelists.available(self.dirs, roots=roots)
        except ImportError:  # pragma: no cover - the module ships with the hub
            self.codelists = None

    def fail(self, loc: Loc, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, where=self.doc.where(loc, column=True), hint=hint))

    def fail_at(self, loc: Loc, offset: int, message: str, hint: str | None) -> None:
        where = self.doc.where_in_value(loc, offset)
        self.problems.append(Problem(message, where=where, hint=hint))

    def expression(self, text: Any, loc: Loc, role: str = "field") -> _Eval | None:
        """Compile the expression at ``loc``; problems are located at their character."""
        if not isinstance(text, str):
            self.fail(loc, f"a source path must be a string, not {type(text).__name__}")
            return None
        try:
            node = parse_expr(text)
        except ExprSyntaxError as exc:
            self.fail_at(loc, exc.offset, exc.message, exc.hint)
            return None
        read = SourceRead(node, loc, self.scope, role)
        self.outline.reads.append(read)
        self.read_at[loc] = read
        env = Env(
            list(self.variables),
            self.depth,
            codelist_names=self.codelists,
            functions=self.functions,
            slots=self.slots,
        )
        compiled = compile_expr(node, env)
        for problem in env.problems:
            self.fail_at(loc, problem.offset, problem.message, problem.hint)
        return None if env.problems else compiled

    def compile(self, content_hash: str, limits: MappingLimits | None) -> FieldCopyMapping:
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
        self.own_functions(data.get("functions"))
        variables = self.vars(data.get("vars"))
        split = split_text = split_where = None
        if "split" in data:
            split_text = data["split"]
            split = self.expression(split_text, ("split",), "split")
            self.depth = 1
            self.scope = Loop(self.read_at.get(("split",)), None)
            if "where" in data:
                split_where = self.expression(data["where"], ("where",), "where")
        elif "where" in data:
            self.fail(("where",), "`where` at the top level applies to `split` items; add `split`")
        fields = data.get("fields")
        if not isinstance(fields, dict) or not fields:
            self.fail(("fields",), "`fields` must map target keys to rules")
            return FieldCopyMapping(name, content_hash, self.doc.source, [])
        rules = self.fields(fields, ("fields",), "")
        self.outline.fields = fields
        self.check_target(data.get("target"), fields)
        return FieldCopyMapping(
            name,
            content_hash,
            self.doc.source,
            rules,
            variables=variables,
            split=split,
            split_text=str(split_text or ""),
            split_where=split_where,
            codelist_dirs=self.dirs,
            outline=self.outline,
            weight=weight(fields),
            slots=self.slots[0],
            limits=limits,
            roots=self.roots,
            fill=None if self.problems else generate_rules(rules, self.specs),
        )

    def own_functions(self, spec: Any) -> None:
        """``functions: {net: "(price, qty) -> $price * $qty"}``: pure, defined in order."""
        if spec is None:
            return
        if not isinstance(spec, dict):
            self.fail(("functions",), "`functions` must map names to `(parameters) -> expression`")
            return
        for name, text in spec.items():
            loc = ("functions", name)
            if not isinstance(name, str) or not name.isidentifier():
                self.fail(loc, f"bad function name {name!r}", "use letters, digits, _")
                continue
            if lookup(name) is not None or name in special_forms():
                self.fail(loc, f"{name}() is a built-in function; choose another name")
                continue
            if not isinstance(text, str):
                self.fail(loc, "a function is a text: (parameters) -> expression")
                continue
            try:
                node = parse_function(text)
            except ExprSyntaxError as exc:
                self.fail_at(loc, exc.offset, exc.message, exc.hint)
                continue
            names = list(node.value)
            slots = list(range(self.slots[0], self.slots[0] + len(names)))
            self.slots[0] += len(names)
            env = Env(
                [],
                0,
                codelist_names=self.codelists,
                functions=dict(self.functions),
                pure=True,
                slots=self.slots,
                locals=dict(zip(names, slots, strict=True)),
            )
            body = compile_expr(node.args[0], env)
            for problem in env.problems:
                self.fail_at(loc, problem.offset, problem.message, problem.hint)
            self.functions[name] = UserFunction(name, names, slots, None if env.problems else body)

    def vars(self, spec: Any, at: Loc = ()) -> list[tuple[str, _Eval]]:
        """Named expressions under ``vars`` (at the top, or of a rule at ``at``), in order.

        Their names stay known to what is compiled next; a rule's caller drops them after.
        """
        if spec is None:
            return []
        loc = (*at, "vars")
        if not isinstance(spec, dict):
            self.fail(loc, "`vars` must map names to expressions")
            return []
        compiled = []
        for name, text in spec.items():
            if not isinstance(name, str) or not name.isidentifier():
                self.fail((*loc, name), f"bad variable name {name!r}", "use letters, digits, _")
                continue
            if name in BUILT_IN:
                self.fail((*loc, name), f"`${name}` is built in; choose another name")
                continue
            evaluate = self.expression(text, (*loc, name), "var")
            if (*loc, name) in self.read_at:
                self.outline.variables[name] = self.read_at[(*loc, name)]
            self.variables.append(name)
            if evaluate is not None:
                compiled.append((name, evaluate))
        return compiled

    def fields(self, spec: dict[str, Any], loc: Loc, prefix: str) -> list[Rule]:
        return ticking(
            [
                self.rule(str(key), value, (*loc, key), f"{prefix}.{key}" if prefix else str(key))
                for key, value in spec.items()
            ]
        )

    def rule(self, key: str, spec: Any, loc: Loc, rel: str) -> Rule:
        rule_name = ".".join(str(p) for p in loc[1::2])  # target keys: fields.a.fields.b -> a.b
        if isinstance(spec, str):
            return self.copy(key, spec, loc, rule_name, rel, default=MISSING, required=False)
        if not isinstance(spec, dict):
            self.fail(loc, f"rule {rule_name!r} must be a source path or a mapping of options")
            return _noop
        for option in spec:
            if option not in _RULE_KEYS:
                self.unknown_option(str(option), spec, loc, rule_name)
        kinds = [k for k in ("value", "each", "path", "expr") if k in spec]
        if "fields" in spec and "each" not in spec:
            kinds.append("fields")
        if len(kinds) > 1:
            self.fail(
                loc, f"rule {rule_name!r} mixes {' and '.join(f'`{k}`' for k in kinds)}", _KIND_HINT
            )
            return _noop
        extras = [
            k
            for k in ("default", "required")
            if k in spec and kinds and not {"path", "expr"} & set(kinds)
        ]
        if extras:
            self.fail(
                (*loc, extras[0]),
                f"rule {rule_name!r}: `{extras[0]}` only applies to a `path` rule",
            )
        if "where" in spec and "each" not in spec:
            self.fail(
                (*loc, "where"), f"rule {rule_name!r}: `where` only applies to an `each` rule"
            )
        if "each" in spec:  # its `vars` are per item, compiled inside the loop
            local: list[tuple[str, _Eval]] = []
            before = len(self.variables)
        else:
            before = len(self.variables)
            local = self.vars(spec.get("vars"), loc)
        try:
            when = self.expression(spec["when"], (*loc, "when"), "when") if "when" in spec else None
            built = self.kind(key, spec, loc, rule_name, rel)
        finally:
            del self.variables[before:]
        if built is _noop:
            return built
        if when is not None:
            built = _guarded(when, built, self.doc.source, rule_name, rel)
        if local:
            built = _with_vars(local, built, f"{self.doc.source} rule {rule_name}", rel)
        if when is not None or local:
            self.specs[built] = Other(key)
        return built

    def unknown_option(self, option: str, spec: dict[str, Any], loc: Loc, rule_name: str) -> None:
        """An unknown key in a rule: a misspelt option, or a target key at the wrong level."""
        close = difflib.get_close_matches(option, sorted(_RULE_KEYS), n=1, cutoff=0.75)
        beside = next((k for k in ("each", "fields") if k in spec), None)
        if close:
            hint = f"did you mean {close[0]}?"
        elif beside is not None:
            what = "each item" if beside == "each" else "the object"
            shape = "each: ..., fields" if beside == "each" else "fields"
            self.fail(
                (*loc, option),
                f"rule {rule_name!r}: {option!r} is not a rule option; the target keys of "
                f"{what} go under `fields:`",
                f"write {loc[-1]}: {{{shape}: {{{option}: ...}}}}",
            )
            return
        else:
            hint = "allowed: " + ", ".join(sorted(_RULE_KEYS))
        self.fail((*loc, option), f"unknown rule option {option!r}", hint)

    def kind(self, key: str, spec: dict[str, Any], loc: Loc, rule_name: str, rel: str) -> Rule:
        if "value" in spec:
            literal = spec["value"]

            def set_literal(scope: Scope, out: dict[str, Any]) -> None:
                out[key] = literal

            self.specs[set_literal] = Literal(key, literal)
            return set_literal
        if "each" in spec:
            return self.each(key, spec, loc, rule_name, rel)
        if "fields" in spec:
            rules = (
                self.fields(spec["fields"], (*loc, "fields"), rel)
                if isinstance(spec["fields"], dict)
                else self._bad_fields(loc)
            )

            def nested(scope: Scope, out: dict[str, Any]) -> None:
                child: dict[str, Any] = {}
                for rule in rules:
                    rule(scope, child)
                out[key] = child

            self.specs[nested] = Nested(key, rules)
            return nested
        for option in ("path", "expr"):
            if option in spec:
                return self.copy(
                    key,
                    spec[option],
                    (*loc, option),
                    rule_name,
                    rel,
                    default=spec.get("default", MISSING),
                    required=bool(spec.get("required", False)),
                )
        self.fail(
            loc,
            f"rule {rule_name!r} needs one of `path`, `value`, `fields` or `each`",
            "`expr` is another name for `path`",
        )
        return _noop

    def _bad_fields(self, loc: Loc) -> list[Rule]:
        self.fail((*loc, "fields"), "`fields` must map target keys to rules")
        return []

    def copy(
        self,
        key: str,
        text: Any,
        loc: Loc,
        rule_name: str,
        rel: str,
        *,
        default: Any,
        required: bool,
    ) -> Rule:
        evaluate = self.expression(text, loc)
        if evaluate is None:
            return _noop
        source = self.doc.source
        where = f"{source} rule {rule_name}"
        read = self.read_at.get(loc)
        is_path = read is not None and read.node.kind == "path" and read.node.value[0] == ""
        what = f"source path {text!r}" if is_path else f"expression {text!r}"
        if is_path and self.depth:  # plain paths read the item of the loop around the rule
            item_hint = (
                f"inside `each` or `split`, {text!r} is read from the current item; write "
                f"$root.{text} for the whole document, or give the rule a `default`"
            )
        else:
            item_hint = "fix the input or give the rule a `default`"

        def copy_value(scope: Scope, out: dict[str, Any]) -> None:
            try:
                value = evaluate(scope)
            except EvalError as exc:
                raise located(f"{scope.target(rel)}: {exc}", exc, where) from None
            if value is MISSING or value is None:
                if default is not MISSING:
                    out[key] = default
                    return
                if required:
                    raise MappingError(
                        f"required field {scope.target(rel)!r} has no value: {what} "
                        + ("is null" if value is None else "is missing"),
                        where=where,
                        hint=item_hint,
                    )
                if value is MISSING:
                    return
            out[key] = value

        self.specs[copy_value] = Copy(key, evaluate, default, required, rel, where, what, item_hint)
        return copy_value

    def each(self, key: str, spec: dict[str, Any], loc: Loc, rule_name: str, rel: str) -> Rule:
        read = self.expression(spec["each"], (*loc, "each"), "each")
        fields = spec.get("fields")
        if not isinstance(fields, dict):
            self.fail(loc, f"rule {rule_name!r}: `each` needs `fields` to build each item")
            return _noop
        self.depth += 1
        outer, self.scope = self.scope, Loop(self.read_at.get((*loc, "each")), self.scope)
        before = len(self.variables)
        try:
            local = self.vars(spec.get("vars"), loc)
            where_ = (
                self.expression(spec["where"], (*loc, "where"), "where")
                if "where" in spec
                else None
            )
            rules = self.fields(fields, (*loc, "fields"), "")
        finally:
            self.depth -= 1
            self.scope = outer
            del self.variables[before:]
        if read is None or ("where" in spec and where_ is None):
            return _noop
        source, text = self.doc.source, str(spec["each"])
        where = f"{source} rule {rule_name}"
        per_item = 1 + weight(fields)  # the item, and the fields its rules may write

        def each_item(scope: Scope, out: dict[str, Any]) -> None:
            try:
                found = read(scope)
            except EvalError as exc:
                raise located(f"{scope.target(rel)}: {exc}", exc, where) from None
            items = as_items(found, rule_name, text, where)
            built: list[dict[str, Any]] = []
            run, root, variables = scope.run, scope.root, scope.vars
            try:
                run.add_values(len(items) * per_item)
            except LimitExceeded as exc:
                raise located(f"{scope.target(rel)}: {exc}", exc, where) from None
            for index, item in enumerate(items):
                inner = Scope(
                    item,
                    scope,
                    root,
                    dict(variables) if local else variables,
                    run,
                    index,
                    len(built),
                    rel,
                    text,
                )
                if index & CLOCK_MASK == CLOCK_MASK:  # the clock, every 1,024 items
                    try:
                        run.check()
                    except LimitExceeded as exc:
                        raise located(f"{inner.target('')}: {exc}", exc, where) from None
                if local:
                    _bind(local, inner, where)
                if where_ is not None:
                    try:
                        keep = truthy(where_(inner))
                    except EvalError as exc:
                        raise located(f"{inner.target('')} (where): {exc}", exc, where) from None
                    if not keep:
                        continue
                child: dict[str, Any] = {}
                for rule in rules:
                    rule(inner, child)
                built.append(child)
            out[key] = built

        self.specs[each_item] = Each(
            key, read, rule_name, text, rel, where, per_item, local, where_, rules
        )
        return each_item

    def check_target(self, target: Any, fields: dict[str, Any]) -> None:
        if isinstance(target, dict) and "schema" in target:
            self.problems += check_target_schema(
                self.outline, target["schema"], self.base, self.roots
            )


def _guarded(when: _Eval, rule: Rule, source: str, rule_name: str, rel: str) -> Rule:
    def guarded(scope: Scope, out: dict[str, Any]) -> None:
        try:
            ok = truthy(when(scope))
        except EvalError as exc:
            where = f"{source} rule {rule_name}"
            raise located(f"{scope.target(rel)} (when): {exc}", exc, where) from None
        if ok:
            rule(scope, out)

    return guarded


def _bind(local: list[tuple[str, _Eval]], scope: Scope, where: str) -> None:
    """A rule's own ``vars``, evaluated in order into ``scope.vars`` (a copy of its own)."""
    bound = scope.vars
    for name, evaluate in local:
        try:
            bound[name] = evaluate(scope)
        except EvalError as exc:
            raise located(f"{scope.target('')} vars.{name}: {exc}", exc, where) from None


def _with_vars(local: list[tuple[str, _Eval]], rule: Rule, where: str, rel: str) -> Rule:
    """``rule`` run with its own ``vars`` bound (per run of the rule)."""

    def with_vars(scope: Scope, out: dict[str, Any]) -> None:
        inner = Scope(
            scope.item,
            scope.up,
            scope.root,
            dict(scope.vars),
            scope.run,
            scope.index,
            scope.pos,
            scope.tkey,
            scope.skey,
        )
        bound = inner.vars
        for name, evaluate in local:
            try:
                bound[name] = evaluate(inner)
            except EvalError as exc:
                raise located(f"{scope.target(rel)} vars.{name}: {exc}", exc, where) from None
        rule(inner, out)

    return with_vars


def _noop(scope: Scope, out: dict[str, Any]) -> None:
    return None
