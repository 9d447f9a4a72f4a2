"""Regular expressions: does a text match, extract a part, replace what matches.

Patterns are Python regular expressions and must be literal texts in the mapping, so they
are checked when it loads. A pattern whose run time can explode on hostile input (a
repeated group that itself repeats, such as ``(a+)+``) is refused at load time, and a text
longer than :data:`MAX_SUBJECT` characters is refused before it is searched: a mapping
runs on input from outside.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from hub.mapping.functions.registry import FunctionError, function
from hub.mapping.functions.strings import text_of, whole_number

__all__ = ["MAX_SUBJECT", "check_pattern"]

#: The longest text a pattern is run on.
MAX_SUBJECT = 100_000
_MAX_PATTERN = 500
#: A group with a quantifier inside, itself quantified: (a+)+, (a*)*, (a|aa)+, (\w+\s?)*
_NESTED = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")


def check_pattern(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used, or None when it can."""
    if len(pattern) > _MAX_PATTERN:
        return f"a pattern may have at most {_MAX_PATTERN} characters"
    if _NESTED.search(pattern):
        return (
            "a repeated group that itself repeats (like (a+)+) can take exponential time; "
            "write the pattern without nesting the repetition"
        )
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a regular expression: {exc}"
    return None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    problem = check_pattern(pattern)
    if problem is not None:
        raise FunctionError(problem)
    return re.compile(pattern)


def _subject(text: Any) -> str:
    value = text_of(text)
    if len(value) > MAX_SUBJECT:
        raise FunctionError(
            f"the text has {len(value):,} characters; patterns run on at most {MAX_SUBJECT:,}"
        )
    return value


@function("matches", doc="matches('DE123456789', '^DE[0-9]{9}$') -> true (null -> false)")
def matches(text: Any, pattern: Any) -> bool:
    """Whether the pattern is found in the text (anchor it with ^ and $ for the whole text)."""
    if text is None:
        return False
    return _compiled(text_of(pattern, "pattern")).search(_subject(text)) is not None


@function(
    "extract",
    doc="extract('Order #4711 shipped', '#([0-9]+)', 1) -> '4711' (null when not found)",
)
def extract(text: Any, pattern: Any, group: Any = 0) -> str | None:
    """The part of the first match (``group`` 0: all of it, 1: the first group, ...)."""
    if text is None:
        return None
    compiled = _compiled(text_of(pattern, "pattern"))
    number = whole_number(group, "group")
    if not 0 <= number <= compiled.groups:
        raise FunctionError(f"the pattern has {compiled.groups} groups, not {number}")
    found = compiled.search(_subject(text))
    return None if found is None else found.group(number)


@function(
    "replace_all",
    doc="replace_all('a1b22c', '[0-9]+', '-') -> 'a-b-c' (\\1 in the replacement: a group)",
)
def replace_all(text: Any, pattern: Any, replacement: Any) -> str | None:
    """Every match of the pattern replaced (``\\1`` in ``replacement`` is group 1)."""
    if text is None:
        return None
    compiled = _compiled(text_of(pattern, "pattern"))
    by = "" if replacement is None else text_of(replacement, "replacement")
    try:
        result = compiled.sub(by, _subject(text))
    except re.error as exc:
        raise FunctionError(f"bad replacement {by!r}: {exc}") from None
    if len(result) > 4 * MAX_SUBJECT:
        raise FunctionError(f"the result would have {len(result):,} characters")
    return result
