"""Parsed XML elements -> trees; docs/formats-xml.md describes the convention.

* The root element is the tree's single key; an element's name is ``prefix:local``
  with the document's own prefix, or ``local``.
* Namespace declarations an element makes are ``"@xmlns"`` / ``"@xmlns:p"`` keys;
  attributes are ``"@name"`` keys, in document order.
* An element with neither attributes nor child elements is its text: a string, or
  ``None`` when it is empty. Otherwise it is a dict; its text is the ``"#text"`` key.
* Child elements of one name become a list when they repeat, or always when the
  ``lists`` option or the XSD says so. Whitespace between child elements is layout and
  dropped; other text next to child elements (mixed content) is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lxml import etree

from hub.errors import DecodeError
from hub.formats.base import Tree
from hub.formats.xml.parse import depth_error, source_line
from hub.formats.xml.shapes import Shape

__all__ = ["XML_NAMESPACE", "Converter", "PathRules", "qname"]

XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
_XML_SPACE = " \t\r\n"


def qname(element: etree._Element) -> str:
    """The element's name as the tree writes it: ``prefix:local`` or ``local``."""
    tag = element.tag
    local = tag.rpartition("}")[2] if tag.startswith("{") else tag
    prefix = element.prefix
    return f"{prefix}:{local}" if prefix else local


def _str(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("utf-8")


def _attribute_name(key: str, nsmap: dict[str | None, str]) -> str:
    if not key.startswith("{"):
        return key
    uri, _, local = key[1:].partition("}")
    if uri == XML_NAMESPACE:
        return f"xml:{local}"
    # Attributes keep no prefix in lxml: take the innermost prefix bound to the URI.
    for prefix, bound in nsmap.items():
        if prefix and bound == uri:
            return f"{prefix}:{local}"
    return key  # unreachable for a parsed document: a namespaced attribute has a prefix


class PathRules:
    """Element paths from the ``lists`` option: ``Item``, ``Order/Line`` or ``/Order/Line``."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._by_name: dict[str, list[tuple[bool, tuple[str, ...]]]] = {}
        for entry in entries:
            steps = tuple(entry.removeprefix("/").split("/"))
            self._by_name.setdefault(steps[-1], []).append((entry.startswith("/"), steps))

    def matches(self, path: Sequence[str]) -> bool:
        """Whether an element at ``path`` (names from the root down) is one of these."""
        for anchored, steps in self._by_name.get(path[-1], ()):
            if anchored and tuple(path) == steps:
                return True
            if not anchored and tuple(path[-len(steps) :]) == steps:
                return True
        return False


class Converter:
    """Turns an element and everything in it into a tree value."""

    def __init__(self, rules: PathRules, *, max_depth: int) -> None:
        self.rules = rules
        self.max_depth = max_depth

    def document(self, root: etree._Element, shape: Shape | None) -> Tree:
        name = qname(root)
        return {name: self.element(root, {}, [name], shape, 1)}

    def record(
        self, element: etree._Element, path: list[str], shape: Shape | None, depth: int
    ) -> Tree:
        """A record of a stream: like a document, declaring every namespace in scope."""
        return {path[-1]: self.element(element, {}, path, shape, depth)}

    def element(
        self,
        element: etree._Element,
        parent_nsmap: dict[str | None, str],
        path: list[str],
        shape: Shape | None,
        depth: int,
    ) -> Tree:
        if depth > self.max_depth:
            raise depth_error(self.max_depth, source_line(element))
        nsmap = element.nsmap
        node: dict[str, Tree] = {}
        for prefix, uri in nsmap.items():
            if prefix not in parent_nsmap or parent_nsmap[prefix] != uri:
                node["@xmlns" if prefix is None else f"@xmlns:{prefix}"] = uri
        for key, value in element.attrib.items():
            node["@" + _attribute_name(_str(key), nsmap)] = _str(value)
        children = [child for child in element if isinstance(child.tag, str)]
        text = element.text
        if not children:
            if not node:
                return text
            if text is not None:
                node["#text"] = text
            return node
        if text is not None and text.strip(_XML_SPACE):
            raise _mixed(element, text, children[0], source_line(element))
        for index, child in enumerate(children):
            tail = child.tail
            if tail is not None and tail.strip(_XML_SPACE):
                following = children[index + 1] if index + 1 < len(children) else None
                raise _mixed(element, tail, following, source_line(child))
            name = qname(child)
            path.append(name)
            repeats, child_shape = shape.child(child.tag) if shape else (False, None)
            value = self.element(child, nsmap, path, child_shape, depth + 1)
            if name in node:
                earlier = node[name]
                if isinstance(earlier, list):
                    earlier.append(value)
                else:
                    node[name] = [earlier, value]
            elif repeats or self.rules.matches(path):
                node[name] = [value]
            else:
                node[name] = value
            path.pop()
        return node


def _mixed(
    element: etree._Element, text: str, following: etree._Element | None, fallback: int | None
) -> DecodeError:
    """The error for ``text`` found among child elements, on the line where it starts."""
    line = fallback
    following_line = source_line(following) if following is not None else None
    if following_line:
        # The text runs up to the following element's start tag.
        leading = text[: len(text) - len(text.lstrip(_XML_SPACE))]
        line = following_line - text.count("\n") + leading.count("\n")
    snippet = text.strip(_XML_SPACE)
    snippet = snippet if len(snippet) <= 40 else snippet[:37] + "..."
    return DecodeError(
        f"mixed content: <{qname(element)}> has text {snippet!r} next to child elements",
        where=f"line {line}" if line else None,
        hint="put the text in an element of its own; this codec does not map mixed content",
    )
