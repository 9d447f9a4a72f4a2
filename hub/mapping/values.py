"""The values of the mapping language at run time: the scope, truth, numbers and text.

Shared by the expression compiler (:mod:`hub.mapping.expr`), the function calls
(:mod:`hub.mapping.calls`) and the list functions with inline functions
(:mod:`hub.mapping.lambdas`): how a value is shown in errors, read as an exact number,
joined as text, and how a failure names the source paths it read.
"""

from __future__ import annotations

import reprlib
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.mapping.limits import MAX_DIGITS, MAX_EXPONENT, MAX_TEXT_LENGTH, EvalError, bounded
from hub.mapping.paths import MISSING
from hub.mapping.syntax import Node

__all__ = [
    "INT_BITS",
    "LONG_TEXT",
    "SHORT_TEXT",
    "TEXT_LIMIT",
    "Scope",
    "charge_text",
    "decimal_of",
    "equal",
    "failure",
    "is_number",
    "numeric_pair",
    "plain",
    "show",
    "sources_of",
    "text_of_value",
    "truthy",
]


class Scope:
    """Where an expression runs: the current item and what encloses it."""

    __slots__ = ("index", "item", "pos", "root", "run", "skey", "tkey", "up", "vars")

    def __init__(
        self,
        item: Any,
        up: Scope | None,
        root: Any,
        vars: dict[str, Any],
        run: Any,
        index: int | None = None,
        pos: int = 0,
        tkey: str = "",
        skey: str = "",
    ) -> None:
        self.item = item
        self.up = up
        self.root = root
        self.vars = vars
        self.run = run
        self.index = index  # position in the source list
        self.pos = pos  # position in the output list
        self.tkey = tkey  # the target key of the loop rule (dotted, relative to `up`)
        self.skey = skey  # the loop's source expression

    def target(self, rel: str) -> str:
        """The concrete target path of rule ``rel`` here: ``lines[2].net_amount``."""
        if self.up is None:
            return rel
        head = self.up.target(self.tkey) + f"[{self.pos}]"
        return f"{head}.{rel}" if rel else head

    def source(self, rel: str) -> str:
        """The concrete source path of ``rel`` (relative to this item)."""
        if self.up is None:
            return rel
        head = self.up.source(self.skey) + f"[{self.index}]"
        if not rel:
            return head
        return head + rel if rel.startswith("[") else f"{head}.{rel}"


def truthy(value: Any) -> bool:
    return value is not MISSING and bool(value)


def show(value: Any) -> str:
    """A value as it appears in error messages (long ones shortened)."""
    if value is None or value is MISSING:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) <= 60:
            return repr(value)
        return repr(value[:50]) + f"... ({len(value):,} characters)"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        text = _SHORT.repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    text = str(value)
    return text if len(text) <= 60 else text[:30] + "..." + text[-12:]


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxstring = 3, 6, 6, 40


#: Numeric text longer than this is refused before it is parsed (digits, sign, point, exponent).
_NUMBER_TEXT = MAX_DIGITS + 8
#: Text arguments longer than this count their length as work (lists always do).
LONG_TEXT = 256
#: Texts a function returns count against ``max_text`` when longer than this (shorter ones
#: are bounded by ``max_values``: each is a value of the output, or soon dropped).
SHORT_TEXT = 32
_MIN_ADJUSTED = -MAX_EXPONENT
TEXT_LIMIT = f"{MAX_TEXT_LENGTH:,}"
#: Two whole numbers with more bits than this together multiply out of range.
INT_BITS = MAX_EXPONENT * 3322 // 1000 + 2


def decimal_of(value: Any) -> Decimal:
    """A number or numeric text as a Decimal, of at most :data:`MAX_DIGITS` digits.

    Its exponent is checked where a result leaves the arithmetic (:func:`_plain`): Decimal
    arithmetic on a huge exponent is cheap (28 significant digits); turning one into an
    ``int`` is not.
    """
    kind = type(value)
    if kind is str:
        text = value.strip()
        if len(text) > _NUMBER_TEXT:
            raise EvalError(f"{show(value)} is not a number of at most {MAX_DIGITS} digits")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise EvalError(f"{show(value)} is not a number") from None
        if number.is_finite():
            return number
        raise EvalError(f"{show(value)} is not a number")
    if kind is int:
        return Decimal(value)  # at most 4,300 digits (Python's limit on reading one)
    if isinstance(value, bool):
        raise EvalError(f"{show(value)} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        return decimal_of(str(value))
    raise EvalError(f"{show(value)} is not a number")


def plain(number: Decimal) -> int | float:
    """A Decimal result as tree data: ``int`` when whole, else the nearest float."""
    if not (_MIN_ADJUSTED < number.adjusted() < MAX_EXPONENT or not number):
        bounded(number)  # raises, saying the range
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def numeric_pair(a: Any, b: Any) -> tuple[Decimal, Decimal] | None:
    """Both as Decimals when one is a number and the other a number or numeric text."""
    if not (is_number(a) or is_number(b)):
        return None
    if not all(is_number(v) or isinstance(v, str) for v in (a, b)):
        return None
    try:
        return decimal_of(a), decimal_of(b)
    except EvalError:
        return None


def equal(a: Any, b: Any) -> bool:
    """The language's one equality (``==``, ``switch``, ``contains``): a number equals
    numeric text of the same value (``'10' == 10``); other values compare as they are."""
    a = None if a is MISSING else a
    b = None if b is MISSING else b
    pair = numeric_pair(a, b)
    if pair is not None:
        return pair[0] == pair[1]
    return bool(a == b)


def text_of_value(value: Any) -> str:
    if value is None or value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(plain(value))
    if isinstance(value, int | float):
        return str(value)
    raise EvalError(f"cannot join a {type(value).__name__} as text")


def charge_text(run: Any, size: int) -> None:
    """``size`` characters built; the run's budget fails past ``max_text``."""
    run.text += size
    if run.text > run.max_text:
        run.add_text(0)  # raises, naming the limit


def sources_of(node: Node) -> list[tuple[str, str, list[str | int]]]:
    """The path operands of ``node`` (direct ones), to name them in run-time errors."""
    found = []
    for arg in node.args:
        if arg.kind == "path":
            base, steps = arg.value
            found.append((base, arg.text, steps))
    return found


def _steps_text(steps: list[str | int]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def failure(
    scope: Scope, what: str, reason: str, sources: list[tuple[str, str, list[str | int]]]
) -> EvalError:
    names = []
    for base, text, steps in sources:
        if base == "":
            names.append(scope.source(text))
        elif base == "$":
            names.append(scope.source(_steps_text(steps)))
        elif base == "$root":
            names.append(_steps_text(steps) or "$root")
        else:
            names.append(text)
    suffix = f" (from {', '.join(names)})" if names else ""
    return EvalError(f"{what} failed: {reason}{suffix}")
