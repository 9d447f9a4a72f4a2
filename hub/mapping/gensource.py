"""The source text a generator writes: indented lines and the values it refers to by name.

Shared by :mod:`hub.mapping.codegen` (one function per expression) and
:mod:`hub.mapping.genrules` (one function per output). No mapping text is ever written into
the source: every literal, key, message and helper is a value passed to the generated
function's factory under a name ``k<n>`` (:meth:`SourceWriter.const`).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["SourceWriter"]


class SourceWriter:
    """Lines, the factory's argument names and values, and fresh local names."""

    #: The helpers a generator may call by name (:meth:`helper`).
    helpers: ClassVar[dict[str, Any]] = {}

    def __init__(self, indent: int) -> None:
        self.lines: list[str] = []
        self.names: list[str] = []
        self.values: list[Any] = []
        self.known: dict[int, str] = {}
        self.count = 0
        self.indent = indent

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def const(self, value: Any) -> str:
        """A name for ``value`` in the generated code (an argument of the factory)."""
        key = id(value)  # every value is kept in self.values: no id is reused
        name = self.known.get(key)
        if name is None:
            name = f"k{len(self.values)}"
            self.names.append(name)
            self.values.append(value)
            self.known[key] = name
        return name

    def helper(self, name: str) -> str:
        return self.const(self.helpers[name])

    def tmp(self) -> str:
        """A new local's name."""
        self.count += 1
        return f"v{self.count}"
