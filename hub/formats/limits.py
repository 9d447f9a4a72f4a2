"""Decoding limits: how big and how deep a document may be before it is refused.

Every built-in codec checks them while it decodes, in the same linear pass, so a
hostile document is refused before it can cost more than reading it once. A codec
from a plugin that takes no limits gets its trees checked afterwards by
:func:`check_tree` (depth, nodes, string length); see docs/formats.md.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.errors import DecodeError, LimitExceeded

__all__ = ["MAX_DEPTH_CEILING", "DecodeLimits", "check_tree", "pointer", "shorten"]

#: libxml2 stops at 256 levels without ``huge_tree`` (never set); Python's own
#: recursion (JSON, mappings, encoders) needs a margin below 1,000.
MAX_DEPTH_CEILING = 256


class DecodeLimits(BaseModel):
    """The limits a decoder enforces; the config's ``limits:`` and ``input.limits:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_depth: int = Field(
        100,
        ge=1,
        le=MAX_DEPTH_CEILING,
        description="deepest nesting: XML elements, JSON arrays and objects (at most 256)",
    )
    max_nodes: int = Field(
        1_000_000,
        ge=1,
        description="values in one document: XML elements, JSON values (objects, arrays "
        "and scalars)",
    )
    max_attributes: int = Field(
        256, ge=1, description="attributes and namespace declarations on one XML element"
    )
    max_namespaces: int = Field(
        256, ge=1, description="namespace declarations in scope at one XML element"
    )
    max_string_length: int = Field(
        1024 * 1024,
        ge=1,
        description="characters in one value: XML text or attribute, JSON string or key, "
        "CSV field, EDIFACT data element or component",
    )
    max_segments: int = Field(1_000_000, ge=1, description="segments in one EDIFACT interchange")
    max_segment_elements: int = Field(
        1_000,
        ge=1,
        description="data elements in one EDIFACT segment, and components (or repeats) "
        "in one data element",
    )
    max_rows: int = Field(1_000_000, ge=1, description="records in one CSV document")
    max_columns: int = Field(1_000, ge=1, description="fields in one CSV record")


def shorten(text: str, width: int = 40) -> str:
    """``text`` cut to ``width`` characters for a message (a hostile name can be huge)."""
    return text if len(text) <= width else text[: width - 3] + "..."


def pointer(path: list[Any]) -> str:
    """A JSON pointer (``#/a/0/b``) to ``path``, each step shortened for a message."""
    steps = (shorten(str(step)).replace("~", "~0").replace("/", "~1") for step in path)
    return "#/" + "/".join(steps) if path else "#"


class _Found(Exception):
    """A limit is exceeded deep in a tree; the path is collected on the way up."""

    def __init__(self, limit: str, found: int, what: str) -> None:
        super().__init__(limit)
        self.limit = limit
        self.found = found
        self.what = what
        self.path: list[Any] = []


class _NotFinite(Exception):
    def __init__(self, value: float) -> None:
        super().__init__(value)
        self.value = value
        self.path: list[Any] = []


class _Walk:
    """One recursive pass over a tree: depth, nodes, string lengths, finite numbers."""

    def __init__(self, limits: DecodeLimits) -> None:
        self.max_depth = limits.max_depth
        self.max_nodes = limits.max_nodes
        self.max_string = limits.max_string_length
        self.nodes = 0

    def value(self, node: Any, depth: int) -> None:
        kind = type(node)
        if kind is dict or kind is list:
            self.container(node, depth)
            return
        self.nodes += 1
        if kind is str:
            if len(node) > self.max_string:
                raise _Found("max_string_length", len(node), f"a string of {len(node)} characters")
        elif kind is float and not math.isfinite(node):
            raise _NotFinite(node)

    def container(self, node: Any, depth: int) -> None:
        if depth > self.max_depth:
            raise _Found("max_depth", depth, f"the tree nests {depth} levels deep")
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _Found("max_nodes", self.nodes, f"the tree goes on past value {self.max_nodes}")
        items = node.items() if type(node) is dict else enumerate(node)
        step: Any = None
        try:
            for step, child in items:
                if type(step) is str and len(step) > self.max_string:
                    raise _Found("max_string_length", len(step), f"a key of {len(step)} characters")
                kind = type(child)
                if kind is dict or kind is list:
                    self.container(child, depth + 1)
                elif kind is str:
                    self.nodes += 1
                    if len(child) > self.max_string:
                        raise _Found(
                            "max_string_length", len(child), f"a string of {len(child)} characters"
                        )
                else:
                    self.value(child, depth + 1)
        except (_Found, _NotFinite) as found:
            if step is not None:
                found.path.append(step)
            raise
        if self.nodes > self.max_nodes:  # scalars are counted, and checked once a container ends
            raise _Found("max_nodes", self.nodes, f"the tree goes on past value {self.max_nodes}")


_CONTAINERS = (dict, list)


def within_depth(tree: Any, max_depth: int) -> bool:
    """Whether no array or object of ``tree`` nests deeper than ``max_depth`` (the top one
    is level 1), as :func:`check_tree` counts; one pass over the containers only, level
    by level, about twice as fast as the full check."""
    level = [tree] if type(tree) in _CONTAINERS else []
    depth = 1
    while level:
        if depth > max_depth:
            return False
        deeper: list[Any] = []
        for node in level:
            children = node.values() if type(node) is dict else node
            deeper += [child for child in children if type(child) in _CONTAINERS]
        level = deeper
        depth += 1
    return True


def check_tree(tree: Any, limits: DecodeLimits) -> None:
    """Refuse a decoded tree that is deeper, bigger or has longer strings than ``limits``.

    Raises :class:`LimitExceeded` (or :class:`DecodeError` for a number that is not
    finite) with a JSON pointer to the place. One pass; recursion is bounded by
    ``max_depth``, which is at most 256.
    """
    walk = _Walk(limits)
    try:
        walk.value(tree, 1)
    except _Found as found:
        maximum = getattr(limits, found.limit)
        raise LimitExceeded(
            found.limit,
            found=found.found,
            maximum=maximum,
            what=found.what,
            where=pointer(found.path[::-1]),
        ) from None
    except _NotFinite as bad:
        raise DecodeError(
            f"the number {bad.value!r} is out of range",
            where=pointer(bad.path[::-1]),
            hint="numbers must fit a double (about 1.8e308)",
        ) from None
