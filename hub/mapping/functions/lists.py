"""List functions without an inline function: ranges, batches, positions.

(``map``, ``filter``, ``sort_by``, ``group_by`` and the others that take an inline function
are compiled by :mod:`hub.mapping.lambdas`.) Every list made here is counted against the
run's ``max_values`` by the caller; a list longer than :data:`MAX_LIST` is refused before it
is made.
"""

from __future__ import annotations

from typing import Any

from hub.mapping.functions.registry import FunctionError, function
from hub.mapping.functions.strings import whole_number

__all__ = ["MAX_LIST"]

#: The longest list ``range`` may make (as many items as one ``each`` may loop over).
MAX_LIST = 100_000


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        return [value]
    return value


@function("range", doc="range(3) -> [0, 1, 2]; range(1, 7, 2) -> [1, 3, 5] (end excluded)")
def make_range(start: Any, stop: Any = None, step: Any = 1) -> list[int]:
    """Whole numbers from ``start`` (0 with one argument) up to, not including, ``stop``."""
    first = whole_number(start, "start")
    if stop is None:
        first, last = 0, first
    else:
        last = whole_number(stop, "stop")
    stride = whole_number(step, "step")
    if stride == 0:
        raise FunctionError("step must not be 0")
    size = len(range(first, last, stride))
    if size > MAX_LIST:
        raise FunctionError(f"the range would have {size:,} items; the limit is {MAX_LIST:,}")
    return list(range(first, last, stride))


@function("chunk", doc="chunk(rows, 100) -> [[first 100 rows], [next 100], ...]")
def chunk(items: Any, size: Any) -> list[list[Any]]:
    """The list cut into batches of ``size`` items (the last one may be shorter)."""
    values = _list(items, "chunk")
    count = whole_number(size, "size")
    if count < 1:
        raise FunctionError(f"size must be at least 1, not {count}")
    return [values[i : i + count] for i in range(0, len(values), count)]


@function("first", doc="first(line_items) -> the first item (null for an empty list)")
def first(items: Any) -> Any:
    """The first item of a list (a single value is a list of one)."""
    values = _list(items, "first")
    return values[0] if values else None


@function("last", doc="last(line_items) -> the last item (null for an empty list)")
def last(items: Any) -> Any:
    """The last item of a list (a single value is a list of one)."""
    values = _list(items, "last")
    return values[-1] if values else None


@function("reverse", doc="reverse([1, 2, 3]) -> [3, 2, 1]")
def reverse(items: Any) -> list[Any]:
    """The items in the opposite order."""
    return list(reversed(_list(items, "reverse")))
