"""A schema compiled by jsonschema-rs that answers "valid?" exactly as jsonschema would.

jsonschema-rs is tens of times faster than jsonschema, but the two differ in a few
corners: their regular expressions (Python's ``re`` against ECMA 262: ``$`` before a
final line break, ``.``, ``\\d``, ``\\w``, ``\\s``, flags, set operations) and ``multipleOf``
with a fraction (jsonschema divides in floating point: 0.07 is no multiple of 0.01).
Such differences matter both ways (inside ``not``, ``oneOf`` or ``if``, stricter becomes
more lenient), so a schema is compiled only when the two agree on every document:

* every ``pattern`` and ``patternProperties`` key is in a subset both engines read alike
  (literals, classes without ``\\d \\w \\s``, groups, lookahead, quantifiers), with ``$``
  and ``.`` rewritten to what Python means by them (``(?=\\n?$)`` and ``[^\\n]``);
* ``multipleOf`` is a whole number, and no ``$schema`` names another draft.

Otherwise :func:`compile_fast` returns None and jsonschema alone validates. The trees
checked are JSON values (dict, list, str, int, float, bool, None), what every codec and
mapping produces.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

__all__ = ["DRAFT_2020_12", "compile_fast", "portable_pattern"]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

_SIMPLE_ESCAPES = {"n": "\\n", "r": "\\r", "t": "\\t", "f": "\\f", "v": "\\v"}
_SET_OPERATIONS = ("&&", "--", "~~", "||")
#: Keywords whose value is data, not a schema: copied as they are.
_DATA = frozenset({"const", "enum", "default", "examples"})
#: Keywords whose value maps names to schemas (a property called "pattern" is no pattern).
_BY_NAME = frozenset({"properties", "$defs", "definitions", "dependentSchemas"})


def portable_pattern(pattern: str) -> str | None:
    """``pattern`` written so that ECMA 262 matches exactly what Python's ``re.search``
    matches, or None when it uses something outside the subset both read alike."""
    out: list[str] = []
    in_class = False
    i, end = 0, len(pattern)
    while i < end:
        char = pattern[i]
        if char == "\\":
            escaped = _escape(pattern[i + 1 : i + 2])
            if escaped is None:
                return None
            out.append(escaped)
            i += 2
            continue
        if in_class:
            if char == "[" or pattern.startswith(_SET_OPERATIONS, i):
                return None  # nested classes and set operations: Rust reads them, Python not
            if char == "]":
                in_class = False
            out.append(char)
        elif char == "[":
            start = i + 2 if pattern.startswith("[^", i) else i + 1
            if pattern[start : start + 1] in ("]", ""):
                return None  # "[]...]" is a ']' to Python, an empty class to ECMA
            out.append(pattern[i:start])
            in_class = True
            i = start
            continue
        elif char == "(" and pattern.startswith("(?", i):
            if pattern[i + 2 : i + 3] not in (":", "=", "!"):
                return None  # flags, named groups, lookbehind, comments
            out.append(pattern[i : i + 3])
            i += 3
            continue
        elif char == "{" and pattern.startswith("{,", i):
            return None  # {,n} is a quantifier to Python, text to ECMA
        elif char == "$":
            out.append(r"(?=\n?$)")  # Python's $ also matches before a final line break
        elif char == ".":
            out.append(r"[^\n]")  # Python's . is anything but a line break
        else:
            out.append(char)
        i += 1
    return None if in_class else "".join(out)


def _escape(char: str) -> str | None:
    """An escaped character both engines read alike, as ECMA text; None otherwise."""
    if not char:
        return None
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char]
    if char.isascii() and not char.isalnum():
        return "\\" + char  # an escaped punctuation mark is that mark
    return None  # \d \w \s \b \p, back references, \Z ...: the engines differ


def _portable(node: Any) -> Any | None:
    """A copy of the schema ``node`` with its patterns rewritten; None when not portable."""
    if isinstance(node, list):
        items = [_portable(item) for item in node]
        return None if any(item is None for item in items) else items
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DATA:
            out[key] = value
            continue
        if key in _BY_NAME and isinstance(value, dict):
            named = {name: _portable(sub) for name, sub in value.items()}
            if any(sub is None for sub in named.values()):
                return None
            out[key] = named
            continue
        if key == "$schema" and value != DRAFT_2020_12:
            return None
        if key == "multipleOf" and not (isinstance(value, int) and not isinstance(value, bool)):
            return None  # a fraction: jsonschema's floating-point division decides
        if key == "pattern" and isinstance(value, str):
            rewritten = portable_pattern(value)
            if rewritten is None:
                return None
            out[key] = rewritten
            continue
        if key == "patternProperties" and isinstance(value, dict):
            props: dict[str, Any] = {}
            for name, sub in value.items():
                rewritten = portable_pattern(name)
                converted = _portable(sub)
                if rewritten is None or converted is None or rewritten in props:
                    return None
                props[rewritten] = converted
            out[key] = props
            continue
        converted = _portable(value)
        if converted is None:
            return None
        out[key] = converted
    return out


def compile_fast(schema: Any) -> jsonschema_rs.Validator | None:
    """The schema compiled by jsonschema-rs, read as jsonschema reads it (Draft 2020-12,
    ``format`` not asserted, nothing fetched); None when the two could disagree."""
    portable = _portable(schema)
    if portable is None:
        return None
    try:
        return jsonschema_rs.Draft202012Validator(portable, validate_formats=False, offline=True)
    except (ValueError, TypeError):  # e.g. a remote $ref: jsonschema reports it when checking
        return None
