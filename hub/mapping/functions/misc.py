"""Identifiers, the run's time, first-non-null, and code-list lookups."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Mapping
from typing import Any

from hub.mapping.functions.dates import format_value
from hub.mapping.functions.registry import FunctionContext, FunctionError, function
from hub.mapping.functions.strings import text_of

__all__: list[str] = []

_MISSING: Any = object()  # lookup() without a default: an unknown code is an error
_SHOWN = 10  # known codes listed in an error


@function("uuid", doc="uuid() -> '3f1c2a9e-...' (a random UUID 4, new on every call)", pure=False)
def new_uuid() -> str:
    """A new random UUID (version 4) as text."""
    return str(uuid_module.uuid4())


@function(
    "now",
    doc="now() -> '2024-07-01T10:00:00+00:00'; now('102') -> '20240701' (format as format_date)",
    needs_context=True,
)
def now(context: FunctionContext, format: Any = "iso", tz: Any = None) -> str:
    """The time of this mapping run (the same in every rule of one run), written in ``format``
    ('iso', 'iso-date', '102', '203', '204' or a '%' pattern), in zone ``tz`` if given."""
    return format_value(context.now(), format, tz)


@function("coalesce", doc="coalesce(shipping.city, billing.city, 'unknown') -> first non-null")
def coalesce(*values: Any) -> Any:
    """The first value that is not null (an empty text counts as a value; see default())."""
    return next((value for value in values if value is not None), None)


def _find(codes: Mapping[str, Any], code: str) -> Any:
    """The entry for ``code``: exactly, or else ignoring case if only one key matches."""
    if code in codes:
        return codes[code]
    folded = code.casefold()
    matches = [key for key in codes if key.casefold() == folded]
    if len(matches) == 1:
        return codes[matches[0]]
    return _MISSING


@function(
    "lookup",
    doc="lookup('units', 'kg') -> 'KGM'; lookup('units', unit, 'PCE') gives 'PCE' for unknown",
    needs_context=True,
)
def lookup(context: FunctionContext, codelist: Any, code: Any, default: Any = _MISSING) -> Any:
    """The value for ``code`` in code list ``codelist`` (mappings/codelists/NAME.yaml, .json or
    .csv); with several columns, an object of them. Matching is exact, else case-insensitive.
    An unknown code gives ``default``, else the code list's own default, else an error; a null
    code gives null (or ``default``)."""
    name = text_of(codelist, "code list name")
    codes = context.codelist(name)
    if code is None:
        return None if default is _MISSING else default
    key = text_of(code, "code")
    found = _find(codes, key)
    if found is not _MISSING:
        return found
    if default is not _MISSING:
        return default
    fallback = getattr(codes, "default", None)
    if fallback is not None:
        return fallback
    known = sorted(codes)
    shown = ", ".join(known[:_SHOWN]) + (
        f", ... ({len(known)} in all)" if len(known) > _SHOWN else ""
    )
    raise FunctionError(f"code {key!r} is not in code list {name!r} (known: {shown or 'none'})")


@function("get", doc="get(qualified_group(body.SG2, 'NAD', 'SU'), 'NAD') -> that group's NAD")
def get(value: Any, key: Any) -> Any:
    """A key of an object or an index of a list from a computed value; null when absent."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get(str(key))
    if isinstance(value, list):
        try:
            index = int(key)
        except (TypeError, ValueError):
            raise FunctionError(f"a list index must be a number, not {key!r}") from None
        return value[index] if -len(value) <= index < len(value) else None
    raise FunctionError(f"get() reads objects and lists, not {type(value).__name__}")


@function("flatten", doc="flatten(body.SG10[*].SG15) -> every package's line items in one list")
def flatten(value: Any) -> list[Any]:
    """One level of nesting removed; nulls dropped (a package without lines)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise FunctionError(f"flatten() takes a list, not {type(value).__name__}")
    out: list[Any] = []
    for item in value:
        if isinstance(item, list):
            out.extend(item)
        elif item is not None:
            out.append(item)
    return out
