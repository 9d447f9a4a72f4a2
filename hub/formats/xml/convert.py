"""Parser events -> trees, with the decoding limits checked as the parser goes.

docs/formats-xml.md describes the convention:

* The root element is the tree's single key; an element's name is ``prefix:local``
  with the document's own prefix (or the ``namespaces`` option's, see names.py), or
  ``local``.
* Namespace declarations an element makes are ``"@xmlns"`` / ``"@xmlns:p"`` keys;
  attributes are ``"@name"`` keys, in document order.
* An element with neither attributes nor child elements is its text: a string, or
  ``None`` when it is empty. Otherwise it is a dict; its text is the ``"#text"`` key.
* Child elements of one name become a list when they repeat, or always when the
  ``lists`` option or the XSD says so. Whitespace between child elements is layout and
  dropped.
* A parent whose children interleave (``<a/><b/><a/>``: grouping would change what
  belongs together) or stand beside text (mixed content) keeps document order: its
  children and texts are a ``"#content"`` list of ``{name: value}`` and strings. With
  ``order: refuse`` such a parent is an error instead. Never silently regrouped.

The :class:`Converter` reads lxml's ``iterparse`` events (``start-ns``, ``start``,
``end``) in one pass. Every element costs a bounded amount of work: its depth, its
attribute count and the document's element count are checked at its start tag,
before any of its attributes is read, and the namespaces in scope are carried down
from the parent instead of being rebuilt per element (``element.nsmap`` walks every
ancestor). lxml's ``attrib.items()`` looks each attribute up by name, which is
quadratic in the attribute count, so elements with many attributes are read with
one XPath ``@*`` instead (linear).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from lxml import etree

from hub.errors import DecodeError, LimitExceeded
from hub.formats.base import Tree
from hub.formats.limits import DecodeLimits, shorten
from hub.formats.xml.names import XML_NAMESPACE, Naming, Scope, qname
from hub.formats.xml.parse import depth_limit, source_line
from hub.formats.xml.shapes import SchemaShapes, Shape

__all__ = ["CONTENT", "XML_NAMESPACE", "Converter", "PathRules", "qname", "release"]

#: The key of a parent decoded in document order.
CONTENT = "#content"
_XML_SPACE = " \t\r\n"
#: Up to this many attributes ``attrib.items()`` is fastest; beyond, its quadratic
#: lookups lose to one XPath evaluation (measured: 64 attributes 22 us vs 40 us,
#: 256 attributes 227 us vs 88 us).
_FEW_ATTRIBUTES = 64
_ALL_ATTRIBUTES = etree.XPath("@*")
_MISSING = object()

Events = Iterable[tuple[str, Any]]


def release(element: etree._Element) -> None:
    """Free a finished element and the siblings before it (their tails were read)."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


