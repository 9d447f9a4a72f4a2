"""YAML files that remember where every value came from.

Config and mapping errors must point at ``file:line``; PyYAML forgets positions
once it builds Python objects, so this walks the node tree itself, keeping a
position for every key and list item, rejecting duplicate keys (which PyYAML
silently drops) and substituting ``${ENV_VAR}`` / ``${ENV_VAR:-default}`` in
string values after parsing, so a secret with ``:`` or ``#`` cannot break YAML.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hub.errors import ConfigError, Problem

__all__ = ["MAX_YAML_DEPTH", "Loc", "YamlDocument", "load_yaml", "parse_yaml"]

Loc = tuple[str | int, ...]

#: The deepest a config or mapping file may nest mappings and lists.
MAX_YAML_DEPTH = 100
#: Aliases (``*name``) may make a document this many times its own nodes (plus a margin),
#: so a file of a few lines cannot expand to billions of values ("billion laughs").
_ALIAS_FACTOR = 10
_ALIAS_MARGIN = 10_000

_ENV = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_HIDDEN_FROM = 4  # characters: shorter environment values are not hidden in problem texts


@dataclass
class YamlDocument:
    """Parsed YAML data plus the ``(line, column)`` of each key path (1-based)."""

    source: str
    data: Any
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Where each scalar value's text starts (after an opening quote), for column-exact errors.
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    #: The file's text, and each scalar's span in it (start, end, style), so that a character
    #: of a value (an expression's fault) can be located at its own line and column.
    text: str = ""
    spans: dict[Loc, tuple[int, int, str]] = field(default_factory=dict)
    #: The text as written (``https://user:${PASSWORD}@host``) of every value that took
    #: something from the environment, and each variable's value: a problem shows the former
    #: and never the latter (see :meth:`hide_env`).
    from_env: dict[Loc, str] = field(default_factory=dict)
    env_values: dict[str, str] = field(default_factory=dict)

    def shown(self, loc: Loc, value: str) -> str:
        """``value`` (found at ``loc``) as a problem may show it: as written in the file."""
        return self.from_env.get(loc, value)

    def hide_env(self, text: str) -> str:
        """``text`` with every environment variable's value replaced by ``${NAME}``.

        Values shorter than 4 characters are left alone: they are no secret (a port digit, a
        flag) and would otherwise be replaced wherever those characters occur.
        """
        for name, value in sorted(self.env_values.items(), key=lambda kv: -len(kv[1])):
            if len(value) >= _HIDDEN_FROM:
                text = text.replace(value, f"${{{name}}}")
        return text

    def position(self, loc: Loc) -> tuple[int, int] | None:
        """Position of the deepest part of ``loc`` the file actually has."""
        for end in range(len(loc), -1, -1):
            mark = self.marks.get(tuple(loc[:end]))
            if mark is not None:
                return mark
        return None

    def where(self, loc: Loc, *, column: bool = False) -> str:
        pos = self.position(loc)
        if pos is None:
            return self.source
        return f"{self.source}:{pos[0]}:{pos[1]}" if column else f"{self.source}:{pos[0]}"

    def value_position(self, loc: Loc, offset: int) -> tuple[int, int] | None:
        """``(line, column)`` of character ``offset`` of the scalar value at ``loc``.

        Follows the value through the file's text, so a character on the third line of a
        folded (``>-``) or multi-line plain value is found on that line; quotes, ``''`` and
        backslash escapes are skipped. None when ``loc`` is not a scalar of this file.
        """
        span = self.spans.get(loc)
        if span is None or not self.text:
            return None
        value = self.data_at(loc)
        if not isinstance(value, str):
            value = str(value)
        index = _source_index(self.text, span, value, offset)
        if index is None:
            start = self.values.get(loc)
            return None if start is None else (start[0], start[1] + offset)
        line = self.text.count("\n", 0, index) + 1
        column = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return line, column

    def where_in_value(self, loc: Loc, offset: int) -> str:
        """``file:line:column`` of character ``offset`` of the value at ``loc``."""
        pos = self.value_position(loc, offset)
        if pos is None:
            return self.where(loc, column=True)
        return f"{self.source}:{pos[0]}:{pos[1]}"

    def data_at(self, loc: Loc) -> Any:
        node = self.data
        for part in loc:
            in_dict = isinstance(node, dict) and part in node
            in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            if not (in_dict or in_list):
                return None
            node = node[part]
        return node


_ESCAPE_LENGTH = {"x": 4, "u": 6, "U": 10}


def _source_index(text: str, span: tuple[int, int, str], value: str, offset: int) -> int | None:
    """The index in ``text`` of ``value[offset]``, walking the scalar's source alongside it."""
    start, end, style = span
    i = start
    if style in ("|", ">"):  # the indicator line: the content starts on the next line
        newline = text.find("\n", start, end)
        if newline < 0:
            return None
        i = newline + 1
    elif style in ("'", '"'):
        i += 1
    j = 0
    while j < offset:
        if j >= len(value) or i >= end:
            return None
        ch = value[j]
        if style == '"' and text[i] == "\\" and i + 1 < end:
            after = text[i + 1]
            if after in "\r\n":  # an escaped line break produces nothing
                i += 2
                while i < end and text[i] in " \t\r\n":
                    i += 1
                continue
            i += _ESCAPE_LENGTH.get(after, 2)
            j += 1
            continue
        if style == "'" and text.startswith("''", i):
            i += 2
            j += 1
            continue
        if ch in " \t\n":
            if text[i] in " \t\r\n":  # a run of blanks and line breaks folds to fewer
                j += 1
                while j < offset and j < len(value) and value[j] in " \t\n":
                    j += 1
                while i < end and text[i] in " \t\r\n":
                    i += 1
                continue
            return None
        if text[i] == ch:
            i += 1
            j += 1
            continue
        if text[i] in " \t\r\n":  # indentation the value does not keep
            i += 1
            continue
        return None
    while i < end and text[i] in " \t\r\n" and offset < len(value) and value[offset] not in " \t\n":
        i += 1
    return i if i <= end else None


