"""Names in trees: the document's own prefixes, or the route's for the namespaces it declares.

Without the ``namespaces`` option an element is named ``prefix:local`` with the prefix
the document uses. With it, an element or attribute in one of the declared namespaces is
named with the declared prefix whatever the sender wrote (``ns3:ID``, ``cbc:ID`` and a
default namespace all become ``cbc:ID``), so mappings, ``lists`` and record tags match
by namespace URI. A document prefix that clashes with a declared one (bound there to
another URI) is renamed ``prefix_1``, ``prefix_2``... so that no two namespaces share a
name in the tree.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

__all__ = ["XML_NAMESPACE", "Naming", "Scope", "qname"]

XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"


def qname(element: etree._Element) -> str:
    """The element's name as the document writes it: ``prefix:local`` or ``local``."""
    tag = element.tag
    local = tag.rpartition("}")[2] if tag.startswith("{") else tag
    prefix = element.prefix
    return f"{prefix}:{local}" if prefix else local


class Scope:
    """The namespaces in scope: prefix -> URI, and (built when needed) URI -> a prefix."""

    __slots__ = ("forward", "reverse")

    def __init__(self, forward: dict[str | None, str], reverse: dict[str, str] | None) -> None:
        self.forward = forward
        self.reverse = reverse

    def inner(self, declared: list[tuple[str | None, str]]) -> Scope:
        forward = self.forward.copy()
        forward.update(declared)
        reverse = None
        if self.reverse is not None:  # declarations made here are the innermost
            reverse = self.reverse.copy()
            reverse.update((uri, prefix) for prefix, uri in declared if prefix is not None)
        return Scope(forward, reverse)

    def prefix_for(self, uri: str) -> str | None:
        reverse = self.reverse
        if reverse is None:
            reverse = self.reverse = {}
            for prefix, bound in reversed(self.forward.items()):  # the innermost first
                if prefix is not None:
                    reverse.setdefault(bound, prefix)
        prefix = reverse.get(uri)
        if prefix is not None and self.forward.get(prefix) == uri:
            return prefix
        # The prefix was bound to another URI further in: any other prefix for the URI.
        for candidate, bound in reversed(self.forward.items()):
            if candidate is not None and bound == uri:
                reverse[uri] = candidate
                return candidate
        return None


class Naming:
    """The tree's prefix for each (document prefix, URI); one per decoded document."""

    __slots__ = ("by_uri", "renamed", "taken")

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self.by_uri = {uri: prefix for prefix, uri in namespaces.items()}
        self.taken = set(namespaces)
        self.renamed: dict[tuple[str, str], str] = {}

    def prefix(self, prefix: str | None, uri: str) -> str | None:
        declared = self.by_uri.get(uri)
        if declared is not None:
            return declared
        if prefix is None or prefix not in self.taken:
            return prefix
        renamed = self.renamed.get((prefix, uri))
        if renamed is None:
            number = 1
            while f"{prefix}_{number}" in self.taken:
                number += 1
            renamed = self.renamed[prefix, uri] = f"{prefix}_{number}"
            self.taken.add(renamed)
        return renamed

    def element(self, element: etree._Element) -> str:
        tag = element.tag
        if not tag.startswith("{"):
            return tag
        uri, _, local = tag[1:].partition("}")
        prefix = self.prefix(element.prefix, uri)
        return f"{prefix}:{local}" if prefix else local

    def declaration(self, prefix: str | None, uri: str) -> str:
        """The ``@xmlns``/``@xmlns:p`` key for a declaration the document makes."""
        named = self.prefix(prefix, uri) if uri else prefix
        return "@xmlns" if named is None else f"@xmlns:{named}"
