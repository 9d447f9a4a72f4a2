"""Number functions: exact decimals, commercial rounding, both decimal marks.

Numbers are :class:`~decimal.Decimal` so money adds up to the cent (0.1 + 0.2
is 0.3). Null in, null out: ``number(null)`` and ``number('')`` are null.
"""

from __future__ import annotations

import re
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    InvalidOperation,
)
from typing import Any

from hub.mapping.functions.registry import FunctionError, function
from hub.mapping.limits import MAX_DIGITS, MAX_EXPONENT, bounded, bounded_int

__all__ = ["WRITTEN_UNSIGNED", "format_number", "to_decimal", "whole"]

_MARKS = ("auto", ".", ",")
# Digits with an optional group separator G every three digits, then a decimal part after D.
_PLAIN = r"[+-]?(?:\d+(?:{d}\d*)?|{d}\d+)"
_GROUPED = r"[+-]?\d{{1,3}}(?:{g}\d{{3}})+(?:{d}\d*)?"


def _pattern(decimal: str, groups: str) -> re.Pattern[str]:
    d, g = re.escape(decimal), f"[{re.escape(groups)}]"
    return re.compile(f"(?:{_PLAIN.format(d=d)}|{_GROUPED.format(d=d, g=g)})")


#: A number as most data writes it: no sign but '-', no grouping, a point if any.
_SIMPLE = re.compile(r"-?\d+(?:\.\d+)?")
_FLOAT_LIMIT = float("inf")
_POINT = _pattern(".", ", '\u00a0\u202f")  # 1,234.56  1 234.56  1'234.56
_COMMA = _pattern(",", ". \u00a0\u202f")  # 1.234,56  1 234,56


def _auto_mark(text: str) -> str:
    """The decimal mark of ``text``: the last of '.' and ',' if both occur, else the single one
    that occurs once ('1,5' and '1.5'); one that occurs more than once groups thousands."""
    last_point, last_comma = text.rfind("."), text.rfind(",")
    if last_point >= 0 and last_comma >= 0:
        return "." if last_point > last_comma else ","
    if last_comma >= 0:
        return "," if text.count(",") == 1 else "."
    if last_point >= 0 and text.count(".") > 1:
        return ","
    return "."