class PathRules:
    """Element paths from the ``lists`` option: ``Item``, ``Order/Line`` or ``/Order/Line``."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = list(entries)
        self._by_name: dict[str, list[tuple[bool, tuple[str, ...]]]] = {}
        for entry in self.entries:
            steps = tuple(entry.removeprefix("/").split("/"))
            self._by_name.setdefault(steps[-1], []).append((entry.startswith("/"), steps))
        self._locals = {name.rpartition(":")[2] for name in self._by_name}

    def matches(self, path: Sequence[str]) -> bool:
        """Whether an element at ``path`` (names from the root down) is one of these."""
        for anchored, steps in self._by_name.get(path[-1], ()):
            if anchored and tuple(path) == steps:
                return True
            if not anchored and tuple(path[-len(steps) :]) == steps:
                return True
        return False

    def near(self, clark: str) -> bool:
        """Whether an element has the local name of one of these (another prefix, say)."""
        return clark.rpartition("}")[2] in self._locals

    def nothing_found(self, near: dict[str, str]) -> DecodeError:
        """The error for a record tag that matched no element of a whole document."""
        tags = " or ".join(repr(entry) for entry in self.entries)
        seen = ""
        if near:
            found = [
                f"<{shorten(name)}> in namespace {clark[1:].partition('}')[0]}"
                if clark.startswith("{")
                else f"<{shorten(name)}> in no namespace"
                for clark, name in near.items()
            ]
            seen = f"; it has {', '.join(found)}"
        return DecodeError(
            f"no element of the document matches the record tag {tags}{seen}",
            hint="record tags are written as the tree names elements: declare each namespace "
            "in the xml option `namespaces` (e.g. `cac: <its URI>`) and write the tag with "
            "that prefix, so the sender's own prefixes do not matter",
        )


_NO_NAMESPACES = Scope({}, {})


class _Frame:
    """An open element: what is known of it while its content is parsed."""

    __slots__ = ("element", "last", "name", "node", "ordered", "previous", "scope", "shape")

    def __init__(
        self,
        element: etree._Element,
        name: str,
        scope: Scope,
        node: dict[str, Tree] | None,
        shape: Shape | None,
    ) -> None:
        self.element = element
        self.name = name
        self.scope = scope
        self.node = node  # None: outside every record, not converted
        self.shape = shape
        self.last: etree._Element | None = None  # the latest child element
        self.previous: str | None = None  # the name of the latest child converted
        self.ordered = False  # node holds its children and texts as a "#content" list


class Converter:
    """Turns parser events into trees: the whole document, or each record of a stream."""

    def __init__(
        self,
        rules: PathRules,
        limits: DecodeLimits,
        *,
        namespaces: dict[str, str] | None = None,
        keep_order: bool = True,
    ) -> None:
        self.rules = rules
        self.limits = limits
        self.namespaces = namespaces or {}
        self.keep_order = keep_order

    @property
    def max_depth(self) -> int:
        return self.limits.max_depth

    def document(
        self, events: Events, shapes: SchemaShapes | None, *, keep_tree: bool
    ) -> tuple[Tree, etree._Element]:
        """The tree of the document and its root element.

        With ``keep_tree`` the parsed elements stay (an XSD checks them afterwards);
        without, each is freed as soon as it is converted.
        """
        run = _Run(self, events, shapes, None, keep_tree=keep_tree)
        trees = list(run)  # to the end: the parser reports some errors only when it closes
        if not trees or run.root is None:
            raise DecodeError("the document has no root element", hint="send one XML document")
        return trees[0], run.root

    def records(
        self, events: Events, record: PathRules, shapes: SchemaShapes | None
    ) -> Iterator[Tree]:
        """Each element ``record`` matches (outside another record) as a tree of its own."""
        return iter(_Run(self, events, shapes, record, keep_tree=False))


class _Run:
    """One pass over the events of one document."""

    def __init__(
        self,
        converter: Converter,
        events: Events,
        shapes: SchemaShapes | None,
        record: PathRules | None,
        *,
        keep_tree: bool,
    ) -> None:
        self.rules = converter.rules
        self.limits = converter.limits
        self.keep_order = converter.keep_order
        self.naming = Naming(converter.namespaces) if converter.namespaces else None
        self.events = events
        self.shapes = shapes
        self.record = record  # None: the whole document is the one record
        self.keep_tree = keep_tree
        self.root: etree._Element | None = None
        self.names: list[str] = []  # the open elements, from the root down
        self.clarks: list[str] = []
        self.frames: list[_Frame] = []
        self.elements = 0  # in the document, or in the current record of a stream
        self.found = 0  # records
        self.near: dict[str, str] = {}  # names like the record tag's: Clark -> tree name

    def __iter__(self) -> Iterator[Tree]:
        declared: list[tuple[str | None, str]] = []
        for event, item in self.events:
            if event == "start-ns":
                prefix, uri = item
                declared.append((prefix or None, uri))
            elif event == "start":
                self.start(item, declared)
                declared = []
            else:
                record = self.end(item)
                if record is not None:
                    self.found += 1
                    yield record
        if self.record is not None and not self.found and self.root is not None:
            raise self.record.nothing_found(self.near)

    def declaration(self, prefix: str | None, uri: str) -> str:
        if self.naming is not None:
            return self.naming.declaration(prefix, uri)
        return "@xmlns" if prefix is None else f"@xmlns:{prefix}"

    def start(self, element: etree._Element, declared: list[tuple[str | None, str]]) -> None:
        """An element's start tag: check the limits, then read its attributes."""
        limits, frames, names = self.limits, self.frames, self.names
        name = qname(element) if self.naming is None else self.naming.element(element)
        if len(frames) + 1 > limits.max_depth:
            raise depth_limit(limits.max_depth, source_line(element), name)
        names.append(name)
        self.clarks.append(element.tag)
        parent = frames[-1] if frames else None
        scope = parent.scope if parent is not None else _NO_NAMESPACES
        if declared:
            scope = scope.inner(declared)
            if len(scope.forward) > limits.max_namespaces:
                count = len(scope.forward)
                what = f"<{shorten(name)}> has {count} namespaces in scope"
                raise self.limit("max_namespaces", count, what, element)
        attributes = len(element.attrib)
        if attributes + len(declared) > limits.max_attributes:
            count = attributes + len(declared)
            what = f"<{shorten(name)}> has {count} attributes and namespace declarations"
            raise self.limit("max_attributes", count, what, element)
        if self.root is None:
            self.root = element
        node: dict[str, Tree] | None = None
        shape: Shape | None = None
        if parent is not None and parent.node is not None:
            self.next_child(parent, element)
            node = {}
            if parent.shape is not None:
                shape = parent.shape.child(element.tag)[1]
            for prefix, uri in declared:
                if parent.scope.forward.get(prefix, _MISSING) != uri:
                    node[self.declaration(prefix, uri)] = uri
        elif self.record is None or self.record.matches(names):
            self.elements = 0  # a record (or the document) starts
            node = {}
            if self.shapes is not None:
                shape = self.shapes.find(self.clarks)
            first = dict(declared)  # the record's own declarations first, then the inherited
            for prefix, uri in (*first.items(), *scope.forward.items()):
                node.setdefault(self.declaration(prefix, uri), uri)
        elif not self.found and len(self.near) < 5 and self.record.near(element.tag):
            self.near.setdefault(element.tag, name)
        if node is not None:
            self.elements += 1
            if self.elements > limits.max_nodes:
                what = f"the document goes on past element {limits.max_nodes}"
                raise self.limit("max_nodes", self.elements, what, element)
            if attributes:
                self.attributes(element, scope, node, attributes)
        frames.append(_Frame(element, name, scope, node, shape))

    def end(self, element: etree._Element) -> Tree | None:
        """An element's end tag: its value goes into its parent; a record is returned."""
        frame = self.frames.pop()
        node = frame.node
        record: Tree | None = None
        if node is None:  # outside every record
            if not self.keep_tree:
                release(element)
        else:
            value: Tree = node
            if frame.last is None:
                text = element.text
                if text is not None and len(text) > self.limits.max_string_length:
                    what = f"the text of <{shorten(frame.name)}> has {len(text)} characters"
                    raise self.limit("max_string_length", len(text), what, element)
                if not node:
                    value = text
                elif text is not None:
                    node["#text"] = text
            else:
                self.check_tail(frame, None)
                # No proxy of a child may outlive the clearing: lxml would move the child
                # to a document of its own, fixing each namespaced attribute up one by one
                # (quadratic in their number).
                frame.last = None
            parent = self.frames[-1] if self.frames else None
            if parent is None or parent.node is None:
                if not self.keep_tree:
                    release(element)
                record = {frame.name: value}
            else:
                self.add(parent.node, frame, value)
        self.names.pop()
        self.clarks.pop()
        return record

    def limit(self, key: str, found: int, what: str, element: etree._Element) -> LimitExceeded:
        line = source_line(element)
        path = "/" + "/".join(shorten(name) for name in self.names[-8:])
        if len(self.names) > 8:
            path = "/..." + path
        where = f"line {line}, {path}" if line else path
        maximum: int = getattr(self.limits, key)
        return LimitExceeded(key, found=found, maximum=maximum, what=what, where=where)

    def attributes(
        self, element: etree._Element, scope: Scope, node: dict[str, Tree], count: int
    ) -> None:
        max_string = self.limits.max_string_length
        pairs: Iterable[tuple[Any, Any]]
        if count <= _FEW_ATTRIBUTES:
            pairs = element.attrib.items()
        else:
            found: Any = _ALL_ATTRIBUTES(element)
            pairs = ((result.attrname, result) for result in found)
        for key, value in pairs:
            text = str(value)
            name = str(key)
            if len(text) > max_string:
                raise self.limit(
                    "max_string_length",
                    len(text),
                    f"the attribute {shorten(name)!r} has {len(text)} characters",
                    element,
                )
            if name.startswith("{"):
                name = _attribute_name(name, scope, self.naming)
            node["@" + name] = text

    def next_child(self, parent: _Frame, child: etree._Element) -> None:
        """A child element starts: the text before it is layout, or content kept in order."""
        if parent.last is None:
            text = parent.element.text
            if text is not None and text.strip(_XML_SPACE):
                self.beside(parent, text, child, source_line(parent.element))
        else:
            self.check_tail(parent, child)
            if not self.keep_tree:
                previous, parent.last = parent.last, None
                release(previous)
        parent.last = child

    def check_tail(self, frame: _Frame, following: etree._Element | None) -> None:
        last = frame.last
        assert last is not None
        tail = last.tail
        if tail is not None and tail.strip(_XML_SPACE):
            self.beside(frame, tail, following, source_line(last))

    def beside(
        self, frame: _Frame, text: str, following: etree._Element | None, line: int | None
    ) -> None:
        """Text among child elements: mixed content, kept in order or refused."""
        if not self.keep_order:
            raise _mixed(frame.element, text, following, line)
        if len(text) > self.limits.max_string_length:
            what = f"a text in <{shorten(frame.name)}> has {len(text)} characters"
            raise self.limit("max_string_length", len(text), what, frame.element)
        assert frame.node is not None
        if not frame.ordered:
            _to_ordered(frame)
        frame.node[CONTENT].append(text)

    def add(self, node: dict[str, Tree], frame: _Frame, value: Tree) -> None:
        """Put a finished child into its parent: a list when it repeats or must be one."""
        name = frame.name
        parent = self.frames[-1]
        previous, parent.previous = parent.previous, name
        if parent.ordered:
            node[CONTENT].append({name: value})
            return
        if name in node:
            if previous != name:  # <a/><b/><a/>: grouping would reorder
                if not self.keep_order:
                    raise _interleaved(parent, name, previous, frame.element)
                _to_ordered(parent)
                node[CONTENT].append({name: value})
                return
            earlier = node[name]
            if isinstance(earlier, list):
                earlier.append(value)
            else:
                node[name] = [earlier, value]
            return
        repeats = parent.shape.child(frame.element.tag)[0] if parent.shape is not None else False
        node[name] = [value] if repeats or self.rules.matches(self.names) else value


