"""Source paths such as ``billing.email`` or ``line_items[0].sku``: parsed once, read fast."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["MISSING", "PathSyntaxError", "compile_path", "parse_path", "step_reader"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_NAME = re.compile(r"[A-Za-z_@$][\w@$-]*")
_INDEX = re.compile(r"\[(-?\d+)\]")


class PathSyntaxError(ValueError):
    """A path that cannot be parsed; ``column`` is the 1-based offset of the fault."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


def _parse(path: str) -> list[str | int]:
    """``a.b[0].c`` -> ``["a", "b", 0, "c"]``; a dot before every name but the first."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        is_index = path[pos] == "["
        if is_index:
            match = _INDEX.match(path, pos)
        else:
            if steps:
                if path[pos] != ".":
                    raise PathSyntaxError(
                        f"bad path {path!r}: expected '.' or '[' at character {pos + 1}", pos + 1
                    )
                pos += 1
            match = _NAME.match(path, pos)
        if match is None:
            raise PathSyntaxError(
                f"bad path {path!r}: unexpected {path[pos : pos + 1] or 'end'!r} "
                f"at character {pos + 1}",
                pos + 1,
            )
        steps.append(int(match.group(1)) if is_index else match.group(0))
        pos = match.end()
    if not steps:
        raise PathSyntaxError("empty path", 1)
    return steps


def compile_path(path: str) -> Callable[[Any], Any]:
    """A reader returning the value at ``path`` or :data:`MISSING`."""
    return step_reader(parse_path(path))


def parse_path(path: str) -> list[str | int]:
    """``a.b[0].c`` -> ``["a", "b", 0, "c"]``; raises :class:`PathSyntaxError`."""
    return _parse(path)


def step_reader(steps: list[str | int]) -> Callable[[Any], Any]:
    """A reader following parsed ``steps`` through dicts and lists, or :data:`MISSING`."""
    if len(steps) == 1 and isinstance(steps[0], str):
        key = steps[0]

        def one(node: Any) -> Any:
            return node.get(key, MISSING) if isinstance(node, dict) else MISSING

        return one

    def read(node: Any) -> Any:
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