def to_decimal(value: Any, decimal_mark: Any = "auto", what: str = "value") -> Decimal | None:
    """``value`` as a Decimal; null and blank text give None, anything else non-numeric fails."""
    if type(value) is str and (decimal_mark == "auto" or decimal_mark == "."):
        text = value.strip()  # the common case first: plain numeric text such as 12 or -3.50
        if text and len(text) <= MAX_DIGITS and _SIMPLE.fullmatch(text):
            return Decimal(text)
    elif type(value) is int:
        return Decimal(bounded_int(value, FunctionError))
    elif type(value) is float and -_FLOAT_LIMIT < value < _FLOAT_LIMIT:  # finite, not NaN
        return bounded(Decimal(repr(value)), FunctionError)  # shortest text: 2.675 stays 2.675
    if value is None:
        return None
    if isinstance(value, bool):
        raise FunctionError(f"{what} must be a number, not {value!r}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FunctionError(f"{what} must be a finite number, not {value}")
        return bounded(value, FunctionError)
    if isinstance(value, int):
        return Decimal(bounded_int(value, FunctionError))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise FunctionError(f"{what} must be a finite number, not {value}")
        return bounded(Decimal(repr(value)), FunctionError)  # shortest text: 2.675 stays 2.675
    if not isinstance(value, str):
        raise FunctionError(f"{what} must be a number or numeric text, not {type(value).__name__}")
    if decimal_mark not in _MARKS:
        raise FunctionError(f"decimal_mark must be 'auto', '.' or ',', not {decimal_mark!r}")
    text = value.strip()
    if not text:
        return None
    if decimal_mark != "," and len(text) <= MAX_DIGITS and _SIMPLE.fullmatch(text):
        return Decimal(text)  # the common case: 12, -3.50
    if len(text) > 2 * MAX_DIGITS:  # digits, group separators and a mark
        raise FunctionError(f"{what} is not a number of at most {MAX_DIGITS} digits")
    mark = _auto_mark(text) if decimal_mark == "auto" else decimal_mark
    pattern = _POINT if mark == "." else _COMMA
    if not pattern.fullmatch(text):
        raise FunctionError(
            f"{what} {value!r} is not a number"
            + ("" if decimal_mark == "auto" else f" with decimal mark {mark!r}")
        )
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("+-")
    digits = "".join(c for c in body if c.isdigit() or c == mark).replace(mark, ".")
    if len(digits) - (mark in body) > MAX_DIGITS:
        raise FunctionError(f"{what} is not a number of at most {MAX_DIGITS} digits")
    try:
        return Decimal(sign + digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits and one mark
        raise FunctionError(f"{what} {value!r} is not a number") from None


def whole(value: Any, what: str) -> int:
    """A whole-number argument such as ``places``."""
    if type(value) is int:
        return value
    number = to_decimal(value, what=what)
    if number is None or number != number.to_integral_value():
        raise FunctionError(f"{what} must be a whole number, not {value!r}")
    return int(number)


#: The quantum of the usual numbers of places (0.01 for 2), made once.
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(-4, 13)}
#: Rounding gives every digit it keeps: a number of up to 1E+400 to 400 places, not the
#: default context's 28 significant digits (past which ``quantize`` fails).
_EXACT = Context(prec=2 * MAX_EXPONENT + 2, Emax=2 * MAX_EXPONENT, Emin=-2 * MAX_EXPONENT)
#: Numeric text already written as ``format_number(text, places)`` writes it (no '+', no
#: leading zero, no blank, exactly ``places`` decimals): given back as it is.
_UNSIGNED = {
    places: r"(?:0|[1-9]\d*)" + (rf"\.\d{{{places}}}" if places else "") for places in range(13)
}
_WRITTEN = {places: re.compile("-?" + pattern) for places, pattern in _UNSIGNED.items()}
#: The same without a sign (never a written -0): the generated code of a mapping gives such
#: text back without calling ``format_number`` (:mod:`hub.mapping.codegen`).
WRITTEN_UNSIGNED = {places: re.compile(pattern) for places, pattern in _UNSIGNED.items()}


def _rounded(value: Decimal, places: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    quantum = _QUANTA.get(places)
    if quantum is None:
        if not -MAX_EXPONENT < places < MAX_EXPONENT:
            raise FunctionError(f"places must lie between {-MAX_EXPONENT} and {MAX_EXPONENT}")
        quantum = Decimal(1).scaleb(-places)
    return value.quantize(quantum, rounding=rounding, context=_EXACT)


@function(
    "number",
    doc="number('1.234,56', ',') -> 1234.56; number('1,234.56') -> 1234.56 (mark: auto, '.', ',')",
)
def number(text: Any, decimal_mark: Any = "auto") -> Decimal | None:
    """Read a number. ``decimal_mark`` '.' or ',' says which mark separates the decimals (the
    other one, spaces and apostrophes may group thousands). 'auto' takes the last of '.' and ','
    when both occur, and otherwise a single '.' or ',' as the decimal mark: '1.234' is 1.234 in
    auto mode, so name the mark when values may have thousands without decimals."""
    return to_decimal(text, decimal_mark)


_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "half_down": ROUND_HALF_DOWN,
    "up": ROUND_UP,
    "down": ROUND_DOWN,
    "ceiling": ROUND_CEILING,
    "floor": ROUND_FLOOR,
}


@function(
    "round",
    doc="round(2.675, 2) -> 2.68 (half up; places default 0); round(2.5, 0, 'half_even') -> 2",
)
def round_half_up(value: Any, places: Any = 0, mode: Any = "half_up") -> Decimal | None:
    """Round to ``places`` decimals, exact on decimal values. ``mode``: half_up (commercial,
    the default), half_even (banker's), half_down, up (away from zero), down (toward zero),
    ceiling, floor."""
    number = to_decimal(value)
    if number is None:
        return None
    rounding = _MODES.get(mode) if isinstance(mode, str) else None
    if rounding is None:
        raise FunctionError(f"mode must be one of {', '.join(_MODES)}, not {mode!r}")
    return _rounded(number, whole(places, "places"), rounding)


@function("ceil", doc="ceil('2.1') -> 3; ceil(-2.1) -> -2 (the next whole number up)")
def ceil(value: Any) -> Decimal | None:
    """The smallest whole number not below the value."""
    number = to_decimal(value)
    return None if number is None else _rounded(number, 0, ROUND_CEILING)


@function("floor", doc="floor('2.9') -> 2; floor(-2.1) -> -3 (the next whole number down)")
def floor(value: Any) -> Decimal | None:
    """The largest whole number not above the value."""
    number = to_decimal(value)
    return None if number is None else _rounded(number, 0, ROUND_FLOOR)


@function(
    "format_number",
    doc="format_number(1234.5, 2, ',', '.') -> '1.234,50' (places 2, mark '.', no thousands)",
)
def format_number(
    value: Any, places: Any = 2, decimal_mark: Any = ".", thousands: Any = ""
) -> str | None:
    """Round half up to ``places`` and write with ``decimal_mark`` and ``thousands`` grouping."""
    plain = decimal_mark == "." and thousands == ""
    if plain and type(value) is str and type(places) is int and len(value) <= MAX_DIGITS:
        written = _WRITTEN.get(places)  # the commonest case: '21.00' to 2 places
        if written is not None and written.fullmatch(value) and _not_minus_zero(value):
            return value
    number = to_decimal(value)
    if number is None:
        return None
    quantum = _QUANTA.get(places) if type(places) is int and places >= 0 else None
    if quantum is not None and plain:  # the common case
        rounded = number.quantize(quantum, rounding=ROUND_HALF_UP, context=_EXACT)
        text = f"{rounded:f}"
        return text[1:] if text[0] == "-" and not rounded else text  # not -0.00
    digits = whole(places, "places")
    if digits < 0:
        raise FunctionError(f"places must not be negative, not {digits}")
    if not isinstance(decimal_mark, str) or len(decimal_mark) != 1:
        raise FunctionError(f"decimal_mark must be one character, not {decimal_mark!r}")
    if not isinstance(thousands, str) or len(thousands) > 1:
        raise FunctionError(f"thousands must be one character or '', not {thousands!r}")
    if thousands == decimal_mark:
        raise FunctionError(f"thousands and decimal_mark must differ, both are {thousands!r}")
    rounded = _rounded(number, digits)
    if decimal_mark == "." and not thousands:  # the common case: as Decimal writes it
        text = f"{rounded:f}"
        # -0.001 to 2 places is 0.00, not -0.00
        return text[1:] if text[0] == "-" and not rounded else text
    integral, _, fraction = f"{abs(rounded):f}".partition(".")
    if thousands:
        integral = f"{int(integral):,}".replace(",", thousands)
    sign = "-" if rounded < 0 else ""  # -0.001 to 2 places is 0.00, not -0.00
    return sign + integral + (decimal_mark + fraction if fraction else "")


def _not_minus_zero(text: str) -> bool:
    """Whether ``text`` is not a written -0 (``format_number`` writes 0.00 for -0.00)."""
    return text[0] != "-" or bool(text.strip("-0."))


@function("integer", doc="integer('12.00') -> 12; integer('12.5') fails (round it first)")
def integer(value: Any) -> int | None:
    """The value as a whole number; a value with a fraction is an error, not cut off."""
    if type(value) is int:
        return bounded_int(value, FunctionError)
    number = to_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise FunctionError(
            f"{value!r} is not a whole number; use round(value, 0) to round it first"
        )
    return int(number)


@function("abs", doc="abs('-3.50') -> 3.50")
def absolute(value: Any) -> Decimal | None:
    """The value without its sign."""
    number = to_decimal(value)
    return None if number is None else abs(number)
