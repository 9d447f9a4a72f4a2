"""Which child elements an XSD lets repeat, so they always decode to lists.

The reader follows the common constructs: global and local elements, ``ref``,
named and anonymous complex types, ``sequence``/``choice``/``all``, named groups,
``complexContent`` extension and restriction, substitution groups, and
``include``/``import`` of local files. It counts how often a child may occur in its
parent's content model (``maxOccurs`` multiplied through nested groups, summed over a
sequence, the largest branch of a choice); more than once means a list. Anything it
does not follow (``xs:any``, say) is simply not a list unless repeated in the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from hub.formats.xml.parse import hardened_parser

__all__ = ["SchemaShapes", "Shape", "read_shapes"]

XS = "{http://www.w3.org/2001/XMLSchema}"
_ELEMENT = XS + "element"
_SEQUENCE, _CHOICE, _ALL, _GROUP = XS + "sequence", XS + "choice", XS + "all", XS + "group"
_COMPLEX_TYPE, _COMPLEX_CONTENT = XS + "complexType", XS + "complexContent"
_EXTENSION, _RESTRICTION = XS + "extension", XS + "restriction"
_INCLUDES = {XS + "include", XS + "redefine", XS + "override"}
_IMPORT = XS + "import"
_MANY = 2  # occurrence counts are capped: 0, 1 or "more than one"

#: Child Clark name -> (how often it may occur, capped at _MANY; its shape).
_Particles = dict[str, tuple[int, "Shape | None"]]


@dataclass(eq=False)
class Shape:
    """The child elements a complex type allows: Clark name -> (repeats, child's shape)."""

    children: dict[str, tuple[bool, Shape | None]] = field(default_factory=dict)

    def child(self, clark: str) -> tuple[bool, Shape | None]:
        return self.children.get(clark, (False, None))


@dataclass
class SchemaShapes:
    """The shapes of a schema's global elements, the possible document roots."""

    roots: dict[str, Shape | None] = field(default_factory=dict)

    def find(self, clarks: Sequence[str]) -> Shape | None:
        """The shape of the element at ``clarks`` (Clark names from the root down)."""
        shape = self.roots.get(clarks[0]) if clarks else None
        for clark in clarks[1:]:
            if shape is None:
                return None
            shape = shape.child(clark)[1]
        return shape


@dataclass(frozen=True)
class _SchemaDoc:
    target: str  # target namespace, "" for none
    qualified: bool  # elementFormDefault="qualified"
    chameleon: bool  # included without a namespace of its own: takes the includer's


def _clark(uri: str, local: str) -> str:
    return f"{{{uri}}}{local}" if uri else local


def _max_occurs(node: etree._Element) -> int:
    value = node.get("maxOccurs", "1")
    if value == "unbounded":
        return _MANY
    try:
        return min(int(value), _MANY)
    except ValueError:
        return 1


def _then(first: _Particles, second: _Particles) -> _Particles:
    """Both in turn (a sequence): counts add up."""
    merged = dict(first)
    for name, (count, shape) in second.items():
        before, known = merged.get(name, (0, None))
        merged[name] = (min(before + count, _MANY), known or shape)
    return merged


def _either(first: _Particles, second: _Particles) -> _Particles:
    """One or the other (a choice): the larger count."""
    merged = dict(first)
    for name, (count, shape) in second.items():
        before, known = merged.get(name, (0, None))
        merged[name] = (max(before, count), known or shape)
    return merged


def _times(particles: _Particles, occurs: int) -> _Particles:
    return {name: (min(count * occurs, _MANY), s) for name, (count, s) in particles.items()}


class _Reader:
    def __init__(self) -> None:
        self.docs: dict[etree._Element, _SchemaDoc] = {}
        self.elements: dict[str, etree._Element] = {}
        self.types: dict[str, etree._Element] = {}
        self.groups: dict[str, etree._Element] = {}
        self.substitutes: dict[str, list[str]] = {}
        self.shapes: dict[etree._Element, Shape] = {}
        self.loaded: set[Path] = set()

    def load(self, path: Path, includer_target: str | None = None) -> None:
        path = path.resolve()
        if path in self.loaded:
            return
        self.loaded.add(path)
        try:
            root = etree.parse(str(path), hardened_parser()).getroot()
        except (OSError, etree.LxmlError):
            return  # lxml compiled the schema; a part it did not need is no loss here
        own = root.get("targetNamespace")
        target = own if own is not None else (includer_target or "")
        doc = _SchemaDoc(target, root.get("elementFormDefault") == "qualified", own is None)
        self.docs[root] = doc
        for node in root:
            location = node.get("schemaLocation")
            if node.tag in _INCLUDES and location and "://" not in location:
                self.load(path.parent / location, target)
            elif node.tag == _IMPORT and location and "://" not in location:
                self.load(path.parent / location)
            elif node.tag in (_ELEMENT, _COMPLEX_TYPE, _GROUP) and node.get("name"):
                name = _clark(target, node.get("name", ""))
                table = {_ELEMENT: self.elements, _COMPLEX_TYPE: self.types, _GROUP: self.groups}
                table[node.tag][name] = node
                head = node.get("substitutionGroup")
                if node.tag == _ELEMENT and head:
                    self.substitutes.setdefault(self.resolve(node, head), []).append(name)

    def doc(self, node: etree._Element) -> _SchemaDoc:
        return self.docs[node.getroottree().getroot()]

    def resolve(self, node: etree._Element, qname: str) -> str:
        """A QName written in the schema as a Clark name."""
        prefix, _, local = qname.rpartition(":")
        uri = node.nsmap.get(prefix or None, "")
        if not uri and not prefix and self.doc(node).chameleon:
            uri = self.doc(node).target
        return _clark(uri, local)

    def element_shape(self, decl: etree._Element) -> Shape | None:
        inline = decl.find(_COMPLEX_TYPE)
        if inline is not None:
            return self.type_shape(inline)
        named = self.types.get(self.resolve(decl, decl.get("type", "")))
        return None if named is None else self.type_shape(named)

    def type_shape(self, complex_type: etree._Element) -> Shape:
        shape = self.shapes.get(complex_type)
        if shape is None:
            shape = self.shapes[complex_type] = Shape()  # before filling: types may recurse
            particles = self.content(complex_type, depth=0)
            shape.children = {name: (n > 1, s) for name, (n, s) in particles.items()}
        return shape

    def content(self, complex_type: etree._Element, depth: int) -> _Particles:
        particles: _Particles = {}
        for node in complex_type:
            if node.tag in (_SEQUENCE, _CHOICE, _ALL, _GROUP):
                particles = _then(particles, self.particle(node))
            elif node.tag == _COMPLEX_CONTENT:
                for derivation in node:
                    if derivation.tag == _EXTENSION and depth < 32:
                        base = self.types.get(self.resolve(derivation, derivation.get("base", "")))
                        if base is not None:
                            particles = _then(particles, self.content(base, depth + 1))
                    if derivation.tag in (_EXTENSION, _RESTRICTION):
                        particles = _then(particles, self.content(derivation, depth + 1))
        return particles

    def particle(self, node: etree._Element) -> _Particles:
        occurs = _max_occurs(node)
        if node.tag == _ELEMENT:
            ref = node.get("ref")
            if ref is None:
                doc = self.doc(node)
                form = node.get("form")
                qualified = form == "qualified" if form else doc.qualified
                name = _clark(doc.target if qualified else "", node.get("name", ""))
                return {name: (occurs, self.element_shape(node))}
            head = self.resolve(node, ref)
            found: _Particles = {}
            for name in self.members(head):
                decl = self.elements.get(name)
                found[name] = (occurs, None if decl is None else self.element_shape(decl))
            return found
        if node.tag == _GROUP:
            group = self.groups.get(self.resolve(node, node.get("ref", "")))
            inner: _Particles = {}
            for model in group if group is not None else ():
                if model.tag in (_SEQUENCE, _CHOICE, _ALL):
                    inner = self.particle(model)
            return _times(inner, occurs)
        combined: _Particles = {}
        for child in node:
            if child.tag in (_ELEMENT, _SEQUENCE, _CHOICE, _GROUP, _ALL):
                part = self.particle(child)
                combined = _either(combined, part) if node.tag == _CHOICE else _then(combined, part)
        return _times(combined, occurs)

    def members(self, head: str) -> list[str]:
        """``head`` and every element that may stand in for it."""
        found, todo = [head], [head]
        while todo:
            for member in self.substitutes.get(todo.pop(), []):
                if member not in found:
                    found.append(member)
                    todo.append(member)
        return found


def read_shapes(path: Path) -> SchemaShapes:
    reader = _Reader()
    reader.load(path)
    return SchemaShapes(
        {name: reader.element_shape(decl) for name, decl in reader.elements.items()}
    )
