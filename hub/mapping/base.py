"""What a mapping is to the rest of the hub: a named, versioned tree -> tree function."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hub.formats.base import Tree
from hub.mapping.limits import Cancel, MappingLimits

__all__ = ["Mapping"]


@runtime_checkable
class Mapping(Protocol):
    """A compiled mapping. ``content_hash`` identifies the exact version used per message."""

    name: str
    content_hash: str
    #: What one run may spend; a run past them raises MappingError naming the limit.
    limits: MappingLimits

    @property
    def splits(self) -> bool:
        """Whether the mapping makes one output per item of its ``split`` list."""
        ...

    def apply(self, tree: Tree, *, cancel: Cancel | None = None) -> Tree:
        """Build the target tree; raise :class:`hub.errors.MappingError` naming the rule.

        A run that goes past :attr:`limits`, or whose ``cancel`` is set, ends with a
        MappingError too.
        """
        ...

    def apply_all(self, tree: Tree, *, cancel: Cancel | None = None) -> list[Tree]:
        """Every output: one per split item, or a list of one for a mapping without split."""
        ...
