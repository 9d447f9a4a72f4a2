"""Source paths such as ``billing.email`` or ``line_items[0].sku``: parsed once, read fast."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["MISSING", "PathSyntaxError", "compile_path"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_STEP = re.compile(r"([A-Za-z_@$][\w@$-]*)|\[(-?\d+)\]")


class PathSyntaxError(ValueError):
    """A path that cannot be parsed; ``column`` is the 1-based offset of the fault."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


def _parse(path: str) -> list[str | int]:
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        if steps and path[pos] == "." and not path.startswith("[", pos):
            pos += 1
        match = _STEP.match(path, pos)
        if match is None:
            raise PathSyntaxError(
                f"bad path {path!r}: unexpected {path[pos : pos + 1]!r} at character {pos + 1}",
                pos + 1,
            )
        name, index = match.groups()
        steps.append(name if name is not None else int(index))
        pos = match.end()
    if not steps:
        raise PathSyntaxError("empty path", 1)
    return steps


def compile_path(path: str) -> Callable[[Any], Any]:
    """A reader returning the value at ``path`` or :data:`MISSING`."""
    steps = _parse(path)

    def read(tree: Any) -> Any:
        node = tree
        for step in steps:
            if isinstance(step, str):
                if not isinstance(node, dict) or step not in node:
                    return MISSING
                node = node[step]
            else:
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    return MISSING
                node = node[step]
        return node

    return read
