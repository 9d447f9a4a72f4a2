"""Functions over a list of values: sum, count, min, max, avg.

All of them skip nulls (and blank text), so ``sum(line_items[*].discount)`` works when some
lines have none. Items are numbers or numeric text ('12.50', '1.234,56'), added exactly as
decimals. A single value counts as a list of one, a null as an empty list.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from hub.mapping.functions.numbers import to_decimal
from hub.mapping.functions.registry import FunctionError, function

__all__ = ["small_ints"]

#: Whole numbers below this add up as ints: any total of them (up to 10**9 items) stays
#: within Decimal's 28 digits, so the result is what adding them as Decimals gives.
_SMALL_INT = 10**18
#: Lists up to this length are checked item by item, longer ones at C speed.
_SHORT = 8


def small_ints(values: Any) -> bool:
    """A non-empty list of whole numbers below :data:`_SMALL_INT` (no bools, no texts)."""
    if type(values) is not list or not values:
        return False
    if len(values) <= _SHORT:  # one pass in Python beats building a set for a few items
        for value in values:
            if type(value) is not int or not -_SMALL_INT < value < _SMALL_INT:
                return False
        return True
    return (
        set(map(type, values)) == {int} and min(values) > -_SMALL_INT and max(values) < _SMALL_INT
    )


def _numbers(values: Any) -> Iterator[Decimal]:
    if values is None:
        return
    if isinstance(values, dict):
        raise FunctionError("expected a list of numbers, not an object")
    items = values if isinstance(values, list | tuple) else [values]
    for index, item in enumerate(items):
        if isinstance(item, list | tuple | dict):
            raise FunctionError(f"item {index} is a {type(item).__name__}, not a number")
        try:
            number = to_decimal(item)
        except FunctionError as exc:
            raise FunctionError(f"item {index}: {exc}") from None
        if number is not None:
            yield number


@function("sum", doc="sum(['1.10', 2.2, null]) -> 3.30 (exact decimals; sum([]) -> 0)")
def sum_values(values: Any) -> Decimal:
    """The exact total of the numbers; 0 for an empty list."""
    if small_ints(values):  # a stock count: added as ints, exactly as Decimal adds them
        return Decimal(sum(values))
    total = Decimal(0)
    for number in _numbers(values):
        total += number
    return total


@function("count", doc="count(['a', null, 'b']) -> 2 (nulls are not counted)")
def count(values: Any) -> int:
    """How many items are not null."""
    if values is None:
        return 0
    if not isinstance(values, list | tuple):
        return 1
    return len(values) - values.count(None)


@function("min", doc="min(['10', '9.5', null]) -> 9.5 (null for an empty list)")
def min_value(values: Any) -> Decimal | None:
    """The smallest number, or null if there is none."""
    if small_ints(values):
        return Decimal(min(values))
    return min(_numbers(values), default=None)


@function("max", doc="max(['10', '9.5', null]) -> 10 (null for an empty list)")
def max_value(values: Any) -> Decimal | None:
    """The largest number, or null if there is none."""
    if small_ints(values):
        return Decimal(max(values))
    return max(_numbers(values), default=None)


@function("avg", doc="avg(['1', '2', null]) -> 1.5 (nulls skipped; null for an empty list)")
def avg(values: Any) -> Decimal | None:
    """The mean of the numbers (28 significant digits), or null if there is none."""
    numbers = list(_numbers(values))
    if not numbers:
        return None
    return sum(numbers, Decimal(0)) / len(numbers)