def _to_ordered(frame: _Frame) -> None:
    """Turn a parent's grouped children into a ``"#content"`` list in document order.

    Until now no name came back after another, so the groups in key order are the
    document order.
    """
    node = frame.node
    assert node is not None
    content: list[Tree] = []
    for key in [key for key in node if not key.startswith("@")]:
        value = node.pop(key)
        if isinstance(value, list):  # an element's own value is never a list
            content.extend({key: item} for item in value)
        else:
            content.append({key: value})
    node[CONTENT] = content
    frame.ordered = True


def _attribute_name(key: str, scope: Scope, naming: Naming | None) -> str:
    uri, _, local = key[1:].partition("}")
    if uri == XML_NAMESPACE:
        return f"xml:{local}"
    # Attributes keep no prefix in lxml: take the innermost prefix bound to the URI.
    prefix = scope.prefix_for(uri)
    if naming is not None:
        prefix = naming.prefix(prefix, uri)
    return f"{prefix}:{local}" if prefix else key


def _interleaved(
    parent: _Frame, name: str, previous: str | None, element: etree._Element
) -> DecodeError:
    line = source_line(element)
    return DecodeError(
        f"interleaved children: <{shorten(parent.name)}> has <{shorten(name)}> again after "
        f"<{shorten(previous or '?')}>; grouping them by name would change what belongs together",
        where=f"line {line}" if line else None,
        hint="set the xml option `order: keep` to decode such parents in document order "
        "(a '#content' list)",
    )


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
        f"mixed content: <{shorten(qname(element))}> has text {snippet!r} next to child elements",
        where=f"line {line}" if line else None,
        hint="set the xml option `order: keep` to decode it in document order "
        "(a '#content' list), or put the text in an element of its own",
    )
