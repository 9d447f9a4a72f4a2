"""Trees -> XML text, the inverse of convert.py.

Written by hand rather than through lxml so that every prefix is the one the tree
names (lxml picks its own prefix when two are bound to one namespace) and so that
every fault is reported with its path in the tree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from hub.errors import EncodeError
from hub.formats.base import Tree
from hub.formats.xml.convert import CONTENT
from hub.formats.xml.names import XML_NAMESPACE

__all__ = ["XmlWriter"]

# XML 1.0 (fifth edition) names, without ":" (namespaces allow at most one, between parts).
_START = (
    "A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NCNAME = f"[{_START}][{_START}\\-.0-9\u00b7\u0300-\u036f\u203f\u2040]*"
_QNAME = re.compile(f"(?:({_NCNAME}):)?({_NCNAME})")
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;"}
    | {"\r": "&#13;"}
)
_RESERVED_PREFIXES = {"xml": XML_NAMESPACE, "xmlns": "http://www.w3.org/2000/xmlns/"}


def _pointer(path: list[str]) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)


class XmlWriter:
    """Writes one tree as one document; not thread-safe, make one per call."""

    def __init__(
        self,
        *,
        pretty: bool,
        max_depth: int,
        check_name: Callable[[str], bool],
        namespaces: dict[str, str] | None = None,
    ) -> None:
        self.pretty = pretty
        self.max_depth = max_depth
        self.check_name = check_name  # can the output encoding carry this name?
        #: The route's prefixes: usable without an "@xmlns:p" key, declared on the root.
        self.namespaces = namespaces or {}
        self.root_declares: set[str | None] = set()
        self.out: list[str] = []
        self.path: list[str] = []  # of the element being written; keys are added on failure
        self.names: dict[str, tuple[str | None, str]] = {}  # checked names: (prefix, local)

    def fail(
        self, message: str, hint: str | None = None, at: str | tuple[str, ...] | None = None
    ) -> EncodeError:
        steps = () if at is None else (at,) if isinstance(at, str) else at
        where = _pointer([*self.path, *steps])
        return EncodeError(f"cannot encode as XML: {message}", where=where, hint=hint)

    def document(self, tree: Tree) -> str:
        if not isinstance(tree, dict) or len(tree) != 1:
            found = f"has {len(tree)} keys" if isinstance(tree, dict) else "is not a dict"
            raise EncodeError(
                f"cannot encode as XML: a document has one root element, the tree {found}",
                where="#",
                hint="the tree must be a dict with exactly one key, the root element's name",
            )
        ((name, value),) = tree.items()
        self.path.append(str(name))
        if not isinstance(name, str):
            raise self.fail(f"key {name!r} is not a string")
        if isinstance(value, list):
            raise self.fail("the root element cannot be a list", "a document has one root")
        scope: dict[str | None, str] = {None: ""}
        scope.update(self.namespaces)
        self.element(name, value, scope, 1, pretty=self.pretty)
        used = {prefix for prefix, _ in self.names.values()}
        implicit = [p for p in self.namespaces if p in used and p not in self.root_declares]
        if implicit:  # after "<root": the route's prefixes the tree uses but did not declare
            self.out.insert(
                1, "".join(f' xmlns:{p}="{self.namespaces[p]}"' for p in sorted(implicit))
            )
        return "".join(self.out)

    def name(self, name: str, what: str, at: str | None = None) -> tuple[str | None, str]:
        known = self.names.get(name)
        if known is not None:
            return known
        match = _QNAME.fullmatch(name)
        if match is None:
            raise self.fail(
                f"{name!r} is not a valid XML {what} name",
                "names start with a letter or '_' and hold letters, digits, '-', '_' and '.'",
                at,
            )
        if not self.check_name(name):
            raise self.fail(f"the output encoding cannot write the {what} name {name!r}", at=at)
        known = self.names[name] = (match.group(1), match.group(2))
        return known

    def scalar(self, value: object, what: str, at: str | None = None) -> str:
        if isinstance(value, str):
            text = value
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            try:
                text = str(value)
            except ValueError as exc:  # more digits than Python converts
                raise self.fail(str(exc), at=at) from None
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(f"{what} {value!r} is not a finite number", at=at)
            text = repr(value)
        else:
            raise self.fail(
                f"{what} of type {type(value).__name__} has no XML form",
                "use strings, numbers, booleans or None",
                at,
            )
        bad = _NOT_XML_CHAR.search(text)
        if bad:
            raise self.fail(
                f"{what} holds U+{ord(bad.group()):04X}, which XML 1.0 cannot carry",
                "drop or replace control characters and lone surrogates in the mapping",
                at,
            )
        return text

    def element(
        self, name: str, value: Tree, scope: dict[str | None, str], depth: int, *, pretty: bool
    ) -> None:
        if depth > self.max_depth:
            raise self.fail(f"the tree nests deeper than {self.max_depth} elements")
        prefix, _ = self.name(name, "element")
        attributes: list[tuple[str, str]] = []
        children: list[tuple[tuple[str, ...], str | None, Any]] = []
        text: str | None = None
        if isinstance(value, dict):
            scope, text = self.split(value, scope, attributes, children)
            if depth == 1:
                self.root_declares = {
                    None if key == "xmlns" else key.removeprefix("xmlns:")
                    for key, _ in attributes
                    if key == "xmlns" or key.startswith("xmlns:")
                }
        elif isinstance(value, list):
            raise self.fail("a list directly inside a list has no XML form")
        elif value is not None:
            text = self.scalar(value, "text")
        if prefix is not None and prefix not in scope and prefix != "xml":
            raise self.fail(
                f"the prefix {prefix!r} of element {name!r} is not declared",
                f"add '@xmlns:{prefix}' with its namespace URI to this element or an ancestor",
            )
        indent = "\n" + "  " * (depth - 1) if pretty and depth > 1 else ""
        out = self.out
        out.append(f"{indent}<{name}")
        for key, attribute in attributes:
            out.append(f' {key}="{attribute.translate(_ATTRIBUTE_ESCAPES)}"')
        if children:
            out.append(">")
            # Indenting beside text would add to it: mixed content is written as it is.
            inner = pretty and all(child_name is not None for _, child_name, _ in children)
            for steps, child_name, child in children:
                self.path.extend(steps)
                if child_name is None:
                    out.append(self.scalar(child, "text").translate(_TEXT_ESCAPES))
                else:
                    self.element(child_name, child, scope, depth + 1, pretty=inner)
                del self.path[len(self.path) - len(steps) :]
            close_indent = "\n" + "  " * (depth - 1) if inner else ""
            out.append(f"{close_indent}</{name}>")
        elif text:
            out.append(f">{text.translate(_TEXT_ESCAPES)}</{name}>")
        else:
            out.append("/>")

    def split(
        self,
        node: dict[Any, Tree],
        scope: dict[str | None, str],
        attributes: list[tuple[str, str]],
        children: list[tuple[tuple[str, ...], str | None, Any]],
    ) -> tuple[dict[str | None, str], str | None]:
        """Sort a dict's keys into namespaces, attributes, text and children.

        A child is (its path steps in the tree, its name or None for text, its value).
        """
        declared: dict[str | None, str] = {}
        named: list[tuple[str, str]] = []
        text: str | None = None
        content: list[Any] | None = None
        for key, value in node.items():
            if not isinstance(key, str):
                raise self.fail(f"key {key!r} is not a string", at=str(key))
            if not key.startswith(("@", "#")):
                if isinstance(value, list):
                    children.extend(
                        ((key, str(index)), key, item) for index, item in enumerate(value)
                    )
                else:
                    children.append(((key,), key, value))
            elif key == CONTENT:
                if not isinstance(value, list):
                    raise self.fail(f"'{CONTENT}' must be a list of texts and elements", at=key)
                content = value
            elif key == "#text":
                if isinstance(value, dict | list):
                    raise self.fail("'#text' must be a string, number or boolean", at=key)
                text = None if value is None else self.scalar(value, "text", key)
            elif key.startswith("#"):
                raise self.fail(
                    f"unknown key {key!r}",
                    f"'#text' and '{CONTENT}' are the keys starting with #",
                    key,
                )
            elif key == "@xmlns" or key.startswith("@xmlns:"):
                if value is not None:
                    declared[self.declaration(key, value)] = value
            elif value is not None:
                if isinstance(value, dict | list):
                    raise self.fail(
                        "an attribute value must be a string, number or boolean", at=key
                    )
                named.append((key, self.scalar(value, "attribute value", key)))
        if content is not None:
            if children or text:
                raise self.fail(
                    f"'{CONTENT}' holds all of an element's children and texts",
                    f"move the other child keys and '#text' into '{CONTENT}'",
                )
            self.ordered(content, children)
        if text and children:
            raise self.fail(
                "'#text' next to child elements is mixed content",
                f"write the element's texts and children in order as a '{CONTENT}' list",
            )
        if declared:
            scope = {**scope, **declared}
            for prefix, uri in declared.items():
                attributes.append(("xmlns" if prefix is None else f"xmlns:{prefix}", uri))
        seen: set[tuple[str, str]] = set()
        for key, attribute_value in named:
            attribute = key[1:]
            prefix, local = self.name(attribute, "attribute", key)
            namespace = "" if prefix is None else scope.get(prefix, _RESERVED_PREFIXES.get(prefix))
            if namespace is None or prefix == "xmlns":
                raise self.fail(
                    f"the prefix {prefix!r} of attribute {attribute!r} is not declared",
                    f"add '@xmlns:{prefix}' with its namespace URI to this element or an ancestor",
                    key,
                )
            if (namespace, local) in seen:
                raise self.fail(
                    f"attribute {attribute!r} repeats one in the same namespace", at=key
                )
            seen.add((namespace, local))
            attributes.append((attribute, attribute_value))
        return scope, text

    def ordered(
        self, content: list[Any], children: list[tuple[tuple[str, ...], str | None, Any]]
    ) -> None:
        """The items of a ``"#content"`` list: texts, and one-key dicts ``{name: value}``."""
        for index, item in enumerate(content):
            steps = (CONTENT, str(index))
            if isinstance(item, dict) and len(item) == 1:
                ((key, value),) = item.items()
                if not isinstance(key, str) or key.startswith(("@", "#")):
                    raise self.fail(f"{key!r} is not an element name", at=steps)
                if isinstance(value, list):
                    children.extend(
                        ((*steps, key, str(i)), key, each) for i, each in enumerate(value)
                    )
                else:
                    children.append(((*steps, key), key, value))
            elif isinstance(item, dict | list):
                raise self.fail(
                    f"an item of '{CONTENT}' is a text or a dict with one key, an element name",
                    at=steps,
                )
            elif item is not None:
                children.append((steps, None, item))

    def declaration(self, key: str, value: object) -> str | None:
        """The prefix an ``@xmlns``/``@xmlns:p`` key declares (None: the default namespace)."""
        if not isinstance(value, str):
            raise self.fail("a namespace URI must be a string", at=key)
        self.scalar(value, "namespace URI", key)
        if key == "@xmlns":
            if value in _RESERVED_PREFIXES.values():
                raise self.fail(f"{value!r} cannot be the default namespace", at=key)
            return None
        prefix = key.removeprefix("@xmlns:")
        if not re.fullmatch(_NCNAME, prefix):
            raise self.fail(f"{prefix!r} is not a valid namespace prefix", at=key)
        if (prefix, value) != ("xml", XML_NAMESPACE) and (
            prefix in _RESERVED_PREFIXES or value in _RESERVED_PREFIXES.values()
        ):
            raise self.fail(f"the prefix {prefix!r} and {value!r} are reserved by XML", at=key)
        if not value:
            raise self.fail(f"the prefix {prefix!r} needs a namespace URI, not ''", at=key)
        return prefix