def load_yaml(
    path: Path, *, environ: Mapping[str, str] | None = None, substitute_env: bool = True
) -> YamlDocument:
    """Read and parse ``path``; unreadable files raise :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"file not found: {path}",
            hint="check the path and the working directory",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", where=str(path)) from None
    return parse_yaml(text, str(path), environ=environ, substitute_env=substitute_env)


def parse_yaml(
    text: str,
    source: str,
    *,
    environ: Mapping[str, str] | None = None,
    substitute_env: bool = True,
) -> YamlDocument:
    """Parse ``text`` (named ``source`` in messages); syntax errors raise :class:`ConfigError`.

    A character YAML does not allow (a control character) and nesting deeper than
    :data:`MAX_YAML_DEPTH` are syntax errors too, located like any other.
    """
    loader: _DepthLimitedLoader | None = None
    try:
        loader = _DepthLimitedLoader(text)
        node = loader.get_single_node()
        doc = YamlDocument(source=source, data=None, text=text)
        if node is not None:
            walker = _Walker(
                loader, doc, os.environ if environ is None else environ, substitute_env
            )
            doc.data = walker.build(node, ())
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ConfigError(
            f"invalid YAML: {exc.problem or exc.context}",
            where=where,
            hint="check indentation, colons and quoting on that line",
        ) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", where=source) from None
    finally:
        if loader is not None:
            loader.dispose()


class _DepthLimitedLoader(yaml.SafeLoader):
    """PyYAML's composer recurses once per level: refuse, located, past MAX_YAML_DEPTH."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"the document nests deeper than {MAX_YAML_DEPTH} levels", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _reader_error(exc: yaml.reader.ReaderError, text: str, source: str) -> ConfigError:
    """A character YAML does not allow, located at its line and column."""
    line = text.count("\n", 0, exc.position) + 1
    column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or " ")
    return ConfigError(
        f"invalid YAML: the character U+{code:04X} is not allowed in a YAML file",
        where=f"{source}:{line}:{column}",
        hint="remove the control character, or write it as an escape inside double quotes "
        '("\\x01")',
    )


class _Walker:
    def __init__(
        self,
        loader: yaml.SafeLoader,
        doc: YamlDocument,
        environ: Mapping[str, str],
        substitute_env: bool,
    ) -> None:
        self.loader = loader
        self.doc = doc
        self.environ = environ
        self.substitute_env = substitute_env
        self.built = 0  # nodes walked, each alias's target again
        self.distinct: set[int] = set()  # nodes of the document itself

    def _mark(self, loc: Loc, node: yaml.Node) -> None:
        self.doc.marks.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))

    def _count(self, node: yaml.Node) -> None:
        """Refuse a document whose aliases expand it far past its own size."""
        self.built += 1
        self.distinct.add(id(node))
        if self.built > _ALIAS_FACTOR * len(self.distinct) + _ALIAS_MARGIN:
            mark = node.start_mark
            raise ConfigError(
                "invalid YAML: its aliases (*name) expand it to more than "
                f"{_ALIAS_FACTOR} times its own size",
                where=f"{self.doc.source}:{mark.line + 1}:{mark.column + 1}",
                hint="write the repeated part out, or use fewer nested aliases",
            )

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self._count(node)
        self._mark(loc, node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        style = getattr(node, "style", None) or ""
        quoted = 1 if style in ("'", '"') else 0
        self.doc.values[loc] = (node.start_mark.line + 1, node.start_mark.column + 1 + quoted)
        self.doc.spans[loc] = (node.start_mark.index, node.end_mark.index, style)
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, str) and self.substitute_env:
            return self._substitute(value, node, loc)
        return value

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        self.loader.flatten_mapping(node)  # `<<: *anchor` pairs now come first
        merged = len(node.value) - own
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool) and key is not None:
                self.doc.problems.append(
                    Problem("a key must be a plain value", where=f"{self.doc.source}:{line}")
                )
                continue
            key_loc = (*loc, key if isinstance(key, str | int) else str(key))
            if index >= merged:  # written here: overrides a merged key, and is located here
                self.doc.marks.pop(key_loc, None)
            if key in first_line and index >= merged:
                self.doc.problems.append(
                    Problem(
                        f"duplicate key {key!r} (first at line {first_line[key]})",
                        where=f"{self.doc.source}:{line}",
                        hint="remove one of them; YAML keeps only the last",
                    )
                )
            if index >= merged:
                first_line.setdefault(key, line)
            self._mark(key_loc, key_node)
            result[key] = self.build(value_node, key_loc)
        return result

    def _substitute(self, value: str, node: yaml.Node, loc: Loc) -> str:
        written = value

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name, default = match.group(1), match.group(2)
            value = self.environ.get(name)
            if default is not None and not value:  # like the shell: unset or empty
                return default
            if value is not None:
                self.doc.from_env[loc] = written
                self.doc.env_values[name] = value
                return value
            line = node.start_mark.line + 1
            self.doc.problems.append(
                Problem(
                    f"environment variable {name} is not set",
                    where=f"{self.doc.source}:{line}",
                    hint=f"export {name}=..., or write ${{{name}:-default}} to give a default",
                )
            )
            return ""

        return _ENV.sub(replace, value)
