"""What a mapping is to the rest of the hub: a named, versioned tree -> tree function."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hub.formats.base import Tree

__all__ = ["Mapping"]


@runtime_checkable
class Mapping(Protocol):
    """A compiled mapping. ``content_hash`` identifies the exact version used per message."""

    name: str
    content_hash: str

    @property
    def splits(self) -> bool:
        """Whether the mapping makes one output per item of its ``split`` list."""
        ...

    def apply(self, tree: Tree) -> Tree:
        """Build the target tree; raise :class:`hub.errors.MappingError` naming the rule."""
        ...

    def apply_all(self, tree: Tree) -> list[Tree]:
        """Every output: one per split item, or a list of one for a mapping without split."""
        ...
