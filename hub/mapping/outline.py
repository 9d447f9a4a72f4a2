"""What a compiled mapping reads and writes, kept for static checks against schemas.

The compiler records every expression it compiles (with the loop it runs in) and keeps
the ``fields`` tree with the positions of its keys, so :mod:`hub.mapping.schemacheck`
can check source paths against an input schema and target keys against an output
schema without running the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.mapping.expr import Node
from hub.yamlsource import Loc, YamlDocument

__all__ = ["Loop", "MappingOutline", "SourceRead"]


@dataclass(frozen=True, eq=False)
class Loop:
    """An ``each`` (or the top-level ``split``): plain paths inside read its items."""

    over: SourceRead | None  # None: the loop's expression did not compile
    parent: Loop | None


@dataclass(frozen=True, eq=False)
class SourceRead:
    """One expression of the mapping file, where it is written and the loop it runs in."""

    node: Node
    loc: Loc  # the YAML value holding the expression text
    scope: Loop | None  # None: the whole source document
    role: str  # field, each, where, when, var, split


@dataclass
class MappingOutline:
    """Every expression of a mapping, its variables and its target ``fields`` tree."""

    document: YamlDocument
    reads: list[SourceRead] = field(default_factory=list)
    variables: dict[str, SourceRead] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)

    def where(self, loc: Loc, offset: int | None = None) -> str:
        """``file:line:column`` of a key, or of a character of an expression."""
        if offset is None:
            return self.document.where(loc, column=True)
        return self.document.where_in_value(loc, offset)
