"""What one mapping run may spend, and how big the numbers and texts it makes may be.

A mapping runs on input from outside and, through ``POST /preview``, may itself come from
outside; neither may stall the hub or exhaust its memory. Three kinds of bound apply:

- **at load time**, an expression may nest :data:`MAX_EXPRESSION_DEPTH` levels and a path
  may hold :data:`MAX_WILDCARDS` ``[*]`` steps (the parser refuses more, located);
- **every number** the language reads, writes as a literal or computes has at most
  :data:`MAX_DIGITS` digits and a magnitude below ``10**MAX_EXPONENT`` (and above
  ``10**-MAX_EXPONENT``); every text at most :data:`MAX_TEXT_LENGTH` characters;
- **per run** (:class:`MappingLimits`, configured as ``mappings.limits``): the values it
  produces, the text it builds and the time it takes. :class:`Budget` counts them: a loop
  charges its items before it starts, and the clock is read every few thousand operations
  (more often when operations turn out to be slow), so the cost is a counter increment per
  item and the run ends within about ``max_seconds``, or as soon as it is cancelled.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_EXPRESSION_DEPTH",
    "MAX_TEXT_LENGTH",
    "MAX_WILDCARDS",
    "Budget",
    "Cancel",
    "EvalError",
    "LimitExceeded",
    "MappingLimits",
    "bounded",
    "bounded_int",
    "check_text_size",
]

#: The deepest an expression may nest: parentheses, calls, operators and operands.
MAX_EXPRESSION_DEPTH = 100
#: The most ``[*]`` steps one path may have.
MAX_WILDCARDS = 16
#: The most digits a number may have.
MAX_DIGITS = 100
#: Numbers lie below 10**MAX_EXPONENT in magnitude (and, unless zero, above its inverse).
MAX_EXPONENT = 400
#: The longest text one function or operator may make.
MAX_TEXT_LENGTH = 50_000_000

_INT_LIMIT = 10**MAX_EXPONENT
_LIMITS_KEY = "mappings.limits"
#: Operations between two reads of the clock: the stride starts here and adapts.
_STRIDE = 1024
_MAX_STRIDE = 8192
#: Aim for a clock read at least this often (seconds).
_CHECK_INTERVAL = 0.01


class EvalError(ValueError):
    """A run-time failure; the rule adds the target path and raises MappingError."""


class LimitExceeded(EvalError):
    """A run went past one of its limits (or was cancelled); ``hint`` says which setting."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class MappingLimits(BaseModel):
    """What one mapping run may produce and how long it may take (``mappings.limits``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_seconds: float = Field(
        10.0,
        gt=0,
        description="the longest one run of a mapping may take (in the worker, hub translate, "
        "hub test-mappings and POST /preview); the run then fails naming this limit",
    )
    max_values: int = Field(
        5_000_000,
        ge=1,
        description="values one run may produce: each item of a list an `each` or `split` "
        "builds counts one plus one per field its rules may write, each item of a list an "
        "expression returns counts one; counted when a loop starts",
    )
    max_text: int = Field(
        100_000_000,
        ge=1,
        description="characters of text one run may build with `&` and text functions",
    )


class Cancel(Protocol):
    """Something that says a run should stop (a ``threading.Event``)."""

    def is_set(self) -> bool: ...


def _limit_hint(key: str) -> str:
    return f"raise {_LIMITS_KEY}.{key} in the config if the input is legitimate"


class Budget:
    """The counters of one run; :meth:`check` ends it with :class:`LimitExceeded`.

    Hot paths add to ``ops`` and call :meth:`check` when it reaches ``check_at``; the
    stride between two checks shrinks when operations are slow, so a run whose single
    items are expensive still reads the clock often enough.
    """

    __slots__ = (
        "cancel",
        "check_at",
        "deadline",
        "last",
        "limits",
        "max_text",
        "max_values",
        "ops",
        "size",
        "stride",
        "text",
        "values",
    )

    def __init__(self, limits: MappingLimits | None = None, cancel: Cancel | None = None) -> None:
        limits = self.limits = limits if limits is not None else MappingLimits()
        self.cancel = cancel
        self.max_values = limits.max_values
        self.max_text = limits.max_text
        self.values = self.text = self.ops = 0
        #: The output size of the value a sized generated expression returned last
        #: (:data:`hub.mapping.codegen.SIZED`), read by the rules right after the call.
        self.size = 0
        self.stride = self.check_at = _STRIDE
        self.last = now = time.monotonic()
        self.deadline = now + limits.max_seconds

    def add_values(self, count: int) -> None:
        """``count`` more values produced; fails past ``max_values``."""
        self.values += count
        if self.values > self.max_values:
            raise LimitExceeded(
                f"the run produces more than {self.limits.max_values:,} values "
                f"(limit {_LIMITS_KEY}.max_values)",
                _limit_hint("max_values"),
            )
        self.ops += count
        if self.ops >= self.check_at:
            self.check()

    def add_text(self, length: int) -> None:
        """``length`` more characters of text built; fails past ``max_text``."""
        self.text += length
        if self.text > self.max_text:
            raise LimitExceeded(
                f"the run builds more than {self.limits.max_text:,} characters of text "
                f"(limit {_LIMITS_KEY}.max_text)",
                _limit_hint("max_text"),
            )
        self.ops += length >> 4
        if self.ops >= self.check_at:
            self.check()

    def tick(self, count: int) -> None:
        """``count`` operations done (rules run, items visited)."""
        self.ops += count
        if self.ops >= self.check_at:
            self.check()

    def check(self) -> None:
        """Read the clock (and the cancel flag); fail past the deadline."""
        if self.cancel is not None and self.cancel.is_set():
            raise LimitExceeded("the run was cancelled: the hub is stopping")
        now = time.monotonic()
        if now > self.deadline:
            raise LimitExceeded(
                f"the run took longer than {self.limits.max_seconds:g} s "
                f"(limit {_LIMITS_KEY}.max_seconds)",
                _limit_hint("max_seconds"),
            )
        took, self.last = now - self.last, now
        if took > _CHECK_INTERVAL:
            self.stride = max(1, self.stride // 8)
        elif took < _CHECK_INTERVAL / 4 and self.stride < _MAX_STRIDE:
            self.stride *= 2
        self.check_at = self.ops + self.stride


def bounded(number: Decimal, error: type[ValueError] = EvalError) -> Decimal:
    """``number`` if it is finite and within the exponent bound; else ``error``."""
    if not number.is_finite():
        raise error(f"{number} is not a finite number")
    if number and not -MAX_EXPONENT < number.adjusted() < MAX_EXPONENT:
        raise error(
            f"{_short(number)} is out of range: numbers lie between 1E-{MAX_EXPONENT} and "
            f"1E+{MAX_EXPONENT} in magnitude"
        )
    return number


def bounded_int(value: int, error: type[ValueError] = EvalError) -> int:
    """A whole number within the bound; else ``error``."""
    if -_INT_LIMIT < value < _INT_LIMIT:
        return value
    raise error(f"a whole number is out of range: it has more than {MAX_EXPONENT} digits")


def check_text_size(length: int, what: str, error: type[ValueError] = EvalError) -> None:
    """Refuse, before it is made, a text longer than :data:`MAX_TEXT_LENGTH`."""
    if length > MAX_TEXT_LENGTH:
        raise error(f"{what} would have {length:,} characters; the limit is {MAX_TEXT_LENGTH:,}")


def _short(number: Decimal) -> str:
    text = str(number)
    return text if len(text) <= 40 else text[:20] + "..." + text[-12:]
