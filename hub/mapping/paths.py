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

# A key; ``prefix:local`` too, as XML trees name namespaced elements (``cbc:ID``).
_NAME = re.compile(r"[A-Za-z_@$][\w@$-]*(?::[A-Za-z_][\w-]*)?")
_INDEX = re.compile(r"\[(-?\d+)\]")


class PathSyntaxError(ValueError):
    """A path that cannot be parsed; ``column`` is the 1-based character of the fault.

    ``reason`` says what is wrong without a position, for callers that locate the fault
    themselves (``file:line:column``); ``str()`` adds the character for those that cannot.
    """

    def __init__(self, path: str, reason: str, column: int) -> None:
        super().__init__(f"bad path {path!r}: {reason} at character {column}")
        self.path = path
        self.reason = reason
        self.column = column


_OPEN_INDEX = re.compile(r"\[(-?\d+|\*)?")


def _parse(path: str) -> list[str | int]:
    """``a.b[0].c`` -> ``["a", "b", 0, "c"]``; a dot before every name but the first."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        is_index = path[pos] == "["
        if is_index:
            match = _INDEX.match(path, pos)
            if match is None:
                raise _bad_index(path, pos)
        else:
            if steps:
                if path[pos] != ".":
                    reason = f"expected '.' or '[' before {path[pos]!r}"
                    raise PathSyntaxError(path, reason, pos + 1)
                pos += 1
            match = _NAME.match(path, pos)
        if match is None:
            found = repr(path[pos]) if pos < len(path) else "end of path"
            raise PathSyntaxError(path, f"unexpected {found}", pos + 1)
        steps.append(int(match.group(1)) if is_index else match.group(0))
        pos = match.end()
    if not steps:
        raise PathSyntaxError(path, "empty path", 1)
    return steps


def _bad_index(path: str, pos: int) -> PathSyntaxError:
    """``[`` not followed by ``N]``: a missing ``]`` is said as such, at the ``[``."""
    opened = _OPEN_INDEX.match(path, pos)
    assert opened is not None
    inside = opened.group(1)
    after = opened.end()
    if inside is not None and (after >= len(path) or path[after] != "]"):
        return PathSyntaxError(path, f"missing ']' to close '[{inside}'", pos + 1)
    if inside is None and (after >= len(path) or path[after] in ".["):
        return PathSyntaxError(path, "missing index and ']' after '['", pos + 1)
    if inside == "*":
        return PathSyntaxError(path, "[*] is only allowed in mapping expressions", pos + 1)
    return PathSyntaxError(
        path, "an index is a whole number in brackets, like [0] or [-1]", pos + 1
    )


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
