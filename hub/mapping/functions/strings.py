"""Text functions.

Null in, null out: a function that transforms one text (``trim``, ``upper``,
``pad_left``, ``replace``, ...) returns null for a null value, so a missing
field stays missing; ``default()`` or ``coalesce()`` fill it in. Numbers are
used as their text (``upper(12)`` is ``'12'``); lists and objects are refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub.mapping.functions.registry import FunctionError, function
from hub.mapping.limits import check_text_size
from hub.mapping.values import equal

__all__ = ["text_of", "whole_number"]


def text_of(value: Any, what: str = "value") -> str:
    """``value`` as text: strings as they are, numbers as written, booleans as true/false."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise FunctionError(f"{what} must be text or a number, not {type(value).__name__}")


def _count(value: Any, what: str) -> int:
    """A whole-number argument (width, start, length)."""
    if isinstance(value, bool):
        raise FunctionError(f"{what} must be a whole number, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float) and value == int(value):
        return int(value)
    if isinstance(value, str) and len(value) <= 20 and value.strip().lstrip("+-").isdigit():
        return int(value)
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    raise FunctionError(f"{what} must be a whole number, not {shown}")


whole_number = _count  # for the other function modules


def _pad_char(char: Any) -> str:
    pad = text_of(char, "pad character")
    if len(pad) != 1:
        raise FunctionError(f"pad character must be exactly one character, not {pad!r}")
    return pad


@function("trim", doc="trim('  abc ') -> 'abc' (spaces, tabs and line breaks at both ends)")
def trim(text: Any) -> str | None:
    """Remove white space at both ends."""
    if type(text) is str:  # the common case first
        return text.strip()
    return None if text is None else text_of(text).strip()


@function("upper", doc="upper('abc') -> 'ABC'")
def upper(text: Any) -> str | None:
    """Upper case."""
    return None if text is None else text_of(text).upper()


@function("lower", doc="lower('ABC') -> 'abc'")
def lower(text: Any) -> str | None:
    """Lower case."""
    return None if text is None else text_of(text).lower()


@function("pad_left", doc="pad_left('42', 6, '0') -> '000042' (char defaults to a space)")
def pad_left(text: Any, width: Any, char: Any = " ") -> str | None:
    """Pad on the left up to ``width`` characters; longer text is left as it is."""
    if text is None:
        return None
    size = _count(width, "width")
    check_text_size(size, "the padded text", FunctionError)
    return text_of(text).rjust(size, _pad_char(char))


@function("pad_right", doc="pad_right('AB', 4, '.') -> 'AB..' (char defaults to a space)")
def pad_right(text: Any, width: Any, char: Any = " ") -> str | None:
    """Pad on the right up to ``width`` characters; longer text is left as it is."""
    if text is None:
        return None
    size = _count(width, "width")
    check_text_size(size, "the padded text", FunctionError)
    return text_of(text).ljust(size, _pad_char(char))


@function(
    "substring",
    doc="substring('ABCDEF', 1, 3) -> 'BCD' (start counts from 0; no length: to the end)",
)
def substring(text: Any, start: Any, length: Any = None) -> str | None:
    """``length`` characters from ``start`` (0-based); past the end gives what is there."""
    whole = type(start) is int and type(length) is int  # the common case first
    if isinstance(text, str) and whole and start >= 0 and length >= 0:
        return text[start : start + length]
    if text is None:
        return None
    value = text_of(text)
    begin = _count(start, "start")
    if begin < 0:
        raise FunctionError(f"start must not be negative, not {begin}")
    if length is None:
        return value[begin:]
    size = _count(length, "length")
    if size < 0:
        raise FunctionError(f"length must not be negative, not {size}")
    return value[begin : begin + size]


@function("replace", doc="replace('a-b-c', '-', '/') -> 'a/b/c' (every occurrence)")
def replace(text: Any, old: Any, new: Any) -> str | None:
    """Replace every occurrence of ``old`` by ``new``."""
    if text is None:
        return None
    search = text_of(old, "old")
    if not search:
        raise FunctionError("the text to replace must not be empty")
    value = text_of(text)
    by = "" if new is None else text_of(new, "new")
    if len(by) > len(search):
        size = len(value) + value.count(search) * (len(by) - len(search))
        check_text_size(size, "the replaced text", FunctionError)
    return value.replace(search, by)


@function("join", doc="join(['a', null, 'b'], ', ') -> 'a, b' (nulls are skipped)")
def join(values: Any, sep: Any = "") -> str:
    """Join the items of a list with ``sep``, skipping nulls; null gives ''."""
    if values is None:
        return ""
    if not isinstance(values, list | tuple):
        values = [values]
    separator = text_of(sep, "separator")
    parts = [text_of(v, "list item") for v in values if v is not None]
    size = sum(map(len, parts)) + len(separator) * max(0, len(parts) - 1)
    check_text_size(size, "the joined text", FunctionError)
    return separator.join(parts)


@function("split", doc="split('a;b;c', ';') -> ['a', 'b', 'c'] (null or '' gives [])")
def split(text: Any, sep: Any) -> list[str]:
    """Split at every ``sep``."""
    if text is None:
        return []
    value = text_of(text)
    separator = text_of(sep, "separator")
    if not separator:
        raise FunctionError("separator must not be empty")
    return value.split(separator) if value else []


@function("concat", doc="concat('A-', 12, null, '-B') -> 'A-12-B' (nulls count as '')")
def concat(*parts: Any) -> str:
    """Glue the texts together; nulls are left out."""
    texts = [text_of(p) for p in parts if p is not None]
    check_text_size(sum(map(len, texts)), "the joined text", FunctionError)
    return "".join(texts)


@function("length", doc="length('abc') -> 3; length(['a', 'b']) -> 2; length(null) -> 0")
def length(value: Any) -> int:
    """Characters in a text, or items in a list."""
    if value is None:
        return 0
    if isinstance(value, list | tuple | dict):
        return len(value)
    return len(text_of(value))


@function("default", doc="default(shipping.phone, 'n/a') -> 'n/a' when the value is null or ''")
def default(value: Any, fallback: Any) -> Any:
    """``fallback`` when ``value`` is null, empty or only white space; otherwise ``value``."""
    if type(value) is str:  # the common case first
        return value if value and not value.isspace() else fallback
    if value is None:
        return fallback
    if isinstance(value, str) and not value.strip():
        return fallback
    if isinstance(value, list | dict) and not value:
        return fallback
    return value


@function(
    "contains",
    doc="contains('Express Delivery', 'Express') -> true; contains([1, 2], '1') -> true",
)
def contains(text: Any, part: Any) -> bool:
    """Whether ``part`` occurs in the text (case-sensitive), or is an item of a list."""
    if text is None:
        return False
    if isinstance(text, list | tuple):
        return any(equal(item, part) for item in text)  # the rule of ==: '1' equals 1
    return text_of(part, "part") in text_of(text)


@function("starts_with", doc="starts_with('DE-1234', 'DE-') -> true (null -> false)")
def starts_with(text: Any, prefix: Any) -> bool:
    """Whether the text begins with ``prefix`` (case-sensitive)."""
    if text is None:
        return False
    return text_of(text).startswith(text_of(prefix, "prefix"))


@function("chunks", doc="chunks('ABCDEFG', 3) -> ['ABC', 'DEF', 'G'] (for 35-character fields)")
def chunks(text: Any, size: Any) -> list[str]:
    """The text cut into pieces of ``size`` characters (the last one may be shorter)."""
    if text is None:
        return []
    value = text_of(text)
    count = _count(size, "size")
    if count < 1:
        raise FunctionError(f"size must be at least 1, not {count}")
    return [value[i : i + count] for i in range(0, len(value), count)]


@function("wrap", doc="wrap('a long delivery note', 10) -> ['a long', 'delivery', 'note']")
def wrap(text: Any, width: Any) -> list[str]:
    """The text as lines of at most ``width`` characters, broken between words (a word longer
    than ``width`` is cut)."""
    if text is None:
        return []
    count = _count(width, "width")
    if count < 1:
        raise FunctionError(f"width must be at least 1, not {count}")
    lines: list[str] = []
    line = ""
    for word in text_of(text).split():
        while len(word) > count:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:count])
            word = word[count:]
        if not word:
            continue
        if line and len(line) + 1 + len(word) <= count:
            line += " " + word
        else:
            if line:
                lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines
